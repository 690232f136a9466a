#!/usr/bin/env python3
"""The latency benchmark's report (benches/latency/run.sh).

    report.py --results FILE --delay MS --messages N   the table, from measure.py's lines
    report.py --chromium-log LOG --delay MS            Chromium's POPWIRE_SYNC lines as results

The floor for a one-way delay d: greeting d + CAPA 2d + USER 2d + PASS 2d + UIDL 2d + QUIT 2d,
plus the RETRs: pipelined 2d + T0, one at a time N x 2d + T0, where T0 is the RETR phase of
popwire native with every RETR at once, direct to the server (no proxy, no delay): the
transfer at loopback speed. Each time is the client's own, from before connect to the QUIT
reply (mpop: its process's wall time); memory is the client process's peak resident set, and
for popwire native and poplib also the peak above the set after login (idle).
"""

import argparse
import json
import os
import re
import statistics
from collections import defaultdict


def chromium_lines(log, delay):
    """Chromium's console lines → one results line per run (or per skipped/failed job)."""
    text = open(log, errors="replace").read()
    for m in re.finditer(r"POPWIRE_SYNC (\{.*\})", text):
        raw = m.group(1)
        raw = raw[: raw.rfind("}") + 1]
        try:
            job = json.loads(raw)
        except ValueError:
            continue
        server, _, at = (job.get("label") or "?:?").partition(":")
        base = {"client": "chromium", "mode": job.get("mode", "?"), "server": server, "at": at,
                "delayMs": delay if at == "d" else 0}
        if job.get("window") and job.get("mode") in ("window", "batch"):
            base["window"] = job["window"]
        if "results" in job:
            for r in job["results"]:
                print(json.dumps({**base, **r, "wasmMemKb": job.get("wasmMemKb")}))
        else:
            extra = {k: job[k] for k in ("skipped", "error") if k in job}
            print(json.dumps({**base, **(extra or {"error": "no result"})}))


def secs(ms):
    return f"{ms / 1000:.2f}"


