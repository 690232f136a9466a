#!/usr/bin/env bash
# The page's end-to-end tests (tests/e2e/*.test.mjs, node:test + playwright-core driving
# Debian's chromium): starts popwire-bridge on port 0 with the demo server, a `silent` target
# (a listener that accepts and never speaks: the timeout message) and a delivery cap large
# enough for the 50 MB RETR measurement; runs the tests; stops what it started.
# Screenshots go to target/e2e-screenshots/, measured figures to target/e2e-figures.json.
# Idempotent and self-contained; called by `make test` after scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for_file() {
  for _ in $(seq 1 300); do
    [ -s "$1" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1" >&2
  return 1
}

if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi
if [ ! -f www/pkg/popwire.js ] || [ ! -f www/pkg/popwire_bg.wasm ]; then
  bash scripts/build-pkg.sh
fi
# The debug build: `cargo test --workspace` has just built it, and tests need no LTO.
cargo build -p popwire-bridge

# The `silent` target: accepts connections, never speaks.
python3 - "$work/silent.port" <<'PY' &
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    conn, _ = s.accept()
    held.append(conn)
PY
pids+=($!)
wait_for_file "$work/silent.port"
silent_port=$(cat "$work/silent.port")

# Deliveries up to 64 MiB (default 1 MiB): the 50 MB RETR of the main-thread measurement.
cat > "$work/bridge.toml" <<'TOML'
[demo]
max_delivery_size = 67108864
TOML

target/debug/popwire-bridge \
  --config "$work/bridge.toml" \
  --listen 127.0.0.1:0 --www www \
  --demo --demo-pop3 127.0.0.1:0 --demo-pop3s 127.0.0.1:0 \
  --target "silent=127.0.0.1:${silent_port}" \
  --ready-file "$work/ready.json" >"$work/bridge.log" 2>&1 &
pids+=($!)
wait_for_file "$work/ready.json"
http=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["http"])' "$work/ready.json")
echo "bridge listening on $http (log: $work/bridge.log while the tests run)"

mkdir -p target/e2e-screenshots
rm -f target/e2e-figures.json
export POPWIRE_E2E_HTTP="$http"
status=0
node --test --test-concurrency=1 tests/e2e/ || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- bridge log (last 40 lines) ---" >&2
  tail -n 40 "$work/bridge.log" >&2 || true
fi
[ -f target/e2e-figures.json ] && { echo "figures (target/e2e-figures.json):"; cat target/e2e-figures.json; }
echo "screenshots: target/e2e-screenshots/"
exit "$status"
