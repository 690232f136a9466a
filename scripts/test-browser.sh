#!/usr/bin/env bash
# The browser tests: starts popwire-bridge with the demo server and a `silent` target on port 0,
# runs every wasm test in headless Chromium with `wasm-pack test --headless --chrome`, then
# stops what it started. Called by `make test` after scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# A listener that accepts connections and never speaks: the `silent` target (timeout tests).
start_silent_target

# The debug build: `cargo test --workspace` has just built it, and tests need no LTO.
cargo build -p popwire-bridge
start_bridge target/debug/popwire-bridge --www www \
  --demo --demo-pop3 127.0.0.1:0 --demo-pop3s 127.0.0.1:0 \
  --allow-origin 'http://127.0.0.1:*' --allow-origin 'http://localhost:*' \
  --target "silent=127.0.0.1:${silent_port}"
echo "bridge listening on $http (log: $work/bridge.log)"

export POPWIRE_TEST_BRIDGE="ws://${http}/bridge"
# The exact command the README gives for the browser tests:
wasm-pack test --headless --chrome --mode no-install
