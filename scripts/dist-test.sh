#!/usr/bin/env bash
# `make dist-test`: installs what `make dist` wrote into dist/ the way a user does, and runs the
# smoke tests (packaging/smoke/: models, a streamed chat, an error, a cancel) against the emulator
# with every artifact this machine can run:
#   Python  pip install mixerlead from a local package index (pypiserver) holding every wheel and
#           the sdist, into a fresh virtualenv: pip must pick the manylinux2014 x86_64 wheel by
#           its tag. Then the sdist alone, built from source by pip in another fresh virtualenv,
#           with the project's Python suite (tests/python) run against it.
#   C       the host's glibc archive (x86_64 here): the smoke program built through pkg-config (shared and static)
#           and through CMake find_package(mixerlead CONFIG) -> mixerlead::mixerlead (shared,
#           and with MIXERLEAD_USE_STATIC=ON); musl archives: linked statically by zig cc and run
#           (aarch64 under qemu-user).
#   arm64   (scripts/dist-test-arm64.sh) in an arm64 Debian root made with debootstrap, under
#           qemu-user: pip install from the same index (pip must pick the manylinux2014 aarch64
#           wheel) and the smoke test; the aarch64 glibc C archive through pkg-config.
#
#   win     the windows-gnu C archive (when `make dist-windows` built it): the smoke program
#           cross-built by zig cc through pkg-config, run under wine.
#
#   scripts/dist-test.sh [python] [sdist] [c] [arm64] [win]     default: all of them
set -euo pipefail
. "$(dirname "$0")/cross-env.sh"
cd "$ML_ROOT"

PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(python sdist c arm64 win)
want() { [[ " ${PARTS[*]} " == *" $1 "* ]]; }

version=$(ml_version)
arch=${HOST_TARGET%%-*} # x86_64 here; aarch64 on an arm64 runner (then the qemu parts run natively)
case "$HOST_TARGET" in
  *-linux-gnu) expect_tag="manylinux2014_$arch" ;;
  *-apple-darwin) expect_tag="macosx_*_$(uname -m)" ;;
  *-windows-*) expect_tag="win_amd64" ;;
  *) expect_tag="?" ;;
esac
work=$TARGET_DIR/dist-test
rm -rf "$work" && mkdir -p "$work"
results=()
failed=0
record() { # record ROW SURFACE HOW ok|FAILED
  results+=("$(printf '%-27s %-8s %-6s %s' "$1" "$2" "$4" "$3")")
  [ "$4" = ok ] || failed=1
}
run_case() { # run_case ROW SURFACE HOW -- command...
  local row=$1 surface=$2 how=$3
  shift 4
  echo "--- dist-test: $row / $surface: $how"
  # A subshell outside any `if`, so that set -e holds inside the case.
  set +e
  (set -e; "$@")
  local rc=$?
  set -e
  if [ $rc = 0 ]; then record "$row" "$surface" "$how" ok; else record "$row" "$surface" "$how" FAILED; fi
}

# --- the emulator, on loopback
emulator_bin=${MIXERLEAD_EMULATOR:-$TARGET_DIR/debug/mixerlead-emulator}
[ -x "$emulator_bin" ] || { echo "dist-test: no emulator at $emulator_bin (make emulator)" >&2; exit 1; }
"$emulator_bin" --port 0 > "$work/emulator.out" 2>&1 &
pids=($!)
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 250); do grep -q listening "$work/emulator.out" && break; sleep 0.02; done
base=$(awk '/listening/ {print $NF}' "$work/emulator.out")
ROOT_URL=${base%/api}
export ROOT_URL
echo "dist-test: emulator at $ROOT_URL"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- a local package index holding every wheel and the sdist
start_index() {
  local tools=$TARGET_DIR/dist-test-tools
  if [ ! -x "$tools/bin/pypi-server" ]; then
    python3 -m venv "$tools"
    "$tools/bin/pip" install -q --disable-pip-version-check "pypiserver==2.4.2"
  fi
  INDEX_PORT=$(free_port)
  "$tools/bin/pypi-server" run -i 127.0.0.1 -p "$INDEX_PORT" --disable-fallback "$ML_ROOT/dist/python" \
    > "$work/index.log" 2>&1 &
  pids+=($!)
  INDEX_URL=http://127.0.0.1:$INDEX_PORT/simple/
  for _ in $(seq 100); do curl -fsS "$INDEX_URL" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "${INDEX_URL}mixerlead/" | grep -o 'mixerlead-[^"#<]*' | sort -u | sed 's/^/  index holds /'
  export INDEX_URL INDEX_PORT
}

# A virtualenv's python (bin/ on POSIX, Scripts/ on Windows).
venv_python() { if [ -d "$1/Scripts" ]; then echo "$1/Scripts/python"; else echo "$1/bin/python"; fi; }

