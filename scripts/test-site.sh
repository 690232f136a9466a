#!/usr/bin/env bash
# The static site end to end (tests/e2e/static-site.test.mjs): builds dist/ (scripts/build-site.sh),
# serves it with a plain static file server (python3 -m http.server) under a sub-path — a parent
# folder with the site at /popwire/ — with NO bridge running, and runs the page test against it.
# Screenshot in target/e2e-screenshots/, the time until usable in target/e2e-figures.json.
# Idempotent and self-contained; called by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/build-site.sh

mkdir -p "$work/root"
cp -r dist "$work/root/popwire"
python3 -u - "$work/root" "$work/site.port" >"$work/site.log" 2>&1 <<'PY' &
import functools, http.server, os, sys
root, port_file = sys.argv[1], sys.argv[2]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PY
pids+=($!)
wait_for_file "$work/site.port"
port=$(cat "$work/site.port")
echo "dist/ served statically at http://127.0.0.1:${port}/popwire/ (no bridge)"

mkdir -p target/e2e-screenshots
export POPWIRE_E2E_HTTP="127.0.0.1:${port}/popwire"
export POPWIRE_SITE_TEST=1
export POPWIRE_SITE_DIST="$work/root/popwire"
status=0
node --test --test-concurrency=1 tests/e2e/static-site.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- static server log (last 40 lines) ---" >&2
  tail -n 40 "$work/site.log" >&2 || true
fi
exit "$status"
