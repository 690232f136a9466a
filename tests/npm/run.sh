#!/usr/bin/env bash
# The npm package in a fresh project: builds target/npm/ (scripts/build-npm.sh, from www/pkg/),
# `npm pack`s it, installs the tarball and esbuild (from the npm registry) into a throwaway
# project in a temp dir, bundles tests/npm/page/bundled.js with esbuild (the wasm with the file
# loader) and lays out tests/npm/page/plain.js unbundled beside node_modules/, serves that
# project with popwire-bridge --www (so the pages get /bridge on their own origin, which the
# bridge's default origin allowlist admits) and the demo server, then runs
# tests/npm/package.test.mjs: each page completes a session in headless Chromium (the
# in-browser one on the packaged simulated server, the others through the bridge). Nothing is
# kept: the project, the tarball and the bridge go with the temp dir. Run by `make test-npm`.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

ESBUILD_VERSION=${ESBUILD_VERSION:-0.28.2}

bash scripts/build-npm.sh
tarball="$work/$(npm pack ./target/npm --pack-destination "$work" --silent | tail -n 1)"
echo "packed $tarball ($(wc -c <"$tarball") B)"

app="$work/app"
mkdir -p "$app/src" "$app/dist" "$app/plain"
cat >"$app/package.json" <<'JSON'
{ "name": "popwire-npm-test", "private": true, "type": "module" }
JSON
(cd "$app" && npm install --no-audit --no-fund --loglevel=error "$tarball" "esbuild@$ESBUILD_VERSION")

# With a bundler: esbuild resolves "popwire" and "popwire/mail" through the package's exports;
# the file loader copies each imported .wasm into dist/ and gives its URL.
cp tests/npm/page/bundled.js tests/npm/page/session.js "$app/src/"
(cd "$app" && node_modules/.bin/esbuild src/bundled.js --bundle --format=esm \
  --loader:.wasm=file --outfile=dist/main.js --log-level=warning)
cp tests/npm/page/bundled.html "$app/dist/index.html"
# Without one: the page imports the package's files from node_modules/.
cp tests/npm/page/plain.js tests/npm/page/inbrowser.js tests/npm/page/session.js "$app/plain/"
cp tests/npm/page/plain.html "$app/plain/index.html"
cp tests/npm/page/inbrowser.html "$app/plain/inbrowser.html"

cargo build -p popwire-bridge
start_bridge target/debug/popwire-bridge --www "$app" --demo --demo-pop3 127.0.0.1:0 --demo-pop3s 127.0.0.1:0
echo "bridge serving $app on $http"

status=0
POPWIRE_NPM_HTTP="$http" POPWIRE_NPM_APP="$app" POPWIRE_NPM_TARBALL="$tarball" \
  node --test tests/npm/package.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- bridge log (last 40 lines) ---" >&2
  tail -n 40 "$work/bridge.log" >&2 || true
fi
exit "$status"
