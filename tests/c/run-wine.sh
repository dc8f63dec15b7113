#!/usr/bin/env bash
# The C and C++ suites on Windows: test_c.c and test_cpp.cpp cross-built by zig against a windows-gnu C archive
# (mixerlead.dll through its import library), run under wine against an emulator on loopback.
#
#   tests/c/run-wine.sh PREFIX     PREFIX: the unpacked archive (include/, lib/, bin/mixerlead.dll)
#
# Needs zig (`make check-targets` installs it in target/zig-tools) and wine64. Uses the emulator
# at MIXERLEAD_TEST_ROOT, else starts target/debug/mixerlead-emulator.
# Left out on Windows: the two fork() tests (no fork there), and test_ca_file_and_proxy, whose
# clients with a ca_file fail under wine 8 in the platform verifier's CertCreateCertificateChainEngine
# ("Invalid parameter"); the release workflow runs the suite on a real Windows runner.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(cd "$1" && pwd)
out=$root/target/c/wine
mkdir -p "$out"
zig=$(ls -d "$root"/target/zig-tools/lib/python3*/site-packages/ziglang/zig 2>/dev/null | head -n 1 || true)
[ -n "$zig" ] || { echo "run-wine: zig not found (run make check-targets)" >&2; exit 2; }
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
export ZIG_GLOBAL_CACHE_DIR=$out/zig-cache ZIG_LOCAL_CACHE_DIR=$out/zig-cache

# The import library named outright: zig's linker would take a DLL or libmixerlead.a for -lmixerlead.
"$zig" cc -target x86_64-windows-gnu -std=c11 -Wall -Wextra -Werror -g -I"$prefix/include" \
  "$root/tests/c/test_c.c" "$prefix/lib/libmixerlead.dll.a" -lpthread -lws2_32 -o "$out/test_c.exe"
"$zig" c++ -target x86_64-windows-gnu -std=c++17 -Wall -Wextra -Werror -g -I"$prefix/include" \
  "$root/tests/c/test_cpp.cpp" "$prefix/lib/libmixerlead.dll.a" -lpthread -lws2_32 -o "$out/test_cpp.exe"
cp "$prefix/bin/mixerlead.dll" "$out/"
# wine 8 (Debian 12) lacks bcryptprimitives.dll, which Rust's std imports: a test-only stand-in.
"$zig" cc -target x86_64-windows-gnu -shared -O2 "$root/packaging/smoke/wine-bcryptprimitives.c" -ladvapi32 \
  -o "$out/bcryptprimitives.dll"

if [ -z "${MIXERLEAD_TEST_ROOT:-}" ]; then
  scratch=$(mktemp -d)
  "${MIXERLEAD_EMULATOR:-$root/target/debug/mixerlead-emulator}" --port 0 >"$scratch/plain" &
  emulator=$!
  trap 'kill $emulator 2>/dev/null || true; rm -rf "$scratch"' EXIT
  for _ in $(seq 200); do grep -q listening "$scratch/plain" && break; sleep 0.02; done
  base=$(awk '/listening/ {print $NF}' "$scratch/plain")
  export MIXERLEAD_TEST_ROOT=${base%/api}
fi

export WINEPREFIX=$root/target/wine WINEDEBUG=-all
MIXERLEAD_TEST_SKIP=test_ca_file_and_proxy "$wine" "$out/test_c.exe"
"$wine" "$out/test_cpp.exe"
