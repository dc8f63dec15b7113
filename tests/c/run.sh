#!/usr/bin/env bash
# Builds the C and C++ suites against the built library, starts the emulator, runs them (the C
# suite also linked statically, and once under valgrind for leaks).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lib=$root/target/c/lib
out=$root/target/c/tests
mkdir -p "$out"
cflags=(-I"$root/include" -Wall -Wextra -Werror -g)

cc -std=c11 "${cflags[@]}" "$root/tests/c/test_c.c" -L"$lib" -lmixerlead -lpthread -Wl,-rpath,"$lib" -o "$out/test_c"
cc -std=c11 "${cflags[@]}" "$root/tests/c/test_c.c" "$lib/libmixerlead.a" -lpthread -ldl -lm -o "$out/test_c_static"
c++ -std=c++17 "${cflags[@]}" "$root/tests/c/test_cpp.cpp" -L"$lib" -lmixerlead -lpthread -Wl,-rpath,"$lib" -o "$out/test_cpp"
# The same suites under AddressSanitizer, against the (uninstrumented) shared library: ASan
# replaces malloc/free for the whole process, so a use-after-free of memory the library hands to
# callbacks, or of the C++ wrapper's callbacks, is caught. (Not with valgrind: the two don't mix.)
asan=(-fsanitize=address -fno-omit-frame-pointer)
cc -std=c11 "${cflags[@]}" "${asan[@]}" "$root/tests/c/test_c.c" -L"$lib" -lmixerlead -lpthread -Wl,-rpath,"$lib" -o "$out/test_c_asan"
c++ -std=c++17 "${cflags[@]}" "${asan[@]}" "$root/tests/c/test_cpp.cpp" -L"$lib" -lmixerlead -lpthread -Wl,-rpath,"$lib" -o "$out/test_cpp_asan"
cc -std=c11 "${cflags[@]}" "$root/examples/c/chat.c" -L"$lib" -lmixerlead -Wl,-rpath,"$lib" -o "$out/example_c"
cc -std=c11 "${cflags[@]}" "$root/examples/c/knowledge.c" -L"$lib" -lmixerlead -Wl,-rpath,"$lib" -o "$out/example_knowledge"
c++ -std=c++17 "${cflags[@]}" "$root/examples/cpp/chat.cpp" -L"$lib" -lmixerlead -Wl,-rpath,"$lib" -o "$out/example_cpp"

. "$root/tests/c/emulators.sh"

# The shared library names its ABI version (SONAME libmixerlead.so.0), and the programs linked
# with -lmixerlead depend on that name, not on the unversioned link.
soname=$(readelf -d "$lib/libmixerlead.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
needed=$(readelf -d "$out/test_c" | sed -n 's/.*(NEEDED).*\[\(libmixerlead[^]]*\)\]/\1/p')
if [ "$soname" = libmixerlead.so.0 ] && [ "$needed" = libmixerlead.so.0 ]; then
  echo "soname: 1 passed, 0 failed"
else
  echo "soname: SONAME '$soname', NEEDED '$needed' (expected libmixerlead.so.0 for both)"
  echo "soname: 0 passed, 1 failed"; exit 1
fi

"$out/test_c"
"$out/test_c_static"
"$out/test_cpp"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
MIXERLEAD_UNDER_ASAN=1 "$out/test_c_asan"
MIXERLEAD_UNDER_ASAN=1 "$out/test_cpp_asan"
MIXERLEAD_UNDER_VALGRIND=1 valgrind -q --fair-sched=yes --num-callers=40 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --error-exitcode=1 \
  --suppressions="$root/tests/c/valgrind.supp" "$out/test_c"

# The examples build and run against the emulator as a user would run them.
MIXERLEAD_API_KEY=ml_test_example MIXERLEAD_BASE_URL=$base "$out/example_c" "Hi from the C example" | grep "Hi from the C example" >/dev/null
MIXERLEAD_API_KEY=ml_test_example MIXERLEAD_BASE_URL=$base "$out/example_cpp" "Hi from C++" | grep "reply 2 in" >/dev/null
MIXERLEAD_API_KEY=ml_test_example MIXERLEAD_BASE_URL=$base "$out/example_knowledge" "Indexed from C" | grep "Indexed from C" >/dev/null
echo "examples: 3 passed, 0 failed"

# ML_API: a Windows program imports the functions from mixerlead.dll (its object refers to
# __imp_ml_version), or links them statically with ML_STATIC. Checked by cross-compiling
# with zig, which `make check-targets` installs; skipped when it is not there.
zig=$(ls -d "$root"/target/zig-tools/lib/python3*/site-packages/ziglang/zig 2>/dev/null | head -n 1 || true)
if [ -n "$zig" ] && command -v nm >/dev/null; then
  export ZIG_GLOBAL_CACHE_DIR=$scratch/zig ZIG_LOCAL_CACHE_DIR=$scratch/zig
  printf '#include "mixerlead.h"\nconst char *probe(void) { return ml_version(); }\n' >"$scratch/ml_api.c"
  for target in x86_64-windows-gnu x86_64-windows-msvc; do
    "$zig" cc -target $target -std=c11 -Wall -Wextra -Werror -I"$root/include" -c "$scratch/ml_api.c" -o "$scratch/dll.o"
    nm "$scratch/dll.o" | grep -q ' U __imp_ml_version$'
    "$zig" cc -target $target -std=c11 -DML_STATIC -I"$root/include" -c "$scratch/ml_api.c" -o "$scratch/static.o"
    nm "$scratch/static.o" | grep -q ' U ml_version$'
  done
  echo "ML_API: 4 passed, 0 failed"
else
  echo "ML_API: skipped (no zig in target/zig-tools: make check-targets installs it)"
fi

# What `make install` put under target/c/prefix builds with pkg-config alone.
export PKG_CONFIG_PATH=$root/target/c/prefix/lib/pkgconfig
cc -std=c11 "$root/examples/c/chat.c" $(pkg-config --cflags --libs mixerlead) -Wl,-rpath,"$root/target/c/prefix/lib" -o "$out/installed_c"
MIXERLEAD_API_KEY=ml_test_example MIXERLEAD_BASE_URL=$base "$out/installed_c" "installed" | grep "installed" >/dev/null
echo "install: 1 passed, 0 failed"
