// The sample maildrop in the page (src/server/samples, issue 11 §5): every sample is a row, and
// the viewer shows what each new one teaches — the long line whole, the CRLF the server added
// to a last line without one (LIST's size is the octets RETR delivered), raw UTF-8 headers,
// windows-1256 Arabic decoded and the same octets mislabelled as mojibake, the RFC 2231 Persian
// file name, the cid: picture left out (never fetched) and listed as a part, the forwarded
// message's subject and parts, the empty body said to be empty, two unique-ids for one
// Message-ID, and the spoofed display name beside the real address. In English, and the
// strings a student reads in Persian and Arabic. Screenshots (axe-checked):
// target/e2e-screenshots/sample-*.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import {
  ROOT, launch, openLoggedIn, freshUser, waitRow, screenshot, ui,
} from "./helpers.mjs";

const DIR = path.join(ROOT, "src/server/samples");
const NAMES = readdirSync(DIR).filter((f) => f.endsWith(".eml")).sort();
/** The sample numbered `n` in a fresh maildrop, by the start of its file name ("12-…"). */
const number = (prefix) => NAMES.findIndex((f) => f.startsWith(prefix)) + 1;
const file = (n) => readFileSync(path.join(DIR, NAMES[n - 1]));

let browser;
before(async () => { browser = await launch({ viewport: { width: 1440, height: 1100 } }); });
after(async () => { await browser?.close(); });

/** Opens the page in `lang` as a fresh user, logs in through the guide, LIST and UIDL. */
async function loggedIn(page, lang) {
  await openLoggedIn(page, freshUser(`samples-${lang}`), `?lang=${lang}`);
  await page.click('.command-button[data-command="UIDL"]');
  await waitRow(page, "body.UIDL");
  // The table has taken the unique-ids in (and re-rendered): its buttons stay put from here.
  await page.waitForFunction((n) => (document.querySelector(`#maildrop tr[data-id="${n}"] td.uid span`)?.textContent || "").startsWith(`${n}-`), NAMES.length);
}

/** RETR `n` from its row and waits until the viewer shows it parsed (its subject is shown
 * once parsed; the render that sets data-id clears the previous one's). */
async function open(page, n) {
  const sent = () => page.locator('#transcript .row.dir-client[data-key="cmd.RETR"]').count();
  const before = await sent();
  for (let attempt = 0; attempt < 3 && (await sent()) === before; attempt++) {
    // A click that lands while the table re-renders is lost: click again until RETR goes out.
    await page.click(`#maildrop tr[data-id="${n}"] button[data-action="RETR"]`);
    await page.waitForFunction(
      ([b]) => document.querySelectorAll('#transcript .row.dir-client[data-key="cmd.RETR"]').length > b,
      [before],
      { timeout: 5000 },
    ).catch(() => {});
  }
  await page.waitForSelector(`#viewer-body[data-id="${n}"]`);
  await page.waitForSelector("#viewer-meta bdi");
}

/** Selects a viewer tab and returns its panel's text once it has some. */
async function tab(page, name) {
  await page.click(`#tab-${name}`);
  await page.waitForFunction((p) => (document.querySelector(`#panel-${p}`)?.textContent || "").length > 0, name);
  return page.textContent(`#panel-${name}`);
}

async function shoot(page, name) {
  await page.locator("#viewer").evaluate((el) => el.scrollIntoView({ block: "start" }));
  await screenshot(page, name, { top: false });
}

