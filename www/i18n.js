// Languages: loads www/i18n/<lang>.json, translates the page's own strings (`ui.*`) and the
// engine's explanation keys ({short, long}), sets <html lang dir>, remembers the choice.
// Protocol text is never translated: it stays left-to-right wherever it is shown.

export const LANGUAGES = {
  en: { dir: "ltr", label: "EN" },
  ar: { dir: "rtl", label: "العربية" },
  fa: { dir: "rtl", label: "فارسی" },
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

/** A page string `ui.<key>`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars) {
  let text = dict.ui?.[key] ?? english.ui?.[key];
  if (text === undefined) {
    console.warn(`popwire: missing ui string ${key}`);
    text = key;
  }
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  }
  return text;
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
  return new Intl.NumberFormat(current).format(n);
}

/** Octets as B / kB / MB in the current language. */
export function formatBytes(n) {
  const units = [
    [1e6, "megabyte"],
    [1e3, "kilobyte"],
  ];
  for (const [size, unit] of units) {
    if (n >= size) {
      return new Intl.NumberFormat(current, {
        style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 1,
      }).format(n / size);
    }
  }
  return new Intl.NumberFormat(current, { style: "unit", unit: "byte", unitDisplay: "short" }).format(n);
}

/** An RFC reference like "RFC 1939 §7" as a link to the section on rfc-editor.org. */
export function rfcUrl(ref) {
  const m = /RFC\s*(\d+)(?:\s*§\s*([\d.]+))?/.exec(ref || "");
  if (!m) return null;
  const base = `https://www.rfc-editor.org/rfc/rfc${m[1]}`;
  return m[2] ? `${base}#section-${m[2].replace(/\.$/, "")}` : base;
}
