#!/usr/bin/env bash
# Runs the fuzz targets one after another (never two at once), each for SECONDS.
#   fuzz/run.sh SECONDS [TARGET...]      (default: every target; c_abi only when the C library
#                                         was built, `make lib-c`: target/c/lib/libmixerlead.so)
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
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sse ndjson json text retry_after)
  if [ -e "${MIXERLEAD_C_LIB:-target/c/lib/libmixerlead.so}" ]; then
    targets+=(c_abi)
  else
    echo "fuzz: c_abi skipped: no C library (make lib-c)" >&2
  fi
fi

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
  dict=()
  [ -e "fuzz/dict/$target.dict" ] && dict=(-dict="fuzz/dict/$target.dict")
  cargo +"$toolchain" fuzz run --fuzz-dir fuzz "$target" "fuzz/work/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 "${dict[@]}" -print_final_stats=1
done
