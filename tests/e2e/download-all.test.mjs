// "Download all new messages" in the maildrop panel (issue 12 §1): LIST and UIDL together, then
// the JS API's batch (retrMany), every RETR pipelined. The first press fetches the whole
// maildrop, each message once, and marks each row "downloaded" with an Open button that shows
// the copy without another RETR; a second press finds nothing new; after a delivery, in a new
// session, the unique-ids remembered in localStorage (per maildrop) leave only the new one.
// Screenshots: target/e2e-screenshots/download-all-{en,ar}.png (axe-checked).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  ROOT, launch, openPage, freshUser, setUser, guide, waitState, screenshot, deliver, ui,
} from "./helpers.mjs";

const en = ui("en");
const ar = ui("ar");
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The sample messages every demo maildrop starts with, in order, as RETR gives them: the
 * files' octets, a last line without CRLF (10-no-final-crlf.eml) with the CRLF the server adds. */
const samples = readdirSync(path.join(ROOT, "src/server/samples"))
  .filter((f) => f.endsWith(".eml"))
  .sort()
  .map((f) => readFileSync(path.join(ROOT, "src/server/samples", f)))
  .map((b) => (b.length && b[b.length - 1] !== 0x0a ? Buffer.concat([b, Buffer.from("\r\n")]) : b));

/** The transcript rows' seq numbers by explanation key. */
async function seqs(page, ...keys) {
  return page.evaluate((ks) => Object.fromEntries(ks.map((k) => [k,
    [...document.querySelectorAll(`#transcript .row[data-key="${k}"]`)].map((r) => Number(r.dataset.seq))])), keys);
}

/** `template` (a plural string: the form for `count`) with `{count}` and `{size}` filled in as
 * the page formats them (current language). */
async function doneText(page, template, count, size) {
  return page.evaluate(async ([tpl, n, octets]) => {
    const { formatBytes, formatNumber, locale } = await import("/i18n.js");
    const form = typeof tpl === "string" ? tpl : tpl[new Intl.PluralRules(locale()).select(n)] ?? tpl.other;
    return form.replace("{count}", formatNumber(n)).replace("{size}", formatBytes(octets));
  }, [template, count, size]);
}

async function login(page, user) {
  await openPage(page);
  await setUser(page, user);
  await page.click("#connect-btn");
  await guide(page, "capa");
  await guide(page, "login");
  await waitState(page, "TRANSACTION");
}

