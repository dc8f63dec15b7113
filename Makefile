# The project's commands. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: demo test test-rust test-python python-wheel emulator lint fmt bench clean

PYTHON ?= python3
PY_TOOLS := target/py-tools
PY_TEST := target/py-test
export MIXERLEAD_EMULATOR := $(CURDIR)/target/debug/mixerlead-emulator

## demo: stream a chat through the CLI (the emulator unless MIXERLEAD_API_KEY is set)
demo:
	bash scripts/demo.sh

## test: lint, then every test suite in the repo
test: lint test-rust test-python

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

test-rust:
	$(CARGO) test --workspace --locked

emulator:
	$(CARGO) build -p mixerlead-emulator --locked

## python-wheel: the abi3 wheel of bindings-python/ into target/wheels/
python-wheel:
	test -x $(PY_TOOLS)/bin/maturin || { $(PYTHON) -m venv $(PY_TOOLS) && $(PY_TOOLS)/bin/pip install -q "maturin>=1.9.4,<2"; }
	rm -rf target/wheels
	cd bindings-python && ../$(PY_TOOLS)/bin/maturin build --locked --out ../target/wheels

## test-python: the wheel pip-installed into a fresh virtualenv, pytest against the emulator, mypy --strict
test-python: python-wheel emulator
	rm -rf $(PY_TEST) && $(PYTHON) -m venv $(PY_TEST)
	$(PY_TEST)/bin/pip install -q pytest pytest-asyncio mypy target/wheels/mixerlead-*.whl
	cd tests/python && ../../$(PY_TEST)/bin/python -m pytest
	$(PY_TEST)/bin/mypy --strict examples/python tests/python/typing_usage.py

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