test("every new sample, as the viewer shows it (en)", async () => {
  const page = await browser.page();
  browser.watch.reset();
  const requests = [];
  browser.context.on("request", (r) => requests.push(r.url()));
  const strings = ui("en");
  await loggedIn(page, "en");
  assert.equal(await page.locator("#maildrop tbody tr").count(), NAMES.length, "a row per sample");

  // 09: the 1,500-octet line arrives whole, one line.
  const long = number("09-");
  await open(page, long);
  const text09 = await tab(page, "text");
  const line = text09.split(/\r?\n/).find((l) => l.length > 998);
  assert.equal(line?.length, 1500, "the long line, whole");
  assert.ok(line.endsWith("[1500]") && line.slice(0, 998).endsWith("[998: RFC 5322's limit]"));

  // 10: LIST's size is what RETR delivered: the file and the CRLF the server added.
  const noCrlf = number("10-");
  await open(page, noCrlf);
  const listed = Number((await page.getAttribute(`#maildrop tr[data-id="${noCrlf}"] td.size`, "title")).replace(/\D/g, ""));
  assert.equal(listed, file(noCrlf).length + 2);
  const raw10 = await tab(page, "raw");
  const source = await page.textContent("#panel-raw pre.raw-source");
  assert.equal(source.length, listed, "RETR delivered exactly LIST's octets");
  // …and the viewer says so (its size, once the bytes went to the parse worker, as LIST's).
  const rowSize = await page.textContent(`#maildrop tr[data-id="${noCrlf}"] td.size`);
  assert.ok((await page.textContent("#viewer-meta")).includes(` · ${rowSize}`), `${rowSize} in the viewer`);
  assert.ok(source.endsWith("no CRLF follows it.\r\n"), raw10.slice(-60));

  // 11: raw UTF-8 in the header, read as Persian.
  await open(page, number("11-"));
  await tab(page, "headers");
  assert.equal(await page.textContent("#viewer-meta bdi"), "سرآیندهای UTF-8 خام و دستور UTF8 در پروتکل POP3");

  // 12: windows-1256, labelled right: Arabic.
  const right = number("12-");
  await open(page, right);
  const arabic = await tab(page, "text");
  assert.ok(arabic.startsWith("مرحبًا!"), arabic.slice(0, 40));
  assert.ok(arabic.includes("مع التحية، معلّم مكتب البريد"));
  await shoot(page, "sample-windows-1256-en.png");

  // 13: the same octets labelled iso-8859-1: mojibake, not one Arabic letter.
  await open(page, number("13-"));
  const mojibake = await tab(page, "text");
  assert.ok(mojibake.startsWith("ãÑÍÈðÇ!"), mojibake.slice(0, 40));
  assert.ok(!/[\u0600-\u06FF]/.test(await page.textContent("#panel-text pre")), "no Arabic in the text");
  assert.ok((await page.textContent("#viewer-meta bdi")).startsWith("تسمية خاطئة"), "the subject says what went wrong");
  await shoot(page, "sample-mislabelled-en.png");

  // 14: the RFC 2231 file name, decoded to Persian.
  await open(page, number("14-"));
  await tab(page, "parts");
  assert.equal(await page.textContent("#panel-parts .filename"), "تمرین\u200cهای POP3.txt");
  await shoot(page, "sample-rfc2231-en.png");

  // 15: the cid: picture is left out of the HTML (nothing fetched), said so, and is a part.
  await open(page, number("15-"));
  await page.click("#tab-html");
  await page.waitForSelector('#panel-html .removed li[data-kind="inline"]');
  const srcdoc = await page.getAttribute("#panel-html iframe", "srcdoc");
  assert.ok(!/<img[^>]*\ssrc=/i.test(srcdoc), "the picture has no source left");
  assert.equal(await page.getAttribute("#panel-html iframe", "sandbox"), "");
  assert.equal(
    await page.textContent('#panel-html .removed li[data-kind="inline"]'),
    strings["viewer.removed-inline"].one.replace("{count}", "1"),
  );
  assert.equal(await page.locator("#panel-html .removed li").count(), 1, "nothing counted as remote");
  await shoot(page, "sample-cid-html-en.png");
  await tab(page, "parts");
  assert.equal(await page.textContent("#panel-parts .content-id"), "cid:logo.15@popwire.test");
  assert.ok((await page.textContent("#panel-parts")).includes("image/png"));
  assert.deepEqual(requests.filter((u) => /^cid:|logo\.15/.test(u)), [], "the cid: picture was never requested");

  // 16: the forwarded message: its subject and its part inside the tree.
  await open(page, number("16-"));
  await tab(page, "parts");
  assert.equal(await page.textContent("#panel-parts .enclosed-subject"), "Lab 3 moves to Thursday");
  const paths = await page.$$eval("#panel-parts li > code:first-child", (els) => els.map((e) => e.textContent));
  assert.deepEqual(paths, ["1", "1.1", "1.2", "1.2.1"]);
  await shoot(page, "sample-forwarded-en.png");

  // 17: the empty body is said to be empty.
  await open(page, number("17-"));
  assert.equal(await tab(page, "text"), strings["viewer.empty-body"]);
  await shoot(page, "sample-empty-body-en.png");

  // 18 and 19: one Message-ID, two unique-ids.
  const uid = (n) => page.textContent(`#maildrop tr[data-id="${n}"] td.uid span`);
  const [a, b] = [await uid(number("18-")), await uid(number("19-"))];
  assert.ok(a.startsWith("18-") && b.startsWith("19-") && a !== b, `${a} ${b}`);

  // 20: the display name and the real address apart, and the spoof said in words.
  await open(page, number("20-"));
  assert.equal(await page.textContent("#viewer-from .from-name"), "popwire Bank Security <security@bank.popwire.test>");
  assert.equal(await page.textContent("#viewer-from .from-address"), "alert@secure-login-verify.example");
  assert.equal(await page.getAttribute("#viewer-from .from-address", "dir"), "ltr");
  assert.equal(await page.textContent("#viewer-from .from-spoof"), strings["viewer.from-spoof"]);
  await shoot(page, "sample-spoof-en.png");
  // An honest display name gets no warning.
  await open(page, right);
  assert.equal(await page.textContent("#viewer-from .from-address"), "lessons-ar@popwire.test");
  assert.equal(await page.locator("#viewer-from .from-spoof").count(), 0);
  browser.watch.assertClean();
  await page.close();
});

for (const lang of ["fa", "ar"]) {
  test(`the new samples' viewer strings in ${lang}`, async () => {
    const page = await browser.page();
    browser.watch.reset();
    const strings = ui(lang);
    await loggedIn(page, lang);
    await open(page, number("20-"));
    const from = await page.textContent("#viewer-from .from-mailbox");
    assert.ok(from.startsWith(`${strings["viewer.from"]}: ${strings["viewer.from-name"]} `), from);
    assert.ok(from.includes(strings["viewer.from-address"]), from);
    assert.equal(await page.textContent("#viewer-from .from-address"), "alert@secure-login-verify.example");
    assert.equal(await page.textContent("#viewer-from .from-spoof"), strings["viewer.from-spoof"]);
    await shoot(page, `sample-spoof-${lang}.png`);
    await open(page, number("17-"));
    assert.equal(await tab(page, "text"), strings["viewer.empty-body"]);
    await open(page, number(lang === "fa" ? "14-" : "16-"));
    await tab(page, "parts");
    if (lang === "fa") {
      assert.equal(await page.textContent("#panel-parts .filename"), "تمرین\u200cهای POP3.txt");
      await shoot(page, "sample-rfc2231-fa.png");
    } else {
      assert.ok((await page.textContent("#panel-parts")).includes(strings["viewer.part-message"]));
      await shoot(page, "sample-forwarded-ar.png");
      await open(page, number("12-"));
      assert.ok((await tab(page, "text")).startsWith("مرحبًا!"));
      await shoot(page, "sample-windows-1256-ar.png");
    }
    browser.watch.assertClean();
    await page.close();
  });
}
