// The static site (`make site`, scripts/build-site.sh): dist/ served by a plain static file
// server under a sub-path (/popwire/), with NO bridge running. Run by scripts/test-site.sh,
// which builds dist/, serves it with `python3 -m http.server` and sets POPWIRE_E2E_HTTP to
// host:port/popwire and POPWIRE_SITE_TEST=1 (under scripts/test-e2e.sh, where a bridge runs,
// this file is skipped). The page chooses the in-browser server by itself; the canonical
// session (greeting, CAPA, login, STAT, LIST, UIDL, TOP, RETR, DELE, QUIT) completes on it;
// every request stays under the site's origin and path and names one of dist/'s own files
// (`targets` too: build-site.sh writes the site's own answer that no bridge serves it); no
// WebSocket. dist/index.html carries the bridge's CSP as a <meta> and it is in force.
// Prints the time until usable (navigation start → html[data-ready="true"]) as a figure.
// Screenshot (axe-checked): target/e2e-screenshots/static-site-en.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import {
  ROOT, BASE, launch, openPage, freshUser, setUser, guide, waitRow, waitState, screenshot, figure,
} from "./helpers.mjs";

const standalone = process.env.POPWIRE_SITE_TEST === "1";
const SKIP = standalone ? false : "run by scripts/test-site.sh (a static server, no bridge)";
const DIST = path.resolve(ROOT, process.env.POPWIRE_SITE_DIST || "dist");

let browser;
before(async () => { if (standalone) browser = await launch(); });
after(async () => { await browser?.close(); });

/** The bridge's CSP header (websocket-bridge/src/http.rs `CSP`), its string pieces joined. */
function bridgeCsp() {
  const rs = readFileSync(path.join(ROOT, "websocket-bridge", "src", "http.rs"), "utf8");
  const m = rs.match(/const CSP: &str =([\s\S]*?);\n/);
  assert.ok(m, "CSP in http.rs");
  return m[1].replace(/\\\n\s*/g, "").replace(/^\s*"|"\s*$/g, "");
}

test("dist/index.html carries the bridge's CSP as a meta, before any script or style", { skip: SKIP }, () => {
  const html = readFileSync(path.join(DIST, "index.html"), "utf8");
  const m = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/);
  assert.ok(m, "a CSP meta");
  assert.equal(m[1], bridgeCsp());
  assert.ok(!/frame-ancestors/.test(m[1]), "frame-ancestors is ignored in a meta");
  assert.ok(m.index < html.indexOf("<link rel=\"stylesheet\""), "the policy comes before the style sheet");
  assert.ok(m.index < html.indexOf("<script"), "the policy comes before the scripts");
  for (const f of ["pkg/popwire_bg.wasm", "pkg/popwire_mail_bg.wasm", "pkg/popwire_server_bg.wasm", "i18n/fa.json"]) {
    assert.ok(existsSync(path.join(DIST, f)), f);
  }
});

