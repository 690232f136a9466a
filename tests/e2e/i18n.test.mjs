// The page's own strings (`ui.*` in www/i18n/{en,ar,fa}.json), without a browser: every key
// the page uses exists in English, Arabic and Persian with the same {placeholders}; no
// English text is left in ar/fa; and no key is unused. (The engine's keys are checked
// against explainKeys() by tests/i18n.rs.)

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { initSync, bridgeRefusals } from "../../www/pkg/popwire.js";

const www = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../www");
const load = (lang) => JSON.parse(readFileSync(path.join(www, "i18n", `${lang}.json`), "utf8")).ui;
const en = load("en");
initSync({ module: readFileSync(path.join(www, "pkg", "popwire_bg.wasm")) });
/** The forms of a string: itself, or every form of a plural string ({"$count", one, other …}). */
const forms = (v) => (typeof v === "string" ? [v] : Object.entries(v).filter(([k]) => k !== "$count").map(([, f]) => f));
/** The placeholders of a string, or of all its plural forms together. */
const placeholders = (v) => [...new Set(forms(v).flatMap((s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();

/** Strings that are protocol or symbols, the same in every language. */
const SAME_EVERYWHERE = new Set(["cert.version", "maildrop.number", "note.said"]);

/** Keys built at run time: `${prefix}${x}` for each x. */
const DYNAMIC = {
  "guide.": ["connect", "capa", "login", "stat", "list", "uidl", "top", "retr", "dele", "quit", "done"]
    .flatMap((s) => ["title", "what", "look", "do"].map((f) => `${s}.${f}`)),
  "transcript.dir-": ["client", "server", "info"],
  "program.": ["laptop", "phone", "policy-keep", "policy-delete", "policy-days"], // mail-program.js: PROGRAMS, POLICIES
  "viewer.removed-": ["scripts", "handlers", "remote", "styles", "forms", "links", "inline"],
  "error.bridge.": bridgeRefusals(), // connect.js: every refusal code the engine knows
  "error.": ["state.title", "input.title", "limit.title", "protocol.title"],
  ...lessonKeys(),
};

/** The keys guide.js builds from each lesson's data (www/lessons/): its title, its steps' texts,
 * its questions, the hint of each kind of value read, each kind of prediction and step action. */
function lessonKeys() {
  const dir = path.join(www, "lessons");
  const { lessons } = JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8"));
  const keys = { "lesson.": [] };
  const add = (k) => keys["lesson."].push(k.replace(/^lesson\./, ""));
  for (const id of lessons) {
    const lesson = JSON.parse(readFileSync(path.join(dir, `${id}.json`), "utf8"));
    const prefix = lesson.text ?? `lesson.${id}`;
    add(`lesson.${id}.title`);
    if (!lesson.text) add(`lesson.${id}.done`);
    for (const step of lesson.steps) {
      for (const f of ["title", "what", "look", "do"]) {
        const key = `${prefix}.${step.id}.${f}`;
        if (key.startsWith("lesson.")) add(key);
        else (keys[""] ??= []).push(key);
      }
      if (step.predict) add(`lesson.predict.${step.predict}`);
      if (step.do) add(`lesson.how-${step.do}`);
    }
    // A timeline (guide's timeline.js): each event's text and each footnote.
    for (const event of lesson.timeline?.events ?? []) add(`lesson.${id}.timeline.${event.id}`);
    for (const note of lesson.timeline?.notes ?? []) add(`lesson.${id}.note.${note}`);
    for (const q of lesson.questions ?? []) {
      add(`lesson.${id}.q.${q.id}`);
      if (q.choices) for (const c of q.choices) add(`lesson.${id}.q.${q.id}.${c}`);
      else add(`lesson.answer-unknown-${q.answer.read}`);
    }
  }
  return keys;
}

function usedKeys() {
  const used = new Set();
  const html = readFileSync(path.join(www, "index.html"), "utf8");
  for (const m of html.matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)) used.add(m[1]);
  for (const file of readdirSync(www).filter((f) => f.endsWith(".js"))) {
    const js = readFileSync(path.join(www, file), "utf8");
    for (const m of js.matchAll(/\bt\(\s*"([^"]+)"/g)) used.add(m[1]);
    // message specs: title: ["error.x", …], text: ["…"], hint: ["…"]
    for (const m of js.matchAll(/\[\s*"((?:error|cmdline|connect|guide|maildrop|transcript|viewer)\.[\w.-]+)"/g)) used.add(m[1]);
    for (const m of js.matchAll(/"([a-z0-9]+(?:[.-][\w-]+)+)"/g)) if (m[1] in en) used.add(m[1]);
  }
  for (const [prefix, names] of Object.entries(DYNAMIC)) for (const n of names) used.add(`${prefix}${n}`);
  return used;
}

test("every ui key the page uses exists in en, ar and fa", () => {
  const used = usedKeys();
  for (const lang of ["en", "ar", "fa"]) {
    const dict = load(lang);
    const missing = [...used].filter((k) => !(k in dict));
    assert.deepEqual(missing, [], `${lang}.json lacks ui keys`);
  }
});

test("ar and fa have exactly the English keys, the same placeholders, and no English left", () => {
  for (const lang of ["ar", "fa"]) {
    const dict = load(lang);
    assert.deepEqual(Object.keys(dict).sort(), Object.keys(en).sort(), `${lang}: the same keys as en`);
    for (const [key, value] of Object.entries(dict)) {
      assert.ok(forms(value).length && forms(value).every((f) => f.trim()), `${lang}: ${key} is empty`);
      assert.deepEqual(placeholders(value), placeholders(en[key]), `${lang}: ${key} placeholders`);
      // Protocol words alone ("CAPA", "STAT") are the same in every language.
      const protocol = SAME_EVERYWHERE.has(key) || (typeof en[key] === "string" && /^[A-Z0-9 #]+$/.test(en[key]));
      if (!protocol) {
        for (const text of forms(value)) {
          assert.ok(!forms(en[key]).includes(text), `${lang}: ${key} is still English`);
          assert.match(text, /[\u0600-\u06FF]/, `${lang}: ${key} has no Arabic script`);
        }
      }
    }
  }
});

/** Every string of a language file, explanations and ui alike, with its key path. */
function strings(lang) {
  const out = [];
  const walk = (v, at) => {
    if (typeof v === "string") out.push([at, v]);
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, at ? `${at}.${k}` : k);
  };
  walk(JSON.parse(readFileSync(path.join(www, "i18n", `${lang}.json`), "utf8")), "");
  return out;
}

test("protocol text inside Arabic and Persian is isolated left-to-right (U+2066 … U+2069)", () => {
  // The runs that reorder in right-to-left text: +OK / -ERR with a response code, an APOP
  // timestamp, a response code alone (scripts/isolate-rtl.py isolates them).
  const run = /[+-](?:OK|ERR)(?: \[[A-Z][A-Z/-]*\])?|<[^<>\s]+>|\[[A-Z][A-Z/-]*\]/g;
  for (const lang of ["ar", "fa"]) {
    const bare = [];
    for (const [key, text] of strings(lang)) {
      if (!/[\u0600-\u06FF]/.test(text)) continue;
      const outside = text.replace(/\u2066[^\u2069]*\u2069/g, "");
      const found = outside.match(run);
      if (found) bare.push(`${key}: ${found.join(" ")}`);
    }
    assert.deepEqual(bare, [], `${lang}: protocol text not isolated (run scripts/isolate-rtl.py)`);
  }
});

test("no unused ui keys", () => {
  const used = usedKeys();
  // note.* keys are the engine's (its NOTES): tests/i18n.rs checks that none is stale.
  const unused = Object.keys(en).filter((k) => !used.has(k) && !k.startsWith("note."));
  assert.deepEqual(unused, []);
});

// ----- i18n.js itself: plural forms, digits, notes (under Node, with the real language files) ---

/** i18n.js with what it needs of a browser: fetch reads www/i18n/, a document that holds nothing. */
async function i18nModule() {
  globalThis.fetch = async (url) => ({
    ok: true,
    json: async () => JSON.parse(readFileSync(path.join(www, String(url)), "utf8")),
  });
  globalThis.document = { documentElement: {}, querySelectorAll: () => [], title: "" };
  return import("../../www/i18n.js");
}

test("t() chooses Arabic's plural forms by Intl.PluralRules", async () => {
  const i18n = await i18nModule();
  await i18n.setLanguage("ar", { remember: false });
  const summary = (count) => i18n.t("maildrop.summary", { count, size: "1 kB" });
  assert.equal(summary(0), "لا رسائل، 1 kB.");
  assert.equal(summary(1), "رسالة واحدة، 1 kB.");
  assert.equal(summary(2), "رسالتان، 1 kB.");
  assert.equal(summary(3), "3 رسائل، 1 kB.");
  assert.equal(summary(8), "8 رسائل، 1 kB.");
  assert.equal(summary(10), "10 رسائل، 1 kB.");
  assert.equal(summary(11), "11 رسالة، 1 kB.");
  assert.equal(summary(100), "100 رسالة، 1 kB.");
  // «أول 10 سطر» was wrong: 3–10 take the plural, 11–99 the singular accusative.
  const top = (lines) => i18n.t("viewer.top-note", { lines });
  assert.equal(top(1), "TOP: الرؤوس وأول سطر من المتن فقط");
  assert.equal(top(2), "TOP: الرؤوس وأول سطرين من المتن فقط");
  assert.equal(top(10), "TOP: الرؤوس وأول 10 أسطر من المتن فقط");
  assert.equal(top(11), "TOP: الرؤوس وأول 11 سطرًا من المتن فقط");
  assert.equal(top(100), "TOP: الرؤوس وأول 100 سطر من المتن فقط");
  // A count already formatted by formatNumber() chooses the same form.
  assert.equal(i18n.t("maildrop.summary", { count: i18n.formatNumber(8), size: "x" }), "8 رسائل، x.");
});

test("t() chooses English and Persian plural forms", async () => {
  const i18n = await i18nModule();
  await i18n.setLanguage("en", { remember: false });
  assert.equal(i18n.t("maildrop.summary", { count: 1, size: "2 kB" }), "1 message, 2 kB.");
  assert.equal(i18n.t("maildrop.summary", { count: 8, size: "2 kB" }), "8 messages, 2 kB.");
  assert.equal(i18n.t("maildrop.summary", { count: 0, size: "2 kB" }), "0 messages, 2 kB.");
  await i18n.setLanguage("fa", { remember: false });
  // Persian: the singular noun after every number, in Persian digits.
  assert.equal(i18n.t("maildrop.summary", { count: 1, size: "x" }), "۱ پیام، x.");
  assert.equal(i18n.t("maildrop.summary", { count: 8, size: "x" }), "۸ پیام، x.");
  assert.equal(i18n.t("maildrop.summary", { count: 1200, size: "x" }), "۱٬۲۰۰ پیام، x.");
});

test("numbers: Persian digits in Persian prose, Western in Arabic, protocol text as sent", async () => {
  const i18n = await i18nModule();
  await i18n.setLanguage("fa", { remember: false });
  assert.equal(i18n.formatNumber(1234), "۱٬۲۳۴");
  assert.match(i18n.formatBytes(2048), /^۲٫۰?|^۲/);
  // "Preview message 3: its headers and the first 5 lines" is prose; "TOP 3 5" is a command.
  assert.match(i18n.t("guide.top.what", { n: 3, lines: 5 }), /۳.*۵/);
  assert.match(i18n.t("guide.top.do", { n: 3, lines: 5 }), /\u2066TOP 3 5\u2069/);
  await i18n.setLanguage("ar", { remember: false });
  assert.equal(i18n.formatNumber(1234), "1,234");
  assert.match(i18n.t("guide.top.what", { n: 3, lines: 5 }), /الرسالة 3: .*5 أسطر/);
  await i18n.setLanguage("en", { remember: false });
  assert.equal(i18n.formatNumber(1234), "1,234");
});

test("say(): the engine's notes in the page's language, text params isolated", async () => {
  const i18n = await i18nModule();
  const timeout = { key: "note.reply-timeout", params: { ms: 30000 } };
  const closed = { key: "note.error.closed", params: { reason: { key: "note.page-closed", params: {} } } };
  const connected = { key: "note.bridge-connected", params: { target: "demo" } };
  await i18n.setLanguage("en", { remember: false });
  assert.equal(i18n.say(timeout), "no reply within 30,000 ms");
  assert.equal(i18n.say(closed), "the connection closed: closed by the page");
  assert.equal(i18n.say(connected), "the bridge connected to target demo");
  await i18n.setLanguage("ar", { remember: false });
  assert.equal(i18n.say(timeout), "لا رد خلال 30,000 مللي ثانية");
  assert.equal(i18n.say(connected), "اتصل الجسر بالهدف \u2066demo\u2069");
  assert.equal(i18n.say(closed), "أُغلق الاتصال: أغلقته الصفحة");
  await i18n.setLanguage("fa", { remember: false });
  assert.equal(i18n.say(timeout), "در ۳۰٬۰۰۰ میلی‌ثانیه پاسخی نیامد");
  assert.equal(i18n.say({ key: "note.unsolicited", params: { octets: 12 } }), "۱۲ بایت رسید، در حالی که هیچ دستوری منتظر پاسخ نبود");
});

test("a count-bearing English string is a plural string", () => {
  // "{count} messages", "{lines} lines", "{seconds} seconds" … need a form per count. (A cap,
  // {limit} or {len} octets, is never one; {what} is a command's name.)
  const counted = /\{(?!limit\}|len\}|what\})(\w+)\} (?:new |more |body |remote |event |style )?(?:message|line|octet|second|entr|form|script|link|reference|handler|sheet|minute|day)/;
  const flat = Object.entries(en).filter(([, v]) => typeof v === "string" && counted.test(v)).map(([k]) => k);
  assert.deepEqual(flat, [], "count-bearing strings without plural forms");
});
