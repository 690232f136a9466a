// RETR throughput of the 1 MB sample (message 7, 07-large.eml) on the in-browser server (the
// simulated teaching server in a Web Worker, over a MessageChannel) beside the same over
// popwire-bridge's demo server, in one page: each timed `runs` times after a warm-up. Prints one
// line "POPWIRE_BENCH {json}" on the console (benches/in-browser-retr.sh reads Chromium's log).
import init, { Pop3Client } from "./pkg/popwire.js";

const q = new URLSearchParams(location.search);
const runs = Number(q.get("runs") ?? "10");
const out = (line) => {
  console.log(line);
  document.getElementById("out").textContent = line;
};

async function measure(options, user) {
  const c = await Pop3Client.connect({ ...options, timeoutMs: 120000 });
  await c.user(user);
  await c.pass("pop3");
  await c.list(7);
  const rates = [];
  let size = 0;
  for (let run = 0; run <= runs; run++) {
    const t = performance.now();
    const m = await c.retr(7);
    const secs = (performance.now() - t) / 1000;
    size = m.bytes.length;
    if (run > 0) rates.push(size / secs / 1e6); // run 0 warms up the JIT
  }
  await c.quit();
  rates.sort((a, b) => a - b);
  return { size, medianMBps: Number(rates[Math.floor(rates.length / 2)].toFixed(1)) };
}

try {
  await init();
  const user = `bench-${Math.random().toString(16).slice(2, 8)}`;
  const bridge = await measure({ bridge: `ws://${location.host}/bridge`, target: "demo" }, user);
  const inBrowser = await measure({ target: "in-browser" }, user);
  out("POPWIRE_BENCH " + JSON.stringify({ runs, bridge, inBrowser }));
} catch (e) {
  out("POPWIRE_BENCH " + JSON.stringify({ error: `${e.name} ${e.kind ?? ""} ${e.message}` }));
}
