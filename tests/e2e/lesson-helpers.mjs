// What the lesson tests share (tests/e2e/lessons*.test.mjs): driving the guide as a student
// does — waiting for a step, predicting, answering — and checking that protocol text inside
// right-to-left text is displayed as sent.

import assert from "node:assert/strict";
import path from "node:path";
import { screenshot, SCREENSHOTS } from "./helpers.mjs";

/** Waits until `step` is the guide's current step. */
export async function current(page, step) {
  await page.waitForSelector(`#guide-current[data-step="${step}"]`, { timeout: 15000 });
}

/** Picks a prediction for the current step (which must be `step`). */
export async function predict(page, step, value) {
  await current(page, step);
  await page.check(`#guide-predict input[value="${value}"]`);
}

/** Waits until `step` is done and its prediction judged `outcome`. */
export async function judged(page, step, outcome) {
  await page.waitForSelector(`#guide-last[data-step="${step}"][data-outcome="${outcome}"]`, { timeout: 15000 });
}

/** Answers a question typed in; returns the result shown. */
export async function answer(page, id, text) {
  await page.fill(`#question-${id}`, text);
  await page.click(`li[data-question="${id}"] button`);
  return page.getAttribute(`li[data-question="${id}"]`, "data-result");
}

/** Picks a choice question's answer; returns the result shown. */
export async function choose(page, id, value) {
  await page.check(`li[data-question="${id}"] input[value="${value}"]`);
  return page.getAttribute(`li[data-question="${id}"]`, "data-result");
}

/**
 * Asserts that `token` (protocol text such as "+OK") is displayed as sent inside the element's
 * text, whatever the page's direction: each character laid out to the right of the one before
 * on its line, or at the start of a later line where the text wraps.
 */
export async function displayedAsSent(page, selector, token) {
  const boxes = await page.evaluate(([sel, tok]) => {
    const el = document.querySelector(sel);
    const node = [...el.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && n.data.includes(tok));
    if (!node) return null;
    const at = node.data.indexOf(tok);
    return [...tok].map((_, i) => {
      const range = document.createRange();
      range.setStart(node, at + i);
      range.setEnd(node, at + i + 1);
      const r = range.getBoundingClientRect();
      return { left: r.left, top: r.top, height: r.height };
    });
  }, [selector, token]);
  assert.ok(boxes, `${token} is not in ${selector}`);
  for (let i = 1; i < boxes.length; i++) {
    const [a, b] = [boxes[i - 1], boxes[i]];
    const sameLine = Math.abs(b.top - a.top) < a.height / 2;
    const inOrder = sameLine ? b.left > a.left : b.top > a.top;
    assert.ok(inOrder, `${token} is displayed out of order in ${selector} at ${i}: ${JSON.stringify(boxes)}`);
  }
}

/** The whole page (checked by axe), and again with the lesson guide in view. */
export async function shoot(page, name) {
  await screenshot(page, `${name}.png`);
  // The guide sits in a column that scrolls on its own: bring it into view.
  await page.evaluate(() => {
    const panel = document.getElementById("session-panel");
    const guide = document.querySelector("section.guide");
    window.scrollTo(0, panel.getBoundingClientRect().top + window.scrollY - 8);
    panel.scrollTop += guide.getBoundingClientRect().top - panel.getBoundingClientRect().top - 8;
  });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-guide.png`) });
}
