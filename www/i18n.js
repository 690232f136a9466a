// Languages: loads www/i18n/<lang>.json, translates the page's own strings (`ui.*`) and the
// engine's explanation keys ({short, long}), sets <html lang dir>, remembers the choice.
// Protocol text is never translated: it stays left-to-right wherever it is shown.
//
// A `ui` string may be an object of CLDR plural forms, {"$count": "n", "one": …, "other": …},
// chosen by Intl.PluralRules with the value of its `$count` placeholder. A number given to t()
// is written in the language's digits (Western in Arabic, as the source articles do; Persian
// in Persian), except inside an U+2066…U+2069 isolate, which holds protocol text as sent. What
// the engine says in its own words (an info row, why a line is refused, a failure's detail)
// comes as a note {key, params} and is said by say(). docs/terminology.md has the rules.

export const LANGUAGES = {
  en: { dir: "ltr", label: "EN", locale: "en" },
  ar: { dir: "rtl", label: "العربية", locale: "ar-u-nu-latn" },
  fa: { dir: "rtl", label: "فارسی", locale: "fa" },
};
const STORAGE_KEY = "popwire.lang";

const loaded = new Map(); // lang → dictionary
let current = "en";
let dict = {};
let english = {};
const listeners = new Set();

async function fetchDictionary(lang) {
  if (!loaded.has(lang)) {
    const promise = fetch(`i18n/${lang}.json`).then((r) => {
      if (!r.ok) throw new Error(`i18n/${lang}.json: HTTP ${r.status}`);
      return r.json();
    });
    loaded.set(lang, promise);
    promise.catch(() => loaded.delete(lang));
  }
  return loaded.get(lang);
}

/** The language to start in: ?lang=, then the remembered choice, then the browser's. */
export function initialLanguage() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl && LANGUAGES[fromUrl]) return fromUrl;
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && LANGUAGES[saved]) return saved;
  } catch { /* storage may be disabled */ }
  for (const l of navigator.languages || []) {
    const base = l.toLowerCase().split("-")[0];
    if (LANGUAGES[base]) return base;
  }
  return "en";
}

export function language() {
  return current;
}

export function isRtl() {
  return LANGUAGES[current].dir === "rtl";
}

/** Loads and applies a language; `remember` stores the choice. */
export async function setLanguage(lang, { remember = true } = {}) {
  if (!LANGUAGES[lang]) lang = "en";
  const [d, en] = await Promise.all([fetchDictionary(lang), fetchDictionary("en")]);
  current = lang;
  dict = d;
  english = en;
  const html = document.documentElement;
  html.lang = lang;
  html.dir = LANGUAGES[lang].dir;
  if (remember) {
    try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* ignore */ }
  }
  applyTranslations(document);
  document.title = t("app.title");
  for (const fn of listeners) fn(lang);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
}

/** The BCP 47 locale numbers and plurals are formatted in (its numbering system included). */
export function locale() {
  return LANGUAGES[current].locale;
}

/**
 * A page string `ui.<key>`, with `{name}` placeholders filled from `vars`: numbers in the
 * language's digits (as sent inside an isolate), notes ({key, params}) said in the language,
 * anything else as text. A plural string takes the form of its `$count` value.
 */
export function t(key, vars) {
  let text = dict.ui?.[key] ?? english.ui?.[key];
  if (text === undefined) {
    console.warn(`popwire: missing ui string ${key}`);
    text = key;
  }
  return fill(pluralForm(text, vars), vars);
}

/** The form of a plural string `{ "$count": name, one, other, … }` for `vars[name]`. */
function pluralForm(text, vars) {
  if (!text || typeof text !== "object") return text;
  const n = toNumber(vars?.[text.$count]);
  const form = Number.isFinite(n) ? new Intl.PluralRules(locale()).select(n) : "other";
  return text[form] ?? text.other;
}

/** A number from a number or a formatted string (any of the three languages' digits). */
function toNumber(value) {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return NaN;
  const latin = value
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06F0))
    .replace(/[,\u066C\s]/g, "")
    .replace(/\u066B/g, ".");
  return /^-?\d+(\.\d+)?$/.test(latin) ? Number(latin) : NaN;
}

/** Fills `{name}` placeholders; inside an isolate (protocol text) numbers stay as sent. */
function fill(text, vars) {
  if (!vars) return text;
  let isolated = 0;
  return text.replace(/\u2066|\u2069|\{(\w+)\}/g, (m, name) => {
    if (m === "\u2066") isolated += 1;
    else if (m === "\u2069") isolated = Math.max(0, isolated - 1);
    else if (name in vars) return shown(vars[name], isolated > 0);
    return m;
  });
}

function shown(value, asSent) {
  if (typeof value === "number") return asSent ? String(value) : formatNumber(value);
  if (value && typeof value === "object" && typeof value.key === "string") return say(value);
  return String(value);
}

/**
 * What the engine said in its own words, `{ key, params }` (an info row of the transcript,
 * why a typed line is refused, the detail of a failure), in the current language: `ui.<key>`
 * with its params. Text params are protocol text or names (a command, a line as sent, a
 * target): isolated left-to-right inside Arabic and Persian. Numbers are the language's.
 */
export function say(note) {
  if (!note || typeof note.key !== "string") return "";
  const vars = {};
  for (const [name, value] of Object.entries(note.params ?? {})) {
    vars[name] = typeof value === "string" && isRtl() ? ltr(value) : value;
  }
  return t(note.key, vars);
}

/** Protocol text (a command, +OK, a unique-id) isolated left-to-right inside a translated string
 * (U+2066 LEFT-TO-RIGHT ISOLATE … U+2069 POP DIRECTIONAL ISOLATE: what <bdi dir="ltr"> does). */
export function ltr(text) {
  return `\u2066${text}\u2069`;
}

/** `{short, long}` of an engine explanation key in the current language, or null. */
export function explain(key) {
  if (!key) return null;
  return dict[key] ?? english[key] ?? null;
}

/** Fills every element with data-i18n (text) and data-i18n-<attr> (attributes). */
export function applyTranslations(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const attr of ["aria-label", "title", "placeholder"]) {
    const data = `i18n${attr.replace(/(^|-)(\w)/g, (m, d, c) => c.toUpperCase())}`; // i18nAriaLabel …
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      el.setAttribute(attr, t(el.dataset[data]));
    }
  }
}

/** A number in the current language's digits. */
export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

/** Octets as B / kB / MB in the current language. */
export function formatBytes(n) {
  const units = [
    [1e6, "megabyte"],
    [1e3, "kilobyte"],
  ];
  for (const [size, unit] of units) {
    if (n >= size) {
      return new Intl.NumberFormat(locale(), {
        style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 1,
      }).format(n / size);
    }
  }
  return new Intl.NumberFormat(locale(), { style: "unit", unit: "byte", unitDisplay: "short" }).format(n);
}

/** An RFC reference like "RFC 1939 §7" as a link to the section on rfc-editor.org. */
export function rfcUrl(ref) {
  const m = /RFC\s*(\d+)(?:\s*§\s*([\d.]+))?/.exec(ref || "");
  if (!m) return null;
  const base = `https://www.rfc-editor.org/rfc/rfc${m[1]}`;
  return m[2] ? `${base}#section-${m[2].replace(/\.$/, "")}` : base;
}
