// The command line: the engine's validation inline (a malformed line is refused with the
// reason and nothing is sent), a command not valid in this state is sent anyway and its -ERR
// explained, Tab completion, history, raw SASL (AUTH PLAIN: the next line is the masked SASL
// response), the raw-bytes view (␍␊, stuffed dots, the terminating dot), TLS details after
// STLS.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, freshUser, setUser, waitRow, waitState, ui } from "./helpers.mjs";

const en = ui("en");
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function type(page, line) {
  await page.fill("#cmdline", line);
  await page.press("#cmdline", "Enter");
}

const clientRows = (page) => page.$$eval('#transcript .row.dir-client', (rows) => rows.length);

test("raw SASL, validation, invalid-in-state commands, completion, history", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page);
  const user = freshUser("cmd");
  await setUser(page, user);
  await page.click("#connect-btn");
  await waitRow(page, "greeting.apop");

  // Tab completion: an unambiguous prefix completes (and adds the space for an argument).
  await page.fill("#cmdline", "CA");
  await page.press("#cmdline", "Tab");
  assert.equal(await page.inputValue("#cmdline"), "CAPA");
  await page.fill("#cmdline", "ST");
  await page.press("#cmdline", "Tab");
  assert.match(await page.textContent("#cmdline-hint"), /STLS.*STAT|STAT.*STLS/);
  await page.fill("#cmdline", "RET");
  await page.press("#cmdline", "Tab");
  assert.equal(await page.inputValue("#cmdline"), "RETR ");

  // Validation: a missing argument is refused with the engine's reason; nothing is sent.
  await page.fill("#cmdline", "RETR");
  assert.equal(await page.getAttribute("#cmdline", "aria-invalid"), "true");
  assert.match(await page.textContent("#cmdline-hint"), /RETR needs a message number/);
  const before = await clientRows(page);
  await page.press("#cmdline", "Enter");
  await page.waitForTimeout(200);
  assert.equal(await clientRows(page), before, "a malformed line is not sent");
  await page.fill("#cmdline", `USER ${"x".repeat(300)}`);
  assert.match(await page.textContent("#cmdline-hint"), /limit is 255/);

  // Raw SASL PLAIN: the "+" continuation makes the next line the SASL response.
  await type(page, "AUTH PLAIN");
  await waitRow(page, "sasl.challenge");
  await page.waitForSelector("#sasl-helper:not([hidden])");
  assert.match(await page.textContent("#cmdline-hint"), /SASL/);
  await page.locator("#sasl-helper button").first().click(); // fill base64(\0user\0pop3)
  const response = await page.inputValue("#cmdline");
  assert.equal(Buffer.from(response, "base64").toString(), `\0${user}\0pop3`);
  await page.press("#cmdline", "Enter");
  await waitState(page, "TRANSACTION");
  const sasl = page.locator('#transcript .row[data-key="sasl.response"]');
  assert.match(await sasl.locator(".proto").textContent(), /^•+$/, "the SASL response is masked");
  assert.ok(await page.isHidden("#sasl-helper"));

  // A well-formed command that is not valid now: warned inline, sent anyway, -ERR explained.
  await page.fill("#cmdline", "USER bob");
  assert.match(await page.textContent("#cmdline-hint"), /not valid in the TRANSACTION state/);
  await page.press("#cmdline", "Enter");
  await waitRow(page, "reply.USER.err");
  await page.waitForSelector('#notice[data-kind="server:none"]:not([hidden])');
  assert.equal(
    await page.textContent("#notice .notice-text"),
    en["cmdline.sent-anyway"].replace("{command}", "USER").replace("{state}", "TRANSACTION"),
  );
  assert.equal(await page.getAttribute("#explain-panel .explain-body", "data-key"), "reply.USER.err");

  // Raw LIST and DELE keep the maildrop table in step; history brings commands back.
  await type(page, "LIST");
  await waitRow(page, "body.LIST");
  await page.waitForSelector('#maildrop tr[data-id="8"]');
  await type(page, "DELE 2");
  await waitRow(page, "reply.DELE.ok");
  await page.waitForSelector('#maildrop tr[data-id="2"].marked');
  await type(page, "RSET");
  await waitRow(page, "reply.RSET.ok");
  await page.waitForSelector('#maildrop tr[data-id="2"]:not(.marked)');
  await page.press("#cmdline", "ArrowUp");
  assert.equal(await page.inputValue("#cmdline"), "RSET");
  await page.press("#cmdline", "ArrowUp");
  assert.equal(await page.inputValue("#cmdline"), "DELE 2");
  await page.press("#cmdline", "Escape");
  assert.equal(await page.inputValue("#cmdline"), "");

  // Raw bytes: RETR 2 (the dot-stuffing sample) shows ␍␊, stuffed dots and the final dot.
  await type(page, "RETR 2");
  await waitRow(page, "body.RETR");
  await page.click("#raw-toggle");
  const body = page.locator('#transcript .row[data-key="body.RETR"]').last();
  await body.locator("button.expand").click();
  assert.ok(await body.locator(".ctl.cr").count() > 10);
  assert.ok(await body.locator(".ctl.lf").count() > 10);
  assert.ok(await body.locator("mark.stuffed").count() >= 3, "stuffed dots highlighted");
  assert.equal(await body.locator("mark.terminator").count(), 1, "the terminating dot highlighted");
  await page.click("#raw-toggle");
  await type(page, "QUIT");
  await waitState(page, "CLOSED");
  browser.watch.assertClean();
  await page.close();
});

test("STLS: the upgrade and the certificate details from the bridge", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page);
  await setUser(page, freshUser("tls"));
  await page.check("#stls");
  await page.click("#connect-btn");
  await waitRow(page, "reply.STLS.ok");
  await waitRow(page, "info.tls");
  const tls = page.locator('#transcript .row[data-key="info.tls"]');
  const cert = await tls.locator(".cert").textContent();
  assert.match(cert, /TLSv1\.3/);
  assert.match(cert, /CN=localhost/);
  assert.match(cert, /[0-9a-f]{2}(:[0-9a-f]{2}){31}/, "the SHA-256 fingerprint");
  await page.click("#guide-do"); // CAPA again: capabilities are forgotten after STLS
  await waitRow(page, "reply.CAPA.ok");
  await page.click("#guide-do"); // login, now encrypted
  await waitState(page, "TRANSACTION");
  await page.click("#disconnect-btn");
  await waitState(page, "CLOSED");

  // The implicit-TLS target: STLS disabled, certificate shown from the first line.
  await page.selectOption("#target", "demo-tls");
  assert.ok(await page.isDisabled("#stls"));
  await page.click("#connect-btn");
  await waitRow(page, "info.tls-implicit");
  assert.match(await page.locator('#transcript .row[data-key="info.tls-implicit"] .cert').textContent(), /CN=localhost/);
  await page.click("#disconnect-btn");
  await waitState(page, "CLOSED");
  browser.watch.assertClean();
  await page.close();
});
