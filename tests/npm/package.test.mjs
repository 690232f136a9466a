// The packed npm package in a fresh project (tests/npm/run.sh lays it out, serves it with the
// bridge and sets POPWIRE_NPM_HTTP, POPWIRE_NPM_APP, POPWIRE_NPM_TARBALL): the tarball's
// contents, then each page in headless Chromium, bundled with esbuild and without a bundler,
// completes a session against the demo server; the in-browser server's worker from the
// package answers with a greeting.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { POPWIRE_NPM_HTTP: HTTP, POPWIRE_NPM_APP: APP, POPWIRE_NPM_TARBALL: TARBALL } = process.env;
if (!HTTP || !APP || !TARBALL) throw new Error("run the npm package test with `bash tests/npm/run.sh`");
const BASE = `http://${HTTP}`;

const CARGO_VERSION = readFileSync(path.join(ROOT, "Cargo.toml"), "utf8")
  .split("[package]")[1].match(/^version = "([^"]+)"/m)[1];
const SAMPLE = readFileSync(path.join(ROOT, "src/server/samples/01-welcome.eml"));
const SAMPLE_SUBJECT = SAMPLE.toString("latin1").match(/^Subject: (.*)\r$/m)[1];
/** How many messages a fresh demo maildrop holds: the samples. */
const SAMPLES = readdirSync(path.join(ROOT, "src/server/samples")).filter((f) => f.endsWith(".eml")).length;

// The launch arguments of tests/e2e/helpers.mjs.
const ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
let context;
let profile;
before(async () => {
  profile = mkdtempSync(path.join(tmpdir(), "popwire-npm-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.POPWIRE_E2E_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ARGS,
  });
});
after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Opens `url`, waits for #result to be done; the JSON, the requested paths, console errors. */
async function runPage(url) {
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(url);
  await page.waitForSelector("#result[data-done]", { timeout: 20000 });
  const result = JSON.parse(await page.textContent("#result"));
  return { page, result, errors, requests };
}

/** What every page's session must have given: the sample's bytes, parsed, and a clean QUIT. */
function assertSession(result, user) {
  assert.equal(result.ok, true, `the session failed: ${result.error}`);
  assert.match(result.greeting.text, /ready <[^>]+>$/);
  assert.equal(result.greeting.apop, true);
  for (const cap of ["USER", "UIDL", "PIPELINING", "SASL"]) assert.ok(result.capa.includes(cap), `CAPA lists ${cap}: ${result.capa}`);
  assert.equal(result.user, true);
  assert.equal(result.pass, true);
  assert.equal(result.state, "TRANSACTION");
  assert.equal(result.stat.count, SAMPLES, "the demo maildrop has the samples");
  assert.equal(result.list1, SAMPLE.length);
  assert.equal(result.retr1.size, SAMPLE.length);
  assert.equal(result.retr1.sha256, createHash("sha256").update(SAMPLE).digest("hex"), "RETR 1 is 01-welcome.eml byte for byte");
  assert.equal(result.subject, SAMPLE_SUBJECT, "parseMessage (popwire/mail) read the Subject");
  assert.equal(result.quit, true);
  assert.equal(result.closed, "CLOSED");
  const sent = result.transcript.filter((e) => e.dir === "client").map((e) => e.text);
  assert.match(sent[2] ?? "", /^PASS (?!pop3)/, "PASS is masked in the transcript");
  assert.deepEqual(sent.toSpliced(2, 1), ["CAPA", `USER ${user}`, "STAT", "LIST 1", "RETR 1", "QUIT"]);
  assert.ok(result.transcript.some((e) => e.key === "reply.STAT.ok"), "the transcript is explained");
}

