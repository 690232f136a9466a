# popwire — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
LISTEN ?= 127.0.0.1:8080

.PHONY: help demo test setup setup-demo lint test-native test-wasm-engine test-browser test-e2e test-npm build-wasm pkg npm bench fuzz site test-site

help:
	@echo "make demo   build everything and start the page with the embedded demo POP3 server"
	@echo "make test   install what the tests need (idempotent) and run every test"
	@echo "make bench  run the benchmarks (figures, not pass/fail; needs websockify for the bridge one)"
	@echo "make fuzz   run the decoder fuzz targets (needs cargo-fuzz; see fuzz/README.md)"
	@echo "make npm    build the npm package into target/npm/ (npm pack ./target/npm packs it)"
	@echo "make site   build dist/: the page as a static site for any static host (in-browser server)"

## Build everything and start the page with the embedded demo server. The page is built into
## the binary (no --www): target/release/popwire-bridge alone is what an instructor copies.
demo: setup-demo pkg
	$(CARGO) build --release -p popwire-bridge
	@echo
	@echo "  popwire is at http://$(LISTEN)/  (demo POP3 server: 127.0.0.1:1110 plain, 127.0.0.1:1995 TLS)"
	@echo "  user: any name, password: pop3.  Ctrl-C stops it."
	@echo
	target/release/popwire-bridge --demo --listen $(LISTEN)

## Install what is needed, then run every test.
test: setup lint build-wasm test-native test-wasm-engine test-browser test-e2e test-site test-npm
	@echo "all tests passed"

setup:
	@bash scripts/setup.sh test

# Only what the demo needs: no chromium, no wasm-pack.
setup-demo:
	@bash scripts/setup.sh demo

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) clippy --lib --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) clippy --lib --target wasm32-unknown-unknown --features mail -- -D warnings
	$(CARGO) clippy --target wasm32-unknown-unknown --features mail,server --tests -- -D warnings
	RUSTDOCFLAGS=-Dwarnings $(CARGO) doc --no-deps --workspace --all-features

test-native:
	$(CARGO) test --workspace --all-features

# The engine's integration tests again, compiled to wasm32 and run under Node; then the
# in-browser server's module (in-browser-server/tests/node.rs) the same way.
test-wasm-engine:
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	  $(CARGO) test --target wasm32-unknown-unknown --test rfc_transcripts --test session --test conformance
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner $(CARGO) test --target wasm32-unknown-unknown -p popwire-teaching-server-wasm

# The JS API in headless Chromium against a bridge + demo server on port 0.
test-browser:
	bash scripts/test-browser.sh

# The page end to end: Playwright (playwright-core + Debian's chromium) clicks through whole
# sessions in three languages against a bridge on port 0; screenshots in target/e2e-screenshots/.
test-e2e:
	bash scripts/test-e2e.sh

# dist/ served by python3 -m http.server under /popwire/, no bridge: the canonical session on the
# in-browser server, no request but for dist/'s own files (tests/e2e/static-site.test.mjs).
test-site:
	bash scripts/test-site.sh

# The packed npm package in a fresh project: installed with esbuild from the npm registry, a
# page bundled and one unbundled, each a whole session in headless Chromium (tests/npm/run.sh).
test-npm:
	bash tests/npm/run.sh

# A wasm build break fails the tests; this also builds www/pkg (the page's module).
build-wasm: pkg

pkg:
	bash scripts/build-pkg.sh

# dist/: the page, its three wasm modules and i18n as a static site, relative paths, the CSP as
# a <meta> (no .gz copies: a static host compresses itself). scripts/build-site.sh.
site: pkg
	bash scripts/build-site.sh

# The npm package `popwire` in target/npm/ (npm/README.md; `npm pack ./target/npm` packs it).
npm: pkg
	bash scripts/build-npm.sh

# Benchmarks print figures (never pass/fail): the multi-line decoder against a memchr scan;
# the bridge against direct TCP and websockify; the JS API in headless Chromium against the
# native client over the same bridge; the maildrop sync through a delay proxy against the
# round-trip floor; last, issue 12's figures side by side (benches/summary.py).
bench: export POPWIRE_BENCH_SUMMARY = $(CURDIR)/target/bench-summary.jsonl
bench:
	mkdir -p target && rm -f target/bench-summary.jsonl
	$(CARGO) bench --bench decode
	$(CARGO) bench -p popwire-bridge --bench bridge
	bash benches/browser-retr.sh
	bash benches/in-browser-retr.sh
	bash benches/page-figures.sh
	bash benches/latency/run.sh
	python3 benches/summary.py target/bench-summary.jsonl

fuzz:
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run client_replies -- -max_total_time=600
