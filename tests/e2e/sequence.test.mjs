// The sequence diagram (issue 11 §3, for the instructor): the live session drawn as client and
// server lanes, saved as SVG, and an exported session (the transcript's JSON) opened from its
// file, drawn alike and replayed step by step with its explanations; a file that is not a transcript is refused with a clear message.
// The SVG of the English run is kept as target/e2e-screenshots/sequence.svg.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { launch, openPage, freshUser, setUser, waitRow, waitState, screenshot, ui, SCREENSHOTS, send } from "./helpers.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Clicks `selector` and returns the downloaded file's path and text. */
async function downloaded(page, selector, name) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  const file = path.join(SCREENSHOTS, name);
  await download.saveAs(file);
  return { file, text: readFileSync(file, "utf8") };
}

for (const lang of ["en", "ar"]) {
  test(`the sequence diagram of a session, saved as SVG and reopened from its export (${lang})`, async () => {
    const page = await browser.page();
    browser.watch.reset();
    await openPage(page, `?target=in-browser&lang=${lang}`);
    const user = freshUser(`seq-${lang}`);
    await setUser(page, user);
    await page.click("#connect-btn");
    await waitRow(page, "greeting.apop");
    const commands = ["CAPA", `USER ${user}`, "PASS pop3", "STAT", "RETR 1", "QUIT"];
    for (const line of commands) {
      await send(page, line);
      await waitRow(page, line === "QUIT" ? "reply.QUIT.ok" : line === "PASS pop3" ? "state.TRANSACTION" : `reply.${line.split(" ")[0]}.ok`);
    }
    await waitState(page, "CLOSED");
    // The export the diagram is drawn from, as an instructor would keep it.
    const exported = await downloaded(page, "#export-json", `sequence-session-${lang}.json`);

    await page.click("#sequence-btn");
    await page.waitForSelector("#sequence-dialog[open]");
    const figure = "#sequence-figure";
    assert.equal(await page.getAttribute(figure, "data-source"), "live");
    assert.equal(await page.locator(`${figure} g.request`).count(), commands.length, "one arrow per command");
    const replies = await page.locator(`${figure} g.reply`).count();
    assert.ok(replies >= commands.length + 1, `${replies} reply arrows (the greeting and one per command)`);
    assert.equal(await page.locator(`${figure} g.body`).count(), 2, "CAPA's and RETR's bodies");
    const drawn = await page.textContent(figure);
    assert.ok(drawn.includes("RETR 1") && drawn.includes("+OK"), drawn.slice(0, 200));
    assert.ok(!drawn.includes("PASS pop3"), "the password stays masked");
    assert.ok(drawn.includes(ui(lang)["sequence.server"]), "the lanes are labelled in the page's language");
    await screenshot(page, `sequence-${lang}.png`, { top: false });

    const svg = await downloaded(page, "#sequence-download", `sequence-${lang}.svg`);
    assert.match(svg.text, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg /);
    assert.ok(svg.text.includes("RETR 1") && !svg.text.includes("PASS pop3"));
    if (lang === "en") writeFileSync(path.join(SCREENSHOTS, "sequence.svg"), svg.text);

    // The exported session, opened from its file, draws the same arrows.
    await page.setInputFiles("#sequence-import", exported.file);
    await page.waitForSelector(`${figure}[data-source="imported"]`);
    assert.equal(await page.locator(`${figure} g.request`).count(), commands.length);
    assert.equal(await page.locator(`${figure} g.reply`).count(), replies);

    // Replayed step by step, forward and back, each entry with its explanation.
    assert.equal(await page.isVisible("#sequence-explain"), false);
    // The session's heading, popwire's note that the server is simulated, then the greeting.
    for (let i = 0; i < 3; i++) await page.click("#sequence-forward");
    await page.waitForSelector('#sequence-explain[data-index="2"]');
    assert.equal(await page.getAttribute("#sequence-explain", "data-key"), "greeting.apop");
    assert.ok((await page.textContent("#sequence-explain code")).startsWith("+OK"));
    assert.ok((await page.textContent("#sequence-explain .sequence-long")).length > 20, "its explanation is shown");
    assert.ok(await page.locator(`${figure} g.later`).count() > 0, "what has not happened yet is faded");
    await page.click("#sequence-forward");
    await page.waitForSelector('#sequence-explain[data-key="state.AUTHORIZATION"]');
    await page.click("#sequence-back");
    await page.waitForSelector('#sequence-explain[data-index="2"]');
    await screenshot(page, `sequence-replay-${lang}.png`, { top: false });

    // Not a transcript: refused, said so, nothing drawn over the last diagram.
    const bogus = path.join(SCREENSHOTS, "not-a-transcript.json");
    writeFileSync(bogus, JSON.stringify({ hello: "world" }));
    await page.setInputFiles("#sequence-import", bogus);
    await page.waitForSelector('#sequence-status[data-error="true"]');
    assert.ok((await page.textContent("#sequence-status")).includes(ui(lang)["sequence.not-transcript"]));
    assert.equal(await page.getAttribute(figure, "data-source"), "imported");
    await page.keyboard.press("Escape");
    browser.watch.assertClean();
    await page.close();
  });
}
