// The in-browser server (simulated) in the page, with the bridge running but the in-browser
// target chosen (?target=in-browser): the canonical session, the badge and the Simulated server
// panel (never on a bridge target), [IN-USE] with a second client, autologout after +10 minutes
// (the session closes without a response and the page says why), a drop in the middle of RETR
// (a network error, and the page says so), a slow link making the RETR progress bar visible,
// deliver + reset + the server-side view. The worker and its module are fetched only once the
// in-browser server is used, and nothing goes to the bridge. Screenshots (axe-checked) of the
// panel in en/ar/fa: target/e2e-screenshots/in-browser-<lang>.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import {
  ROOT, launch, openPage, freshUser, setUser, guide, waitRow, waitState, screenshot, ui, send,
} from "./helpers.mjs";

/** How many messages a fresh maildrop holds: the samples (src/server/samples). */
const SAMPLES = readdirSync(path.join(ROOT, "src/server/samples")).filter((f) => f.endsWith(".eml")).length;

let browser;
before(async () => { browser = await launch({ viewport: { width: 1440, height: 1200 } }); });
after(async () => { await browser?.close(); });

/** Opens the page on the in-browser target as a fresh user, connects and logs in. */
async function loggedIn(page, { lang = "en", user = freshUser("inb") } = {}) {
  await openPage(page, `?target=in-browser&lang=${lang}`);
  await setUser(page, user);
  await page.click("#connect-btn");
  await waitRow(page, "info.in-browser");
  await guide(page, "capa");
  await guide(page, "login");
  await waitState(page, "TRANSACTION");
  return user;
}

test("the canonical session on the in-browser server, fetched only when used, nothing to the bridge", async () => {
  const page = await browser.page();
  browser.watch.reset();
  const requests = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("websocket", (ws) => requests.push(ws.url()));
  await openPage(page, "?target=in-browser");
  assert.equal(await page.inputValue("#target"), "in-browser");
  assert.ok(await page.isVisible("#sim-badge"), "the badge labels the simulated target");
  assert.ok(await page.isVisible("#sim-panel"));
  assert.equal(await page.textContent("#sim-badge"), ui("en")["sim.badge"]);
  assert.ok(!requests.some((u) => /server-worker|popwire_server/.test(u)), "the worker is not loaded before use");

  const user = freshUser("inb-canon");
  await setUser(page, user);
  await page.click("#connect-btn");
  await waitRow(page, "greeting.apop");
  const first = page.locator("#transcript .row").first();
  assert.equal(await first.getAttribute("data-key"), "info.in-browser");
  assert.match(await first.textContent(), /simulated POP3 server running in this browser/);
  await guide(page, "capa");
  await waitRow(page, "body.CAPA");
  await guide(page, "login");
  await waitState(page, "TRANSACTION");
  await page.click('.command-button[data-command="STAT"]');
  await waitRow(page, "reply.STAT.ok");
  await page.click('.command-button[data-command="LIST"]');
  await waitRow(page, "body.LIST");
  await send(page, "RETR 1");
  await waitRow(page, "body.RETR");
  await send(page, "DELE 1");
  await waitRow(page, "reply.DELE.ok");
  // The server's side: locked by this session, message 1 marked.
  await page.waitForSelector("#sim-view-table tr.marked");
  assert.equal(await page.locator("#sim-view-table tr.marked").count(), 1);
  await send(page, "QUIT");
  await waitRow(page, "reply.QUIT.ok");
  await waitState(page, "CLOSED");
  // What UPDATE removed, on the server's side.
  await page.waitForFunction(() => !document.querySelector("#sim-view-table tr.marked")
    && /1-/.test(document.querySelector("#sim-view-update").textContent));

  assert.ok(requests.some((u) => u.endsWith("/server-worker.js")), "the worker was started");
  assert.ok(requests.some((u) => u.endsWith("/popwire_server_bg.wasm")), "its module was fetched");
  assert.ok(!requests.some((u) => /\/bridge|^ws/.test(u)), `no request to the bridge: ${requests.filter((u) => /bridge|^ws/.test(u))}`);
  browser.watch.assertClean();
});

test("the panel and the badge are not on a bridge target", async () => {
  const page = await browser.page();
  await openPage(page);
  assert.equal(await page.inputValue("#target"), "demo");
  assert.ok(await page.isHidden("#sim-panel"));
  assert.ok(await page.isHidden("#sim-badge"));
  const options = await page.locator("#target option").allTextContents();
  assert.ok(options.includes(ui("en")["connect.in-browser"]), `${options}`);
});

test("a second client on the same maildrop is refused with [IN-USE]", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await loggedIn(page);
  await page.click("#sim-second");
  await page.waitForFunction(() => /IN-USE/.test(document.querySelector("#sim-second-result").textContent));
  const log = await page.textContent("#sim-second-log");
  assert.match(log, /S: -ERR \[IN-USE\]/);
  await page.click("#sim-second-close");
  browser.watch.assertClean();
});

