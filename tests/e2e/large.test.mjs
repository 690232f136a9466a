// Large messages: the progress bar while the ~1 MB sample (07-large.eml) streams (bytes so far
// of the size LIST gave), and the viewer gets the whole message although the transcript keeps
// only its first 64 KiB. (How long the main thread is blocked by a 50 MB RETR is a figure, not
// a test: benches/page/retr-50mb.figures.mjs, run by `make bench`.)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openLoggedIn, freshUser, waitRow, waitState, screenshot } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("the progress bar shows while the 1 MB sample streams", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openLoggedIn(page, freshUser("large"));
  await page.evaluate(() => {
    const box = document.getElementById("progress");
    const bar = document.getElementById("progress-bar");
    const seen = { shown: 0, streaming: 0, lastValue: 0, max: 0, texts: [] };
    window.__progressSeen = seen;
    const look = () => {
      if (box.hidden) return;
      seen.shown++;
      if (!box.classList.contains("done")) seen.streaming++;
      seen.lastValue = bar.value;
      seen.max = bar.max;
      seen.texts.push(document.getElementById("progress-text").textContent);
    };
    new MutationObserver(look).observe(box, { attributes: true, childList: true, subtree: true, characterData: true });
  });
  await page.click('#maildrop tr[data-id="7"] button[data-action="RETR"]');
  await waitRow(page, "body.RETR");
  await page.waitForSelector("#progress.done:not([hidden])");
  const seen = await page.evaluate(() => window.__progressSeen);
  assert.ok(seen.shown > 0, "the progress bar was shown");
  assert.equal(seen.max, 1029004, "its maximum is the size LIST gave");
  assert.equal(seen.lastValue, seen.max, "it ends full");
  assert.match(await page.textContent("#progress-text"), /^RETR 7: /);
  console.log(`progress updates seen: ${seen.shown} (${seen.streaming} while streaming): ${seen.texts.slice(0, 3).join(" | ")} …`);
  // The viewer got the whole message although the transcript keeps only its first 64 KiB.
  await page.waitForSelector('#viewer-body[data-id="7"]');
  await page.click("#tab-parts");
  await page.waitForFunction(() => /lecture-recording\.bin/.test(document.getElementById("panel-parts").textContent));
  assert.match(await page.locator('#transcript .row[data-key="body.RETR"] .proto').textContent(), /KB|kB/);
  await screenshot(page, "progress.png");
  await page.click('.command-button[data-command="QUIT"]');
  await waitState(page, "CLOSED");
  browser.watch.assertClean();
  await page.close();
});
