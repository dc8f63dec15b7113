#!/usr/bin/env bash
# A short fleet (part of `make test`): Python, Node and C worker processes against the emulator's
# per-key limit, without traffic control, with the defaults, and with rate_limit shared through a
# real redis-server. Fails when a mode with traffic control loses a call, is refused as often as
# without it, or more than a short run allows (its first burst weighs more than in 20 s). Uses
# what test-python, test-node and test-c installed; `make bench` runs the long fleet (4
# processes x 16 workers for 20 s) on release builds.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
venv_bin=target/py-test/bin
[ -d "$venv_bin" ] || venv_bin=target/py-test/Scripts
mkdir -p target/fleet
cc -O2 -std=c11 -Iinclude bench/fleet_worker.c -Ltarget/c/lib -lmixerlead -lpthread \
  -Wl,-rpath,"$root/target/c/lib" -o target/fleet/fleet_worker
python3 bench/fleet.py --emulator "$MIXERLEAD_EMULATOR" --python "$venv_bin/python" \
  --node target/node-test --c target/fleet/fleet_worker \
  --processes 3 --workers 8 --seconds "${FLEET_SECONDS:-6}" --limit 20 --check \
  --max-refused-defaults 0.5 --max-refused-redis 0.1
