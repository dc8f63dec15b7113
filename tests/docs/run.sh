#!/usr/bin/env bash
# The documentation's tests: every code example of README.md and docs/*.md run against the
# emulator (examples.py), then the built site opened in headless Chromium (browser.py).
# Uses what other targets built: the site and target/docs-tools/py (make docs), target/c/lib
# (make lib-c), target/node-pkg (make test-node). Installs Chromium with apt-get if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
if ! command -v chromium >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
cargo build -p mixerlead-cli -p mixerlead-emulator --locked
py=target/docs-tools/py/bin/python
"$py" tests/docs/examples.py
"$py" tests/docs/browser.py target/docs target/docs-check
