#!/usr/bin/env bash
# `make check-targets`: every crate compile-checked (clippy, -D warnings) for every target of
# the supported platforms other than the host (which `make lint` covers), so portability cannot rot.
# Installs what it needs: the rustup targets, and zig (PyPI `ziglang`) as the C compiler ring's
# build script needs for a cross target. Nothing is linked, so no target's SDK is needed.
#
#   scripts/check-targets.sh [TARGET...]      default: all the supported platforms below
#   CHECK=check scripts/check-targets.sh      `cargo check` instead of clippy
set -euo pipefail
. "$(dirname "$0")/cross-env.sh"
cd "$ML_ROOT"

TARGETS=(
  aarch64-unknown-linux-gnu
  x86_64-unknown-linux-musl
  aarch64-unknown-linux-musl
  x86_64-pc-windows-msvc
  x86_64-pc-windows-gnu
  x86_64-apple-darwin
  aarch64-apple-darwin
)
[ $# -gt 0 ] && TARGETS=("$@")
CHECK=${CHECK:-clippy}

zig_tools
rust_targets "${TARGETS[@]}"

failed=()
for t in "${TARGETS[@]}"; do
  started=$SECONDS
  cross_cc "$t"
  crates=(--workspace)
  # The Node addon ships for Windows as win32-x64-msvc only (napi-rs' shape): on -gnu its build
  # script wants a libnode.dll to link against. The -msvc check covers its source.
  case "$t" in *-windows-gnu) crates+=(--exclude mixerlead-node) ;; esac
  cmd=(cargo "$CHECK" "${crates[@]}" --locked --keep-going --target "$t")
  [ "$CHECK" = clippy ] && cmd+=(-- -D warnings)
  if "${cmd[@]}"; then
    echo "check-targets: $t ok ($((SECONDS - started)) s)"
  else
    echo "check-targets: $t FAILED ($((SECONDS - started)) s)"
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "check-targets: failed: ${failed[*]}" >&2
  exit 1
fi
