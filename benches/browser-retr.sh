#!/usr/bin/env bash
# RETR of a 50 MiB message through popwire-bridge: the JS API in headless Chromium (no
# Playwright: its network tracing slows WebSockets ~3x, see TOOLCHAIN.md) beside the native
# Rust client (websocket-bridge/examples/ws_retr.rs) over the same bridge, in one run, and the JS
# API again with no LIST first (the size unknown: issue 12 §2 asks for >= 0.97x of with LIST).
# Prints both medians and their ratio. Not a test: nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${SIZE_MIB:-50}
runs=${RUNS:-5}

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

[ -n "${SKIP_PKG:-}" ] || bash scripts/build-pkg.sh >/dev/null
cargo build --release -p popwire-bridge --bin popwire-bridge --example ws_retr 2>/dev/null

# A Maildir with one message of about $size_mib MiB (text lines, ~5% starting with a dot).
mkdir -p "$work/mail/bench/new" "$work/mail/bench/cur" "$work/mail/bench/tmp"
python3 - "$work/mail/bench/new/1.bench.popwire" "$size_mib" <<'PY'
import random, sys
path, mib = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261122)
words = "post office protocol maildrop octet message server client retrieve delete update".split()
with open(path, "wb") as f:
    f.write(b"From: bench@popwire.test\r\nTo: student@popwire.test\r\nSubject: 50 MiB benchmark\r\n\r\n")
    written, target = 0, mib * 1024 * 1024
    while written < target:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(6, 11)))
        if rng.random() < 0.05:
            line = "." + line
        data = line.encode() + b"\r\n"
        f.write(data)
        written += len(data)
PY

mkdir -p "$work/www"
cp benches/browser/*.html benches/browser/*.js "$work/www/"
cp -r www/pkg "$work/www/pkg"

start_bridge target/release/popwire-bridge --www "$work/www" \
  --demo --maildir "$work/mail" --demo-pop3 127.0.0.1:0 --demo-pop3s 127.0.0.1:0

echo "RETR of one ${size_mib} MiB message through popwire-bridge at $http, median of $runs runs after a warm-up"

# Runs one page in headless Chromium and prints its "POPWIRE_BENCH {json}" line's JSON.
run_page() {
  local page=$1 extra=${2:-}
  local log="$work/chromium-$page${extra//[^a-z0-9]/}.log"
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile-$page" --enable-logging=stderr --v=0 \
    "http://$http/$page.html?user=bench&pass=pop3&msg=1&runs=$runs$extra" 2>"$log" &
  local chrome=$! result=""
  for _ in $(seq 1 1800); do
    result=$(grep -o 'POPWIRE_BENCH {[^}]*}' "$log" | head -1 | sed 's/^POPWIRE_BENCH //') || true
    [ -n "$result" ] && break
    sleep 0.2
  done
  kill "$chrome" 2>/dev/null || true
  wait "$chrome" 2>/dev/null || true
  [ -n "$result" ] || { echo "no result from Chromium ($page)" >&2; tail -20 "$log" >&2; return 1; }
  sleep 0.5 # the page's QUIT releases the maildrop lock
  echo "$result"
}

raw=$(run_page raw)
browser=$(run_page bench)
unlisted=$(run_page bench "&list=0")
native=$(target/release/examples/ws_retr "ws://$http/bridge?target=demo" bench pop3 1 "$runs")
echo "  headless Chromium, bare WebSocket, bytes counted in JS: $raw"
echo "  headless Chromium, popwire JS API (wasm engine):        $browser"
echo "  the same, no LIST first (size unknown):                 $unlisted"
echo "  native Rust client (popwire engine, tokio-tungstenite): $native"
python3 - "$raw" "$browser" "$native" "$unlisted" <<'PY'
import json, sys
r, b, n, u = (json.loads(a) for a in sys.argv[1:5])
if "error" in b:
    sys.exit(f"browser run failed: {b['error']}")
print(f"  ratio API / native = {b['medianMBps'] / n['medianMBps']:.2f}  (goal >= 0.5);"
      f" API / bare WebSocket in the same browser = {b['medianMBps'] / r['medianMBps']:.2f}")
if "error" not in u:
    print(f"  RETR without LIST / with LIST in the same browser = {u['medianMBps'] / b['medianMBps']:.2f}"
          "  (goal >= 0.97, issue 12 section 2)")
# make bench's summary (benches/summary.py), when it is kept.
import os
if os.environ.get("POPWIRE_BENCH_SUMMARY"):
    rows = [("2", "Chromium JS API RETR, bare WebSocket's speed", b, "the bare WebSocket client", r, "")]
    if "error" not in u:
        rows.insert(0, ("2", "Chromium JS API RETR, size unknown", u, "LIST first", b, ">= 0.97"))
    with open(os.environ["POPWIRE_BENCH_SUMMARY"], "a") as f:
        for section, figure, x, baseline, y, goal in rows:
            f.write(json.dumps({"section": section, "figure": figure, "value": round(x["medianMBps"]), "unit": "MB/s",
                                "baseline": baseline, "baselineValue": round(y["medianMBps"]),
                                "ratio": round(x["medianMBps"] / y["medianMBps"], 3), "goal": goal}) + "\n")
PY
