// A whole canonical session by clicks, in English, Arabic and Persian: greeting → CAPA →
// USER/PASS → STAT → LIST → UIDL → TOP → RETR → DELE → QUIT, through the guide, the command
// buttons and the maildrop's row buttons. Checks the transcript (timestamps, round trips,
// masked PASS with reveal), the maildrop (marks, the update after QUIT), RTL for ar/fa
// (document.dir and mirrored columns, protocol text left-to-right) and exports that never
// contain the secret. Screenshots: target/e2e-screenshots/session-<lang>.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  launch, openPage, freshUser, setUser, guide, waitRow, waitState, screenshot, ui,
} from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const LANG_BUTTON = { en: "EN", ar: "العربية", fa: "فارسی" };

for (const lang of ["en", "ar", "fa"]) {
  test(`canonical session by clicks (${lang})`, async () => {
    const page = await browser.page();
    browser.watch.reset();
    const strings = ui(lang);
    await openPage(page);
    // The language switcher, as a student would use it.
    await page.getByRole("button", { name: LANG_BUTTON[lang], exact: true }).click();
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    const dir = await page.evaluate(() => document.dir);
    assert.equal(dir, lang === "en" ? "ltr" : "rtl");
    assert.equal(await page.textContent("#connect-btn"), strings["connect.connect"]);
    assert.equal(await page.title(), strings["app.title"]);

    // Columns mirror in RTL: the session panel is at the start side (left in LTR, right in RTL).
    const box = async (sel) => page.locator(sel).boundingBox();
    const session = await box("#session-panel");
    const maildrop = await box("#maildrop-panel");
    if (dir === "rtl") assert.ok(session.x > maildrop.x, "the session column is on the right in RTL");
    else assert.ok(session.x < maildrop.x, "the session column is on the left in LTR");

    // The demo credentials are prefilled and shown; a fresh user keeps runs independent.
    assert.equal(await page.inputValue("#password"), "pop3");
    assert.equal(await page.getAttribute("#password", "type"), "password");
    assert.match(await page.inputValue("#user"), /^student-[0-9a-f]{6}$/);
    const user = freshUser(`s-${lang}`);
    await setUser(page, user);
    assert.equal(await page.inputValue("#target"), "demo");

    // greeting (the top bar's Connect)
    await page.click("#connect-btn");
    await waitRow(page, "greeting.apop");
    await waitState(page, "AUTHORIZATION");
    // CAPA, then login, through the guide
    await guide(page, "capa");
    await waitRow(page, "reply.CAPA.ok");
    await waitRow(page, "body.CAPA");
    await guide(page, "login");
    await waitState(page, "TRANSACTION");
    // STAT with its command button (one-line explanation from the engine key cmd.STAT)
    const statButton = page.locator('.command-button[data-command="STAT"]');
    assert.ok((await statButton.locator(".short").textContent()).length > 0);
    await statButton.click();
    await waitRow(page, "reply.STAT.ok");
    // LIST through the guide, UIDL with its button
    await guide(page, "list");
    await waitRow(page, "body.LIST");
    await page.click('.command-button[data-command="UIDL"]');
    await waitRow(page, "body.UIDL");
    await page.waitForFunction(() => /^8-/.test(document.querySelector('#maildrop tr[data-id="8"] td.uid')?.textContent || ""));
    // TOP, RETR, DELE with the maildrop's row buttons
    await page.click('#maildrop tr[data-id="1"] button[data-action="TOP"]');
    await waitRow(page, "body.TOP");
    await page.click('#maildrop tr[data-id="1"] button[data-action="RETR"]');
    await waitRow(page, "body.RETR");
    await page.waitForFunction(() => /Welcome to the POP3 demo/.test(document.querySelector("#viewer-meta")?.textContent || ""));
    await page.click('#maildrop tr[data-id="1"] button[data-action="DELE"]');
    await waitRow(page, "reply.DELE.ok");
    await page.waitForSelector('#maildrop tr[data-id="1"].marked');
    // QUIT with its command button: UPDATE, then CLOSED, and the update shown in the maildrop
    await page.click('.command-button[data-command="QUIT"]');
    await waitRow(page, "reply.QUIT.ok");
    await waitState(page, "CLOSED");
    await page.waitForSelector("#maildrop tr.removed[data-id=\"1\"]");
    assert.ok(await page.isVisible("#maildrop-update"));
    assert.equal(await page.getAttribute("#guide-current", "data-step"), "done");
    assert.equal(await page.textContent("#guide-current .guide-step-title"), strings["guide.done.title"]);
    const keys = await page.$$eval("#transcript .row", (rows) => rows.map((r) => r.dataset.key));
    assert.ok(keys.includes("state.UPDATE"), "the UPDATE state shows in the transcript");

    // Timestamps ss.mmm, round trips on replies, protocol text left-to-right.
    const times = await page.$$eval("#transcript .row .time", (els) => els.map((e) => e.textContent));
    for (const t of times) assert.match(t, /^\d{2}\.\d{3}$/);
    const rtts = await page.$$eval("#transcript .row .rtt", (els) => els.map((e) => e.textContent));
    assert.ok(rtts.length >= 10, `round trips shown (${rtts.length})`);
    // (popwire's own notes, .said, read in the page's direction: tests/e2e/language.test.mjs.)
    const dirs = await page.$$eval("#transcript .proto:not(.said)", (els) => [...new Set(els.map((e) => getComputedStyle(e).direction))]);
    assert.deepEqual(dirs, ["ltr"]);

    // PASS is masked; the reveal toggle decodes the exact bytes, per row.
    const pass = page.locator('#transcript .row[data-key="cmd.PASS"]');
    assert.match(await pass.locator(".proto").textContent(), /^PASS •+$/);
    await pass.locator("button.reveal").click();
    assert.equal(await pass.locator(".proto").textContent(), "PASS pop3");
    await pass.locator("button.reveal").click();
    assert.match(await pass.locator(".proto").textContent(), /^PASS •+$/);

    // Click a row: its localised explanation and RFC section.
    await page.locator('#transcript .row[data-key="reply.STAT.ok"]').click();
    const i18n = JSON.parse(readFileSync(new URL(`../../www/i18n/${lang}.json`, import.meta.url), "utf8"));
    assert.equal(await page.textContent("#explain-panel .explain-short"), i18n["reply.STAT.ok"].short);
    assert.match(await page.textContent("#explain-panel .explain-rfc a"), /^RFC 1939/);

    if (lang === "en") {
      // Exports use the masked text, never the secret.
      // (Message 1 itself quotes "C: PASS pop3" in its body: only the command lines count.)
      const save = async (id) => {
        const [download] = await Promise.all([page.waitForEvent("download"), page.click(id)]);
        return readFileSync(await download.path(), "utf8");
      };
      const text = await save("#export-text");
      const passLines = text.split("\n").filter((l) => /^\d\d\.\d{3} C: PASS /.test(l));
      assert.equal(passLines.length, 1);
      assert.match(passLines[0], /C: PASS •+$/);
      assert.ok(text.includes("C: RETR 1"), "the text export has the session");
      const json = JSON.parse(await save("#export-json"));
      const entries = json.sessions.flatMap((x) => x.entries);
      const pass = entries.filter((e) => e.explain.key === "cmd.PASS");
      assert.equal(pass.length, 1);
      assert.match(pass[0].text, /^PASS •+$/);
      assert.ok(entries.every((e) => !("bytes" in e)), "no raw bytes in the JSON export");
      assert.ok(entries.some((e) => e.text === "RETR 1"));
      await page.click("#copy-btn");
      await page.waitForFunction((t) => document.getElementById("status-live").textContent === t, strings["transcript.copied"]);
    }

    // Scroll the transcript to the top for a readable screenshot of the whole session's start.
    await page.locator("#transcript").evaluate((el) => { el.scrollTop = 0; });
    await screenshot(page, `session-${lang}.png`);
    browser.watch.assertClean();
    await page.close();
  });
}
