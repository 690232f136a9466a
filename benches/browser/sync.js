// Maildrop sync through the JS API, for the latency benchmark (benches/latency/run.sh): each
// job connects through the bridge, runs CAPA, USER, PASS, UIDL, RETR of every message (each
// counted and dropped), QUIT, `runs` times, and prints one line "POPWIRE_SYNC {json}" on the
// console (run.sh reads Chromium's log); "POPWIRE_SYNC_DONE" after the last job.
//
// ?jobs=JSON: [{ label, target, user, pass, mode, runs, window }], mode one of
//   await  — each RETR awaited before the next is sent;
//   all    — every RETR at once, Promise.all (the engine pipelines them after CAPA's PIPELINING);
//   window — at most `window` RETRs unanswered, the next sent as one resolves;
//   batch  — the engine's batch API, c.retrMany(ids, { onMessage, window }) (window 0 or absent:
//            the engine's default, 1,000 messages and 32 MiB by LIST's sizes), with PASS sent with
//            USER and LIST with UIDL, as sync_native's batch mode (one round trip each with
//            PIPELINING); reports { skipped } on a JS API without retrMany.
// ?warm=TARGET: one untimed sync against TARGET first (JIT warm-up), with the first job's user.
import init, { Pop3Client } from "./pkg/popwire.js";

const q = new URLSearchParams(location.search);
const print = (line) => {
  console.log(line);
  document.getElementById("out").textContent = line;
};

// Octets of whatever a RETR or the batch API hands over: { bytes }, a Uint8Array or { size }.
const octets = (m) => m?.bytes?.length ?? m?.byteLength ?? m?.size ?? 0;

async function sync(job) {
  const t0 = performance.now();
  const c = await Pop3Client.connect({
    bridge: `ws://${location.host}/bridge`, target: job.target, timeoutMs: 120000,
  });
  await c.capa();
  if (job.mode === "batch") {
    // With PIPELINING the engine lets PASS follow an unanswered USER.
    await Promise.all([c.user(job.user), c.pass(job.pass)]);
  } else {
    await c.user(job.user);
    await c.pass(job.pass);
  }
  const tLogin = performance.now();
  // batch: LIST goes out with UIDL, so the batch's byte budget knows each message's size.
  const [listing] = await Promise.all([c.uidl(), job.mode === "batch" ? c.list() : null]);
  const ids = listing.map((e) => e.id);
  const tUidl = performance.now();
  let messages = 0, bytes = 0;
  const got = (m) => { messages += 1; bytes += octets(m); };
  if (job.mode === "await") {
    for (const id of ids) got(await c.retr(id));
  } else if (job.mode === "all") {
    await Promise.all(ids.map((id) => c.retr(id).then(got)));
  } else if (job.mode === "window") {
    let next = 0;
    const lane = async () => {
      while (next < ids.length) got(await c.retr(ids[next++]));
    };
    await Promise.all(Array.from({ length: Math.min(job.window, ids.length) }, lane));
  } else if (job.mode === "batch") {
    const result = await c.retrMany(ids, { onMessage: got, ...(job.window ? { window: job.window } : {}) });
    if (result.failed.length) throw new Error(`${result.failed.length} messages failed: ${result.failed[0].error}`);
  } else {
    throw new Error(`unknown mode ${job.mode}`);
  }
  const tRetr = performance.now();
  await c.quit();
  const t1 = performance.now();
  if (messages !== ids.length) throw new Error(`${messages} of ${ids.length} messages`);
  return {
    messages, bytes, totalMs: +(t1 - t0).toFixed(1), loginMs: +(tLogin - t0).toFixed(1),
    uidlMs: +(tUidl - tLogin).toFixed(1), retrMs: +(tRetr - tUidl).toFixed(1),
  };
}

let wasm;
try {
  wasm = await init();
  const jobs = JSON.parse(q.get("jobs") ?? "[]");
  const memKb = () => Math.round((wasm?.memory?.buffer?.byteLength ?? 0) / 1024);
  if (q.get("warm") && jobs.length) await sync({ ...jobs[0], target: q.get("warm"), mode: "all" });
  for (const job of jobs) {
    // The batch's default window is reported as its message cap (1,000), as sync_native's.
    const window = job.mode === "batch" && !job.window ? 1000 : job.window;
    const head = { client: "chromium", label: job.label, mode: job.mode, window };
    if (job.mode === "batch" && typeof Pop3Client.prototype.retrMany !== "function") {
      print("POPWIRE_SYNC " + JSON.stringify({ ...head, skipped: "the JS API has no retrMany yet" }));
      continue;
    }
    const memBefore = memKb();
    const results = [];
    try {
      for (let run = 0; run < job.runs; run++) results.push(await sync(job));
      // Wasm linear memory never shrinks: its size is the high-water mark since the page loaded.
      print("POPWIRE_SYNC " + JSON.stringify({ ...head, results, wasmMemKbBefore: memBefore, wasmMemKb: memKb() }));
    } catch (e) {
      print("POPWIRE_SYNC " + JSON.stringify({ ...head, error: `${e.name} ${e.kind ?? ""} ${e.message}` }));
    }
  }
} catch (e) {
  print("POPWIRE_SYNC " + JSON.stringify({ client: "chromium", error: `${e.name} ${e.kind ?? ""} ${e.message}` }));
}
print("POPWIRE_SYNC_DONE");
