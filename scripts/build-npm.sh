#!/usr/bin/env bash
# Builds the npm package `popwire` into target/npm/ from www/pkg/ (built by scripts/build-pkg.sh;
# `make npm` runs both): the three ES modules with their wasm beside them and their .d.ts types,
#   popwire.js         the JS API (package main, `import init, { Pop3Client } from "popwire"`);
#   popwire_mail.js    the mail module (`popwire/mail`: the JS API plus parseMessage, inertHtml);
#   popwire_server.js  the in-browser simulated teaching server (`popwire/server`: ServerHost),
#   server-worker.js   its Web Worker (`popwire/server-worker.js`, www/server-worker.js with its
#                      import made package-relative), speaking docs/in-browser-server.md;
# the JS docs (docs/js-api.md, docs/bridge-protocol.md, docs/in-browser-server.md), both
# license texts, npm/README.md and npm/package.json with the version of Cargo.toml's [package].
# Then `npm pack ./target/npm` (the ./: without it npm reads a GitHub name) makes popwire-VERSION.tgz (tests/npm/run.sh does, and installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=www/pkg
out=target/npm
modules=(popwire popwire_mail popwire_server)

for name in "${modules[@]}"; do
  for file in "$name.js" "$name.d.ts" "${name}_bg.wasm" "${name}_bg.wasm.d.ts"; do
    if [ ! -f "$pkg/$file" ]; then
      echo "$pkg/$file is missing: build the modules first (bash scripts/build-pkg.sh, or make npm)" >&2
      exit 1
    fi
  done
done

version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["package"]["version"])')

rm -rf "$out"
mkdir -p "$out/docs"
for name in "${modules[@]}"; do
  cp "$pkg/$name.js" "$pkg/$name.d.ts" "$pkg/${name}_bg.wasm" "$pkg/${name}_bg.wasm.d.ts" "$out/"
done
# wasm-bindgen's JS snippets (imported by popwire.js and popwire_mail.js as ./snippets/…).
if [ -d "$pkg/snippets" ]; then
  cp -R "$pkg/snippets" "$out/"
fi

# The worker imports its module from the page's pkg/ folder; in the package it lies beside it.
sed 's#"\./pkg/popwire_server\.js"#"./popwire_server.js"#' www/server-worker.js >"$out/server-worker.js"
if grep -n '\./pkg/' "$out/server-worker.js"; then
  echo "server-worker.js still imports from ./pkg/ (above): update the rewrite in $0" >&2
  exit 1
fi

cp docs/js-api.md docs/bridge-protocol.md docs/in-browser-server.md "$out/docs/"
cp LICENSE-MIT LICENSE-APACHE npm/README.md "$out/"

# package.json: the template with Cargo's version; every file it lists or exports must exist.
node - npm/package.json "$out" "$version" <<'JS'
const fs = require("node:fs");
const path = require("node:path");
const [template, out, version] = process.argv.slice(2);
const pkg = JSON.parse(fs.readFileSync(template, "utf8"));
pkg.version = version;
const missing = [];
for (const file of pkg.files) {
  if (!fs.existsSync(path.join(out, file))) missing.push(`files: ${file}`);
}
const targets = (value) => (typeof value === "string" ? [value] : Object.values(value).flatMap(targets));
for (const [key, value] of Object.entries(pkg.exports)) {
  for (const target of targets(value)) {
    if (target !== "./package.json" && !fs.existsSync(path.join(out, target))) missing.push(`exports["${key}"]: ${target}`);
  }
}
if (missing.length) {
  console.error(`npm/package.json names what ${out} does not have:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
fs.writeFileSync(path.join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
JS

echo "$out: popwire $version ($(du -sk "$out" | cut -f1) KB unpacked); pack it with: npm pack ./$out"
