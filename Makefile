# The project's commands. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: demo test test-rust lint fmt bench clean

## demo: stream a chat through the CLI (the emulator unless MIXERLEAD_API_KEY is set)
demo:
	bash scripts/demo.sh

## test: lint, then every test suite in the repo
test: lint test-rust

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	$(CARGO) test --workspace --locked

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
