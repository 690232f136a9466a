// RETR throughput of the JS API in a browser: logs in through the bridge, times RETR of one
// message several times (after a warm-up), prints one line "POPWIRE_BENCH {json}" on the console
// (benches/browser-retr.sh reads it from Chromium's log), then QUITs.
import init, { Pop3Client } from "./pkg/popwire.js";

const q = new URLSearchParams(location.search);
const out = (line) => {
  console.log(line);
  document.getElementById("out").textContent = line;
};

try {
  await init();
  const c = await Pop3Client.connect({
    bridge: `ws://${location.host}/bridge`, target: q.get("target") ?? "demo", timeoutMs: 120000,
  });
  await c.user(q.get("user") ?? "bench");
  await c.pass(q.get("pass") ?? "pop3");
  const msg = Number(q.get("msg") ?? "1");
  const runs = Number(q.get("runs") ?? "5");
  // ?list=0: no LIST first, so the engine does not know the size (issue 12 §2's comparison).
  const listed = q.get("list") !== "0";
  if (listed) await c.list(msg);
  const rates = [];
  let size = 0;
  for (let run = 0; run <= runs; run++) {
    const t = performance.now();
    const m = await c.retr(msg);
    const secs = (performance.now() - t) / 1000;
    size = m.bytes.length;
    if (run > 0) rates.push(size / secs / 1e6); // run 0 warms up the JIT
  }
  rates.sort((a, b) => a - b);
  await c.quit();
  const median = rates[Math.floor(rates.length / 2)];
  out("POPWIRE_BENCH " + JSON.stringify({ client: "chromium", listed, size, runs, medianMBps: Number(median.toFixed(1)), rates }));
} catch (e) {
  out("POPWIRE_BENCH " + JSON.stringify({ error: `${e.name} ${e.kind ?? ""} ${e.message}` }));
}
