// WCAG 2.1 AA with axe-core on every screen of a session, in English, Arabic and Persian and in
// both themes: the page before connecting, a logged-in session with the maildrop listed, a
// message in the viewer (text and HTML tabs), the explanation panel, the help dialog, an error
// notice, a message marked and then removed in UPDATE, the end of the session, the lesson
// guide (index, a prediction asked and judged, a question answered), the APOP widget and the
// history timeline, the sequence diagram, and the encryption lesson's wire view.
// (Every screenshot of the other tests is checked too:
// helpers.mjs's screenshot() runs assertAccessible.)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, freshUser, setUser, guide, waitRow, waitState, assertAccessible } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("the check fails on a real violation (a button with no name)", async () => {
  const page = await browser.page();
  await openPage(page);
  await page.evaluate(() => document.querySelector("main").append(document.createElement("button")));
  await assert.rejects(assertAccessible(page, "a page with a nameless button"), /button-name \(critical\)/);
  await page.close();
});

for (const lang of ["en", "ar", "fa"]) {
  for (const theme of ["light", "dark"]) {
    test(`axe-core: no serious or critical violation (${lang}, ${theme} theme)`, async () => {
      const page = await browser.page();
      browser.watch.reset();
      await openPage(page);
      await page.click(`.lang-switch [data-lang="${lang}"]`);
      await page.waitForFunction((l) => document.documentElement.lang === l, lang);
      const dark = (await page.getAttribute("html", "data-theme")) === "dark";
      if (dark !== (theme === "dark")) await page.click("#theme-toggle");
      await page.waitForFunction((t) => (document.documentElement.dataset.theme || "light") === t, theme);
      await assertAccessible(page, "the page before connecting");

      // A command refused before it is sent: the notice.
      await page.fill("#cmdline", "RETR 1\u0007");
      await page.press("#cmdline", "Enter");
      await assertAccessible(page, "a refused command");

      await setUser(page, freshUser(`a11y-${lang}-${theme}`));
      await page.click("#connect-btn");
      // The lesson guide: its index open, a prediction asked before CAPA.
      await page.waitForSelector('#guide-current[data-step="capa"]');
      await page.click("#lesson-index summary");
      await page.check('#guide-predict input[value="many"]');
      await assertAccessible(page, "the lesson index and a prediction");
      await guide(page, "capa");
      await page.waitForSelector('#guide-last[data-step="capa"][data-outcome="right"]');
      await assertAccessible(page, "a prediction judged");
      await guide(page, "login");
      await waitState(page, "TRANSACTION");
      for (const command of ["LIST", "UIDL"]) {
        await page.click(`.command-button[data-command="${command}"]`);
        await waitRow(page, `body.${command}`);
      }
      await assertAccessible(page, "the maildrop listed");

      await page.click('#maildrop tr[data-id="4"] button[data-action="RETR"]');
      await page.waitForSelector('#viewer-body[data-id="4"]');
      await page.waitForSelector("#tab-html:not([hidden])");
      for (const tab of ["text", "html", "parts", "raw", "headers"]) {
        await page.click(`#tab-${tab}`);
        if (tab === "html") await page.locator("#panel-html iframe").waitFor();
        await assertAccessible(page, `the viewer's ${tab} tab`);
      }

      await page.locator("#transcript .row").first().click();
      await page.waitForSelector("#explain-panel .explain-body[data-key]");
      await assertAccessible(page, "the explanation panel");

      await page.evaluate(() => document.activeElement?.blur());
      await page.keyboard.press("?");
      await page.waitForSelector("#help-dialog[open]");
      await assertAccessible(page, "the help dialog");
      await page.keyboard.press("Escape");

      await page.click('#maildrop tr[data-id="1"] button[data-action="DELE"]');
      await waitRow(page, "reply.DELE.ok");
      await assertAccessible(page, "a message marked for deletion");
      await page.click('.command-button[data-command="QUIT"]');
      await waitState(page, "CLOSED");
      await page.waitForSelector("#maildrop tr.removed");
      await assertAccessible(page, "the closed session, a message removed in UPDATE");
      await page.fill("#question-count", "999");
      await page.click('li[data-question="count"] button');
      await page.waitForSelector('li[data-question="count"][data-result="unknown"]'); // no STAT was sent
      await assertAccessible(page, "a lesson question answered");
      await page.click("#sequence-btn");
      await page.waitForSelector("#sequence-dialog[open] #sequence-figure svg");
      await assertAccessible(page, "the sequence diagram");
      await page.keyboard.press("Escape");
      // Lesson 9's wire view on demo-tls: TLS records beside the plaintext, their headers read out.
      await openPage(page, `?lesson=encryption&lang=${lang}&target=demo-tls`);
      await page.click("#connect-btn");
      await page.click("#wire-toggle");
      await page.waitForSelector('#wire-view[data-mode="tls"]');
      await page.click("#wire-explain");
      await page.waitForSelector("#wire-view .wire-record");
      await settled(page);
      await assertAccessible(page, "the encryption lesson's wire view");
      if (theme === "dark") await page.click("#theme-toggle");
      await page.click('.lang-switch [data-lang="en"]');
      await page.close();
    });
  }
}

/** Waits for the page's finite animations and transitions (a state highlight fading in). */
async function settled(page) {
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a.effect?.getComputedTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => {}))));
}

// The lesson guide's own widgets: the APOP widget (lesson 7: the greeting's timestamp, a masked
// secret, a digest computed and compared) and the history timeline (lesson 12, marked by what
// the session showed), in en/ar/fa × light/dark.
for (const lang of ["en", "ar", "fa"]) {
  test(`axe-core: the APOP widget and the history timeline (${lang}, light and dark)`, async () => {
    const page = await browser.page();
    browser.watch.reset();
    for (const theme of ["light", "dark"]) {
      await openPage(page, `?lesson=apop&lang=${lang}&target=in-browser`);
      const dark = (await page.getAttribute("html", "data-theme")) === "dark";
      if (dark !== (theme === "dark")) await page.click("#theme-toggle");
      await page.waitForFunction((t) => (document.documentElement.dataset.theme || "light") === t, theme);
      await setUser(page, freshUser(`a11y-apop-${lang}-${theme}`));
      await page.click("#connect-btn");
      await page.waitForSelector('#guide-current[data-step="compute"]');
      await page.fill("#apop-secret", "pop3");
      await page.click("#apop-compute");
      await page.click("#apop-compare");
      await page.waitForSelector('#apop-result[data-outcome="not-sent"]');
      await settled(page);
      await assertAccessible(page, "the APOP widget, a digest computed");
      await openPage(page, `?lesson=history&lang=${lang}&target=in-browser`);
      await page.click("#connect-btn");
      await page.waitForSelector('#lesson-timeline li[data-event="apop"][data-seen="true"]');
      await settled(page);
      await assertAccessible(page, "the history timeline, an event seen");
    }
    if ((await page.getAttribute("html", "data-theme")) === "dark") await page.click("#theme-toggle");
    await page.click('.lang-switch [data-lang="en"]');
    await page.close();
  });
}
