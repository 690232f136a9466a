// www/server-worker.js under Node, over real MessagePorts (run after scripts/build-pkg.sh:
// `node in-browser-server/tests/worker-smoke.mjs`). `self` and a file:// fetch are shimmed; the
// rest (MessageChannel, performance, crypto, timers) is Node's own. Checks a pipelined session
// with RETR of the 1 MB sample and QUIT, the view, the slow link (the same RETR takes at least
// size / bandwidth), autologout after `advance`, and the refusals of bad requests. A browser-level
// test through a real Worker comes with the page's transport (docs/in-browser-server.md).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const listeners = [];
const pending = new Map();
const events = [];
globalThis.self = {
  addEventListener: (_, f) => listeners.push(f),
  postMessage: (m) => (pending.has(m.id) ? (pending.get(m.id)(m), pending.delete(m.id)) : events.push(m)),
};
globalThis.fetch = async (url) =>
  new Response(readFileSync(fileURLToPath(url)), { headers: { "content-type": "application/wasm" } });
await import("../../www/server-worker.js");

let next = 1;
const ask = (op, args = {}) =>
  new Promise((resolve) => {
    const id = next++;
    pending.set(id, resolve);
    listeners[0]({ data: { id, op, ...args } });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function open() {
  const { port1, port2 } = new MessageChannel();
  const c = { text: "", closed: null, send: (s) => port1.postMessage({ data: new TextEncoder().encode(s) }) };
  port1.onmessage = (e) => {
    if (e.data.data) c.text += new TextDecoder().decode(e.data.data);
    else if (e.data.op === "close") c.closed = e.data.reason;
  };
  const r = await ask("connect", { port: port2 });
  assert.equal(r.ok, true);
  c.id = r.result.conn;
  c.until = async (re, ms = 10000) => {
    const end = performance.now() + ms;
    while (!re.test(c.text) && performance.now() < end) await sleep(5);
    assert.ok(re.test(c.text), `${re} not in the last bytes: ${JSON.stringify(c.text.slice(-200))}`);
  };
  return c;
}

async function session(link) {
  if (link) assert.equal((await ask("faults", { target: "next", faults: link })).ok, true);
  const c = await open();
  await c.until(/^\+OK .*in-browser\.popwire\.test>\r\n/);
  c.send("USER alice\r\nPASS pop3\r\nSTAT\r\nDELE 1\r\n");
  await c.until(/marked for deletion/);
  const view = (await ask("view", { user: "alice" })).result;
  assert.equal(view.lockedBy, c.id);
  assert.equal(view.messages[0].marked, true);
  const t0 = performance.now();
  c.send("RETR 7\r\n");
  await c.until(/\+OK 1029004 octets\r\n[\s\S]*--=_popwire_large_07--\r\n\.\r\n/);
  const ms = performance.now() - t0;
  c.send("QUIT\r\n");
  await c.until(/\+OK popwire teaching server signing off/);
  while (!c.closed) await sleep(5);
  assert.equal(c.closed, "quit");
  const after = (await ask("view", { user: "alice" })).result;
  assert.equal(after.lockedBy, null);
  assert.equal(after.lastUpdate.length, 1);
  assert.equal((await ask("reset", { user: "alice" })).ok, true);
  return ms;
}

const fast = await session(null);
const slow = await session({ latencyMs: 50, bandwidth: 1_000_000 });
assert.ok(slow >= 1000, `1 MB at 1 MB/s took ${slow} ms`);
console.log(`RETR of the 1 MB sample: ${Math.round(fast)} ms unlimited, ${Math.round(slow)} ms at 1 MB/s`);

const idle = await open();
await idle.until(/^\+OK/);
const { result } = await ask("advance", { ms: 10 * 60 * 1000 });
assert.ok(result.now >= 600000);
while (!idle.closed) await sleep(5);
assert.equal(idle.closed, "autologout");
assert.equal(idle.text.split("\r\n").length, 2, "no response to the autologout");

assert.match((await ask("faults", { target: "all", faults: { bareLF: true } })).error, /unknown field "bareLF"/);
assert.match((await ask("nope")).error, /unknown request/);
assert.ok(events.some((e) => e.event === "changed"));
console.log("worker smoke test: ok");
process.exit(0);
