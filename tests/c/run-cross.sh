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
# Needs zig (`make check-targets` installs it in target/zig-tools), and wine64 or qemu-user for
# what this machine cannot run itself. Starts its emulators (tests/c/emulators.sh).
# Left out on Windows: the two fork() tests (no fork there), and test_ca_file_and_proxy, whose
# clients with a ca_file fail under wine 8 in the platform verifier's CertCreateCertificateChainEngine
# ("Invalid parameter"); the release workflow runs the suite on a real Windows runner.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
target=$1
prefix=$(cd "$2" && pwd)
out=$root/target/c/cross-$target
mkdir -p "$out"
zig=$(ls -d "$root"/target/zig-tools/lib/python3*/site-packages/ziglang/zig 2>/dev/null | head -n 1 || true)
[ -n "$zig" ] || { echo "run-cross: zig not found (run make check-targets)" >&2; exit 2; }
export ZIG_GLOBAL_CACHE_DIR=$out/zig-cache ZIG_LOCAL_CACHE_DIR=$out/zig-cache

run=() skip=
case "$target" in
  x86_64-pc-windows-gnu)
    # The import library named outright: zig's linker would take a DLL or libmixerlead.a for -lmixerlead.
    link=("$prefix/lib/libmixerlead.dll.a" -lpthread -lws2_32) zt=x86_64-windows-gnu exe=.exe
    cp "$prefix/bin/mixerlead.dll" "$out/"
    # wine 8 (Debian 12) lacks bcryptprimitives.dll, which Rust's std imports: a test-only stand-in.
    "$zig" cc -target $zt -shared -O2 "$root/packaging/smoke/wine-bcryptprimitives.c" -ladvapi32 \
      -o "$out/bcryptprimitives.dll"
    run=("$(command -v wine64 || echo /usr/lib/wine/wine64)") skip=test_ca_file_and_proxy
    export WINEPREFIX=$root/target/wine WINEDEBUG=-all
    ;;
  x86_64-unknown-linux-musl | aarch64-unknown-linux-musl)
    # The archive, then the system libraries pkg-config --static names (-lgcc_s: zig's libunwind).
    private=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --libs-only-l --static mixerlead | tr ' ' '\n' | grep -vx -- -lmixerlead)
    link=(-static "$prefix/lib/libmixerlead.a" $private -lpthread) zt=${target%%-*}-linux-musl exe=
    [ "${target%%-*}" = "$(uname -m)" ] || run=(qemu-aarch64)
    ;;
  *) echo "run-cross: no rule for $target" >&2; exit 2 ;;
esac

"$zig" cc -target $zt -std=c11 -Wall -Wextra -Werror -g -I"$prefix/include" \
  "$root/tests/c/test_c.c" "${link[@]}" -o "$out/test_c$exe"
"$zig" c++ -target $zt -std=c++17 -Wall -Wextra -Werror -g -I"$prefix/include" \
  "$root/tests/c/test_cpp.cpp" "${link[@]}" -o "$out/test_cpp$exe"
if [ -z "$exe" ] && readelf -l "$out/test_c" | grep -q INTERP; then
  echo "run-cross: test_c is not static: it has a dynamic loader" >&2
  exit 1
fi

. "$root/tests/c/emulators.sh"

MIXERLEAD_TEST_SKIP=$skip "${run[@]}" "$out/test_c$exe"
"${run[@]}" "$out/test_cpp$exe"
