#!/usr/bin/env bash
# Runs the fuzz targets one after another (never two at once), each for SECONDS.
#   fuzz/run.sh SECONDS [TARGET...]      (default: every target)
# Builds with cargo-fuzz (installed from crates.io when missing) and the nightly toolchain with
# AddressSanitizer; a machine with only the stable toolchain builds the same targets with
# RUSTC_BOOTSTRAP=1 instead. New inputs go to fuzz/work/TARGET (not committed); the committed,
# minimized corpus fuzz/corpus/TARGET seeds each run. A crash fails the run and leaves its input
# under fuzz/artifacts/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sse ndjson json text retry_after)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if rustup run nightly rustc --version >/dev/null 2>&1; then
  toolchain=nightly
else
  echo "fuzz: no nightly toolchain here; building with stable and RUSTC_BOOTSTRAP=1" >&2
  toolchain=stable
  export RUSTC_BOOTSTRAP=1
fi

cargo +"$toolchain" fuzz build --fuzz-dir fuzz
for target in "${targets[@]}"; do
  mkdir -p "fuzz/work/$target" "fuzz/corpus/$target"
  echo "fuzz: $target for ${seconds}s"
  cargo +"$toolchain" fuzz run --fuzz-dir fuzz "$target" "fuzz/work/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -dict="fuzz/dict/$target.dict" -print_final_stats=1
done
