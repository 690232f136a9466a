// Lessons 7 (APOP by hand) and 12 (history) of issue 11, completed by a student alone through
// the page's own controls: the APOP widget (the greeting's timestamp filled in by the engine,
// a masked secret typed, the digest computed, compared with what the APOP line carried), the
// APOP line typed in the command line with that digest, predictions before each reply, the
// timeline marked by what the session showed, and the choice questions. Lesson 7 in English and
// Arabic, lesson 12 in English and Persian.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { createHash } from "node:crypto";
import { launch, openPage, freshUser, setUser, waitState, screenshot, ui, SCREENSHOTS, send } from "./helpers.mjs";
import { current, predict, judged, answer, choose, displayedAsSent, shoot } from "./lesson-helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** One element alone (the widget, the timeline), on a viewport tall enough to hold it whole. */
async function shootElement(page, selector, name) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: size.width, height: 2400 });
  await page.locator(selector).screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
  await page.setViewportSize(size);
}

async function lessonPage(lang, lesson) {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page, `?lesson=${lesson}&lang=${lang}&target=in-browser`);
  assert.equal(await page.inputValue("#target"), "in-browser", "the lesson link picks its server");
  assert.equal(await page.textContent("#lesson-title"), ui(lang)[`lesson.${lesson}.title`]);
  const user = freshUser(`lesson-${lesson}-${lang}`);
  await setUser(page, user);
  return { page, user };
}

/** Every console message of the page from now on (to check a secret is never logged). */
function recordConsole(page) {
  const said = [];
  page.on("console", (m) => said.push(m.text()));
  return said;
}

