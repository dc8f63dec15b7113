#!/usr/bin/env bash
# The build must fail when include/mixerlead.h differs from what cbindgen generates.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
header=$root/include/mixerlead.h
saved=$(mktemp)
cp "$header" "$saved"
trap 'cp "$saved" "$header"; rm -f "$saved"' EXIT
echo "/* a hand edit */" >> "$header"
if cargo build -q -p mixerlead-c 2>/dev/null; then
  echo "stale-header: 0 passed, 1 failed (the build accepted an edited header)"
  exit 1
fi
cp "$saved" "$header"
cargo build -q -p mixerlead-c
echo "stale-header: 1 passed, 0 failed"
