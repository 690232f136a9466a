// Language quality (issue 11 §4), in Arabic and Persian: what popwire says in its own words —
// the transcript's info rows, a typed line's refusal, a failure's notice and its detail — is
// said in the page's language (the engine's notes, www/i18n.js say()), with no English left
// but protocol tokens (commands, +OK/-ERR, codes, state names) and names (the target, a
// cipher, a certificate subject), which sit in U+2066…U+2069 isolates. Numbers: Persian
// digits in Persian prose, Western digits in Arabic; protocol text as sent. Plurals: Arabic's
// forms for the maildrop's count. Triggered for real: a timeout (the `silent` target never
// speaks), STLS forgetting the capabilities on the demo target, refused typed commands, the
// bridge's connect row.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  launch, openPage, freshUser, setUser, guide, waitRow, waitState, send, ui, screenshot,
} from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const LANGS = ["ar", "fa"];

/** Names, the same in every language: popwire's, base64's, and the targets this file connects to. */
const NAMES = ["popwire", "base", "silent", "demo"];

/** Words of Latin script outside isolates that are not protocol tokens or names. */
function englishWords(text) {
  const outside = text.replace(/\u2066[^\u2069]*\u2069/g, " ");
  const words = outside.match(/[A-Za-z][A-Za-z'-]*/g) ?? [];
  // Protocol tokens are upper case (STLS, CAPA, TLS, RFC, USER, UTF8, CRLF, LF, SASL, ASCII).
  return words.filter((w) => !/^[A-Z][A-Z0-9/-]*$/.test(w) && !NAMES.includes(w));
}

function assertNoEnglish(text, where) {
  assert.ok(text.trim(), `${where}: nothing shown`);
  assert.deepEqual(englishWords(text), [], `${where}: English left in «${text}»`);
}

/** Latin digits outside isolates, RFC references and Latin words: Persian prose must have none. */
function latinProseDigits(text) {
  const outside = text
    .replace(/\u2066[^\u2069]*\u2069/g, " ")
    .replace(/RFC ?\d+(?: ?§ ?[\d.]*\d)?/g, " ")
    .replace(/[A-Za-z0-9._/@+-]*[A-Za-z][A-Za-z0-9._/@+-]*/g, " ");
  return outside.match(/[0-9]+/g) ?? [];
}

const rowText = (page, key) => page.locator(`#transcript .row[data-key="${key}"] .proto`).last().textContent();

for (const lang of LANGS) {
  const strings = ui(lang);

  test(`${lang}: a server that never speaks: the timeout notice is said in ${lang}`, async () => {
    const page = await browser.page();
    browser.watch.reset();
    await openPage(page, `?target=silent&timeout=1500&lang=${lang}`);
    await page.click("#connect-btn");
    await page.waitForSelector('#notice[data-kind="timeout"]:not([hidden])', { timeout: 15000 });
    // Title, text and detail (the engine's note: no reply within 1500 ms), all in the language.
    for (const part of [".notice-title", ".notice-text", ".notice-detail"]) {
      const text = await page.textContent(`#notice ${part}`);
      assertNoEnglish(text, `the notice's ${part}`);
      if (lang === "fa") assert.deepEqual(latinProseDigits(text), [], `Persian digits in ${part}: ${text}`);
    }
    const detail = await page.textContent("#notice .notice-detail code");
    assert.ok(detail.includes(lang === "fa" ? "۱٬۵۰۰" : "1,500"), `the milliseconds in ${lang} digits: ${detail}`);
    assert.equal(await page.getAttribute("#notice .notice-detail code", "dir"), "rtl");
    await screenshot(page, `language-timeout-${lang}.png`);
    browser.watch.assertClean();
    await page.close();
  });

  test(`${lang}: a reply that never comes: the transcript's timeout row is said in ${lang}`, async () => {
    const page = await browser.page();
    browser.watch.reset();
    // The simulated server in this browser, its link slowed past the page's timeout.
    await openPage(page, `?target=in-browser&timeout=1500&lang=${lang}`);
    await page.click("#connect-btn");
    await waitRow(page, "greeting.apop");
    const opening = await page.locator("#transcript .row.dir-info .proto").first().textContent();
    assertNoEnglish(opening, "the in-browser server's opening row");
    await guide(page, "capa");
    await guide(page, "login");
    await waitState(page, "TRANSACTION");
    await page.fill("#sim-latency", "4000");
    await page.check("#sim-slow");
    await page.waitForFunction(() => document.querySelector("#sim-faults-note").textContent.length > 0);
    await send(page, "NOOP");
    await waitRow(page, "error.timeout");
    const timeout = await rowText(page, "error.timeout");
    assertNoEnglish(timeout, "the timeout row");
    assert.ok(timeout.includes(lang === "fa" ? "۱٬۵۰۰" : "1,500"), `the milliseconds in ${lang} digits: ${timeout}`);
    await page.waitForSelector('#notice[data-kind="timeout"]:not([hidden])');
    for (const part of [".notice-title", ".notice-text", ".notice-detail"]) {
      assertNoEnglish(await page.textContent(`#notice ${part}`), `the notice's ${part}`);
    }
    await waitState(page, "CLOSED");
    browser.watch.assertClean();
    await page.close();
  });

  test(`${lang}: STLS, refused commands and the maildrop's numbers`, async () => {
    const page = await browser.page();
    browser.watch.reset();
    await openPage(page, `?lang=${lang}`);
    await setUser(page, freshUser(`lang-${lang}`));
    await page.check("#stls");
    await page.click("#connect-btn");
    await waitRow(page, "info.tls");
    await waitRow(page, "info.capa-reset");
    // TLS is up (version, cipher and subject as sent) and the capabilities are forgotten.
    const tls = await rowText(page, "info.tls");
    assertNoEnglish(tls, "the TLS row");
    assert.match(tls, /\u2066TLSv1\.3\u2069/);
    assertNoEnglish(await rowText(page, "info.capa-reset"), "the capabilities-forgotten row");
    assertNoEnglish(await rowText(page, "info.bridge"), "the bridge's connect row");
    // Every info row in popwire's words (not a state's name) reads in the page's direction.
    const dirs = await page.$$eval("#transcript .row.dir-info .proto.said", (els) => [...new Set(els.map((e) => e.dir))]);
    assert.deepEqual(dirs, ["rtl"]);

    // A refused typed line: the reason is the engine's, in the language.
    const refused = async (line, expect) => {
      await page.fill("#cmdline", line);
      assert.equal(await page.getAttribute("#cmdline", "aria-invalid"), "true", line);
      const hint = await page.textContent("#cmdline-hint");
      assertNoEnglish(hint, `the refusal of ${line.slice(0, 12)}`);
      if (expect) assert.ok(expect(hint), `${line.slice(0, 12)}: ${hint}`);
      if (lang === "fa") assert.deepEqual(latinProseDigits(hint), [], `Persian digits: ${hint}`);
      return hint;
    };
    await refused("RETR");
    await refused("RETR x", (h) => h.includes("\u2066x\u2069"));
    await refused(`USER ${"x".repeat(300)}`, (h) => h.includes(lang === "fa" ? "۲۵۵" : "255"));
    await refused("STAT  1");
    await page.fill("#cmdline", "");

    // Logged in, the maildrop's count: Arabic's plural form, each language's digits.
    await guide(page, "capa");
    await waitRow(page, "reply.CAPA.ok");
    await guide(page, "login");
    await waitState(page, "TRANSACTION");
    await send(page, "STAT");
    await waitRow(page, "reply.STAT.ok");
    const stat = await rowText(page, "reply.STAT.ok");
    const [, count] = /^\+OK (\d+) \d+/.exec(stat) ?? [];
    assert.ok(count, `STAT's reply as sent, Latin digits: ${stat}`);
    const n = Number(count);
    const summary = await page.textContent("#maildrop-summary");
    assertNoEnglish(summary, "the maildrop summary");
    if (lang === "fa") {
      assert.ok(summary.includes(new Intl.NumberFormat("fa").format(n)), `Persian digits: ${summary}`);
      assert.deepEqual(latinProseDigits(summary), [], summary);
    } else {
      // "STAT: 8 رسائل، …", "STAT: 11 رسالة، …", "STAT: رسالتان، …": the form Intl.PluralRules picks.
      const form = strings["maildrop.stat-only"][new Intl.PluralRules("ar").select(n)];
      const head = form.split("{size}")[0].replace("{count}", String(n));
      assert.ok(summary.startsWith(head), `Arabic plural form «${head}» in «${summary}»`);
      assert.doesNotMatch(summary, /[\u0660-\u0669\u06F0-\u06F9]/, "Western digits in Arabic");
    }
    // The transcript's clock and round trips are protocol: Latin digits in every language.
    const times = await page.$$eval("#transcript .row .time", (els) => els.map((e) => e.textContent));
    for (const t of times) assert.match(t, /^\d{2}\.\d{3}$/);
    await screenshot(page, `language-session-${lang}.png`);
    browser.watch.assertClean();
    await page.close();
  });
}
