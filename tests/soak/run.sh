#!/usr/bin/env bash
# Runs the soak against what `make test-python`, `make test-node` and `make lib-c` built:
# tests/soak/run.sh SECONDS EVERY
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/target/soak"
cc -std=c11 -O1 -Wall -Wextra -Werror -I"$root/include" "$root/tests/soak/worker.c" -L"$root/target/c/lib" -lmixerlead \
  -lpthread -Wl,-rpath,"$root/target/c/lib" -o "$root/target/soak/worker_c"
cp "$root/tests/soak/worker.mjs" "$root/target/node-test/soak_worker.mjs"
export SOAK_EMULATOR=${MIXERLEAD_EMULATOR:-$root/target/debug/mixerlead-emulator}
export SOAK_PYTHON=$root/target/py-test/bin/python
export SOAK_NODE_DIR=$root/target/node-test
export SOAK_C_WORKER=$root/target/soak/worker_c
python3 "$root/tests/soak/soak.py" --seconds "${1:-60}" --every "${2:-5}"
