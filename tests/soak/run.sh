#!/usr/bin/env bash
# Runs the soak against what `make test-python`, `make test-node` and `make lib-c` built:
# tests/soak/run.sh SECONDS EVERY [WORKERS]   (WORKERS: comma-separated, default python,node,c;
# `make soak-node` runs node alone for 2 h and needs only what `make test-node` built)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
workers=${3:-python,node,c}
mkdir -p "$root/target/soak"
if [[ ",$workers," == *,c,* ]]; then
  cc -std=c11 -O1 -Wall -Wextra -Werror -I"$root/include" "$root/tests/soak/worker.c" -L"$root/target/c/lib" -lmixerlead \
    -lpthread -Wl,-rpath,"$root/target/c/lib" -o "$root/target/soak/worker_c"
fi
if [[ ",$workers," == *,node,* ]]; then
  cp "$root/tests/soak/worker.mjs" "$root/target/node-test/soak_worker.mjs"
fi
export SOAK_EMULATOR=${MIXERLEAD_EMULATOR:-$root/target/debug/mixerlead-emulator}
export SOAK_PYTHON=$root/target/py-test/bin/python
export SOAK_NODE_DIR=$root/target/node-test
export SOAK_C_WORKER=$root/target/soak/worker_c
python3 "$root/tests/soak/soak.py" --seconds "${1:-60}" --every "${2:-5}" --only "$workers" \
  --samples "$root/target/soak/samples-$(date +%Y%m%d-%H%M%S).jsonl"