test("the tarball is the package: the modules with their wasm and types, the worker, both licenses, Cargo's version", () => {
  const files = execFileSync("tar", ["-tzf", TARBALL], { encoding: "utf8" }).trim().split("\n").map((f) => f.replace(/^package\//, ""));
  for (const name of ["popwire", "popwire_mail", "popwire_server"]) {
    for (const file of [`${name}.js`, `${name}.d.ts`, `${name}_bg.wasm`, `${name}_bg.wasm.d.ts`]) assert.ok(files.includes(file), `the tarball has ${file}`);
  }
  for (const file of ["package.json", "README.md", "LICENSE-MIT", "LICENSE-APACHE", "server-worker.js", "docs/js-api.md", "docs/in-browser-server.md"]) {
    assert.ok(files.includes(file), `the tarball has ${file}`);
  }
  assert.ok(files.some((f) => f.startsWith("snippets/")), "the tarball has wasm-bindgen's snippets");
  assert.deepEqual(files.filter((f) => f.endsWith(".gz")), [], "no precompressed copies");

  const installed = path.join(APP, "node_modules", "popwire");
  const pkg = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8"));
  assert.equal(pkg.version, CARGO_VERSION);
  assert.equal(pkg.type, "module");
  assert.equal(pkg.license, "MIT OR Apache-2.0");
  const require = createRequire(path.join(APP, "index.js"));
  assert.equal(require.resolve("popwire"), path.join(installed, "popwire.js"));
  assert.equal(require.resolve("popwire/mail"), path.join(installed, "popwire_mail.js"));
  assert.equal(require.resolve("popwire/server"), path.join(installed, "popwire_server.js"));
  assert.equal(require.resolve("popwire/server-worker.js"), path.join(installed, "server-worker.js"));
  assert.match(readFileSync(path.join(installed, pkg.types), "utf8"), /export class Pop3Client/);
  assert.doesNotMatch(readFileSync(path.join(installed, "server-worker.js"), "utf8"), /\.\/pkg\//);
});

test("bundled with esbuild: a whole session from the bundle alone", async () => {
  const { page, result, errors, requests } = await runPage(`${BASE}/dist/`);
  assertSession(result, "npm-bundled");
  assert.deepEqual(requests.filter((p) => !p.startsWith("/dist/") && p !== "/bridge"), [],
    "the bundle needs nothing outside dist/");
  assert.ok(requests.some((p) => /^\/dist\/popwire_bg-\w+\.wasm$/.test(p)), `the file loader's popwire wasm: ${requests}`);
  assert.ok(requests.some((p) => /^\/dist\/popwire_mail_bg-\w+\.wasm$/.test(p)), `the file loader's mail wasm: ${requests}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("without a bundler: the package's files from node_modules, init() finds the wasm beside them", async () => {
  const { page, result, errors, requests } = await runPage(`${BASE}/plain/`);
  assertSession(result, "npm-plain");
  assert.ok(requests.includes("/node_modules/popwire/popwire_bg.wasm"), `${requests}`);
  assert.ok(requests.includes("/node_modules/popwire/popwire_mail_bg.wasm"), `${requests}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("without a bundler, on the in-browser server: Pop3Client over the package's own worker", async (t) => {
  const types = readFileSync(path.join(APP, "node_modules", "popwire", "popwire.d.ts"), "utf8");
  if (!/export function inBrowserServer\(/.test(types)) {
    t.skip("this build of the JS API has no in-browser target (connect({ target: \"in-browser\" }))");
    return;
  }
  const { page, result, errors, requests } = await runPage(`${BASE}/plain/inbrowser.html`);
  assertSession(result, "npm-in-browser");
  assert.match(result.greeting.text, /@in-browser\.popwire\.test>$/, "the simulated server greeted");
  assert.ok(requests.includes("/node_modules/popwire/server-worker.js"), `${requests}`);
  assert.ok(requests.includes("/node_modules/popwire/popwire_server_bg.wasm"), `${requests}`);
  assert.ok(!requests.includes("/bridge"), "no bridge");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the in-browser server's worker from the package greets a connection on a MessagePort", async () => {
  const page = await context.newPage();
  await page.goto(`${BASE}/plain/`);
  const greeting = await page.evaluate(async () => {
    const worker = new Worker("/node_modules/popwire/server-worker.js", { type: "module" });
    const { port1, port2 } = new MessageChannel();
    const bytes = new Promise((resolve, reject) => {
      port1.onmessage = (e) => {
        if (e.data.data) resolve(new TextDecoder().decode(e.data.data));
        else if (e.data.op !== "open") reject(new Error(JSON.stringify(e.data))); // open: the conn id
      };
      setTimeout(() => reject(new Error("no greeting in 10 s")), 10000);
    });
    const answer = new Promise((resolve) => (worker.onmessage = (e) => e.data.id === 1 && resolve(e.data)));
    worker.postMessage({ id: 1, op: "connect", port: port2 }, [port2]);
    const reply = await answer;
    const text = await bytes;
    port1.postMessage({ op: "close" });
    worker.terminate();
    return { reply, text };
  });
  assert.equal(greeting.reply.ok, true, JSON.stringify(greeting.reply));
  assert.match(greeting.text, /^\+OK .*<[^>]+@in-browser\.popwire\.test>\r\n$/);
  await page.close();
});
