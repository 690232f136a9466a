#!/usr/bin/env bash
# Builds www/pkg/: three ES modules for wasm32 (profile `wasm`, wasm-bindgen --target web,
# then npm's binaryen wasm-opt -Oz — never Debian's wasm-opt: see TOOLCHAIN.md):
#   popwire.js         the page's module: the client, checkCommand, commands, explanations
#                      (kept under 150 KB gzipped: mail parsing is not in it);
#   popwire_mail.js    the mail module (feature `mail`): the JS API plus parseMessage
#                      (mail-parser) and inertHtml (html5ever + ammonia). Loaded only by
#                      www/parse-worker.js, the first time a message is shown;
#   popwire_server.js  the in-browser simulated teaching server (crate in-browser-server/):
#                      ServerHost, loaded only by www/server-worker.js (docs/in-browser-server.md).
# Writes precompressed *.gz copies and prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/wasm32-unknown-unknown/wasm
rm -rf www/pkg
mkdir -p www/pkg

# build NAME ARTIFACT CARGO-ARGS...: one module, www/pkg/NAME.js + NAME_bg.wasm, from
# $out/ARTIFACT.wasm (the crate's library name).
build() {
  local name=$1 artifact=$2
  shift 2
  cargo build --lib --profile wasm --target wasm32-unknown-unknown "$@"
  wasm-bindgen --target web --out-dir www/pkg --out-name "$name" "$out/$artifact.wasm"
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

build popwire popwire
build popwire_mail popwire --features mail
build popwire_server popwire_teaching_server_wasm -p popwire-teaching-server-wasm

for name in popwire popwire_mail popwire_server; do
  wasm=$(wc -c < "www/pkg/${name}_bg.wasm.gz")
  js=$(wc -c < "www/pkg/${name}.js.gz")
  echo "www/pkg: ${name}_bg.wasm $(wc -c < "www/pkg/${name}_bg.wasm") B ($wasm B gzipped)," \
       "${name}.js $(wc -c < "www/pkg/${name}.js") B ($js B gzipped); together $((wasm + js)) B gzipped"
done
