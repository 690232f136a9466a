// Nothing in a message runs in the page: the HTML sample (04-html-with-script.eml) and a
// delivered message with more hostile HTML are shown only in <iframe sandbox=""> with the
// strict CSP meta first; no dialog opens, no global flag is set, nothing is fetched from
// the network, and text is rendered as text. Screenshot: target/e2e-screenshots/viewer-html.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import {
  launch, openLoggedIn, freshUser, waitState, screenshot, deliver,
} from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("the page never parses markup itself: no DOMParser, innerHTML or document.write in www/", () => {
  // A document the page parsed would inherit the page's CSP, and Chromium checks a hostile
  // message's handlers against it while parsing. Message HTML is cleaned in the parse worker
  // by the engine's inertHtml() (html5ever + ammonia) and shown only in a sandboxed srcdoc.
  const www = new URL("../../www/", import.meta.url);
  const sinks = /\b(DOMParser|innerHTML|outerHTML|insertAdjacentHTML|createContextualFragment|document\.write|setHTMLUnsafe|parseHTMLUnsafe)\b/;
  for (const name of readdirSync(www).filter((f) => f.endsWith(".js"))) {
    const code = readFileSync(new URL(name, www), "utf8")
      .split("\n")
      .filter((line) => !/^\s*(\/\/|\*|\/\*\*)/.test(line));
    const hits = code.filter((line) => sinks.test(line));
    assert.deepEqual(hits, [], `www/${name} parses markup`);
  }
});

const HOSTILE = [
  "From: attacker <a@tracker.example>",
  "To: student@popwire.test",
  "Subject: <img src=x onerror=\"window.__popwirePwned='subject'\"> hostile HTML",
  "MIME-Version: 1.0",
  'Content-Type: text/html; charset="utf-8"',
  "",
  "<html><head>",
  "<meta http-equiv=\"refresh\" content=\"0;url=https://tracker.example/refresh\">",
  "<base href=\"https://tracker.example/\">",
  "<link rel=\"stylesheet\" href=\"https://tracker.example/style.css\">",
  "<style>@import url(https://tracker.example/import.css); body { background: url(https://tracker.example/bg.png) }</style>",
  "</head><body>",
  "<script>parent.__popwirePwned = 'script'; top.__popwirePwned = 'script'; alert('pwned')</script>",
  "<img src=\"https://tracker.example/pixel.gif\" onerror=\"parent.__popwirePwned='onerror'\" alt=\"\">",
  "<img src=\"x\" onerror=\"parent.__popwirePwned='onerror2'; alert(2)\">",
  "<svg onload=\"parent.__popwirePwned='svg'\"><circle r=\"5\"/></svg>",
  "<iframe src=\"javascript:parent.__popwirePwned='iframe'\"></iframe>",
  "<object data=\"https://tracker.example/x.swf\"></object>",
  "<a id=\"js\" href=\"javascript:parent.__popwirePwned='link'\">click me</a>",
  "<form action=\"https://tracker.example/collect\"><input name=\"p\"><button id=\"go\">send</button></form>",
  "<p style=\"background-image: url('https://tracker.example/p.png')\">styled</p>",
  "<p>Plain <b>bold</b> text.</p>",
  "</body></html>",
  "",
].join("\r\n");

test("HTML mail never runs: sandboxed frame, strict CSP, scripts and remote loads removed", async () => {
  const page = await browser.page();
  browser.watch.reset();
  const dialogs = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  const requests = [];
  browser.context.on("request", (r) => requests.push(r.url()));

  const user = freshUser("html");
  const delivered = await deliver(user, HOSTILE);
  assert.equal(delivered.status, 201, delivered.text);
  const hostileId = delivered.json.id;

  await openLoggedIn(page, user);

  for (const id of [4, hostileId]) {
    await page.click(`#maildrop tr[data-id="${id}"] button[data-action="RETR"]`);
    await page.waitForSelector(`#viewer-body[data-id="${id}"]`);
    await page.waitForSelector("#tab-html:not([hidden])");
    await page.click("#tab-html");
    const frame = page.locator("#panel-html iframe");
    await frame.waitFor();
    assert.equal(await frame.getAttribute("sandbox"), "", "an empty sandbox: no scripts, no forms, no same-origin");
    const srcdoc = await frame.getAttribute("srcdoc");
    assert.ok(
      srcdoc.includes(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`),
      "the strict CSP meta",
    );
    assert.ok(srcdoc.indexOf("Content-Security-Policy") < srcdoc.indexOf("<body"), "the CSP comes first");
    assert.ok(!/<script/i.test(srcdoc), "no script element left");
    assert.ok(!/\son\w+=/i.test(srcdoc), "no event handler left");
    assert.ok(!/tracker\.example/i.test(srcdoc.replace(/title="[^"]*"/g, "")), "no remote reference left");
    assert.ok(await page.locator("#panel-html .removed li").count() >= 2, "the student is told what was removed");

    // Try to make it run: click everything clickable inside the frame.
    const inner = page.frameLocator("#panel-html iframe");
    for (const sel of ["button", "a", "input[type=submit]"]) {
      const n = await inner.locator(sel).count();
      for (let i = 0; i < n; i++) await inner.locator(sel).nth(i).click({ timeout: 2000 }).catch(() => {});
    }
    await page.waitForTimeout(300);
    if (id === 4) {
      await page.locator("#viewer").evaluate((el) => el.scrollIntoView({ block: "start" }));
      await screenshot(page, "viewer-html.png", { top: false });
    }
  }

  // Subjects and headers are text, never markup.
  await page.click("#tab-headers");
  const subject = await page.locator("#panel-headers td").nth(2).textContent();
  assert.match(subject, /<img src=x onerror=/);
  assert.equal(await page.locator("#viewer img, #panel-headers img").count(), 0);

  assert.deepEqual(dialogs, [], "no dialog ever opened");
  assert.equal(await page.evaluate(() => window.__popwirePwned), undefined, "no global flag was set");
  assert.deepEqual(requests.filter((u) => /tracker\.example/.test(u)), [], "nothing was fetched from the network");
  await page.click('.command-button[data-command="QUIT"]');
  await waitState(page, "CLOSED");
  browser.watch.assertClean();
  await page.close();
});
