// Lesson 9 of issue 11, encryption, completed by a student alone through the page's own
// controls on the bridge's demo server: connect in the clear (port 110 style) and open the
// wire view (the greeting's own octets), CAPA with STLS listed, STLS typed, CAPA again under TLS
// (STLS gone), the wire view now TLS records (16 03 … for the handshake, 17 03 03 … after it)
// beside the plaintext the page sees and their record headers read out, a login whose password is in none of them, QUIT, then
// demo-tls (implicit TLS) with its TLS facts; predictions before each reply, questions read from
// the session (the capability STLS removed, the TLS version) and choices. In English and
// Arabic; screenshots with the wire view open.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, freshUser, setUser, waitState, waitRow, screenshot, ui, send } from "./helpers.mjs";
import { current, predict, judged, answer, choose, displayedAsSent } from "./lesson-helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** What the wire view shows of one direction: the plaintext, the octets on the wire (hex), and
 * under TLS the handshake's first octets. */
async function wire(page, dir) {
  return page.evaluate((d) => {
    const box = document.querySelector(`#wire-view .wire-dir[data-dir="${d}"]`);
    const hex = [...box.querySelectorAll(".wire-hex")].map((c) => c.textContent.replace(/ …$/, ""));
    return { text: box.querySelector(".wire-text")?.textContent ?? null, latest: hex[0] ?? "", first: hex[1] ?? "" };
  }, dir);
}

