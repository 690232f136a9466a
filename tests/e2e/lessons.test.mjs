// Lessons (www/lessons/, issue 11): a student completes each lesson alone through the page's
// own controls — predicting before each reply, typing commands in the command line or clicking
// their buttons and the Simulated server's controls, answering questions whose answers come
// from their own session — on the in-browser server the lesson link selects. Every lesson in
// English; in Arabic lessons 1, 3, 4, 5, 10 and 11, in Persian 2, 4, 6 (answered in Persian
// digits), 8 and 10 (the numbering).
// Progress is remembered per browser.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { launch, openPage, freshUser, setUser, waitState, screenshot, ui, SCREENSHOTS, send, figure } from "./helpers.mjs";
import { current, predict, judged, answer, choose, displayedAsSent, shoot } from "./lesson-helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Connects with the top bar's button, then lets the guide log in ("Do it for me"): the steps
 * of lessons that ask no prediction there. */
async function connectAndLetTheGuideLogIn(page) {
  await current(page, "connect");
  await page.click("#connect-btn");
  await current(page, "login");
  await page.click("#guide-do");
}

/** What the maildrop table shows of message `id`: its size in octets and its unique-id. */
async function row(page, id) {
  return page.evaluate((n) => {
    const tr = document.querySelector(`#maildrop tbody tr[data-id="${n}"]`);
    const size = tr?.querySelector(".size")?.title?.match(/[\d,٬٫.۰-۹٠-٩]+/)?.[0] ?? null;
    return { size, uid: tr?.querySelector(".uid")?.title || null };
  }, id);
}

/** Arabic-Indic / Persian digits → ASCII, separators dropped. */
function ascii(text) {
  return text.replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (d) => String(d.charCodeAt(0) & 0xf)).replace(/[^\d]/g, "");
}

async function lessonPage(lang, lesson) {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page, `?lesson=${lesson}&lang=${lang}&target=in-browser`);
  assert.equal(await page.inputValue("#target"), "in-browser", "the lesson link picks its server");
  const user = freshUser(`lesson-${lesson}-${lang}`);
  await setUser(page, user);
  return { page, user };
}

