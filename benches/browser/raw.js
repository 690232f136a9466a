// Baseline: the same RETR over a bare WebSocket, bytes counted in plain JS (no wasm, no parsing
// beyond spotting the end), to separate the browser+bridge path from popwire's own work.
const q = new URLSearchParams(location.search);
const ws = new WebSocket(`ws://${location.host}/bridge?target=demo`);
ws.binaryType = "arraybuffer";
let stage = 0, total = 0, tail = new Uint8Array(0), t0 = 0, rates = [], runs = Number(q.get("runs") ?? "5");
const send = (s) => ws.send(new TextEncoder().encode(s + "\r\n"));
const endsWith = (a) => { const e = [13,10,46,13,10]; if (a.length < 5) return false; for (let i = 0; i < 5; i++) if (a[a.length-5+i] !== e[i]) return false; return true; };
ws.onmessage = (ev) => {
  if (typeof ev.data === "string") return;
  const b = new Uint8Array(ev.data);
  if (stage === 0) { stage = 1; send("USER bench"); return; }
  if (stage === 1) { stage = 2; send("PASS pop3"); return; }
  if (stage === 2) { stage = 3; t0 = performance.now(); total = 0; send("RETR 1"); return; }
  total += b.length;
  const joined = new Uint8Array(tail.length + Math.min(b.length, 8));
  joined.set(tail); joined.set(b.subarray(Math.max(0, b.length - 8)), tail.length);
  tail = joined.subarray(Math.max(0, joined.length - 8));
  if (endsWith(tail)) {
    rates.push(total / ((performance.now() - t0) / 1000) / 1e6);
    tail = new Uint8Array(0);
    if (rates.length <= runs) { t0 = performance.now(); total = 0; send("RETR 1"); }
    else { rates.shift(); rates.sort((a, b) => a - b); send("QUIT");
      console.log("POPWIRE_BENCH " + JSON.stringify({ client: "raw-js", medianMBps: Number(rates[Math.floor(rates.length/2)].toFixed(1)) })); }
  }
};