/** Lesson 7, APOP by hand: the digest computed in the widget, typed in the APOP line, compared. */
async function apop(lang) {
  const { page, user } = await lessonPage(lang, "apop");
  const said = recordConsole(page);
  await current(page, "connect");
  assert.equal(await page.isVisible("#apop-widget"), false, "the widget waits for its step");
  await page.click("#connect-btn");
  await current(page, "compute");
  if (lang !== "en") {
    // The connect step's explanation: its example timestamp reads as sent in right-to-left prose.
    await displayedAsSent(page, "#guide-last .guide-look span", "<1896.697170952@host>");
  }

  // The timestamp is the engine's reading of this connection's greeting.
  await page.waitForSelector("#apop-widget:not([hidden])");
  const timestamp = await page.inputValue("#apop-timestamp");
  assert.match(timestamp, /^<[^<>\s]+@[^<>\s]+>$/, timestamp);
  const greeting = await page.textContent('#transcript .row[data-key="greeting.apop"] .proto');
  assert.ok(greeting.endsWith(timestamp), `${greeting} ends with ${timestamp}`);
  assert.equal(await page.getAttribute("#apop-secret", "type"), "password", "the secret is masked");

  // A wrong secret first: another digest. Then the right one, as MD5 computed here independently.
  const wrong = "not-the-secret-7f3a";
  await page.fill("#apop-secret", wrong);
  await page.click("#apop-compute");
  const md5 = (secret) => createHash("md5").update(timestamp + secret).digest("hex");
  await page.waitForFunction((d) => document.getElementById("apop-digest").textContent === d, md5(wrong));
  await page.fill("#apop-secret", "pop3");
  assert.equal(await page.textContent("#apop-digest"), "—", "a changed secret clears the digest shown");
  await page.press("#apop-secret", "Enter");
  const digest = md5("pop3");
  await page.waitForFunction((d) => document.getElementById("apop-digest").textContent === d, digest);

  // Logging in with the digest typed by hand, predicted first.
  await predict(page, "login", "+OK");
  await send(page, `APOP ${user} ${digest}`);
  await judged(page, "login", "right");
  await waitState(page, "TRANSACTION");
  const line = await page.textContent('#transcript .row[data-key="cmd.APOP"] .proto');
  assert.equal(line.trim(), `APOP ${user} ${digest}`, "the APOP line carries the digest, unmasked");

  await current(page, "compare");
  await page.click("#apop-compare");
  await page.waitForSelector('#apop-result[data-outcome="match"]');
  await displayedAsSent(page, "#apop-result", digest);
  await current(page, "done");

  assert.equal(await answer(page, "sent", "zzzz"), "wrong");
  assert.equal(await answer(page, "sent", digest.slice(0, 4).toUpperCase()), "right", "hex in any case");
  assert.equal(await choose(page, "md5", "replay"), "wrong", "a digest cannot be replayed: the timestamp changes");
  assert.equal(await choose(page, "md5", "collisions"), "right");
  assert.equal(await choose(page, "store", "secret"), "right");
  assert.equal(await choose(page, "offline", "guess"), "right");
  assert.equal(await choose(page, "today", "tls"), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-apop-${lang}`);
  await shootElement(page, "#apop-widget", `lesson-apop-${lang}-widget`);

  // The secret typed in the widget was never kept nor said anywhere.
  const kept = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!kept.includes(wrong), "the secret is not stored");
  assert.ok(!said.some((text) => text.includes(wrong)), "the secret is not logged");
  assert.ok(!(await page.textContent("#transcript")).includes(wrong), "the secret was not sent");

  // A new connection: another timestamp, and the secret is gone from its field.
  await send(page, "QUIT");
  await waitState(page, "CLOSED");
  await page.click("#connect-btn");
  await page.waitForFunction((old) => {
    const v = document.getElementById("apop-timestamp").value;
    return v && v !== old;
  }, timestamp);
  assert.equal(await page.inputValue("#apop-secret"), "", "the secret field is emptied on a new connection");
  browser.watch.assertClean();
  await page.close();
}

/** Lesson 12, history: the timeline, marked by the session's greeting, CAPA and login. */
async function history(lang) {
  const { page, user } = await lessonPage(lang, "history");
  const strings = ui(lang);
  const events = await page.$$eval("#lesson-timeline ol li", (lis) => lis.map((li) => li.dataset.event));
  assert.deepEqual(events, ["pop1", "pop2", "pop3", "apop", "uidl", "auth", "rfc1939", "capa", "stls",
    "resp-code", "sasl", "utf8", "tls"], "the timeline is an ordered list, oldest first");
  const first = await page.textContent('#lesson-timeline li[data-event="pop1"]');
  const year = new Intl.NumberFormat(lang, { useGrouping: false }).format(1984);
  assert.ok(first.includes(year) && first.includes("RFC 918"), first);
  assert.ok(first.includes(strings["lesson.history.timeline.pop1"]), first);
  if (lang === "fa") assert.ok(first.includes("۱۹۸۴"), "years in Persian digits");
  if (lang !== "en") await displayedAsSent(page, '#lesson-timeline li[data-event="pop1"] .timeline-when', "RFC 918");
  assert.equal(await page.locator("#lesson-timeline .timeline-notes li").count(), 2, "SDPS and KPOP as footnotes");
  assert.equal(await page.locator('#lesson-timeline li[data-seen="true"]').count(), 0, "nothing seen before connecting");

  await predict(page, "connect", "+OK");
  await page.click("#connect-btn");
  await judged(page, "connect", "right");
  await page.waitForSelector('#lesson-timeline li[data-event="apop"][data-seen="true"]');
  assert.equal(await page.getAttribute('#lesson-timeline li[data-event="capa"]', "data-seen"), "false");

  await predict(page, "capa", "many");
  await send(page, "CAPA");
  await judged(page, "capa", "right");
  for (const event of ["capa", "uidl", "resp-code", "sasl", "utf8"]) {
    await page.waitForSelector(`#lesson-timeline li[data-event="${event}"][data-seen="true"]`);
  }
  assert.equal(await page.getAttribute('#lesson-timeline li[data-event="stls"]', "data-seen"), "false",
    "the simulated server offers no STLS");
  const seen = await page.textContent('#lesson-timeline li[data-event="sasl"] .timeline-seen');
  assert.equal(seen, strings["lesson.timeline-seen"], "seen is said in words, not only by colour");

  await current(page, "login");
  await send(page, `USER ${user}`);
  await send(page, "PASS pop3");
  await current(page, "quit");
  await page.waitForSelector('#lesson-timeline li[data-event="pop3"][data-seen="true"]');
  await predict(page, "quit", "UPDATE");
  await send(page, "QUIT");
  await judged(page, "quit", "right");
  await waitState(page, "CLOSED");
  await current(page, "done");

  assert.equal(await choose(page, "capa", "rfc1939"), "wrong");
  assert.equal(await choose(page, "capa", "rfc2449"), "right");
  assert.equal(await choose(page, "pop2", "FOLD"), "right");
  assert.equal(await choose(page, "apop", "rfc1460"), "right");
  assert.equal(await choose(page, "current", "rfc1939"), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-history-${lang}`);
  await shootElement(page, "#lesson-timeline", `lesson-history-${lang}-timeline`);
  await page.click("#lesson-index summary");
  await page.waitForSelector('#lesson-list li[data-lesson="history"][data-progress="complete"]');
  const links = await page.$$eval("#lesson-list li", (lis) => lis.map((li) => li.dataset.lesson));
  assert.ok(links.indexOf("hang-up") < links.indexOf("apop") && links.indexOf("apop") < links.indexOf("sasl"),
    `lesson 7 sits between 6 and 8: ${links}`);
  assert.equal(links.at(-1), "history", "lesson 12 comes last");
  browser.watch.assertClean();
  await page.close();
}

test("lesson 7, APOP by hand, in English: computed, typed, compared, answered", () => apop("en"));
test("lesson 7 in Arabic", () => apop("ar"));
test("lesson 12, history, in English: the timeline marked by the session", () => history("en"));
test("lesson 12 in Persian", () => history("fa"));

test("Do it for me computes and compares in the APOP widget, but does not complete the lesson", async () => {
  const { page } = await lessonPage("en", "apop");
  for (const step of ["connect", "compute", "login", "compare"]) {
    await current(page, step);
    await page.click("#guide-do");
  }
  await current(page, "done");
  assert.equal(await page.getAttribute("#apop-result", "data-outcome"), "match",
    "the connect bar's password and APOP's button give the same digest");
  assert.equal(await page.getAttribute("#lesson-status", "data-complete"), "false", "no prediction, no answers");
  await page.close();
});
