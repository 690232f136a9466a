# popwire — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help demo test setup lint test-native test-wasm-engine build-wasm bench fuzz

help:
	@echo "make demo   build everything and start the page with the embedded demo POP3 server"
	@echo "make test   install what the tests need (idempotent) and run every test"
	@echo "make bench  run the benchmarks (figures, not pass/fail)"
	@echo "make fuzz   run the decoder fuzz targets (needs cargo-fuzz; see fuzz/README.md)"

## Build everything and start the page with the embedded demo server.
demo: setup build-wasm
	@echo
	@echo "The engine is built (native and wasm32)."
	@echo "The bridge and its demo POP3 server (websocket-bridge/, issue #3) are not built yet,"
	@echo "so there is no page to start. Until then, try the engine's tests: make test"

## Install what is needed, then run every test.
test: setup lint test-native test-wasm-engine build-wasm
	@echo "all tests passed"

setup:
	@bash scripts/setup.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	$(CARGO) clippy --workspace --lib --target wasm32-unknown-unknown -- -D warnings

test-native:
	$(CARGO) test --workspace --all-features

# The engine's integration tests again, compiled to wasm32 and run under Node.
test-wasm-engine:
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	  $(CARGO) test --target wasm32-unknown-unknown --test rfc_transcripts --test session

# A wasm build break fails the tests.
build-wasm:
	$(CARGO) build --lib --release --target wasm32-unknown-unknown

bench:
	$(CARGO) bench --bench decode

fuzz:
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run client_replies -- -max_total_time=600
