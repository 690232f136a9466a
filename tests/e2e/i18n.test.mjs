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
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** Strings that are protocol or symbols, the same in every language. */
const SAME_EVERYWHERE = new Set(["cert.version", "maildrop.number"]);

/** Keys built at run time: `${prefix}${x}` for each x. */
const DYNAMIC = {
  "guide.": ["connect", "capa", "login", "stat", "list", "uidl", "top", "retr", "dele", "quit", "done"]
    .flatMap((s) => ["title", "what", "look", "do"].map((f) => `${s}.${f}`)),
  "transcript.dir-": ["client", "server", "info"],
  "viewer.removed-": ["scripts", "handlers", "remote", "styles", "forms", "links"],
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
    for (const [key, text] of Object.entries(dict)) {
      assert.ok(text.trim(), `${lang}: ${key} is empty`);
      assert.deepEqual(placeholders(text), placeholders(en[key]), `${lang}: ${key} placeholders`);
      // Protocol words alone ("CAPA", "STAT") are the same in every language.
      const protocol = SAME_EVERYWHERE.has(key) || /^[A-Z0-9 #]+$/.test(en[key]);
      if (!protocol) {
        assert.notEqual(text, en[key], `${lang}: ${key} is still English`);
        assert.match(text, /[\u0600-\u06FF]/, `${lang}: ${key} has no Arabic script`);
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
  const unused = Object.keys(en).filter((k) => !used.has(k));
  assert.deepEqual(unused, []);
});
