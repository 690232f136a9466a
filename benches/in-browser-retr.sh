#!/usr/bin/env bash
# RETR of the 1 MB sample (07-large.eml) on the in-browser server (the simulated teaching server
# in a Web Worker, through the JS API's MessageChannel transport) beside the same message over
# popwire-bridge's --demo server, both in one headless Chromium page (no Playwright: its tracing
# slows the WebSocket, see browser-retr.sh), median of RUNS after a warm-up. Prints both and the
# ratio. Not a test: nothing is asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-10}

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

bash scripts/build-pkg.sh >/dev/null
cargo build --release -p popwire-bridge --bin popwire-bridge 2>/dev/null

mkdir -p "$work/www"
cp benches/browser/in-browser.html benches/browser/in-browser.js www/server-worker.js "$work/www/"
cp -r www/pkg "$work/www/pkg"

start_bridge target/release/popwire-bridge --www "$work/www" \
  --demo --demo-pop3 127.0.0.1:0 --demo-pop3s 127.0.0.1:0

log="$work/chromium.log"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
  "http://$http/in-browser.html?runs=$runs" 2>"$log" &
chrome=$!
result=""
for _ in $(seq 1 1800); do
  result=$(grep -o 'POPWIRE_BENCH {.*}' "$log" | head -1 | sed 's/^POPWIRE_BENCH //') || true
  [ -n "$result" ] && break
  sleep 0.2
done
kill "$chrome" 2>/dev/null || true
wait "$chrome" 2>/dev/null || true
[ -n "$result" ] || { echo "no result from Chromium" >&2; tail -20 "$log" >&2; exit 1; }

echo "RETR of the 1 MB sample (message 7), headless Chromium, median of $runs runs after a warm-up"
python3 - "$result" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
if "error" in r:
    sys.exit(f"run failed: {r['error']}")
b, i = r["bridge"], r["inBrowser"]
print(f"  over popwire-bridge (WebSocket, --demo server): {b['medianMBps']} MB/s ({b['size']} octets)")
print(f"  in-browser server (Web Worker, MessageChannel):  {i['medianMBps']} MB/s ({i['size']} octets)")
print(f"  ratio in-browser / bridge = {i['medianMBps'] / b['medianMBps']:.2f}")
PY