# The wheel pip picked, from the installed dist-info's WHEEL file.
installed_tag() {
  "$1" -c 'import importlib.metadata as m; print(" ".join(l.split(": ",1)[1] for l in m.distribution("mixerlead").read_text("WHEEL").splitlines() if l.startswith("Tag:")))'
}

python_wheel() {
  local venv=$work/py-wheel py tag
  python3 -m venv "$venv"
  py=$(venv_python "$venv")
  "$py" -m pip install -q --disable-pip-version-check --index-url "$INDEX_URL" --only-binary mixerlead "mixerlead==$version"
  tag=$(installed_tag "$py")
  echo "  pip picked: $tag"
  # shellcheck disable=SC2053 # expect_tag is a pattern
  [[ "$tag" == *$expect_tag* ]] || { echo "  expected the $expect_tag wheel" >&2; return 1; }
  (cd "$work" && "$py" "$ML_ROOT/packaging/smoke/smoke.py" "$ROOT_URL")
  "$py" -c 'import mixerlead, os; d = os.path.dirname(mixerlead.__file__); print("  installed size: %d KiB" % (sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs) // 1024))' 
}

# The sdist built from source by pip (maturin from PyPI as its build backend), then the suite.
python_sdist() {
  local venv=$work/py-sdist sdist py
  sdist=$(ls "$ML_ROOT"/dist/python/mixerlead-"$version".tar.gz)
  python3 -m venv "$venv"
  py=$(venv_python "$venv")
  # From source for real: cargo builds in pip's own temporary folder, not in this target/.
  env -u CARGO_TARGET_DIR "$py" -m pip install -q --disable-pip-version-check --no-cache-dir --no-binary mixerlead "$sdist"
  echo "  built and installed: $(installed_tag "$py")"
  "$py" -m pip install -q --disable-pip-version-check pytest "pytest-asyncio>=1.4" "uvloop; sys_platform != 'win32'"
  (cd "$work" && "$py" "$ML_ROOT/packaging/smoke/smoke.py" "$ROOT_URL")
  (cd "$ML_ROOT/tests/python" && MIXERLEAD_EMULATOR=$emulator_bin "$py" -m pytest -q -p no:cacheprovider)
}

unpack_c() { # unpack_c TARGET -> prints the unpacked prefix
  local t=$1 dir
  dir=$work/c/$t
  mkdir -p "$dir"
  tar -xzf "$ML_ROOT/dist/c/mixerlead-$version-$t.tar.gz" -C "$dir"
  echo "$dir/mixerlead-$version-$t"
}

# Whether a program loads the shared libmixerlead (NEEDED / load command); Windows: not checked.
links_shared() {
  case "$HOST_TARGET" in
    *-linux-*) readelf -d "$1" | grep -q 'NEEDED.*libmixerlead\.so\.0' ;;
    *-apple-darwin) otool -L "$1" | grep -q 'libmixerlead\.0\.dylib' ;;
    *) [ "$2" = shared ] ;;
  esac
}
expect_link() { # FILE shared|static
  if links_shared "$1" "$2"; then
    [ "$2" = shared ] || { echo "  linked to the shared library" >&2; return 1; }
  else
    [ "$2" = static ] || { echo "  not linked to the shared library" >&2; return 1; }
  fi
}

c_pkg_config() { # shared|static
  local prefix out=$work/c/smoke-pkgconfig-$1
  prefix=$(unpack_c "$HOST_TARGET")
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  [ "$(pkg-config --modversion mixerlead)" = "$version" ]
  if [ "$1" = shared ]; then
    cc -std=c11 -Wall -Werror packaging/smoke/smoke.c $(pkg-config --cflags --libs mixerlead) -Wl,-rpath,"$prefix/lib" -o "$out"
  else
    # The archive named first, then what pkg-config --static adds (its -lmixerlead would pick
    # the shared library).
    cc -std=c11 -Wall -Werror packaging/smoke/smoke.c $(pkg-config --cflags mixerlead) "$prefix/lib/libmixerlead.a" \
      $(pkg-config --libs --static mixerlead | tr ' ' '\n' | grep -vx -- -lmixerlead | paste -sd' ' -) -o "$out"
  fi
  expect_link "$out" "$1"
  "$out" "$ROOT_URL"
}

c_cmake() { # shared|static
  local prefix build=$work/c/cmake-$1 static=OFF exe
  prefix=$(unpack_c "$HOST_TARGET")
  [ "$1" = static ] && static=ON
  cmake -S packaging/smoke -B "$build" -DCMAKE_PREFIX_PATH="$prefix" -DMIXERLEAD_USE_STATIC=$static -DCMAKE_BUILD_TYPE=Release > "$build.log"
  cmake --build "$build" --config Release >> "$build.log"
  exe=$build/smoke
  [ -x "$exe" ] || exe=$build/Release/smoke.exe # Visual Studio's multi-config layout
  expect_link "$exe" "$1"
  PATH=$prefix/bin:$PATH "$exe" "$ROOT_URL" # Windows finds mixerlead.dll on PATH
}

