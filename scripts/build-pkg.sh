#!/usr/bin/env bash
# Builds www/pkg/: two ES modules of the engine for wasm32 (profile `wasm`, wasm-bindgen
# --target web, then npm's binaryen wasm-opt -Oz — never Debian's wasm-opt: see TOOLCHAIN.md):
#   popwire.js       the page's module: the client, checkCommand, parseMessage, explanations;
#   popwire_mail.js  the parse worker's module (feature `html`): parseMessage and inertHtml,
#                    which cleans a message's HTML with html5ever + ammonia. Loaded only by
#                    www/parse-worker.js, the first time a message needs it.
# Writes precompressed *.gz copies and prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/wasm32-unknown-unknown/wasm
rm -rf www/pkg
mkdir -p www/pkg

# build NAME CARGO-ARGS...: one module, www/pkg/NAME.js + NAME_bg.wasm.
build() {
  local name=$1
  shift
  cargo build --lib --profile wasm --target wasm32-unknown-unknown "$@"
  wasm-bindgen --target web --out-dir www/pkg --out-name "$name" "$out/popwire.wasm"
  if [ -x node_modules/.bin/wasm-opt ]; then
    node_modules/.bin/wasm-opt -Oz \
      --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
      --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-simd \
      "www/pkg/${name}_bg.wasm" -o "www/pkg/${name}_bg.opt.wasm"
    mv "www/pkg/${name}_bg.opt.wasm" "www/pkg/${name}_bg.wasm"
  else
    echo "node_modules/.bin/wasm-opt missing (run scripts/setup.sh): www/pkg is not size-optimised" >&2
  fi
  # Precompressed copies: the bridge serves them to browsers that accept gzip, at no CPU cost.
  gzip -9kf "www/pkg/${name}_bg.wasm" "www/pkg/${name}.js"
}

build popwire
build popwire_mail --features html

for name in popwire popwire_mail; do
  wasm=$(wc -c < "www/pkg/${name}_bg.wasm.gz")
  js=$(wc -c < "www/pkg/${name}.js.gz")
  echo "www/pkg: ${name}_bg.wasm $(wc -c < "www/pkg/${name}_bg.wasm") B ($wasm B gzipped)," \
       "${name}.js $(wc -c < "www/pkg/${name}.js") B ($js B gzipped); together $((wasm + js)) B gzipped"
done
