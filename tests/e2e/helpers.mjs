// Shared by the page tests (tests/e2e/*.test.mjs): the bridge's address, a fresh Chromium
// profile per browser, a console-error watch that ignores only what a test causes on purpose,
// and small page helpers. Run by scripts/test-e2e.sh, which starts the bridge and exports
// POPWIRE_E2E_HTTP (host:port of the bridge's HTTP side).

import { mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "../..");
export const SCREENSHOTS = path.join(ROOT, "target", "e2e-screenshots");
/** Where figure() keeps what it measured (benches/page-figures.sh: target/page-figures.json). */
export const FIGURES = process.env.POPWIRE_FIGURES || path.join(ROOT, "target", "e2e-figures.json");

export const HTTP = process.env.POPWIRE_E2E_HTTP;
if (!HTTP) {
  throw new Error("POPWIRE_E2E_HTTP is not set: run the page tests with `bash scripts/test-e2e.sh`");
}
export const BASE = `http://${HTTP}`;

const CHROMIUM = process.env.POPWIRE_E2E_CHROMIUM || "/usr/bin/chromium";
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** Chromium with a fresh user-data-dir; `close()` removes the profile. */
export async function launch({ viewport = { width: 1440, height: 900 }, reducedMotion, extraArgs = [] } = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), "popwire-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, ...extraArgs],
    viewport,
    reducedMotion,
    acceptDownloads: true,
  });
  const watch = new ConsoleWatch();
  context.on("page", (page) => watch.attach(page));
  for (const page of context.pages()) watch.attach(page);
  return {
    context,
    watch,
    async page() {
      const existing = context.pages().find((p) => p.url() === "about:blank" && !p.__used);
      const page = existing || (await context.newPage());
      page.__used = true;
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Collects console errors and page errors; a test allows exactly the ones it causes. */
export class ConsoleWatch {
  constructor() {
    this.errors = [];
    this.warnings = [];
    this.pages = new WeakSet();
  }

  attach(page) {
    if (this.pages.has(page)) return;
    this.pages.add(page);
    page.on("console", (m) => {
      if (m.type() === "error") this.errors.push(m.text());
      if (m.type() === "warning") this.warnings.push(m.text());
    });
    page.on("pageerror", (e) => this.errors.push(`pageerror: ${e.message}`));
  }

  /** Fails on any console error not matched by one of `allowed` (regular expressions). */
  assertClean(allowed = []) {
    const unexpected = this.errors.filter((text) => !allowed.some((re) => re.test(text)));
    assert.deepEqual(unexpected, [], `unexpected console errors:\n${unexpected.join("\n")}`);
    const missing = this.warnings.filter((w) => w.includes("missing ui string"));
    assert.deepEqual(missing, [], `missing ui strings:\n${missing.join("\n")}`);
  }

  reset() {
    this.errors = [];
    this.warnings = [];
  }
}

export function freshUser(prefix = "e2e") {
  return `${prefix}-${Math.random().toString(16).slice(2, 10)}`;
}

/** Opens the page and waits until Connect can be pressed. */
export async function openPage(page, query = "") {
  await page.goto(`${BASE}/${query}`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 15000 });
}

const AXE = readFileSync(path.join(ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8");
const WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/**
 * Runs axe-core (WCAG 2.1 A and AA rules) on the page as it is now and fails on any serious or
 * critical violation, naming the rule and the elements. axe is evaluated through DevTools, so
 * the page's CSP (no inline scripts) is untouched. `screenshot()` calls it: every screen a test
 * photographs is checked.
 */
export async function assertAccessible(page, label) {
  const loaded = await page.evaluate(() => typeof window.axe === "object");
  if (!loaded) await page.evaluate(AXE);
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(", ")}`);
  }, WCAG_AA);
  const where = await page.evaluate(() => `${document.documentElement.lang}, ${document.documentElement.dataset.theme || "light"} theme`);
  assert.deepEqual(violations, [], `axe-core on ${label} (${where}):\n${violations.join("\n")}`);
}

export async function screenshot(page, name, { top = true, axe = true } = {}) {
  if (axe) await assertAccessible(page, name);
  mkdirSync(SCREENSHOTS, { recursive: true });
  if (top) {
    // Each column scrolls on its own: show their beginnings.
    await page.evaluate(() => {
      for (const el of document.querySelectorAll("#session-panel, #maildrop-panel")) el.scrollTop = 0;
    });
  }
  const file = path.join(SCREENSHOTS, name);
  await page.screenshot({ path: file });
  return file;
}

/** Waits for a transcript row with this explanation key (the n-th one, counting from 1). */
export async function waitRow(page, key, n = 1, timeout = 15000) {
  await page.waitForFunction(
    ([k, count]) => document.querySelectorAll(`#transcript .row[data-key="${k}"]`).length >= count,
    [key, n],
    { timeout },
  );
}

export async function waitState(page, state, timeout = 15000) {
  await page.waitForSelector(`#state-now[data-state="${state}"]`, { timeout });
}

/** Sets the user name field (and with it the maildrop). */
export async function setUser(page, user) {
  await page.fill("#user", user);
}

/** Types a line in the command line and presses Enter. */
export async function send(page, line) {
  await page.fill("#cmdline", line);
  await page.press("#cmdline", "Enter");
}

/** Clicks the guide's button and waits for the step to be done. */
export async function guide(page, expectStep) {
  if (expectStep) {
    await page.waitForSelector(`#guide-current[data-step="${expectStep}"]`, { timeout: 15000 });
  }
  await page.click("#guide-do");
}

/** The ui strings of a language, straight from www/i18n. */
export function ui(lang) {
  return JSON.parse(readFileSync(path.join(ROOT, "www", "i18n", `${lang}.json`), "utf8")).ui;
}

/** Delivers a message to a demo maildrop (POST /demo/deliver). */
export async function deliver(user, body) {
  const r = await fetch(`${BASE}/demo/deliver?user=${encodeURIComponent(user)}`, {
    method: "POST",
    body,
    headers: { "content-type": "message/rfc822" },
  });
  const text = await r.text();
  return { status: r.status, text, json: r.ok ? JSON.parse(text) : null };
}

/** Records a figure for the closing note (printed, and kept in target/e2e-figures.json). */
export function figure(name, value, note = "") {
  const all = existsSync(FIGURES) ? JSON.parse(readFileSync(FIGURES, "utf8")) : {};
  all[name] = { value, note, at: new Date().toISOString() };
  mkdirSync(path.dirname(FIGURES), { recursive: true });
  writeFileSync(FIGURES, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`FIGURE ${name}: ${typeof value === "object" ? JSON.stringify(value) : value}${note ? ` (${note})` : ""}`);
}

/** Opens the page (with `query`) as `user`, connects, runs CAPA and the login through the
 * guide, then LIST. */
export async function openLoggedIn(page, user, query = "") {
  await openPage(page, query);
  await setUser(page, user);
  await page.click("#connect-btn");
  await guide(page, "capa");
  await guide(page, "login");
  await waitState(page, "TRANSACTION");
  await page.click('.command-button[data-command="LIST"]');
  await waitRow(page, "body.LIST");
}
