#!/usr/bin/env bash
# Builds www/pkg/: the engine for wasm32 (profile `wasm`), wasm-bindgen --target web, then
# npm's binaryen wasm-opt -Oz (never Debian's wasm-opt: see TOOLCHAIN.md). Prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --lib --profile wasm --target wasm32-unknown-unknown
rm -rf www/pkg
wasm-bindgen --target web --out-dir www/pkg target/wasm32-unknown-unknown/wasm/popwire.wasm
if [ -x node_modules/.bin/wasm-opt ]; then
  node_modules/.bin/wasm-opt -Oz \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-simd \
    www/pkg/popwire_bg.wasm -o www/pkg/popwire_bg.opt.wasm
  mv www/pkg/popwire_bg.opt.wasm www/pkg/popwire_bg.wasm
else
  echo "node_modules/.bin/wasm-opt missing (run scripts/setup.sh): www/pkg is not size-optimised" >&2
fi
# Precompressed copies: the bridge serves them to browsers that accept gzip, at no CPU cost.
gzip -9kf www/pkg/popwire_bg.wasm www/pkg/popwire.js
wasm=$(wc -c < www/pkg/popwire_bg.wasm.gz)
js=$(wc -c < www/pkg/popwire.js.gz)
echo "www/pkg: popwire_bg.wasm $(wc -c < www/pkg/popwire_bg.wasm) B ($wasm B gzipped)," \
     "popwire.js $(wc -c < www/pkg/popwire.js) B ($js B gzipped); together $((wasm + js)) B gzipped"
