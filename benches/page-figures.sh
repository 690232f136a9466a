#!/usr/bin/env bash
# The page's figures (`make bench`; not tests, nothing about time is asserted): how long the
# page takes to become usable on loopback and how many bytes its first load transfers
# (benches/page/first-load.figures.mjs), and how long the main thread is blocked while a 50 MB
# message is retrieved (benches/page/retr-50mb.figures.mjs). They drive the page with the e2e
# tests' helpers (tests/e2e/helpers.mjs: node:test + playwright-core + Debian's chromium)
# against popwire-bridge with the demo server and a 64 MiB delivery cap. Prints each figure
# beside benches/page/baseline.json's where it has one; keeps them in target/page-figures.json.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/build-pkg.sh >/dev/null
cargo build -p popwire-bridge 2>/dev/null

# Deliveries up to 64 MiB (default 1 MiB): the 50 MB RETR.
cat > "$work/bridge.toml" <<'TOML'
[demo]
max_delivery_size = 67108864
TOML
start_bridge target/debug/popwire-bridge --config "$work/bridge.toml" --www www \
  --demo --demo-pop3 127.0.0.1:0 --demo-pop3s 127.0.0.1:0

figures=target/page-figures.json
mkdir -p target/e2e-screenshots
rm -f "$figures"
export POPWIRE_E2E_HTTP="$http" POPWIRE_FIGURES="$figures"
node --test --test-concurrency=1 benches/page/*.figures.mjs

python3 - "$figures" benches/page/baseline.json <<'PY'
import json, sys
now = json.load(open(sys.argv[1]))
try:
    base = json.load(open(sys.argv[2]))
except FileNotFoundError:
    base = {}
def summary(name, value):
    if name == "readyMs":
        return {"median ms": value["median"]}
    if name == "firstLoadBytes":
        return {"transferSize": value["transferSize"], "encodedBodies": value["encodedBodies"]}
    if name == "retr50mb":
        received = sorted(r["receivedMs"] for r in value["runs"])
        return {"median receivedMs": received[len(received) // 2],
                "worstLongTaskMs": value["worstLongTaskMs"],
                "worstIntervalGapMs": value["worstIntervalGapMs"]}
    return value
for name, entry in now.items():
    print(f"{name}: {entry['note']}")
    before = base.get(name, {})
    for key, value in summary(name, entry["value"]).items():
        was = before.get("value", {}).get(key)
        beside = f"   (baseline {was}, {before.get('at', '?')})" if was is not None else ""
        print(f"  {key}: {value}{beside}")
PY
