// A figure, not a test (`make bench`: benches/page-figures.sh), printed and kept in
// target/page-figures.json (never asserted: tests do not assert on time): how long until the page is usable on loopback (navigation
// start → the Connect button enabled with the targets loaded, the page's own
// performance.mark("popwire-ready")), and how many bytes the first load transfers (a fresh
// profile: nothing cached), from Resource Timing and from the responses Playwright saw.

import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, BASE, figure } from "../../tests/e2e/helpers.mjs";

test("first load: time until usable and bytes transferred (figures)", async () => {
  const runs = [];
  let bytes = null;
  for (let i = 0; i < 3; i++) {
    const browser = await launch(); // a fresh profile each time: a cold cache
    const page = await browser.page();
    const responses = [];
    page.on("response", (r) => responses.push(r));
    await page.goto(`${BASE}/`);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 15000 });
    assert.ok(await page.isEnabled("#connect-btn"));
    const m = await page.evaluate(() => {
      const ready = performance.getEntriesByName("popwire-ready")[0].startTime;
      const nav = performance.getEntriesByType("navigation")[0];
      const res = performance.getEntriesByType("resource");
      const all = [nav, ...res];
      return {
        readyMs: Math.round(ready),
        domContentLoadedMs: Math.round(nav.domContentLoadedEventEnd),
        transfer: all.reduce((a, e) => a + e.transferSize, 0),
        bodies: all.reduce((a, e) => a + e.encodedBodySize, 0),
        files: all.map((e) => `${new URL(e.name).pathname} ${e.encodedBodySize}`),
      };
    });
    let sizes = 0;
    for (const r of responses) {
      const s = await r.request().sizes();
      sizes += s.responseBodySize + s.responseHeadersSize;
    }
    m.responseSizes = sizes;
    runs.push(m.readyMs);
    bytes ??= m;
    browser.watch.assertClean();
    await browser.close();
  }
  runs.sort((a, b) => a - b);
  figure("readyMs", { runs, median: runs[1] }, "navigation start → Connect enabled with /targets loaded, loopback, cold cache");
  figure("firstLoadBytes", {
    transferSize: bytes.transfer,
    encodedBodies: bytes.bodies,
    responsesWithHeaders: bytes.responseSizes,
    files: bytes.files,
  }, "first load, fresh profile");
});
