// A figure, not a test (`make bench`: benches/page-figures.sh): how long the main thread is
// blocked while a 50 MB message is retrieved (POST /demo/deliver; the script raises the
// bridge's delivery cap for it), measured with a PerformanceObserver for 'longtask' and
// setInterval / requestAnimationFrame gap monitors running through the whole RETR. A refused
// delivery fails the run: a figure is measured or the run says why not.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  launch, openLoggedIn, freshUser, waitRow, waitState, deliver, figure,
} from "../../tests/e2e/helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("a 50 MB RETR: the longest main-thread block (figure)", async () => {
  const page = await browser.page();
  browser.watch.reset();
  const user = freshUser("huge");
  const size = 50 * 1024 * 1024;
  const line = `${"popwire".repeat(10)}0123456789ab\r\n`; // 84 octets
  const head = "From: popwire <bench@popwire.test>\r\nTo: student@popwire.test\r\nSubject: 50 MB\r\n"
    + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
  const lines = Math.ceil((size - head.length) / line.length);
  const body = Buffer.alloc(head.length + lines * line.length);
  body.write(head, 0, "latin1");
  for (let i = 0, at = head.length; i < lines; i++, at += line.length) {
    body.write(i % 1000 === 999 ? `.${line.slice(1)}` : line, at, "latin1"); // some stuffed dots
  }
  const delivered = await deliver(user, body);
  assert.equal(delivered.status, 201, `the bridge refused the delivery: ${delivered.text.trim()}`);
  const id = delivered.json.id;
  await openLoggedIn(page, user);
  const runs = [];
  for (let run = 0; run < 3; run++) {
    await page.evaluate(() => {
      const m = { longTasks: [], maxInterval: 0, maxFrame: 0, running: true };
      window.__monitor = m;
      let lastTick = performance.now();
      m.timer = setInterval(() => {
        const now = performance.now();
        m.maxInterval = Math.max(m.maxInterval, now - lastTick);
        lastTick = now;
      }, 10);
      let lastFrame = performance.now();
      const frame = (now) => {
        m.maxFrame = Math.max(m.maxFrame, now - lastFrame);
        lastFrame = now;
        if (m.running) requestAnimationFrame(frame);
      };
      requestAnimationFrame(frame);
      m.observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) m.longTasks.push(Math.round(e.duration));
      });
      m.observer.observe({ type: "longtask" });
      m.started = performance.now();
    });
    const bodies = await page.$$eval('#transcript .row[data-key="body.RETR"]', (r) => r.length);
    await page.click(`#maildrop tr[data-id="${id}"] button[data-action="RETR"]`);
    await waitRow(page, "body.RETR", bodies + 1, 120000);
    const received = await page.evaluate(() => performance.now() - window.__monitor.started);
    // The viewer parses it off the main thread; wait until it shows the headers.
    await page.waitForSelector(`#viewer-body[data-id="${id}"] #panel-headers table`, { timeout: 120000 });
    await page.waitForTimeout(300);
    const m = await page.evaluate(() => {
      const mon = window.__monitor;
      mon.running = false;
      clearInterval(mon.timer);
      mon.observer.disconnect();
      return { longTasks: mon.longTasks, maxInterval: mon.maxInterval, maxFrame: mon.maxFrame, total: performance.now() - mon.started };
    });
    runs.push({
      receivedMs: Math.round(received),
      untilViewerMs: Math.round(m.total),
      longestTaskMs: m.longTasks.length ? Math.max(...m.longTasks) : 0,
      longTasks: m.longTasks.length,
      maxSetIntervalGapMs: Math.round(m.maxInterval),
      maxAnimationFrameGapMs: Math.round(m.maxFrame),
    });
  }
  figure("retr50mb", {
    octets: body.length,
    runs,
    worstLongTaskMs: Math.max(...runs.map((r) => r.longestTaskMs)),
    worstIntervalGapMs: Math.max(...runs.map((r) => r.maxSetIntervalGapMs)),
  }, "3 RETRs of the same message; long tasks (> 50 ms) are main-thread blocks; Playwright's network tracing slows the WebSocket");
  assert.ok(await page.isVisible(`#maildrop tr[data-id="${id}"]`));
  await page.click('.command-button[data-command="QUIT"]');
  await waitState(page, "CLOSED");
  browser.watch.assertClean();
  await page.close();
});
