// For the classroom: the whole session from the keyboard alone (shortcuts of the help
// dialog, visible focus), projector mode and the dark theme (remembered, like the language),
// reduced motion respected, ARIA of the live transcript. Screenshots:
// target/e2e-screenshots/projector.png, projector-dark-ar.png, help.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, freshUser, setUser, waitRow, waitState, screenshot, ui } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch({ reducedMotion: "reduce" }); });
after(async () => { await browser?.close(); });

const focused = (page) => page.evaluate(() => {
  const el = document.activeElement;
  return { id: el?.id || "", cls: el?.className || "", tag: el?.tagName };
});

test("a whole session from the keyboard, with visible focus", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page);

  // Tab reaches the controls in order, with a visible focus ring.
  await page.keyboard.press("Tab");
  assert.equal((await focused(page)).tag, "A", "the skip link comes first");
  await page.keyboard.press("Tab");
  assert.equal((await focused(page)).id, "target");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none", "focus is visible");
  await setUser(page, freshUser("kbd"));
  await page.evaluate(() => document.activeElement.blur());

  // N walks the canonical session; each press sends the next step.
  const steps = [
    ["greeting.apop"], ["reply.CAPA.ok"], ["state.TRANSACTION"], ["reply.STAT.ok"], ["reply.LIST.ok"],
    ["reply.UIDL.ok"], ["reply.TOP.ok"], ["reply.RETR.ok"], ["reply.DELE.ok"], ["reply.QUIT.ok"],
  ];
  for (const [key] of steps) {
    await page.keyboard.press("n");
    await waitRow(page, key);
    await page.waitForFunction(() => !document.querySelector("#connect-btn").disabled || document.querySelector("#disconnect-btn:not([hidden])"));
  }
  await waitState(page, "CLOSED");
  assert.equal(await page.getAttribute("#guide-current", "data-step"), "done");

  // T: the transcript; arrows move between lines; Enter explains the line.
  await page.keyboard.press("t");
  assert.match((await focused(page)).cls, /\brow\b/);
  await page.keyboard.press("Home");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  assert.equal(await page.getAttribute("#explain-panel .explain-body", "data-key"), "greeting.apop");

  // / : the command line. ? : the help dialog, closed with Escape.
  await page.keyboard.press("Escape");
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press("/");
  assert.equal((await focused(page)).id, "cmdline");
  await page.keyboard.press("Escape");
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press("?");
  await page.waitForSelector("#help-dialog[open]");
  await screenshot(page, "help.png", { top: false });
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => !document.getElementById("help-dialog").open);

  // ARIA: the transcript is a polite live log; protocol text is left-to-right.
  assert.equal(await page.getAttribute("#transcript", "role"), "log");
  assert.equal(await page.getAttribute("#transcript", "aria-live"), "polite");
  browser.watch.assertClean();
  await page.close();
});

test("projector mode, dark theme and language are remembered; reduced motion is respected", async () => {
  const page = await browser.page();
  browser.watch.reset();
  await openPage(page);
  await setUser(page, freshUser("proj"));
  await page.click("#projector-toggle");
  assert.equal(await page.getAttribute("html", "data-projector"), "on");
  assert.equal(await page.getAttribute("#projector-toggle", "aria-pressed"), "true");
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  assert.ok(size >= 20, `projector font size ${size}px`);
  // A short session to show on the projector.
  await page.click("#connect-btn");
  await waitRow(page, "greeting.apop");
  await page.click("#guide-do");
  await waitRow(page, "reply.CAPA.ok");
  await page.click("#guide-do");
  await waitState(page, "TRANSACTION");
  await page.click('.command-button[data-command="STAT"]');
  await waitRow(page, "reply.STAT.ok");
  await page.click('.command-button[data-command="LIST"]');
  await waitRow(page, "body.LIST");
  await page.click('.command-button[data-command="UIDL"]');
  await waitRow(page, "body.UIDL");
  await screenshot(page, "projector.png");

  // At 1440×900 the whole maildrop table fits its column in every language: nothing (the DELE
  // buttons at the end of a row) is scrolled out of sight, and every DELE button can be hit.
  for (const lang of ["en", "ar", "fa"]) {
    await page.click(`.lang-switch [data-lang="${lang}"]`);
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    const fit = await page.evaluate(() => {
      const wrap = document.querySelector("#maildrop").parentElement;
      const buttons = [...document.querySelectorAll('#maildrop button[data-action="DELE"]')];
      const box = wrap.getBoundingClientRect();
      const hidden = buttons.filter((b) => {
        const r = b.getBoundingClientRect();
        return r.left < box.left - 0.5 || r.right > box.right + 0.5;
      });
      return { scroll: wrap.scrollWidth, width: wrap.clientWidth, buttons: buttons.length, hidden: hidden.length };
    });
    assert.ok(fit.buttons >= 8, `${lang}: ${fit.buttons} DELE buttons`);
    assert.ok(fit.scroll <= fit.width, `${lang}: the maildrop table is ${fit.scroll}px in a ${fit.width}px column`);
    assert.equal(fit.hidden, 0, `${lang}: DELE buttons out of sight`);
  }
  await page.click('.lang-switch [data-lang="en"]');

  // Reduced motion: the state diagram does not animate.
  const duration = await page.evaluate(() => getComputedStyle(document.querySelector(".state")).transitionDuration);
  assert.ok(duration.split(",").every((d) => parseFloat(d) < 0.01), `transition ${duration}`);

  // Dark theme and Arabic, then a reload: all three choices are remembered.
  await page.keyboard.press("d");
  assert.equal(await page.getAttribute("html", "data-theme"), "dark");
  await page.click('.lang-switch [data-lang="ar"]');
  await page.waitForFunction(() => document.documentElement.lang === "ar");
  await page.click('.command-button[data-command="QUIT"]');
  await waitState(page, "CLOSED");
  await screenshot(page, "projector-dark-ar.png");
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]');
  assert.equal(await page.getAttribute("html", "lang"), "ar");
  assert.equal(await page.getAttribute("html", "dir"), "rtl");
  assert.equal(await page.getAttribute("html", "data-theme"), "dark");
  assert.equal(await page.getAttribute("html", "data-projector"), "on");
  assert.equal(await page.textContent("#connect-btn"), ui("ar")["connect.connect"]);
  // Back to the defaults for the other tests of this browser.
  await page.click('.lang-switch [data-lang="en"]');
  await page.click("#projector-toggle");
  await page.click("#theme-toggle");
  browser.watch.assertClean();
  await page.close();
});
