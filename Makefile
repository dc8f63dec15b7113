# The project's commands. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: docs test-docs demo test test-fleet check-references check-targets fuzz fuzz-smoke soak soak-node test-soak dist dist-c dist-python dist-node dist-windows dist-test bench-smoke test-rust test-python test-c test-node python-wheel emulator lib-c header install lint fmt bench clean

PYTHON ?= python3
PY_TOOLS := target/py-tools
PY_TEST := target/py-test
# A virtualenv's programs: Scripts/ on Windows (the release workflow's runner), bin/ elsewhere.
VENV_BIN := $(if $(filter Windows_NT,$(OS)),Scripts,bin)
export MIXERLEAD_EMULATOR := $(CURDIR)/target/debug/mixerlead-emulator

## demo: stream a chat through the CLI (the emulator unless MIXERLEAD_API_KEY is set)
demo:
	bash scripts/demo.sh

## test: lint, the cross-target compile-check, then every test suite in the repo, the docs site
## (built, its examples run, opened in Chromium), a 60 s soak and a short fuzz run
test: lint check-references check-targets test-rust test-python test-c test-node test-fleet docs test-docs bench-smoke test-soak fuzz-smoke

## check-references: comments and docs stand alone: nothing refers to documents outside the repo
check-references:
	@if git grep -nE 'SPEC §|shared/(SPEC|DESIGN)' -- . ':!CHANGELOG.md' ':!Makefile'; then \
	  echo "check-references: 0 passed, 1 failed (the lines above point outside the repo)"; exit 1; \
	else echo "check-references: 1 passed, 0 failed"; fi

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## check-targets: every crate clippy-checked (-D warnings) for each supported platform besides the
## host: Linux arm64 glibc, Linux x86_64/arm64 musl, Windows x64 (msvc, and gnu), macOS x86_64/arm64.
## Installs what it needs: rustup targets, zig (PyPI `ziglang`, in target/zig-tools) as ring's C compiler.
check-targets:
	bash scripts/check-targets.sh

test-rust:
	$(CARGO) test --workspace --locked

## dist: the release artifacts into dist/ (not part of `make test`): per supported Linux target
## (x86_64/aarch64, glibc/musl) a C archive (dist/c/), an abi3 wheel (dist/python/) and an npm
## platform package (dist/npm/, with the main package listing them), plus the sdist and the
## Windows (x86_64-pc-windows-gnu) C archive; each binary checked like auditwheel
## does (scripts/check-binary.py). DIST_TARGETS=… builds those targets only (as the release
## workflow does on macOS and Windows runners).
DIST_TARGETS ?=
SHA256SUM := $(shell command -v sha256sum >/dev/null && echo sha256sum || echo shasum -a 256)
dist:
	rm -rf dist
	bash scripts/check-version.sh
	bash scripts/dist-c.sh $(DIST_TARGETS)
	bash scripts/dist-python.sh $(DIST_TARGETS)
	bash scripts/dist-node.sh $(DIST_TARGETS)
	$(if $(DIST_TARGETS),,bash scripts/dist-c.sh x86_64-pc-windows-gnu)
	cd dist && find . -type f ! -name SHA256SUMS | sort | xargs $(SHA256SUM) > SHA256SUMS && du -ah . | sort -k2

dist-c:
	bash scripts/dist-c.sh $(DIST_TARGETS)

dist-python:
	bash scripts/dist-python.sh $(DIST_TARGETS)

## dist-node: the npm packages alone (napi-rs' shape): @mixerlead/<platform> per target, then the
## main package with every platform package of dist/npm/ as an optionalDependency
dist-node:
	bash scripts/dist-node.sh $(DIST_TARGETS)

## dist-windows: the Windows C archive alone (x86_64-pc-windows-gnu, linked by zig; part of `make
## dist`); the MSVC archive and the win_amd64 wheel come from the release workflow.
dist-windows:
	bash scripts/dist-c.sh x86_64-pc-windows-gnu

## dist-test: what `make dist` wrote, installed as users do (pip from a local index, pkg-config,
## CMake find_package, npm install from a local verdaccio registry) and smoke-tested against the
## emulator: x86_64 natively, musl statically, arm64 under qemu-user in a debootstrapped arm64
## Debian root, the Windows DLL under wine. DIST_TEST_PARTS=… (python sdist c npm arm64 win) for fewer.
DIST_TEST_PARTS ?=
dist-test: emulator
	bash scripts/dist-test.sh $(DIST_TEST_PARTS)

emulator:
	$(CARGO) build -p mixerlead-emulator --locked

## python-wheel: the abi3 wheel of bindings-python/ into target/wheels/
python-wheel:
	test -x $(PY_TOOLS)/$(VENV_BIN)/maturin || { $(PYTHON) -m venv $(PY_TOOLS) && $(PY_TOOLS)/$(VENV_BIN)/pip install -q "maturin>=1.9.4,<2"; }
	rm -rf target/wheels
	cd bindings-python && ../$(PY_TOOLS)/$(VENV_BIN)/maturin build --locked --out ../target/wheels

