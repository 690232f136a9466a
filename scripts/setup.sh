#!/usr/bin/env bash
# Installs what the tests need, idempotently: skips whatever is already there.
# Later layers (wasm-bindgen-cli, chromium, npm packages) are added here as they land.
set -euo pipefail

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust with rustup first (https://rustup.rs)" >&2
  exit 1
fi

if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "wasm32-unknown-unknown target: present"
else
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

for component in rustfmt clippy; do
  if rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    say "$component: present"
  else
    say "adding $component"
    rustup component add "$component"
  fi
done