/** Lesson 1, the whole session: every command typed or clicked, every prediction made. */
async function wholeSession(lang) {
  const { page, user } = await lessonPage(lang, "session");
  const strings = ui(lang);
  assert.equal(await page.textContent("#lesson-title"), strings["lesson.session.title"]);
  assert.equal(await page.isVisible("#guide-do"), true, "the guide still offers to do a step");

  await predict(page, "connect", "+OK");
  await page.click("#connect-btn");
  await judged(page, "connect", "right");
  if (lang !== "en") {
    // The greeting's explanation: its example timestamp displays as sent in right-to-left prose.
    await page.click('#transcript .row[data-key="greeting.apop"]');
    await page.waitForSelector('#explain-panel .explain-body[data-key="greeting.apop"]');
    await displayedAsSent(page, "#explain-panel .explain-long", "<1896.697170952@host>");
  }
  // Predicted wrong on purpose: the guide says what the answer was.
  await predict(page, "capa", "one");
  await send(page, "CAPA");
  await judged(page, "capa", "wrong");
  const feedback = await page.textContent("#guide-last .guide-feedback");
  assert.ok(feedback.includes(strings["lesson.predict.lines-many"]), feedback);
  await predict(page, "login", "TRANSACTION");
  await send(page, `USER ${user}`);
  await send(page, "PASS pop3");
  await judged(page, "login", "right");
  if (lang !== "en") {
    // Protocol text inside right-to-left prose is isolated, so it reads as sent.
    const text = await page.textContent("#guide-last .guide-feedback");
    assert.ok(text.includes("\u2066TRANSACTION\u2069"), text);
    assert.equal(await page.getAttribute("html", "dir"), "rtl");
  }
  await predict(page, "stat", "one");
  await page.click('.command-button[data-command="STAT"]');
  await judged(page, "stat", "right");
  await predict(page, "list", "many");
  await send(page, "LIST");
  await judged(page, "list", "right");
  await current(page, "uidl");
  await page.click('.command-button[data-command="UIDL"]');
  await predict(page, "top", "many");
  await page.click('.command-button[data-command="TOP"]');
  await judged(page, "top", "right");
  await current(page, "retr");
  await send(page, "RETR 1");
  await predict(page, "dele", "one");
  await send(page, "DELE 1");
  await judged(page, "dele", "right");
  // The questions, read off the session before QUIT ends it.
  const second = await row(page, 2);
  const first = await row(page, 1);
  const count = await page.locator("#maildrop tbody tr").count();
  await predict(page, "quit", "UPDATE");
  await send(page, "QUIT");
  await judged(page, "quit", "right");
  await waitState(page, "CLOSED");
  await current(page, "done");
  assert.equal(await page.getAttribute("#lesson-status", "data-complete"), "false", "questions are left");

  assert.equal(await answer(page, "count", String(count + 1)), "wrong");
  assert.equal(await answer(page, "count", String(count)), "right");
  assert.equal(await answer(page, "size", ascii(second.size)), "right");
  assert.equal(await answer(page, "uid", first.uid), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  assert.equal(await page.textContent("#lesson-status"), strings["lesson.complete"]);
  await page.click("#lesson-index summary");
  await page.waitForSelector('#lesson-list li[data-lesson="session"][data-progress="complete"]');
  await shoot(page, `lesson-session-${lang}`);
  browser.watch.assertClean();
  await page.close();
}

/** Lesson 6, hanging up before QUIT: the marked message is found again after reconnecting. */
async function hangUp(lang) {
  const { page } = await lessonPage(lang, "hang-up");
  const strings = ui(lang);
  assert.equal(await page.textContent("#lesson-title"), strings["lesson.hang-up.title"]);
  await connectAndLetTheGuideLogIn(page);
  await predict(page, "uidl", "many");
  // The login's explanation: "+OK: …", in a right-to-left language too.
  await displayedAsSent(page, "#guide-last .guide-look span", "+OK");
  await send(page, "UIDL");
  await judged(page, "uidl", "right");
  const before = await row(page, 1);
  assert.ok(before.uid, "UIDL filled the table");
  await predict(page, "dele", "+OK");
  await page.click('#maildrop tr[data-id="1"] button[data-action="DELE"]');
  await judged(page, "dele", "right");
  await current(page, "hangup");
  await page.click("#disconnect-btn");
  await waitState(page, "CLOSED");
  await current(page, "reconnect");
  await page.click("#connect-btn");
  await current(page, "login2");
  await page.click("#guide-do");
  await predict(page, "uidl2", "many");
  await page.click('.command-button[data-command="UIDL"]');
  await judged(page, "uidl2", "right");
  const after = await row(page, 1);
  assert.equal(after.uid, before.uid, "message 1 survived the hang-up");
  const count = await page.locator("#maildrop tbody tr").count();
  // Answered in the page's own digits where it has them (Persian digits in Persian).
  const digits = lang === "fa" ? String(count).replace(/\d/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : String(count);
  assert.equal(await answer(page, "count", digits), "right");
  assert.equal(await answer(page, "uid", before.uid), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-hang-up-${lang}`);
  // Progress is remembered in this browser: the index says so after a reload.
  await openPage(page, `?lesson=session&lang=${lang}`);
  await page.click("#lesson-index summary");
  await page.waitForSelector('#lesson-list li[data-lesson="hang-up"][data-progress="complete"]');
  const link = await page.getAttribute('#lesson-list li[data-lesson="hang-up"] a', "href");
  assert.equal(link, `?lesson=hang-up&lang=${lang}&target=in-browser`);
  browser.watch.assertClean();
  await page.close();
}

/** The largest message in the maildrop table: its number and size in octets. */
async function largestRow(page) {
  const rows = await page.evaluate(() => [...document.querySelectorAll("#maildrop tbody tr")].map((tr) => ({
    id: tr.dataset.id, size: tr.querySelector(".size")?.title ?? "",
  })));
  return rows.map((r) => ({ id: r.id, size: Number(ascii(r.size)) })).sort((a, b) => b.size - a.size)[0];
}

/** Lesson 4, TOP to peek: the largest message is judged from its headers, never downloaded. */
async function peek(lang) {
  const { page } = await lessonPage(lang, "peek");
  await connectAndLetTheGuideLogIn(page);
  await predict(page, "list", "many");
  await send(page, "LIST");
  await judged(page, "list", "right");
  const big = await largestRow(page);
  assert.ok(big.size > 500_000, `the largest is ${big.size} octets`);
  await predict(page, "top", "many");
  await send(page, `TOP ${big.id} 0`);
  await judged(page, "top", "right");
  await current(page, "decide");
  await send(page, `DELE ${big.id}`);
  await current(page, "done");
  const retrs = await page.locator('#transcript .row[data-key="reply.RETR.ok"]').count();
  assert.equal(retrs, 0, "the large message was never downloaded");
  assert.equal(await answer(page, "largest", String(Number(big.id) + 1)), "wrong");
  assert.equal(await answer(page, "largest", big.id), "right");
  assert.equal(await answer(page, "size", String(big.size)), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-peek-${lang}`);
  browser.watch.assertClean();
  await page.close();
}

/** Lesson 10, when servers break the rules: bare LF, autologout, an -ERR greeting. */
async function broken(lang) {
  const { page } = await lessonPage(lang, "broken");
  await connectAndLetTheGuideLogIn(page);
  await predict(page, "barelf", "+OK");
  await page.check("#sim-bare-lf");
  await send(page, "LIST");
  await judged(page, "barelf", "right");
  await current(page, "autologout");
  await page.click("#sim-advance-10");
  await waitState(page, "CLOSED");
  await predict(page, "greeting", "-ERR");
  await page.click("#sim-err-greeting");
  await page.click("#connect-btn");
  await judged(page, "greeting", "right");
  await displayedAsSent(page, "#guide-last .guide-look span", "-ERR");
  await displayedAsSent(page, "#guide-last .guide-feedback", "-ERR");
  await current(page, "done");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-broken-${lang}`);
  await page.close();
}

/** Lesson 5, one client at a time: the second client gets [IN-USE], then gets in after QUIT. */
async function lock(lang) {
  const { page } = await lessonPage(lang, "lock");
  await connectAndLetTheGuideLogIn(page);
  await predict(page, "second", "-ERR");
  // The choices are protocol text: displayed as sent in Arabic and Persian too.
  for (const status of ["+OK", "-ERR"]) await displayedAsSent(page, `#guide-predict label:has(input[value="${status}"]) span`, status);
  await page.click("#sim-second");
  await judged(page, "second", "right");
  await predict(page, "quit", "UPDATE");
  await page.click('.command-button[data-command="QUIT"]');
  await judged(page, "quit", "right");
  await predict(page, "again", "+OK");
  await page.click("#sim-second-close");
  await page.click("#sim-second");
  await judged(page, "again", "right");
  await current(page, "done");
  assert.equal(await answer(page, "code", "AUTH"), "wrong");
  assert.equal(await answer(page, "code", "in-use"), "right", "answered in any case");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-lock-${lang}`);
  await page.click("#sim-second-close");
  browser.watch.assertClean();
  await page.close();
}

/**
 * Lesson 8, SASL by hand, three logins on three connections: AUTH PLAIN answered with base64
 * computed here; AUTH LOGIN and AUTH CRAM-MD5 answered with the command line's fill buttons,
 * whose lines are checked against this file's own base64 and HMAC-MD5 (RFC 2195) of the
 * challenge as its transcript row shows it decoded; every prediction made, every question
 * answered.
 */
async function sasl(lang) {
  const { createHmac } = await import("node:crypto");
  const { page, user } = await lessonPage(lang, "sasl");
  const strings = ui(lang);
  assert.equal(await page.textContent("#lesson-title"), strings["lesson.sasl.title"]);
  const base64 = (text) => Buffer.from(text).toString("base64");
  const challengeRow = () => page.locator('#transcript .row[data-key="sasl.challenge"]').last();
  /** Clicks the command line's fill button labelled by `key`; returns the line it typed. */
  const fill = async (key) => {
    await page.locator("#sasl-helper button", { hasText: strings[key] }).click();
    return page.inputValue("#cmdline");
  };
  const how = () => page.textContent("#guide-current .guide-how");

  await current(page, "connect");
  await page.click("#connect-btn");
  await predict(page, "capa", "many");
  await send(page, "CAPA");
  await judged(page, "capa", "right");
  const capaRow = page.locator('#transcript .row[data-key="body.CAPA"]').last();
  if (await capaRow.locator(".expand").count()) await capaRow.locator(".expand").click();
  const capa = await capaRow.locator(".proto").textContent();
  assert.match(capa, /^SASL PLAIN LOGIN CRAM-MD5$/m, "the in-browser server offers the three mechanisms");

  // PLAIN: one base64 line, computed here (RFC 4616: NUL user NUL password).
  await current(page, "auth");
  assert.ok((await how()).includes(lang === "en" ? "AUTH PLAIN" : "\u2066AUTH PLAIN\u2069"), await how());
  // Another mechanism than the step asks for does not do it.
  await send(page, "AUTH LOGIN");
  await challengeRow().waitFor();
  await page.waitForSelector("#sasl-helper:not([hidden])");
  await page.locator("#sasl-helper button", { hasText: strings["cmdline.sasl-cancel"] }).click();
  await page.press("#cmdline", "Enter");
  await page.waitForSelector("#sasl-helper", { state: "hidden" });
  await current(page, "auth");
  await send(page, "AUTH PLAIN");
  await predict(page, "response", "TRANSACTION");
  await send(page, base64(`\0${user}\0pop3`));
  await judged(page, "response", "right");
  await waitState(page, "TRANSACTION");
  await predict(page, "quit", "+OK");
  await send(page, "QUIT");
  await judged(page, "quit", "right");

  // LOGIN: two base64 prompts, each read decoded in its transcript row.
  await current(page, "reconnect");
  await page.click("#connect-btn");
  await current(page, "login");
  if (lang !== "en") assert.ok((await how()).includes("\u2066AUTH LOGIN\u2069"), await how());
  await send(page, "AUTH LOGIN");
  await current(page, "login-user");
  assert.equal(await challengeRow().locator(".proto").textContent(), "+ VXNlcm5hbWU6", "the row shows the line as sent");
  assert.equal(await challengeRow().locator(".decoded code").textContent(), "Username:", "and what the engine decoded");
  assert.equal(await challengeRow().locator(".decoded-label").textContent(), strings["cmdline.sasl-decoded"]);
  assert.equal(await fill("cmdline.sasl-fill-user"), base64(user));
  await page.press("#cmdline", "Enter");
  await predict(page, "login-password", "TRANSACTION");
  assert.equal(await challengeRow().locator(".decoded code").textContent(), "Password:");
  assert.equal(await fill("cmdline.sasl-fill-password"), base64("pop3"));
  await page.press("#cmdline", "Enter");
  await judged(page, "login-password", "right");
  // PLAIN's response, then LOGIN's two (the transcript keeps the earlier connection's rows).
  assert.equal(await page.locator('#transcript .row[data-key="sasl.response"] .proto').count(), 3);
  for (const proto of await page.locator('#transcript .row[data-key="sasl.response"] .proto').all()) {
    assert.match(await proto.textContent(), /^•+$/, "the transcript masks each answer");
  }
  await current(page, "quit-login");
  await send(page, "QUIT");

  // CRAM-MD5: the response is the user name and HMAC-MD5(password, challenge), from the engine.
  await current(page, "reconnect-cram");
  await page.click("#connect-btn");
  await current(page, "cram");
  await send(page, "AUTH CRAM-MD5");
  await current(page, "cram-response");
  const challenge = await challengeRow().locator(".decoded code").textContent();
  assert.match(challenge, /^<[^<>\s@]+@[^<>\s]+>$/, challenge);
  assert.equal(await challengeRow().locator(".proto").textContent(), `+ ${base64(challenge)}`);
  await predict(page, "cram-response", "TRANSACTION");
  const digest = createHmac("md5", "pop3").update(challenge).digest("hex");
  assert.equal(await fill("cmdline.sasl-fill-cram"), base64(`${user} ${digest}`));
  await page.press("#cmdline", "Enter");
  await judged(page, "cram-response", "right");
  if (lang !== "en") await displayedAsSent(page, "#guide-last .guide-look span", "+OK");
  await waitState(page, "TRANSACTION");
  await current(page, "done");

  // The questions: the LOGIN challenge as the session decoded it, then what the RFCs say.
  assert.equal(await answer(page, "login-challenge", "Password:"), "wrong");
  assert.equal(await answer(page, "login-challenge", "Username:"), "right");
  assert.equal(await choose(page, "base64", "yes"), "wrong");
  assert.equal(await choose(page, "base64", "no"), "right");
  assert.equal(await choose(page, "plain-tls", "readable"), "right");
  assert.notEqual(await page.getAttribute("#lesson-status", "data-complete"), "true", "a question is left");
  assert.equal(await choose(page, "cram-wire", "password"), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-sasl-${lang}`);
  browser.watch.assertClean();
  await page.close();
}

/** Persian digits for a Persian student's answers. */
function inLanguage(lang, text) {
  return lang === "fa" ? String(text).replace(/\d/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[d]) : String(text);
}

/** Presses "Download all new messages" and waits until the sync (and its policy's DELEs) ended. */
async function downloadAll(page) {
  await page.click("#download-all-btn");
  await page.waitForSelector('#download-all[data-state="done"]');
}

/**
 * Lesson 2: two mail programs (a laptop and a phone) on one maildrop. Leaving copies, each
 * fetches what it has not seen by unique-id, even after the phone's DELE shifted the numbers;
 * then download-and-delete leaves the phone nothing.
 */
async function leaveCopy(lang) {
  const { page, user } = await lessonPage(lang, "leave-copy");
  const typed = [];
  const pressed = [];
  const type = async (line) => { typed.push(line.startsWith("PASS ") ? "PASS ••••" : line); await send(page, line); };
  const press = async (selector) => {
    pressed.push(((await page.textContent(`label:has(${selector}), ${selector}`)) ?? selector).trim());
    if (await page.getAttribute(selector, "type") === "radio") await page.check(selector);
    else await page.click(selector);
  };
  const rows = () => page.locator("#maildrop tbody tr").count();
  const badges = () => page.locator("#maildrop .downloaded-badge").count();
  const connect = async (step) => { await current(page, step); await page.click("#connect-btn"); };

  // The laptop, leaving a copy.
  await current(page, "laptop");
  await press("#program-forget");
  await press("#program-laptop");
  await press("#policy-keep");
  await connect("connect");
  await current(page, "login");
  await type(`USER ${user}`);
  await type("PASS pop3");
  await current(page, "download");
  await downloadAll(page);
  const first = await rows();
  assert.ok(first > 1);
  assert.equal(await badges(), first, "the laptop downloaded every message once");
  assert.match(await page.textContent("#program-memory summary"), new RegExp(`${inLanguage(lang, first)}$`), "and remembers each unique-id");
  await predict(page, "quit", "UPDATE");
  await type("QUIT");
  await judged(page, "quit", "right");
  await current(page, "deliver");
  await press("#sim-deliver");

  // The phone: it has seen nothing, so it gets everything; then it deletes message 1.
  await current(page, "phone");
  await press("#program-phone");
  await connect("phone-connect");
  await current(page, "phone-login");
  await page.click("#guide-do");
  await current(page, "phone-download");
  await downloadAll(page);
  assert.equal(await badges(), first + 1, "the phone downloaded the old messages and the new one");
  await predict(page, "phone-dele", "+OK");
  await type("DELE 1");
  await judged(page, "phone-dele", "right");
  await current(page, "phone-quit");
  await type("QUIT");

  // The laptop again: only the new message, under a number one lower than the phone's.
  await current(page, "back");
  await press("#program-laptop");
  await connect("back-connect");
  await current(page, "back-login");
  await page.click("#guide-do");
  await current(page, "back-download");
  await downloadAll(page);
  assert.equal(await rows(), first, "one message fewer since the phone's DELE");
  const newest = await row(page, first);
  assert.ok(newest.uid);

  // Download and delete: the laptop marks everything it has; the phone then finds nothing.
  await current(page, "delete-policy");
  await press("#policy-delete");
  await current(page, "delete-download");
  await page.click("#download-all-btn");
  await current(page, "delete-quit");
  assert.equal(await page.locator("#maildrop tbody tr.marked").count(), first, "every message the laptop has is marked");
  await predict(page, "delete-quit", "UPDATE");
  await type("QUIT");
  await judged(page, "delete-quit", "right");
  await current(page, "last-phone");
  await press("#program-phone");
  await connect("last-connect");
  await current(page, "last-login");
  await page.click("#guide-do");
  await current(page, "last-download");
  await downloadAll(page);
  await current(page, "done");
  assert.equal(await rows(), 0, "nothing is left on the server for the phone");

  const answers = {
    "phone-downloaded": inLanguage(lang, first + 1), downloaded: inLanguage(lang, 1), number: inLanguage(lang, first),
    uid: newest.uid, deleted: inLanguage(lang, first), left: inLanguage(lang, 0),
  };
  assert.equal(await answer(page, "number", inLanguage(lang, first + 1)), "wrong", "the phone's number for it is not the laptop's");
  for (const [id, text] of Object.entries(answers)) assert.equal(await answer(page, id, text), "right", id);
  assert.equal(await choose(page, "why", "secret"), "wrong");
  assert.equal(await choose(page, "why", "shift"), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-leave-copy-${lang}`);
  if (lang === "en") {
    figure("lesson-leave-copy", {
      typed, pressed,
      predicted: { quit: "UPDATE", "phone-dele": "+OK", "delete-quit": "UPDATE" },
      answered: { ...answers, why: "shift" },
    }, "what the student typed, pressed, predicted and answered in the leave-a-copy lesson");
  }
  browser.watch.assertClean();
  await page.close();
}

/**
 * Lesson 3: "delete from the server after 5 days" as the mail program's rule, on the simulated
 * server's clock; CAPA's EXPIRE NEVER is the server's own policy.
 */
async function expire(lang) {
  const { page } = await lessonPage(lang, "expire");
  const rows = () => page.locator("#maildrop tbody tr").count();
  const marked = () => page.locator("#maildrop tbody tr.marked").count();
  const visit = async (n) => {
    await current(page, `connect${n}`);
    await page.click("#connect-btn");
    await current(page, `login${n}`);
    await page.click("#guide-do");
    await current(page, `download${n}`);
    await downloadAll(page);
  };
  await current(page, "setup");
  await page.click("#program-forget");
  await page.check("#program-laptop");
  await page.check("#policy-days");
  assert.equal(await page.inputValue("#policy-days-n"), "5");
  await current(page, "connect");
  await page.click("#connect-btn");
  await current(page, "login");
  await page.click("#guide-do");
  await predict(page, "capa", "many");
  await send(page, "CAPA");
  await judged(page, "capa", "right");
  // The capability list, unfolded as a student does to find EXPIRE in it.
  await page.locator('#transcript .row[data-key="body.CAPA"] .expand').click();
  assert.match(await page.textContent('#transcript .row[data-key="body.CAPA"]'), /EXPIRE NEVER/, "the server's own policy, in CAPA");
  await current(page, "download");
  await downloadAll(page);
  const first = await rows();
  assert.equal(await marked(), 0, "day 0: nothing is 5 days old");
  await current(page, "quit");
  await send(page, "QUIT");
  await current(page, "later");
  await page.click("#sim-advance-3d");
  await current(page, "deliver");
  await page.click("#sim-deliver");
  await visit(2);
  assert.equal(await rows(), first + 1);
  assert.equal(await marked(), 0, "day 3: nothing is 5 days old");
  await current(page, "quit2");
  await send(page, "QUIT");
  await current(page, "later2");
  await page.click("#sim-advance-3d");
  await visit(3);
  assert.equal(await marked(), first, "day 6: the messages first seen on day 0 are marked");
  const newest = await page.getAttribute(`#maildrop tbody tr[data-id="${first + 1}"]`, "class");
  assert.ok(!/marked/.test(newest ?? ""), "the one delivered on day 3 is kept");
  await predict(page, "quit3", "UPDATE");
  await send(page, "QUIT");
  await judged(page, "quit3", "right");
  await current(page, "done");
  assert.equal(await answer(page, "early", inLanguage(lang, 0)), "right");
  assert.equal(await answer(page, "deleted", inLanguage(lang, first + 1)), "wrong");
  assert.equal(await answer(page, "deleted", inLanguage(lang, first)), "right");
  assert.equal(await choose(page, "expire", "client"), "wrong");
  assert.equal(await choose(page, "expire", "server"), "right");
  assert.equal(await choose(page, "zero", "no-leave"), "right");
  assert.equal(await choose(page, "whose", "client"), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-expire-${lang}`);
  browser.watch.assertClean();
  await page.close();
}

/** Lesson 11, POP3 and IMAP, SMTP's place: pull with RETR, a push by delivery, choice questions. */
async function popImap(lang) {
  const { page } = await lessonPage(lang, "pop-imap");
  await connectAndLetTheGuideLogIn(page);
  await predict(page, "retr", "many");
  await send(page, "RETR 1");
  await judged(page, "retr", "right");
  await current(page, "deliver");
  await page.click("#sim-deliver");
  await predict(page, "quit", "UPDATE");
  await send(page, "QUIT");
  await judged(page, "quit", "right");
  await current(page, "done");
  assert.equal(await choose(page, "where", "device"), "wrong", "RETR does not remove the message");
  assert.equal(await choose(page, "where", "both"), "right");
  assert.equal(await choose(page, "pull", "client"), "right");
  assert.equal(await choose(page, "push", "smtp"), "right");
  assert.equal(await choose(page, "devices", "imap"), "right");
  await page.waitForSelector('#lesson-status[data-complete="true"]');
  await shoot(page, `lesson-pop-imap-${lang}`);
  browser.watch.assertClean();
  await page.close();
}

test("lesson 1, the whole session, in English: predicted, typed and clicked, answered", () => wholeSession("en"));
test("lesson 1 in Arabic", () => wholeSession("ar"));
test("lesson 6, hanging up before QUIT, in English", () => hangUp("en"));
test("lesson 6 in Persian, answered in Persian digits", () => hangUp("fa"));
test("lesson 2, leave a copy on the server, in English", () => leaveCopy("en"));
test("lesson 2 in Persian", () => leaveCopy("fa"));
test("lesson 3, delete from the server after N days, in English", () => expire("en"));
test("lesson 3 in Arabic", () => expire("ar"));
test("lesson 4, TOP to peek, in English", () => peek("en"));
test("lesson 4 in Arabic", () => peek("ar"));
test("lesson 4 in Persian", () => peek("fa"));
test("lesson 5, one client at a time, in English", () => lock("en"));
test("lesson 5 in Arabic", () => lock("ar"));
test("lesson 8, SASL by hand, in English", () => sasl("en"));
test("lesson 8 in Persian", () => sasl("fa"));
test("lesson 10, when servers break the rules, in English", () => broken("en"));
test("lesson 10 in Arabic", () => broken("ar"));
test("lesson 10 in Persian", () => broken("fa"));

test("lesson 11, POP3 and IMAP, in English", () => popImap("en"));
test("lesson 11 in Arabic", () => popImap("ar"));

test("pressing N through lesson 1 does every step but does not complete the lesson", async () => {
  const { page } = await lessonPage("en", "session");
  for (const step of ["connect", "capa", "login", "stat", "list", "uidl", "top", "retr", "dele", "quit"]) {
    await current(page, step);
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press("n");
  }
  await current(page, "done");
  await waitState(page, "CLOSED");
  assert.equal(await page.getAttribute("#lesson-status", "data-complete"), "false");
  assert.equal(await page.getAttribute("#guide-last", "data-outcome"), "none", "no prediction was made");
  await page.close();
});

test("the guide does lesson 8 by hand too: each AUTH typed, each challenge answered by the engine's SASL client", async () => {
  const { page } = await lessonPage("en", "sasl");
  const typed = [];
  for (const step of ["connect", "capa", "auth", "response", "quit", "reconnect", "login", "login-user",
    "login-password", "quit-login", "reconnect-cram", "cram", "cram-response"]) {
    await current(page, step);
    await page.click("#guide-do");
    if (["auth", "login", "cram"].includes(step)) {
      // Typed, not the AUTH button's exchange: the server's challenge waits for the next line.
      await page.waitForSelector("#sasl-helper:not([hidden])");
      typed.push(await page.locator('#transcript .row.dir-client[data-key="cmd.AUTH"] .proto').last().textContent());
    }
  }
  await current(page, "done");
  await waitState(page, "TRANSACTION");
  assert.deepEqual(typed, ["AUTH PLAIN", "AUTH LOGIN", "AUTH CRAM-MD5"]);
  assert.equal(await page.locator('#transcript .row[data-key="sasl.response"]').count(), 4, "PLAIN's one, LOGIN's two, CRAM-MD5's one");
  assert.equal(await page.getAttribute("#lesson-status", "data-complete"), "false", "no prediction, no answer");
  browser.watch.assertClean();
  await page.close();
});

test("presenter mode hides each explanation until revealed, and is remembered", async () => {
  const { page, user } = await lessonPage("en", "session");
  await page.click("#presenter-toggle");
  assert.equal(await page.getAttribute("#presenter-toggle", "aria-pressed"), "true");
  await page.click("#connect-btn");
  await current(page, "capa");
  await send(page, "CAPA");
  await page.waitForSelector('#guide-last[data-step="capa"]');
  // The lesson's "look for": hidden, with a Reveal button, until pressed.
  assert.equal(await page.isVisible("#guide-last .guide-look"), false);
  await page.click("#guide-last .reveal-btn");
  assert.equal(await page.isVisible("#guide-last .guide-look"), true);
  assert.equal(await page.isVisible("#guide-last .reveal-btn"), false);
  // The explanation panel: hidden for each new line until revealed.
  await page.locator('#transcript .row[data-key="reply.CAPA.ok"]').click();
  await page.waitForSelector('#explain-panel .explain-body[data-key="reply.CAPA.ok"]');
  assert.equal(await page.isVisible("#explain-panel .explain-long"), false);
  await page.click("#explain-panel .reveal-btn");
  assert.equal(await page.isVisible("#explain-panel .explain-long"), true);
  await page.locator('#transcript .row[data-key="greeting.apop"]').click();
  await page.waitForSelector('#explain-panel .explain-body[data-key="greeting.apop"]');
  assert.equal(await page.isVisible("#explain-panel .explain-long"), false, "another line hides again");
  // The next step done hides its own explanation again.
  await send(page, `USER ${user}`);
  await send(page, "PASS pop3");
  await page.waitForSelector('#guide-last[data-step="login"]');
  assert.equal(await page.isVisible("#guide-last .guide-look"), false);
  await screenshot(page, "presenter-mode.png");
  await openPage(page, "?lesson=session&lang=en");
  assert.equal(await page.getAttribute("html", "data-presenter"), "on", "remembered");
  await page.click("#presenter-toggle");
  assert.equal(await page.getAttribute("html", "data-presenter"), "off");
  await page.close();
});

test("a link to an unknown lesson says so and opens the first one, with the index open", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page, "?lesson=no-such-lesson&lang=ar");
  await page.waitForSelector("#notice:not([hidden])");
  const strings = ui("ar");
  assert.equal(await page.textContent("#notice .notice-title"), strings["lesson.unknown-title"]);
  assert.ok((await page.textContent("#notice .notice-text")).includes("no-such-lesson"), "names what the link asked for");
  assert.equal(await page.textContent("#lesson-title"), strings["lesson.session.title"], "the first lesson");
  assert.ok(await page.evaluate(() => document.getElementById("lesson-index").open), "the index is open to choose from");
  browser.watch.assertClean();
  await page.close();
});

test("without its lessons the page still starts: the guide is hidden and the page says why", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await page.route("**/lessons/index.json", (route) => route.fulfill({ status: 503, body: "unavailable" }));
  await openPage(page, "?lang=fa");
  const strings = ui("fa");
  assert.equal(await page.textContent("#notice .notice-title"), strings["lesson.load-failed-title"]);
  assert.ok(await page.isHidden("section.guide"), "no guide without lessons");
  // A session still runs by hand.
  await page.click("#connect-btn");
  await waitState(page, "AUTHORIZATION");
  browser.watch.assertClean([/lessons\/index\.json/, /503/]);
  await page.close();
});
