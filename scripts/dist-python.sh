#!/usr/bin/env bash
# The Python package into dist/python/: an abi3 (cp39) wheel per supported Linux target,
# manylinux2014 on glibc and musllinux_1_2 on musl, built by maturin with zig (so the glibc
# ceiling holds whatever this machine's glibc is), stripped; and the sdist. Every wheel then
# passes scripts/check-binary.py (auditwheel's rules, and <= 3 MB). On a macOS or Windows runner,
# the same for its own target (macosx / win_amd64 tags, built natively).
#
#   scripts/dist-python.sh [TARGET...]
set -euo pipefail
. "$(dirname "$0")/cross-env.sh"
cd "$ML_ROOT"

TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
[ $# -gt 0 ] && TARGETS=("$@")
out=$ML_ROOT/dist/python
mkdir -p "$out"

zig_tools # maturin itself comes from that venv too
rust_targets "${TARGETS[@]}"

for t in "${TARGETS[@]}"; do
  started=$SECONDS
  zig=(--zig)
  case "$t" in
    *-linux-gnu) compat=(--compatibility manylinux2014) ;;
    *-linux-musl) compat=(--compatibility musllinux_1_2) ;;
    # macOS and Windows wheels build natively on their own runners (the release workflow).
    *-apple-darwin | *-windows-msvc) compat=() zig=() ;;
    *) echo "dist-python: no wheel rule for $t" >&2; exit 2 ;;
  esac
  cross_rustflags "$t"
  (cd bindings-python && release_env maturin build --release --locked --strip "${zig[@]}" \
     --target "$t" "${compat[@]}" --auditwheel check --out "$out")
  echo "dist-python: $t ${compat[*]} in $((SECONDS - started)) s"
done

rm -f "$out"/mixerlead-*.tar.gz
(cd bindings-python && maturin sdist --out "$out")
python3 scripts/check-binary.py --wheel "$out"/*.whl
ls -l "$out"