c_musl_static() { # TARGET: smoke linked statically against the musl archive, run natively or by qemu
  local t=$1 prefix out zt run=()
  prefix=$(unpack_c "$t")
  zt=${t%%-*}-linux-musl
  out=$work/c/smoke-static-$t
  # The archive, then the system libraries pkg-config --static names (-lgcc_s: zig's libunwind).
  "$ZIG" cc -target "$zt" -static -O2 -std=c11 $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags mixerlead) \
    packaging/smoke/smoke.c "$prefix/lib/libmixerlead.a" \
    $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --libs-only-l --static mixerlead | tr ' ' '\n' | grep -vx -- -lmixerlead | paste -sd' ' -) -o "$out"
  if readelf -l "$out" | grep -q INTERP; then echo "  not static: it has a dynamic loader" >&2; return 1; fi
  case "$t" in
    "$arch"-*) ;;
    aarch64-*) need_tools qemu-aarch64:qemu-user; run=(qemu-aarch64) ;;
  esac
  "${run[@]}" "$out" "$ROOT_URL"
}

c_windows_wine() { # the windows-gnu archive: smoke cross-built by zig cc against the DLL, run by wine
  local t=x86_64-pc-windows-gnu prefix out=$work/c/win
  prefix=$(unpack_c "$t")
  need_tools /usr/lib/wine/wine64:wine64
  mkdir -p "$out"
  # The import library named outright: zig's linker prefers libmixerlead.a for -lmixerlead.
  "$ZIG" cc -target x86_64-windows-gnu -std=c11 -Wall -Werror packaging/smoke/smoke.c \
    $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags mixerlead) "$prefix/lib/libmixerlead.dll.a" -o "$out/smoke.exe"
  cp "$prefix/bin/mixerlead.dll" "$out/"
  # wine 8 (Debian 12) lacks bcryptprimitives.dll, which Rust's std imports: a test-only stand-in.
  "$ZIG" cc -target x86_64-windows-gnu -shared -O2 packaging/smoke/wine-bcryptprimitives.c -ladvapi32 -o "$out/bcryptprimitives.dll"
  WINEPREFIX=$TARGET_DIR/wine WINEDEBUG=-all /usr/lib/wine/wine64 "$out/smoke.exe" "$ROOT_URL"
}

if [[ "$HOST_TARGET" == *linux* ]]; then zig_tools; fi # zig cc links the musl smoke tests
if want python || want sdist || want arm64; then start_index; fi
if want python; then
  run_case "$HOST_TARGET" python "pip install from a local index (pypiserver), smoke" -- python_wheel
fi
if want sdist; then
  run_case "sdist" python "pip install --no-binary (builds from source), smoke + tests/python" -- python_sdist
fi
if want c; then
  if [[ "$HOST_TARGET" != *windows* ]]; then
    run_case "$HOST_TARGET" C "pkg-config, shared, smoke" -- c_pkg_config shared
    run_case "$HOST_TARGET" C "pkg-config --static, smoke" -- c_pkg_config static
  fi
  run_case "$HOST_TARGET" C "CMake find_package -> mixerlead::mixerlead (shared), smoke" -- c_cmake shared
  run_case "$HOST_TARGET" C "CMake find_package, MIXERLEAD_USE_STATIC=ON, smoke" -- c_cmake static
  if [[ "$HOST_TARGET" != *linux* ]]; then
    :
  elif [ "$arch" = x86_64 ]; then
    run_case x86_64-unknown-linux-musl C "zig cc -static against libmixerlead.a, smoke" -- c_musl_static x86_64-unknown-linux-musl
    run_case aarch64-unknown-linux-musl C "zig cc -static, smoke under qemu-aarch64" -- c_musl_static aarch64-unknown-linux-musl
  else
    run_case aarch64-unknown-linux-musl C "zig cc -static against libmixerlead.a, smoke" -- c_musl_static aarch64-unknown-linux-musl
  fi
fi
if want win && [ "$HOST_TARGET" = x86_64-unknown-linux-gnu ] && [ -f "dist/c/mixerlead-$version-x86_64-pc-windows-gnu.tar.gz" ]; then
  run_case x86_64-pc-windows-gnu C "zig cc against mixerlead.dll (import library), smoke under wine" -- c_windows_wine
fi
if want arm64 && [ "$HOST_TARGET" = x86_64-unknown-linux-gnu ]; then
  if [ -n "${INDEX_URL:-}" ]; then
    run_case aarch64-unknown-linux-gnu python "arm64 Debian root (debootstrap) under qemu-user: pip from the local index, smoke" \
      -- bash scripts/dist-test-arm64.sh python "$INDEX_URL"
  fi
  run_case aarch64-unknown-linux-gnu C "arm64 Debian root under qemu-user: zig cc via pkg-config (shared), smoke" \
    -- bash scripts/dist-test-arm64.sh c
fi
echo
echo "dist-test results (mixerlead $version):"
printf '  %s\n' "${results[@]}"
exit $failed
