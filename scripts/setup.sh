#!/usr/bin/env bash
# Installs what `make demo` or `make test` needs, idempotently: skips whatever is already there.
#   scripts/setup.sh demo   the wasm32 target, wasm-bindgen-cli, Node.js and the npm tools
#                           (binaryen's wasm-opt): what building www/pkg and the bridge needs;
#   scripts/setup.sh test   (the default) all of that, plus rustfmt, clippy, Debian's chromium
#                           and chromium-driver, curl, nginx, systemd-analyze and wasm-pack for the
#                           tests.
set -euo pipefail

mode=${1:-test}
case "$mode" in
  demo | test) ;;
  *) echo "usage: scripts/setup.sh [demo|test]" >&2; exit 2 ;;
esac

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# apt-get as root: directly when we are root, else through sudo.
apt_install() {
  local run=()
  [ "$(id -u)" -eq 0 ] || run=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${run[@]}" apt-get update -qq
  "${run[@]}" apt-get install -y -qq "$@"
}

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


# wasm-bindgen-cli must match the wasm-bindgen version in Cargo.lock exactly.
# (No --locked: the served index lacks one of its locked dependencies; see TOOLCHAIN.md.)
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$wb_version" ]; then
  echo "cannot find wasm-bindgen's version in Cargo.lock" >&2
  exit 1
fi
if command -v wasm-bindgen-test-runner >/dev/null 2>&1 \
   && [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$wb_version" ]; then
  say "wasm-bindgen-cli $wb_version: present"
else
  say "installing wasm-bindgen-cli $wb_version (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$wb_version" --force
fi

if command -v node >/dev/null 2>&1; then
  say "node $(node --version): present"
else
  say "installing Node.js (runs the engine's wasm32 tests)"
  apt_install nodejs npm
fi

# npm tools: binaryen's wasm-opt (never Debian's, see TOOLCHAIN.md), playwright-core and
# axe-core (the page tests).
if [ -x node_modules/.bin/wasm-opt ] && [ -d node_modules/playwright-core ] \
   && [ -f node_modules/axe-core/axe.min.js ] \
   && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  say "npm packages: present"
else
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi

if [ "$mode" = demo ]; then
  say "ready for make demo"
  exit 0
fi

# --- what only the tests need ---

for component in rustfmt clippy; do
  if rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    say "$component: present"
  else
    say "adding $component"
    rustup component add "$component"
  fi
done

# Headless Chromium and its driver for the browser and page tests (Debian's; never a download).
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  say "chromium $(chromium --version 2>/dev/null | awk '{print $2}') and chromedriver: present"
else
  say "installing chromium and chromium-driver"
  apt_install chromium chromium-driver
fi

# curl and Python's poplib: real clients for the demo server's tests.
if command -v curl >/dev/null 2>&1; then
  say "curl: present"
else
  say "installing curl"
  apt_install curl
fi

# Debian's nginx: the classroom deployment's reverse proxy. websocket-bridge/tests/deploy.rs runs
# an instance of its own (config, logs, port in a temp dir) and never touches the system's nginx
# service (which Debian's package starts on port 80 where systemd runs).
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  say "nginx: present"
else
  say "installing nginx"
  apt_install nginx
fi

# systemd-analyze checks the deployment's unit file (docs/deploy/popwire-bridge.service).
if command -v systemd-analyze >/dev/null 2>&1; then
  say "systemd-analyze: present"
else
  say "installing systemd (for systemd-analyze)"
  apt_install systemd
fi

if command -v wasm-pack >/dev/null 2>&1; then
  say "wasm-pack $(wasm-pack --version | awk '{print $2}'): present"
else
  say "installing wasm-pack (a few minutes, once)"
  cargo install wasm-pack --locked
fi