test("download all fetches each message once, pipelined; after a delivery only the new one", async () => {
  const page = await browser.page();
  browser.watch.reset();
  const user = freshUser("dl-all");
  await openPage(page);
  assert.ok(await page.isDisabled("#download-all-btn"), "not before TRANSACTION");
  await login(page, user);
  assert.equal(await page.textContent("#download-all-btn"), en["maildrop.download-all"]);
  assert.ok(await page.isEnabled("#download-all-btn"));
  const hint = await page.getAttribute("#download-all-btn", "aria-describedby");
  assert.equal(await page.textContent(`#${hint}`), en["maildrop.download-all-hint"]);

  // First press: the whole maildrop.
  await page.click("#download-all-btn");
  await page.waitForSelector('#download-all[data-state="done"]', { timeout: 30000 });
  const n = samples.length;
  const total = samples.reduce((sum, s) => sum + s.length, 0);
  assert.equal(await page.textContent("#download-all-status"), await doneText(page, en["maildrop.download-done"], n, total));
  assert.ok(await page.isHidden("#download-all-progress"), "the progress bar goes once done");
  assert.equal(await page.locator("#maildrop tbody tr").count(), n, "LIST filled the table");
  assert.equal(await page.locator("#maildrop .downloaded-badge").count(), n, "every row downloaded");
  assert.equal(await page.locator('#maildrop button[data-action="open"]').count(), n);

  // The transcript: LIST and UIDL out together, each RETR once, all of them before the first
  // reply (pipelined by the engine's batch), and each answered.
  const s = await seqs(page, "cmd.LIST", "cmd.UIDL", "reply.LIST.ok", "cmd.RETR", "reply.RETR.ok", "body.RETR");
  assert.ok(s["cmd.UIDL"][0] < s["reply.LIST.ok"][0], "UIDL went out before LIST's reply");
  assert.equal(s["cmd.RETR"].length, n);
  assert.equal(s["reply.RETR.ok"].length, n);
  assert.equal(s["body.RETR"].length, n);
  assert.ok(Math.max(...s["cmd.RETR"]) < Math.min(...s["reply.RETR.ok"]), `pipelined RETRs: ${JSON.stringify(s)}`);
  const sent = await page.locator('#transcript .row[data-key="cmd.RETR"]').allTextContents();
  for (let i = 1; i <= n; i++) assert.ok(sent[i - 1].includes(`RETR ${i}`), `RETR ${i} in order: ${sent[i - 1]}`);
  await screenshot(page, "download-all-en.png");

  // Open shows the downloaded copy; no RETR goes out.
  await page.click('#maildrop tr[data-id="5"] button[data-action="open"]');
  await page.waitForSelector('#viewer-body[data-id="5"]:not([hidden])');
  assert.equal(await page.locator('#transcript .row[data-key="cmd.RETR"]').count(), n, "opened from the copy");

  // A second press in the same session: nothing is new (the server keeps the maildrop as it
  // was at login, RFC 1939 §8, so new mail shows in the next session).
  await page.click("#download-all-btn");
  await page.waitForFunction((text) => document.querySelector("#download-all-status")?.textContent === text,
    en["maildrop.download-none"].replace("{program}", en["program.laptop"]), { timeout: 30000 });
  assert.equal(await page.locator('#transcript .row[data-key="cmd.RETR"]').count(), n, "no RETR sent");
  assert.equal(await page.locator('#maildrop button[data-action="open"]').count(), n, "the copies stay");
  await page.click('.command-button[data-command="QUIT"]');
  await waitState(page, "CLOSED");
  assert.ok(await page.isDisabled("#download-all-btn"));

  // A delivery, then a new session in this browser: the unique-ids remembered in localStorage
  // leave only the new message to fetch.
  const delivered = await deliver(user, Buffer.from(
    "From: teacher@popwire.test\r\nTo: student@popwire.test\r\nSubject: one more\r\n\r\nNew since the last download.\r\n",
  ));
  assert.equal(delivered.status, 201, delivered.text);
  const id = delivered.json.id;
  await login(page, user);
  await page.click("#download-all-btn");
  await page.waitForSelector('#download-all[data-state="done"]', { timeout: 30000 });
  assert.equal(await page.textContent("#download-all-status"), await doneText(page, en["maildrop.download-done"], 1, delivered.json.size));
  const retrs = await page.locator('#transcript .row[data-key="cmd.RETR"]').allTextContents();
  assert.equal(retrs.length, 1, `only the new message: ${retrs}`);
  assert.ok(retrs[0].includes(`RETR ${id}`), retrs[0]);
  assert.equal(await page.locator("#maildrop .downloaded-badge").count(), n + 1, "all downloaded now");
  assert.equal(await page.locator('#maildrop button[data-action="open"]').count(), 1, "this page holds the new copy");
  // The page's mail program (the laptop, by default) remembers each unique-id with when it saw it.
  const remembered = await page.evaluate((u) => Object.keys(JSON.parse(localStorage.getItem(`popwire.program.v1:laptop:demo:${u}`))).length, user);
  assert.equal(remembered, n + 1);
  await page.click(`#maildrop tr[data-id="${id}"] button[data-action="open"]`);
  await page.waitForSelector(`#viewer-body[data-id="${id}"]:not([hidden])`);

  // In Arabic: the same panel, right to left, accessible.
  await page.getByRole("button", { name: "العربية", exact: true }).click();
  await page.waitForFunction(() => document.documentElement.lang === "ar");
  assert.equal(await page.textContent("#download-all-btn"), ar["maildrop.download-all"]);
  assert.equal(await page.textContent("#download-all-status"), await doneText(page, ar["maildrop.download-done"], 1, delivered.json.size));
  await screenshot(page, "download-all-ar.png");
  await page.getByRole("button", { name: "EN", exact: true }).click();
  await page.waitForFunction(() => document.documentElement.lang === "en");

  await page.click('.command-button[data-command="QUIT"]');
  await waitState(page, "CLOSED");
  browser.watch.assertClean();
  await page.close();
});
