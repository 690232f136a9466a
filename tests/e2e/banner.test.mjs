// The "link not encrypted" warning: shown when the bridge says its link is plain http/ws and the
// page is not on a loopback address, hidden on loopback. A non-loopback name is made with
// Chromium's host resolver rules (classroom.popwire.test → 127.0.0.1), so the test needs no
// second network interface. Screenshot: target/e2e-screenshots/insecure-banner.png.

import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, screenshot, HTTP } from "./helpers.mjs";

const NAME = "classroom.popwire.test";

test("the page warns that its link to the bridge is not encrypted, except on loopback", async () => {
  const browser = await launch({ extraArgs: [`--host-resolver-rules=MAP ${NAME} 127.0.0.1`] });
  try {
    const page = await browser.page();
    browser.watch.reset();

    await openPage(page);
    assert.equal(await page.locator("#insecure-banner").isHidden(), true, "loopback: no warning");

    const port = HTTP.split(":").pop();
    await page.goto(`http://${NAME}:${port}/`);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 15000 });
    await page.waitForSelector("#insecure-banner:not([hidden])", { timeout: 5000 });
    const text = await page.locator("#insecure-banner").innerText();
    assert.match(text, /not encrypted/i);
    const health = await page.evaluate(async () => (await fetch("/healthz")).json());
    assert.equal(health.encrypted, false);
    await screenshot(page, "insecure-banner.png");
    browser.watch.assertClean();
  } finally {
    await browser.close();
  }
});