def report(path, delay, messages):
    rows = defaultdict(list)
    notes = defaultdict(set)
    for line in open(path):
        r = json.loads(line)
        key = (r.get("server"), r.get("at"), r.get("client"), r.get("mode"), r.get("window"))
        if "skipped" in r:
            notes[key].add("n/a: " + r["skipped"])
        elif "error" in r:
            notes[key].add("failed: " + r["error"].splitlines()[-1][:80])
        elif r.get("messages") != messages:
            notes[key].add(f"failed: {r.get('messages')} of {messages} messages")
        else:
            rows[key].append(r)

    def time_ms(r):
        return r.get("totalMs", r.get("wallMs"))

    def median(key, field=None):
        runs = rows.get(key) or []
        vals = [time_ms(r) if field is None else r.get(field) for r in runs]
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    d = float(delay)
    print(f"Maildrop sync: {messages} messages, UIDL then RETR of each, one-way delay {delay} ms "
          f"(RTT {2 * d:g} ms) through a userspace proxy on 127.0.0.1.")
    print("Floor = greeting d + CAPA 2d + USER 2d + PASS 2d + UIDL 2d + QUIT 2d + RETRs, the RETRs "
          "being 2d + T0 pipelined or N x 2d + T0 one at a time;")
    print("T0 = the RETR phase of popwire native, all at once, direct (no proxy, 0 ms): the "
          "transfer at loopback speed.")
    floors = {}
    for server in ("dovecot", "demo"):
        t0 = median((server, "direct", "native", "all", None), "retrMs")
        if t0 is None:
            print(f"  {server}: no direct 0 ms run, no floor")
            continue
        nbytes = (rows[(server, "direct", "native", "all", None)] or [{}])[0].get("bytes", 0)
        piped = 13 * d + t0
        one = 11 * d + messages * 2 * d + t0
        floors[server] = (piped, one)
        print(f"  {server}: T0 = {t0:.1f} ms ({nbytes / t0 / 1e3:.0f} MB/s); pipelined floor = "
              f"13 x {d:g} + {t0:.1f} = {piped:.1f} ms; one at a time = 11 x {d:g} + {messages} x "
              f"{2 * d:g} + {t0:.1f} = {one:.1f} ms")

    print()
    print("Sanity, 0 ms (medians, s): the proxy's cost, direct against through it; every client.")
    for server in ("dovecot", "demo"):
        direct = median((server, "direct", "native", "all", None))
        proxied = median((server, "0", "native", "all", None))
        parts = []
        if direct and proxied:
            rates = []
            for at in ("direct", "0"):
                runs = rows[(server, at, "native", "all", None)]
                retr = median((server, at, "native", "all", None), "retrMs")
                rates.append(runs[0].get("bytes", 0) / retr / 1e3 if retr else 0)
            parts.append(f"native all direct {secs(direct)}, via the 0 ms proxy {secs(proxied)} "
                         f"(x{proxied / direct:.2f}; RETR phase {rates[0]:.0f} against "
                         f"{rates[1]:.0f} MB/s)")
        for key in sorted(k for k in set(rows) | set(notes) if k[0] == server and k[1] == "0"):
            if key[2:4] == ("native", "all"):
                continue
            name = f"{key[2]} {key[3]}" + (f" {key[4]}" if key[4] else "")
            m = median(key)
            parts.append(f"{name} {secs(m)}" if m is not None else f"{name} {'; '.join(sorted(notes[key]))}")
        print(f"  {server}: " + "; ".join(parts))

    order = [("native", "all"), ("native", "window"), ("native", "batch"), ("native", "await"),
             ("chromium", "all"), ("chromium", "window"), ("chromium", "batch"),
             ("chromium", "await"), ("poplib", "await"), ("mpop", "pipelined")]
    label = {"all": "all RETRs at once", "window": "window of {w}", "batch": "batch API, window {w}",
             "await": "await each RETR", "pipelined": "pipelining on"}
    print()
    print(f"At {delay} ms one way: median over the runs, min-max; x floor = against the pipelined "
          "floor (one-at-a-time floor in the notes); x mpop = against mpop on the same server.")
    header = f"{'server':8} {'client':9} {'mode':24} {'runs':>4} {'median s':>9} {'min-max s':>12} {'x floor':>8} {'x mpop':>7}  memory / notes"
    print(header)
    print("-" * len(header))
    for server in ("dovecot", "demo"):
        mpop = median((server, "d", "mpop", "pipelined", None))
        keys = [k for k in set(rows) | set(notes) if k[0] == server and k[1] == "d"]
        keys.sort(key=lambda k: (order.index(k[2:4]) if k[2:4] in order else 99, k[4] or 0))
        for key in keys:
            _, _, client, mode, window = key
            name = label.get(mode, mode).format(w=window)
            runs = rows.get(key) or []
            if not runs:
                print(f"{server:8} {client:9} {name:24} {0:>4} {'-':>9} {'-':>12} {'-':>8} {'-':>7}  "
                      + "; ".join(sorted(notes[key])))
                continue
            times = [time_ms(r) for r in runs]
            m = statistics.median(times)
            spread = f"{secs(min(times))}-{secs(max(times))}"
            floor = floors.get(server)
            x_floor = f"{m / floor[0]:.2f}" if floor else "-"
            x_mpop = f"{m / mpop:.2f}" if mpop else "-"
            mem = []
            peaks = [r["peakRssKb"] - r["idleRssKb"] for r in runs if r.get("peakRssKb") and r.get("idleRssKb")]
            if peaks:
                mem.append(f"peak {max(r['peakRssKb'] for r in runs) / 1024:.1f} MiB, {max(peaks)} KiB above idle")
            elif client == "mpop":
                mem.append(f"peak {max(r['maxRssKb'] for r in runs) / 1024:.1f} MiB")
            elif client == "chromium" and runs[0].get("wasmMemKb"):
                mem.append(f"wasm memory {runs[0]['wasmMemKb'] / 1024:.1f} MiB (high-water)")
            if mode in ("window", "batch") and window:
                mem.append(f"window's worth <= {window * 50} KB")
            if mode == "await" and floor:
                mem.append(f"x{m / floor[1]:.2f} of the one-at-a-time floor")
            mem += sorted(notes.get(key, ()))
            print(f"{server:8} {client:9} {name:24} {len(runs):>4} {secs(m):>9} {spread:>12} {x_floor:>8} {x_mpop:>7}  "
                  + "; ".join(mem))
    stray = sorted(n for k, ns in notes.items() if k[0] not in ("dovecot", "demo") for n in ns)
    if stray:
        print()
        print("Also failed: " + "; ".join(stray))
    print()
    print("Goal (issue 12 §1): popwire within 1.2x of the pipelined floor, peak memory no more than "
          "the window's worth above idle, ahead of mpop. Nothing is asserted. Fastest popwire "
          "pipelined mode per server:")
    for server in ("dovecot", "demo"):
        floor = floors.get(server)
        mpop = median((server, "d", "mpop", "pipelined", None))
        parts = []
        for client in ("native", "chromium"):
            keys = [k for k in rows if k[:3] == (server, "d", client) and k[3] in ("all", "window", "batch")]
            if not keys or not floor:
                continue
            best = min(keys, key=median)
            m = median(best)
            name = best[3] + (f" {best[4]}" if best[4] else "")
            vs_mpop = f", x{m / mpop:.2f} of mpop" if mpop else ""
            parts.append(f"{client} {name}: x{m / floor[0]:.2f} of the floor{vs_mpop}")
            summarise(f"{client} {name} sync on {server}", m, "the pipelined floor", floor[0], "<= 1.2")
            if mpop:
                summarise(f"{client} {name} sync on {server}", m, "mpop (pipelining on)", mpop, "< 1")
        print(f"  {server}: " + ("; ".join(parts) or "no runs"))
        # Memory: the native batch's peak above idle against its window's worth.
        for key in [k for k in rows if k[:4] == (server, "d", "native", "batch")]:
            peaks = [r["peakRssKb"] - r["idleRssKb"] for r in rows[key] if r.get("peakRssKb") and r.get("idleRssKb")]
            if peaks and key[4]:
                summarise_memory(f"native batch peak above idle on {server}", max(peaks), key[4] * 50)


def summarise_memory(figure, kib, worth_kb):
    """Appends one §1 memory figure (KiB) to make bench's summary, if kept."""
    path = os.environ.get("POPWIRE_BENCH_SUMMARY")
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"section": "1", "figure": figure, "value": kib, "unit": "KiB",
                            "baseline": "the window's worth (W x 50 KB)", "baselineValue": worth_kb,
                            "ratio": round(kib / worth_kb, 3), "goal": "<= 1"}) + "\n")


def summarise(figure, value, baseline, base, goal):
    """Appends one §1 figure (seconds) to make bench's summary (benches/summary.py), if kept."""
    path = os.environ.get("POPWIRE_BENCH_SUMMARY")
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"section": "1", "figure": figure, "value": round(value, 1), "unit": "ms",
                            "baseline": baseline, "baselineValue": round(base, 3),
                            "ratio": round(value / base, 3), "goal": goal}) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results")
    parser.add_argument("--chromium-log")
    parser.add_argument("--delay", required=True)
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    if args.chromium_log:
        chromium_lines(args.chromium_log, int(float(args.delay)))
    else:
        report(args.results, args.delay, args.messages)


if __name__ == "__main__":
    main()