test("+10 minutes logs the idle session out without a response, and the page says why", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await loggedIn(page);
  const serverRows = await page.locator("#transcript .row.dir-server").count();
  await page.click("#sim-advance-10");
  await waitState(page, "CLOSED");
  await page.waitForSelector('#notice[data-kind="sim:autologout"]:not([hidden])');
  assert.equal(await page.textContent("#notice .notice-title"), ui("en")["sim.autologout-title"]);
  assert.equal(
    await page.locator("#transcript .row.dir-server").count(),
    serverRows,
    "no response before the close",
  );
  await screenshot(page, "in-browser-autologout-en.png");
  browser.watch.assertClean();
});

test("a drop in the middle of RETR is a network error the page explains", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await loggedIn(page);
  await page.fill("#sim-drop-after", "3000");
  await page.click("#sim-drop");
  await page.waitForFunction(() => document.querySelector("#sim-faults-note").textContent.length > 0);
  await send(page, "RETR 7");
  await page.waitForSelector('#notice[data-kind="network"]:not([hidden])');
  assert.match(await page.textContent("#notice .notice-detail"), /fault/);
  await waitState(page, "CLOSED");
  assert.equal(await page.textContent("#sim-status"), ui("en")["sim.fault-closed"]);
  browser.watch.assertClean();
});

test("a slow link makes the RETR progress bar visible", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await loggedIn(page);
  await page.fill("#sim-latency", "50");
  await page.fill("#sim-bandwidth", "400000");
  await page.check("#sim-slow");
  await page.waitForFunction(() => document.querySelector("#sim-faults-note").textContent.length > 0);
  await page.click('.command-button[data-command="LIST"]');
  await waitRow(page, "body.LIST");
  await send(page, "RETR 7");
  await page.waitForSelector("#progress:not([hidden])", { timeout: 5000 });
  const [value, max] = await page.evaluate(() => {
    const bar = document.querySelector("#progress-bar");
    return [bar.value, bar.max];
  });
  assert.ok(value > 0 && value < max, `the bar is part way: ${value} of ${max}`);
  await waitRow(page, "body.RETR", 1, 30000);
  await page.uncheck("#sim-slow");
  browser.watch.assertClean();
});

test("deliver, reset and the server's side", async () => {
  const page = await browser.page();
  browser.watch.reset();
  const user = await loggedIn(page);
  const strings = ui("en");
  await page.waitForFunction((n) => document.querySelectorAll("#sim-view-table tbody tr").length === n, SAMPLES);
  assert.match(await page.textContent("#sim-view-summary"), /locked by connection/);
  await page.click("#sim-deliver");
  await page.waitForFunction((n) => new RegExp(`message ${n}\\b`).test(document.querySelector("#sim-status").textContent), SAMPLES + 1);
  // The open session does not see it; the server's side does not show it while locked either.
  await page.click('.command-button[data-command="STAT"]');
  await waitRow(page, "reply.STAT.ok");
  assert.match(await page.locator('#transcript .row[data-key="reply.STAT.ok"]').last().textContent(), new RegExp(`\\+OK ${SAMPLES} `));
  // Reset is refused while the session holds the lock…
  await page.click("#sim-reset");
  await page.waitForFunction((t) => document.querySelector("#sim-status").textContent.startsWith(t), strings["sim.reset-locked"].split("{")[0]);
  await send(page, "QUIT");
  await waitState(page, "CLOSED");
  await page.waitForFunction((n) => document.querySelectorAll("#sim-view-table tbody tr").length === n, SAMPLES + 1);
  assert.match(await page.textContent("#sim-view-summary"), /not locked/);
  // …and done once it is released: back to the samples.
  await page.click("#sim-reset");
  await page.waitForFunction((n) => document.querySelectorAll("#sim-view-table tbody tr").length === n, SAMPLES);
  assert.ok((await page.textContent("#sim-status")).includes(user));
  browser.watch.assertClean();
});

for (const lang of ["en", "ar", "fa"]) {
  test(`the Simulated server panel in ${lang}`, async () => {
    const page = await browser.page();
    browser.watch.reset();
    await loggedIn(page, { lang });
    const strings = ui(lang);
    assert.equal(await page.textContent("#sim-h"), strings["sim.title"]);
    assert.equal(await page.textContent("#sim-badge"), strings["sim.badge"]);
    assert.equal(await page.evaluate(() => document.dir), lang === "en" ? "ltr" : "rtl");
    // Protocol text stays left-to-right inside the translated labels.
    assert.equal(await page.locator("#sim-sys-temp bdi").getAttribute("dir"), "ltr");
    await send(page, "DELE 2");
    await page.waitForSelector("#sim-view-table tr.marked");
    await page.click("#sim-second");
    await page.waitForFunction(() => /IN-USE/.test(document.querySelector("#sim-second-result").textContent));
    await page.locator("#sim-panel").scrollIntoViewIfNeeded();
    await screenshot(page, `in-browser-${lang}.png`);
    await page.click("#sim-second-close");
    browser.watch.assertClean();
  });
}
