// A clear, specific message for each failure of issue 5 item 1: the bridge not running
// (?bridge= to a port where nothing answers), a target the bridge refuses (?target=nope,
// the bridge's unknown-target), a wrong password (the server's own -ERR [AUTH] text), the
// maildrop locked by another session ([IN-USE]), and a server that never speaks (the
// `silent` target of scripts/test-e2e.sh, with ?timeout=1500). Console errors are allowed
// only for the failures caused on purpose, and matched precisely.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  launch, openPage, freshUser, setUser, guide, waitRow, waitState, ui, screenshot,
} from "./helpers.mjs";

const en = ui("en");
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function noticeOf(page, kind) {
  await page.waitForSelector(`#notice[data-kind="${kind}"]:not([hidden])`, { timeout: 15000 });
  return {
    title: await page.textContent("#notice .notice-title"),
    text: await page.textContent("#notice .notice-text"),
    wire: (await page.isVisible("#notice .notice-wire")) ? await page.textContent("#notice .notice-wire code") : null,
    role: await page.getAttribute("#notice", "role"),
  };
}

test("bridge not running: kind network, says so and how to start it", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page, "?bridge=ws://127.0.0.1:9/bridge");
  // No /targets from another bridge: the demo names are offered.
  assert.equal(await page.inputValue("#target"), "demo");
  await page.click("#connect-btn");
  const n = await noticeOf(page, "network");
  assert.equal(n.title, en["error.network.title"]);
  assert.ok(n.text.includes("ws://127.0.0.1:9/bridge"), n.text);
  assert.equal(n.role, "alert");
  assert.ok(await page.isVisible("#notice .notice-hint"));
  assert.equal(await page.getAttribute("#state-now", "data-state"), "CLOSED");
  await screenshot(page, "failure-network.png");
  // Chromium itself logs the failed WebSocket: the one error this test causes.
  browser.watch.assertClean([/^WebSocket connection to 'ws:\/\/127\.0\.0\.1:9\/bridge\?target=demo' failed/]);
  await page.close();
});

test("unknown target: kind bridge with the bridge's code", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page, "?target=nope");
  assert.equal(await page.inputValue("#target"), "nope");
  await page.click("#connect-btn");
  const n = await noticeOf(page, "bridge:unknown-target");
  assert.equal(n.title, en["error.bridge.title"].replace("{code}", "unknown-target"));
  assert.ok(n.text.includes('"nope"'), n.text);
  assert.match(await page.textContent("#notice .notice-detail code"), /unknown target "nope"/);
  browser.watch.assertClean();
  await page.close();
});

test("wrong password: the server's own text and [AUTH], then a retry works", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page);
  await setUser(page, freshUser("wrongpw"));
  await page.fill("#password", "not-the-password");
  await page.click("#connect-btn");
  await waitRow(page, "greeting.apop");
  await guide(page, "capa");
  await waitRow(page, "reply.CAPA.ok");
  await guide(page, "login");
  const n = await noticeOf(page, "login:AUTH");
  assert.equal(n.title, en["error.login.title"]);
  assert.equal(n.text, en["error.login.auth"]);
  assert.equal(n.wire, "-ERR [AUTH] invalid user name or password");
  assert.ok(await page.isVisible("#notice .notice-why"), "the code's explanation is shown");
  await waitRow(page, "code.AUTH");
  assert.equal(await page.getAttribute("#state-now", "data-state"), "AUTHORIZATION");
  // The -ERR row is explained at once.
  assert.equal(await page.getAttribute("#explain-panel .explain-body", "data-key"), "code.AUTH");
  await screenshot(page, "failure-password.png");
  await page.fill("#password", "pop3");
  await guide(page, "login");
  await waitState(page, "TRANSACTION");
  await page.click('.command-button[data-command="QUIT"]');
  await waitState(page, "CLOSED");
  browser.watch.assertClean();
  await page.close();
});

test("maildrop in use: [IN-USE] and what to do", async () => {
  const user = freshUser("inuse");
  const first = await browser.page();
  browser.watch.reset();
  await openPage(first);
  await setUser(first, user);
  await first.click("#connect-btn");
  await guide(first, "capa");
  await guide(first, "login");
  await waitState(first, "TRANSACTION");

  const second = await browser.context.newPage();
  await openPage(second);
  await setUser(second, user);
  await second.selectOption("#auth-method", "APOP");
  await second.click("#connect-btn");
  await waitRow(second, "greeting.apop");
  await guide(second, "capa");
  await guide(second, "login");
  const n = await noticeOf(second, "login:IN-USE");
  assert.equal(n.text, en["error.login.in-use"]);
  assert.match(n.wire, /^-ERR \[IN-USE\] /);
  await second.close();
  // Disconnect without QUIT after a DELE: no UPDATE state, nothing deleted — and the page says so.
  await first.click('.command-button[data-command="LIST"]');
  await waitRow(first, "body.LIST");
  await first.click('#maildrop tr[data-id="1"] button[data-action="DELE"]');
  await first.waitForSelector('#maildrop tr[data-id="1"].marked');
  await first.click("#disconnect-btn");
  await waitState(first, "CLOSED");
  await first.waitForSelector("#maildrop-update:not([hidden])");
  assert.equal(await first.textContent("#maildrop-update"), en["maildrop.closed-no-quit"].one.replace("{count}", "1"));
  assert.equal(await first.locator("#maildrop tr.marked").count(), 0);
  browser.watch.assertClean();
  await first.close();
});

test("a server that never speaks: timeout", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page, "?target=silent&timeout=1500");
  assert.equal(await page.inputValue("#target"), "silent");
  const started = Date.now();
  await page.click("#connect-btn");
  const n = await noticeOf(page, "timeout");
  assert.equal(n.title, en["error.timeout.title"]);
  assert.ok(n.text.includes('"silent"') && n.text.includes("1.5"), n.text);
  console.log(`timeout message after ${Date.now() - started} ms (timeout=1500)`);
  browser.watch.assertClean();
  await page.close();
});

test("failure messages are localised (ar): bridge refusal", async () => {
  const page = await browser.page();
  browser.watch.reset();
  const ar = ui("ar");
  await openPage(page, "?target=nope&lang=ar");
  await page.click("#connect-btn");
  const n = await noticeOf(page, "bridge:unknown-target");
  assert.equal(n.title, ar["error.bridge.title"].replace("{code}", "unknown-target"));
  assert.ok(n.text.includes("«nope»"), n.text);
  browser.watch.assertClean();
  await page.close();
});