/** Text as the spaced lower-case hex the wire view shows. */
function hexOf(text) {
  return [...Buffer.from(text)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

async function encryption(lang) {
  const page = await browser.page();
  browser.watch.reset();
  const strings = ui(lang);
  await openPage(page, `?lesson=encryption&lang=${lang}&target=demo`);
  assert.equal(await page.inputValue("#target"), "demo", "the lesson link picks the demo server");
  assert.equal(await page.textContent("#lesson-title"), strings["lesson.encryption.title"]);
  const user = freshUser(`lesson-encryption-${lang}`);
  await setUser(page, user);

  // In the clear: the wire carries the transcript's own octets.
  await current(page, "connect");
  await page.click("#connect-btn");
  await current(page, "clear");
  assert.equal(await page.isVisible("#wire-view"), false, "closed until asked for");
  await page.click("#wire-toggle");
  await page.waitForSelector('#wire-view[data-mode="plain"]');
  const greeting = await wire(page, "down");
  assert.ok(greeting.text.startsWith("+OK"), greeting.text);
  assert.ok(greeting.latest.length > 20 && hexOf(`${greeting.text}\r\n`).startsWith(greeting.latest),
    `${greeting.latest} is the greeting's octets`);
  assert.equal(await page.getAttribute("#wire-toggle", "aria-pressed"), "true");

  await predict(page, "capa", "many");
  await send(page, "CAPA");
  await judged(page, "capa", "right");
  await predict(page, "stls", "+OK");
  await send(page, "STLS");
  await judged(page, "stls", "right");
  if (lang !== "en") await displayedAsSent(page, "#guide-last .guide-look span", "+OK");
  await waitRow(page, "info.tls");
  // TLS is up: the handshake's first records, as the bridge saw them.
  await page.waitForSelector('#wire-view[data-mode="tls"]');
  const handshake = await wire(page, "up");
  assert.ok(handshake.first.startsWith("16 03 01"), `ClientHello: ${handshake.first}`);
  assert.ok((await wire(page, "down")).first.startsWith("16 03 03"), "ServerHello");

  await predict(page, "capa2", "many");
  await page.click('.command-button[data-command="CAPA"]');
  await judged(page, "capa2", "right");
  const capa = await wire(page, "up");
  assert.equal(capa.text, "CAPA");
  assert.ok(capa.latest.startsWith("17 03 03"), `CAPA as an application data record: ${capa.latest}`);
  assert.ok(!capa.latest.includes(hexOf("CAPA")), "CAPA is not readable on the wire");
  // The record headers read out: type 17, application data, and how long the record is.
  await current(page, "wire");
  assert.equal(await page.locator("#wire-view .wire-record").count(), 0, "read out only when asked");
  await page.click("#wire-explain");
  await page.waitForSelector('#wire-explain[aria-expanded="true"]');
  const records = await page.locator('#wire-view .wire-dir[data-dir="up"] .wire-record').allTextContents();
  assert.ok(records[0].includes(strings["wire.type.application-data"]), records[0]);
  assert.ok(records[1].includes(strings["wire.type.handshake"]), records[1]);
  await predict(page, "login", "TRANSACTION");
  await send(page, `USER ${user}`);
  await send(page, "PASS pop3");
  await judged(page, "login", "right");
  for (const dir of ["up", "down"]) {
    const w = await wire(page, dir);
    assert.ok(w.latest.startsWith("17 03 03"), `${dir}: ${w.latest}`);
    for (const plain of ["pop3", "PASS", user]) {
      assert.ok(!w.latest.includes(hexOf(plain)) && !w.first.includes(hexOf(plain)), `${plain} on the wire (${dir})`);
    }
  }

  await current(page, "quit");
  await send(page, "QUIT");
  await waitState(page, "CLOSED");
  // Implicit TLS: the student picks demo-tls and connects.
  await current(page, "implicit");
  await page.selectOption("#target", "demo-tls");
  await page.click("#connect-btn");
  await waitRow(page, "info.tls-implicit");
  await current(page, "done");
  await page.waitForSelector('#wire-view[data-mode="tls"]');
  assert.ok((await wire(page, "up")).first.startsWith("16 03 01"), "implicit TLS: a handshake from the first octet");

  const version = (await page.textContent('#transcript .row[data-key="info.tls-implicit"] .cert dd')).split(" · ")[0];
  assert.match(version, /^TLSv1\.[23]$/);
  assert.equal(await choose(page, "eavesdrop", "nothing"), "wrong");
  assert.equal(await choose(page, "eavesdrop", "everything"), "right");
  assert.equal(await answer(page, "removed", "USER"), "wrong");
  assert.equal(await answer(page, "removed", "stls"), "right", "answered in any case");
  assert.equal(await choose(page, "discard", "injection"), "right");
  assert.equal(await answer(page, "version", version), "right");
  assert.equal(await choose(page, "port", "110"), "wrong");
  assert.equal(await choose(page, "port", "995"), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  assert.equal(await page.textContent("#lesson-status"), strings["lesson.complete"]);
  await page.click("#lesson-index summary");
  await page.waitForSelector('#lesson-list li[data-lesson="encryption"][data-progress="complete"]');
  assert.equal(await page.getAttribute('#lesson-list li[data-lesson="encryption"] a', "href"),
    `?lesson=encryption&lang=${lang}&target=demo`);
  // The wire view in the photograph (checked by axe too).
  await page.evaluate(() => {
    const panel = document.getElementById("transcript-panel");
    document.getElementById("wire-view").scrollIntoView({ block: "end" });
    panel.scrollTop = panel.scrollHeight;
  });
  await screenshot(page, `lesson-encryption-${lang}.png`, { top: false });
  browser.watch.assertClean();
  await page.close();
}

test("lesson 9, encryption, in English: in the clear, STLS, the wire's TLS records, implicit TLS", () => encryption("en"));
test("lesson 9 in Arabic", () => encryption("ar"));

test("pressing N through lesson 9 does every step (the wire view opened, demo-tls chosen) but does not complete it", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page, "?lesson=encryption&lang=en&target=demo");
  await setUser(page, freshUser("lesson-encryption-n"));
  for (const step of ["connect", "clear", "capa", "stls", "capa2", "wire", "login", "quit", "implicit"]) {
    await current(page, step);
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press("n");
  }
  await current(page, "done");
  assert.equal(await page.inputValue("#target"), "demo-tls", "the guide chose demo-tls");
  await waitRow(page, "info.tls-implicit");
  assert.equal(await page.getAttribute("#wire-toggle", "aria-pressed"), "true", "the wire view was opened");
  assert.equal(await page.getAttribute("#wire-explain", "aria-expanded"), "true", "its record headers read out");
  assert.equal(await page.getAttribute("#lesson-status", "data-complete"), "false", "no prediction, no answer");
  browser.watch.assertClean();
  await page.close();
});
