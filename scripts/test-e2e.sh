#!/usr/bin/env bash
# The page's end-to-end tests (tests/e2e/*.test.mjs, node:test + playwright-core driving
# Debian's chromium): starts popwire-bridge on port 0 with the demo server, a `silent` target
# (a listener that accepts and never speaks: the timeout message) and a delivery cap large
# enough for the 50 MB RETR measurement; runs the tests; stops what it started.
# Screenshots go to target/e2e-screenshots/, measured figures to target/e2e-figures.json.
# Idempotent and self-contained; called by `make test` after scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh


if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi
if [ ! -f www/pkg/popwire.js ] || [ ! -f www/pkg/popwire_bg.wasm ]; then
  bash scripts/build-pkg.sh
fi
# The debug build: `cargo test --workspace` has just built it, and tests need no LTO.
cargo build -p popwire-bridge

# The `silent` target: accepts connections, never speaks.
start_silent_target

# Deliveries up to 64 MiB (default 1 MiB): large messages (the 50 MB figure is benches/page-figures.sh).
cat > "$work/bridge.toml" <<'TOML'
[demo]
max_delivery_size = 67108864
TOML

start_bridge target/debug/popwire-bridge --config "$work/bridge.toml" --www www \
  --demo --demo-pop3 127.0.0.1:0 --demo-pop3s 127.0.0.1:0 \
  --target "silent=127.0.0.1:${silent_port}"
echo "bridge listening on $http (log: $work/bridge.log while the tests run)"

mkdir -p target/e2e-screenshots
rm -f target/e2e-figures.json
export POPWIRE_E2E_HTTP="$http"
status=0
node --test --test-concurrency=1 ${POPWIRE_E2E_ONLY:-tests/e2e/} || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- bridge log (last 40 lines) ---" >&2
  tail -n 40 "$work/bridge.log" >&2 || true
fi
[ -f target/e2e-figures.json ] && { echo "figures (target/e2e-figures.json):"; cat target/e2e-figures.json; }
echo "screenshots: target/e2e-screenshots/"
exit "$status"
