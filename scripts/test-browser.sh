#!/usr/bin/env bash
# The browser tests: starts popwire-bridge with the demo server and a `silent` target on port 0,
# runs every wasm test in headless Chromium with `wasm-pack test --headless --chrome`, then
# stops what it started. Called by `make test` after scripts/setup.sh.
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

# A listener that accepts connections and never speaks: the `silent` target (timeout tests).
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

# The debug build: `cargo test --workspace` has just built it, and tests need no LTO.
cargo build -p popwire-bridge
target/debug/popwire-bridge \
  --listen 127.0.0.1:0 --www www \
  --demo --demo-pop3 127.0.0.1:0 --demo-pop3s 127.0.0.1:0 \
  --allow-origin 'http://127.0.0.1:*' --allow-origin 'http://localhost:*' \
  --target "silent=127.0.0.1:${silent_port}" \
  --ready-file "$work/ready.json" &
pids+=($!)
wait_for_file "$work/ready.json"
http=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["http"])' "$work/ready.json")
echo "bridge listening on $http"

export POPWIRE_TEST_BRIDGE="ws://${http}/bridge"
# The exact command the README gives for the browser tests:
wasm-pack test --headless --chrome --mode no-install
