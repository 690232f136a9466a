// A message larger than the page shows (64 MiB; `?maxBody=OCTETS` lowers it, as here): RETR in
// the maildrop does not fetch it for the viewer. The viewer says how large it is (LIST's size)
// and offers "save the raw message", which streams a RETR (the JS API's retrStream) into a
// download; the file holds exactly the message's octets (stuffed dots removed, CRLF and 8-bit
// octets kept).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  launch, openLoggedIn, freshUser, waitRow, waitState, screenshot, deliver, ui,
} from "./helpers.mjs";

const en = ui("en");
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** About `size` octets of mail: CRLF lines, some starting with "." (one is "." alone, which
 * only dot-stuffing keeps from ending the reply), and 8-bit octets. */
function message(size) {
  const head = "From: popwire <big@popwire.test>\r\nTo: student@popwire.test\r\n"
    + "Subject: too large to show\r\nMIME-Version: 1.0\r\n"
    + "Content-Type: application/octet-stream\r\n\r\n";
  const lines = [];
  let length = head.length;
  for (let i = 0; length < size; i++) {
    let line;
    if (i % 97 === 5) line = ".";
    else if (i % 31 === 3) line = `.. a stuffed line ${i}`;
    else line = `${i} ${String.fromCharCode(0xa0 + (i % 96)).repeat(20)} popwire ${"x".repeat(i % 50)}`;
    lines.push(`${line}\r\n`);
    length += line.length + 2;
  }
  return Buffer.from(head + lines.join(""), "latin1");
}

test("a message over the page's cap is offered as a download of its exact octets", async () => {
  const page = await browser.page();
  browser.watch.reset();
  const user = freshUser("oversize");
  const body = message(1536 * 1024);
  const delivered = await deliver(user, body);
  assert.equal(delivered.status, 201, delivered.text);
  const id = delivered.json.id;
  assert.equal(delivered.json.size, body.length, "stored as given");
  const cap = 256 * 1024;

  await openLoggedIn(page, user, `?maxBody=${cap}`);

  // RETR on the row: no RETR is sent, the viewer tells the size LIST gave and offers the save.
  await page.click(`#maildrop tr[data-id="${id}"] button[data-action="RETR"]`);
  await page.waitForSelector(`#viewer-oversize[data-id="${id}"]:not([hidden])`);
  const expected = await page.evaluate(async ([template, n, size, max]) => {
    const { formatBytes } = await import("/i18n.js");
    return template.replace("{id}", n).replace("{size}", formatBytes(size)).replace("{max}", formatBytes(max));
  }, [en["viewer.oversize"], id, body.length, cap]);
  assert.equal(await page.textContent("#viewer-oversize p:first-child"), expected);
  assert.equal(await page.textContent("#oversize-save"), en["viewer.oversize-save"]);
  assert.ok(await page.isHidden("#viewer-body"), "the message is not shown");
  assert.equal(await page.locator('#transcript .row[data-key="body.RETR"]').count(), 0, "nothing fetched yet");

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#oversize-save")]);
  assert.equal(download.suggestedFilename(), `message-${id}.eml`);
  const saved = readFileSync(await download.path());
  assert.equal(saved.length, body.length, "the download's size");
  assert.ok(saved.equals(body), "the download holds exactly the message's octets");
  await page.waitForSelector('#viewer-oversize .oversize-status[data-state="saved"]');
  await waitRow(page, "body.RETR"); // the RETR went over the wire, in the transcript like any other
  assert.ok(await page.isHidden("#viewer-body"), "still not shown");
  await screenshot(page, "oversize.png");

  // A message under the cap is still shown as before.
  await page.click('#maildrop tr[data-id="1"] button[data-action="RETR"]');
  await page.waitForSelector('#viewer-body[data-id="1"]:not([hidden])');
  assert.ok(await page.isHidden("#viewer-oversize"));

  await page.click('.command-button[data-command="QUIT"]');
  await waitState(page, "CLOSED");
  browser.watch.assertClean();
  await page.close();
});