## test-python: the wheel pip-installed into a fresh virtualenv, pytest against the emulator, mypy --strict
test-python: python-wheel emulator
	rm -rf $(PY_TEST) && $(PYTHON) -m venv $(PY_TEST)
	$(PY_TEST)/$(VENV_BIN)/pip install -q pytest "pytest-asyncio>=1.4" mypy opentelemetry-sdk "uvloop; sys_platform != 'win32'" ipykernel nbconvert target/wheels/mixerlead-*.whl
	cd tests/python && ../../$(PY_TEST)/$(VENV_BIN)/python -m pytest
	$(PY_TEST)/$(VENV_BIN)/mypy --strict examples/python tests/python

## lib-c: libmixerlead.so.0 (the SONAME; libmixerlead.so links to it) / .a in target/c/ (the build fails if include/mixerlead.h is stale)
lib-c:
	$(CARGO) build -p mixerlead-c --locked
	mkdir -p target/c/lib
	rm -f target/c/lib/libmixerlead.so target/c/lib/libmixerlead.so.0
	cp target/debug/libmixerlead_c.so target/c/lib/libmixerlead.so.0
	ln -s libmixerlead.so.0 target/c/lib/libmixerlead.so
	cp target/debug/libmixerlead_c.a target/c/lib/libmixerlead.a

## header: regenerate include/mixerlead.h with cbindgen (then commit it)
header:
	MIXERLEAD_UPDATE_HEADER=1 $(CARGO) build -p mixerlead-c

## docs: the documentation site into target/docs/ (open target/docs/index.html): the README, the
## guides of docs/, and the API reference of each language from the code's own docs (rustdoc,
## pdoc, TypeDoc, Doxygen); fails on a doc warning, an undocumented public item or a broken link
docs: python-wheel
	bash scripts/docs/build.sh

## test-docs: every code example of the README and docs/ run against the emulator, and the site
## opened in headless Chromium (no console error, failed load or broken link); uses what docs,
## lib-c and test-node built (test-node runs first only when target/node-pkg has no package)
test-docs: docs lib-c $(if $(wildcard target/node-pkg/mixerlead-*.tgz),,test-node)
	bash tests/docs/run.sh

## test-c: the C and C++ suites against the emulator, and once under valgrind
test-c: lib-c emulator
	rm -rf target/c/prefix && $(MAKE) --no-print-directory install PREFIX=$(CURDIR)/target/c/prefix PROFILE=debug
	bash tests/c/stale_header.sh
	bash tests/c/run.sh

## install: the library (release build), headers and mixerlead.pc under PREFIX
PREFIX ?= /usr/local
PROFILE ?= release
install:
	$(CARGO) build -p mixerlead-c --locked $(if $(filter release,$(PROFILE)),--release,)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 target/$(PROFILE:dev=debug)/libmixerlead_c.so $(DESTDIR)$(PREFIX)/lib/libmixerlead.so.0
	ln -sf libmixerlead.so.0 $(DESTDIR)$(PREFIX)/lib/libmixerlead.so
	install -m 644 target/$(PROFILE:dev=debug)/libmixerlead_c.a $(DESTDIR)$(PREFIX)/lib/libmixerlead.a
	install -m 644 include/mixerlead.h include/mixerlead.hpp $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|0.1.0|' bindings-c/mixerlead.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/mixerlead.pc

## test-node: the addon packed with npm pack, installed in a scratch project, node:test + tsc --strict
test-node: emulator
	$(CARGO) build -p mixerlead-node --locked
	bash tests/node/run.sh

## bench: every surface against its peers, release builds, one run on this machine (see bench/README.md)
bench:
	bash bench/bench.sh

## test-fleet: Python, Node and C worker processes against the emulator's per-key limit, with
## and without traffic control and through a real redis-server, on what test-python, test-node
## and test-c built (the long fleet is a case of `make bench`)
test-fleet:
	bash tests/fleet/run.sh

## test-soak: the soak for 60 s (part of make test), on what test-python, test-node and test-c built
test-soak:
	bash tests/soak/run.sh 60 5

## soak: 30 minutes of mixed traffic from Python, Node and C against the emulator, RSS and open
## descriptors sampled every 10 s (run `make test` first: it uses the packages it built)
soak:
	bash tests/soak/run.sh 1800 10

## soak-node: the Node worker alone for 2 h (its memory over a long run), on what test-node built
soak-node: emulator
	bash tests/soak/run.sh 7200 10 node

## fuzz-smoke: every fuzz target for 10 s (part of make test); fuzz: each for FUZZ_SECONDS
fuzz-smoke:
	bash fuzz/run.sh 10

FUZZ_SECONDS ?= 600
fuzz:
	bash fuzz/run.sh $(FUZZ_SECONDS)

## bench-smoke: the same programs on tiny sizes with debug builds, so the benchmark cannot rot
bench-smoke:
	bash bench/bench.sh --smoke

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
