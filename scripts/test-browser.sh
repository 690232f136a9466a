#!/usr/bin/env bash
# The browser tests: starts popwire-bridge with the demo server, a `silent` target and one
# `fx-NAME` target per misbehaving-server scenario (tests/fixtures/misbehaving/), all on port 0,
# runs every wasm test in headless Chromium with `wasm-pack test --headless --chrome`, then
# stops what it started. Called by `make test` after scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# A listener that accepts connections and never speaks: the `silent` target (timeout tests).
start_silent_target

# The debug builds: `cargo test --workspace --all-features` has just built them (the fixture is
# an example of the root crate), and tests need no LTO.
cargo build -p popwire-bridge
cargo build --workspace --all-features --examples

# The misbehaving servers: $fixture_targets names each for the bridge, $fixture_report says
# what bytes each saw.
start_fixture browser

# A 3 s connect timeout (TCP, then TLS): stls_no_handshake waits for the bridge's TLS
# handshake to time out; loopback targets connect at once.
start_bridge target/debug/popwire-bridge --www www \
  --demo --demo-pop3 127.0.0.1:0 --demo-pop3s 127.0.0.1:0 \
  --allow-origin 'http://127.0.0.1:*' --allow-origin 'http://localhost:*' \
  --connect-timeout-secs 3 \
  --target "silent=127.0.0.1:${silent_port}" "${fixture_targets[@]}"
echo "bridge listening on $http (log: $work/bridge.log; fixture report: $fixture_report)"

export POPWIRE_TEST_BRIDGE="ws://${http}/bridge"
export POPWIRE_TEST_FIXTURE="$fixture_report"
# The exact command the README gives for the browser tests:
wasm-pack test --headless --chrome --mode no-install -- --features mail,server