test("the canonical session on the in-browser server from dist/ served statically under a sub-path", { skip: SKIP }, async () => {
  const site = new URL(`${BASE}/`); // http://host:port/popwire/
  assert.notEqual(site.pathname, "/", "served under a sub-path");
  const page = await browser.page();
  browser.watch.reset();
  const requests = [];
  const responses = new Map();
  browser.context.on("request", (r) => requests.push(r.url()));
  browser.context.on("response", (r) => responses.set(r.url(), r.status()));
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  // When html[data-ready] becomes "true", on the page's clock (0 = navigation start).
  await page.addInitScript(() => {
    // Runs before <html> exists: watch the whole document.
    new MutationObserver((_, obs) => {
      if (document.documentElement?.dataset.ready === "true") {
        window.__readyAt = performance.now();
        obs.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });
  });

  await openPage(page, "?lang=en");
  const readyMs = await page.evaluate(() => window.__readyAt);
  assert.ok(readyMs > 0, "data-ready was seen");
  figure("static site: time until usable", `${Math.round(readyMs)} ms`,
    "navigation start → html[data-ready=true]; dist/ from python3 -m http.server under /popwire/, no bridge, cold profile");
  // No bridge answers `targets`: the in-browser server, labelled, is chosen by itself.
  assert.equal(await page.inputValue("#target"), "in-browser");
  assert.ok(await page.isVisible("#sim-badge"));

  await setUser(page, freshUser("static"));
  await page.click("#connect-btn");
  await waitRow(page, "greeting.apop");
  await waitState(page, "AUTHORIZATION");
  assert.equal(await page.locator("#transcript .row").first().getAttribute("data-key"), "info.in-browser");
  await guide(page, "capa");
  await waitRow(page, "body.CAPA");
  await guide(page, "login");
  await waitState(page, "TRANSACTION");
  await page.click('.command-button[data-command="STAT"]');
  await waitRow(page, "reply.STAT.ok");
  await guide(page, "list");
  await waitRow(page, "body.LIST");
  await page.click('.command-button[data-command="UIDL"]');
  await waitRow(page, "body.UIDL");
  await page.click('#maildrop tr[data-id="1"] button[data-action="TOP"]');
  await waitRow(page, "body.TOP");
  await page.click('#maildrop tr[data-id="1"] button[data-action="RETR"]');
  await waitRow(page, "body.RETR");
  // The message is shown: the mail module (parse-worker.js, popwire_mail) came from dist/ too.
  await page.waitForFunction(() => (document.querySelector("#viewer-meta")?.textContent || "").length > 0);
  await page.click('#maildrop tr[data-id="1"] button[data-action="DELE"]');
  await waitRow(page, "reply.DELE.ok");
  await page.waitForSelector('#maildrop tr[data-id="1"].marked');
  await page.click('.command-button[data-command="QUIT"]');
  await waitRow(page, "reply.QUIT.ok");
  await waitState(page, "CLOSED");
  await page.waitForSelector('#maildrop tr.removed[data-id="1"]');
  await screenshot(page, "static-site-en.png");

  // The CSP meta is in force: an inline script is refused.
  const refused = await page.evaluate(() => new Promise((resolve) => {
    document.addEventListener("securitypolicyviolation", (e) => resolve(e.violatedDirective), { once: true });
    const s = document.createElement("script");
    s.textContent = "window.__inlineRan = true";
    document.body.append(s);
    setTimeout(() => resolve(window.__inlineRan ? "ran" : "no event"), 2000);
  }));
  assert.match(refused, /^script-src/);

  // Every request: under the site, for one of dist/'s files (`targets` too: the site's own
  // answer that no bridge serves it).
  assert.deepEqual(sockets, [], "no WebSocket");
  assert.ok(requests.length > 10, `requests recorded (${requests.length})`);
  const outside = [];
  for (const raw of requests) {
    const u = new URL(raw);
    if (u.origin !== site.origin || !u.pathname.startsWith(site.pathname)) {
      outside.push(raw);
      continue;
    }
    const rel = decodeURIComponent(u.pathname.slice(site.pathname.length)) || "index.html";
    const file = path.join(DIST, rel);
    assert.ok(file.startsWith(DIST + path.sep) && existsSync(file) && statSync(file).isFile(), `${raw} is a file of dist/`);
    assert.equal(responses.get(raw), 200, `${raw} served`);
  }
  assert.deepEqual(outside, [], "no request outside the static site");
  for (const f of ["server-worker.js", "pkg/popwire_server_bg.wasm", "pkg/popwire_bg.wasm", "pkg/popwire_mail_bg.wasm", "i18n/en.json"]) {
    assert.ok(requests.some((r) => r === new URL(f, site).href), `${f} fetched from the site`);
  }
  assert.ok(requests.some((r) => r === new URL("targets", site).href), "the page asked `targets`");
  // Allowed: the inline script this test had refused.
  browser.watch.assertClean([/inline script violates the following Content Security Policy/]);
});

test("under a sub-path the default bridge URL is `bridge` beside the page, not /bridge", { skip: SKIP }, async () => {
  // A bridge behind a proxy at /popwire/ is reached at /popwire/bridge. The static server has
  // none, so the connection fails; what matters is where the page tried.
  const site = new URL(`${BASE}/`);
  const page = await browser.page();
  browser.watch.reset();
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws.url()));
  await openPage(page, "?target=demo");
  await page.click("#connect-btn");
  await page.waitForSelector('#notice:not([hidden])');
  const wsBase = site.href.replace(/^http/, "ws");
  assert.deepEqual(sockets, [`${wsBase}bridge?target=demo`]);
  browser.watch.assertClean([/^WebSocket connection to .* failed/, /status of 404/]);
});
