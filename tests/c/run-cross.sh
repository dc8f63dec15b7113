#!/usr/bin/env bash
# The C and C++ suites (test_c.c, test_cpp.cpp) against a release C archive of another platform,
# cross-built by zig and run against an emulator on loopback:
#   x86_64-pc-windows-gnu          through mixerlead.dll's import library, run under wine;
#   {x86_64,aarch64}-unknown-linux-musl
#                                  linked statically (libmixerlead.a, musl), run natively or under
#                                  qemu-aarch64.
#
#   tests/c/run-cross.sh TARGET PREFIX     PREFIX: the unpacked archive (include/, lib/, bin/)
#
# zig, wine64, pkg-config and qemu-user are installed when missing (scripts/cross-env.sh). Starts
# its emulators (tests/c/emulators.sh).
# Left out on Windows: the two fork() tests (no fork there), and test_ca_file_and_proxy, whose
# clients with a ca_file fail under wine 8 in the platform verifier's CertCreateCertificateChainEngine
# ("Invalid parameter"); the release workflow runs the suite on a real Windows runner.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=$1
prefix=$(cd "$2" && pwd)
out=$root/target/c/cross-$target
mkdir -p "$out"
. "$root/scripts/cross-env.sh"
zig_tools
export ZIG_GLOBAL_CACHE_DIR=$out/zig-cache ZIG_LOCAL_CACHE_DIR=$out/zig-cache

run=() skip=
case "$target" in
  x86_64-pc-windows-gnu)
    # The import library named outright: zig's linker would take a DLL or libmixerlead.a for -lmixerlead.
    link=("$prefix/lib/libmixerlead.dll.a" -lpthread -lws2_32) zt=x86_64-windows-gnu exe=.exe
    cp "$prefix/bin/mixerlead.dll" "$out/"
    wine_ready "$out"
    run=("$WINE") skip=test_ca_file_and_proxy
    export WINEPREFIX=$root/target/wine WINEDEBUG=-all
    ;;
  x86_64-unknown-linux-musl | aarch64-unknown-linux-musl)
    link=(-static "$prefix/lib/libmixerlead.a" $(static_link_libs "$prefix") -lpthread) zt=${target%%-*}-linux-musl exe=
    if [ "${target%%-*}" != "$(uname -m)" ]; then need_tools qemu-aarch64:qemu-user; run=(qemu-aarch64); fi
    ;;
  *) echo "run-cross: no rule for $target" >&2; exit 2 ;;
esac

"$ZIG" cc -target $zt -std=c11 -Wall -Wextra -Werror -g -I"$prefix/include" \
  "$root/tests/c/test_c.c" "${link[@]}" -o "$out/test_c$exe"
"$ZIG" c++ -target $zt -std=c++17 -Wall -Wextra -Werror -g -I"$prefix/include" \
  "$root/tests/c/test_cpp.cpp" "${link[@]}" -o "$out/test_cpp$exe"
[ -n "$exe" ] || expect_static "$out/test_c"

. "$root/tests/c/emulators.sh"

MIXERLEAD_TEST_SKIP=$skip "${run[@]}" "$out/test_c$exe"
"${run[@]}" "$out/test_cpp$exe"
