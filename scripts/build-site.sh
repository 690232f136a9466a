#!/usr/bin/env bash
# `make site`: builds dist/, the page as a static site deployable as it is on any static host
# (GitHub Pages, a plain web server, a folder under a sub-path such as https://host/popwire/).
# With no bridge answering GET targets beside the page, the page uses the in-browser server
# (simulated, in a Web Worker); ?bridge=wss://… brings a real bridge's targets back.
#
# dist/ holds: www/*.html, *.js, *.css, i18n/*.json, lessons/*.json; pkg/'s three wasm modules with their JS
# glue (popwire, popwire_mail, popwire_server) and the wasm-bindgen snippets they import. Not
# the .gz copies (a static host compresses itself) nor the .d.ts files. Every URL is relative.
# A static host sends no CSP header, so dist/index.html gets the bridge's policy
# (websocket-bridge/src/http.rs `CSP`) as a <meta http-equiv> first in <head>.
# Builds www/pkg first if it is missing (scripts/build-pkg.sh). Prints the size of dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-dist}
if [ ! -f www/pkg/popwire.js ] || [ ! -f www/pkg/popwire_mail_bg.wasm ] || [ ! -f www/pkg/popwire_server_bg.wasm ]; then
  bash scripts/build-pkg.sh
fi

rm -rf "$out"
mkdir -p "$out/i18n" "$out/lessons" "$out/pkg"
cp www/*.html www/*.js www/*.css "$out/"
cp www/i18n/*.json "$out/i18n/"
cp www/lessons/*.json "$out/lessons/"
for name in popwire popwire_mail popwire_server; do
  cp "www/pkg/${name}.js" "www/pkg/${name}_bg.wasm" "$out/pkg/"
done
[ -d www/pkg/snippets ] && cp -r www/pkg/snippets "$out/pkg/"
# The page asks `targets` beside itself whether a bridge serves it (a bridge answers with a
# list). The site answers itself, from its own file, that none does: not a list, so the page
# takes the in-browser server, and the site needs no request that is not for one of its files.
printf '{"bridge":null,"note":"a static site: no bridge serves this page"}\n' > "$out/targets"

# The bridge's CSP (the same words as http.rs's `CSP`; tests/e2e/static-site.test.mjs checks
# they agree). frame-ancestors cannot be set by a <meta>, and the bridge's policy has none.
csp="default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'; frame-src 'self' blob: data:; object-src 'none'; base-uri 'none'"
meta="<meta http-equiv=\"Content-Security-Policy\" content=\"${csp}\">"
grep -q '^<meta charset="utf-8">$' "$out/index.html" || { echo "build-site: no <meta charset> line in www/index.html" >&2; exit 1; }
# Right after <meta charset>: before anything the policy governs.
awk -v meta="$meta" '{ print } /^<meta charset="utf-8">$/ && !done { print meta; done = 1 }' \
  www/index.html > "$out/index.html"

# No absolute URL (/pkg/…, /targets, /bridge) that would break under a sub-path.
if grep -nE '(src|href)="/[^/]|fetch\("/|from "/|import\("/' "$out"/*.html "$out"/*.js; then
  echo "build-site: an absolute URL above would break the site under a sub-path" >&2
  exit 1
fi

echo "dist: $(find "$out" -type f | wc -l) files, $(du -sk "$out" | cut -f1) KB in $out/"
