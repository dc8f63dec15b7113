#!/usr/bin/env bash
# make bench (release builds, full sizes) and make bench-smoke (debug builds, tiny sizes: part of
# make test). Builds each surface, installs the peers into scratch environments under
# target/bench/ (never into the product), then runs bench/run.py against one emulator.
# `bench.sh --smoke --only CASE` (or `bench.sh --full --only CASE`) runs one case.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-full}
if [ "$mode" = "--smoke" ]; then profile=debug; flags=(); else profile=release; flags=(--release); fi
out=$root/target/bench/$profile
mkdir -p "$out"
cd "$root"

cargo build -q --locked "${flags[@]}" -p mixerlead-emulator -p mixerlead-c -p mixerlead-node -p mixerlead-bench

# Python: the wheel and the peers in one scratch venv.
test -x target/py-tools/bin/maturin || { python3 -m venv target/py-tools && target/py-tools/bin/pip install -q "maturin>=1.9.4,<2"; }
rm -rf "$out/wheels"
(cd bindings-python && ../target/py-tools/bin/maturin build -q --locked "${flags[@]}" --out "$out/wheels" >/dev/null)
test -x "$out/py/bin/python" || python3 -m venv "$out/py"
"$out/py/bin/pip" install -q --force-reinstall --no-deps "$out"/wheels/mixerlead-*.whl
# starlette and uvicorn[standard] (uvloop, httptools) serve the Python relays of the service case.
"$out/py/bin/pip" install -q httpx httpx-sse aiohttp openai starlette "uvicorn[standard]" opentelemetry-api opentelemetry-sdk

# Node: the packed packages (main + this platform's) and the peers in one scratch project.
mkdir -p "$out/node"
rm -rf "$out"/node/mixerlead-*.tgz "$out/node/pkg"
node bindings-node/npm/package.js main "$out/node/pkg/main"
node bindings-node/npm/package.js platform "linux-$(node -p process.arch)-gnu" "target/$profile/libmixerlead_node.so" "$out/node/pkg/platform"
(cd "$out/node" && npm pack --silent ./pkg/main ./pkg/platform >/dev/null)
cp bench/node_bench.mjs bench/node_service.mjs bench/otel_cost.cjs "$out/node/"
# Afresh: npm's resolver spins over an older tree once mixerlead has an optional peer dependency.
rm -rf "$out/node/node_modules" "$out/node/package-lock.json"
(cd "$out/node" && { test -f package.json || echo '{"name":"mixerlead-bench","private":true}' > package.json; } \
  && npm install --silent --no-audit --no-fund --no-save ./mixerlead-*.tgz eventsource-parser openai \
    @opentelemetry/api @opentelemetry/sdk-trace-base)

# wrk loads the services of the service case (Debian's package).
if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

# C: the bench program against the built library.
mkdir -p "$out/lib" && cp "target/$profile/libmixerlead_c.so" "$out/lib/libmixerlead.so.0" && ln -sf libmixerlead.so.0 "$out/lib/libmixerlead.so"
cc -O2 -std=c11 -Iinclude bench/c_bench.c -L"$out/lib" -lmixerlead -lpthread -Wl,-rpath,"$out/lib" -o "$out/c_bench"
cc -O2 -std=c11 -Iinclude bench/fleet_worker.c -L"$out/lib" -lmixerlead -lpthread -Wl,-rpath,"$out/lib" -o "$out/fleet_worker"
command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }

export BENCH_EMULATOR=$root/target/$profile/mixerlead-emulator
export BENCH_PYTHON=$out/py/bin/python
export BENCH_NODE_DIR=$out/node
export BENCH_C=$out/c_bench
export BENCH_FLEET_C=$out/fleet_worker
export BENCH_RUST=$root/target/$profile/mixerlead-bench
if [ "$mode" = "--smoke" ]; then
  python3 bench/run.py --smoke "${@:2}"
else
  python3 bench/run.py "${@:2}"
fi
