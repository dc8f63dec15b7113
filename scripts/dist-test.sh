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
#           cross-built by zig cc through pkg-config, and the C test suite, run under wine.
#   npm     a local npm registry (verdaccio, installed under target/) holding every package of
#           dist/npm/: npm install mixerlead into a scratch project must bring this platform's
#           package, and only it, through optionalDependencies; then bindings-node/npm/smoke.cjs
#           (and mixerlead/testing); with the platform package removed, require('mixerlead') must
#           fail naming it. npm install --os/--cpu/--libc for the other Linux rows must pick theirs;
#           with arm64, the arm64 glibc install runs the smoke test in the arm64 root.
#
#   scripts/dist-test.sh [python] [sdist] [c] [npm] [arm64] [win]     default: all of them
set -euo pipefail
. "$(dirname "$0")/cross-env.sh"
cd "$ML_ROOT"

PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(python sdist c npm arm64 win)
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
  if [ ! -x "$(venv_bin "$tools")/pypi-server" ]; then
    python3 -m venv "$tools"
    "$(venv_bin "$tools")/pip" install -q --disable-pip-version-check "pypiserver==2.4.2"
  fi
  INDEX_PORT=$(free_port)
  "$(venv_bin "$tools")/pypi-server" run -i 127.0.0.1 -p "$INDEX_PORT" --disable-fallback "$ML_ROOT/dist/python" \
    > "$work/index.log" 2>&1 &
  pids+=($!)
  INDEX_URL=http://127.0.0.1:$INDEX_PORT/simple/
  for _ in $(seq 100); do curl -fsS "$INDEX_URL" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS "${INDEX_URL}mixerlead/" | grep -o 'mixerlead-[^"#<]*' | sort -u | sed 's/^/  index holds /'
  export INDEX_URL INDEX_PORT
}

# The wheel pip picked, from the installed dist-info's WHEEL file.
installed_tag() {
  "$1" -c 'import importlib.metadata as m; print(" ".join(l.split(": ",1)[1] for l in m.distribution("mixerlead").read_text("WHEEL").splitlines() if l.startswith("Tag:")))'
}

python_wheel() {
  local venv=$work/py-wheel py tag
  python3 -m venv "$venv"
  py=$(venv_bin "$venv")/python
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
  py=$(venv_bin "$venv")/python
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
  need_tools pkg-config:pkg-config
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
  need_tools cmake:cmake
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
  "$ZIG" cc -target "$zt" -static -O2 -std=c11 $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags mixerlead) \
    packaging/smoke/smoke.c "$prefix/lib/libmixerlead.a" $(static_link_libs "$prefix") -o "$out"
  expect_static "$out"
  case "$t" in
    "$arch"-*) ;;
    aarch64-*) need_tools qemu-aarch64:qemu-user; run=(qemu-aarch64) ;;
  esac
  "${run[@]}" "$out" "$ROOT_URL"
}

c_windows_wine() { # the windows-gnu archive: smoke cross-built by zig cc against the DLL, run by wine
  local t=x86_64-pc-windows-gnu prefix out=$work/c/win
  prefix=$(unpack_c "$t")
  mkdir -p "$out"
  wine_ready "$out"
  # The import library named outright: zig's linker prefers libmixerlead.a for -lmixerlead.
  "$ZIG" cc -target x86_64-windows-gnu -std=c11 -Wall -Werror packaging/smoke/smoke.c \
    $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags mixerlead) "$prefix/lib/libmixerlead.dll.a" -o "$out/smoke.exe"
  cp "$prefix/bin/mixerlead.dll" "$out/"
  WINEPREFIX=$TARGET_DIR/wine WINEDEBUG=-all "$WINE" "$out/smoke.exe" "$ROOT_URL"
}

c_suite_cross() { # TARGET: the C and C++ suites against that archive, under wine or statically linked
  bash tests/c/run-cross.sh "$1" "$(unpack_c "$1")"
}

# --- a local npm registry holding every package of dist/npm/
# verdaccio 6.8.0, pinned, with node-fetch 2.7.0 (the version 6.8.0 resolves to fails offline).
start_registry() {
  local tools=$TARGET_DIR/dist-test-npm store=$work/npm-registry port token f
  if [ ! -x "$tools/node_modules/.bin/verdaccio" ]; then
    mkdir -p "$tools"
    cat > "$tools/package.json" <<'JSON'
{ "name": "mixerlead-dist-test-registry", "private": true,
  "dependencies": { "verdaccio": "6.8.0" }, "overrides": { "node-fetch": "2.7.0" } }
JSON
    (cd "$tools" && npm install --silent --no-audit --no-fund)
  fi
  mkdir -p "$store"
  cat > "$store/config.yaml" <<YAML
storage: $store/storage
auth: { htpasswd: { file: $store/htpasswd } }
uplinks: {}
packages: { '**': { access: \$all, publish: \$authenticated } }
log: { type: stdout, format: pretty, level: warn }
YAML
  port=$(free_port)
  REGISTRY=http://127.0.0.1:$port/
  "$tools/node_modules/.bin/verdaccio" --config "$store/config.yaml" --listen "127.0.0.1:$port" > "$work/registry.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fsS "${REGISTRY}-/ping" >/dev/null 2>&1 && break; sleep 0.2; done
  token=$(curl -fsS -X PUT -H 'content-type: application/json' -d '{"name":"dist-test","password":"dist-test-1"}' \
    "${REGISTRY}-/user/org.couchdb.user:dist-test" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).token))')
  NPMRC=$work/npmrc
  printf 'registry=%s\n//127.0.0.1:%s/:_authToken=%s\n' "$REGISTRY" "$port" "$token" > "$NPMRC"
  for f in "$ML_ROOT"/dist/npm/*-"$version".tgz; do
    npm publish --silent --userconfig "$NPMRC" --cache "$work/npm-cache" "$f" >/dev/null
    echo "  registry holds $(basename "$f")"
  done
  export REGISTRY NPMRC
}

# npm install mixerlead into a fresh scratch project; extra flags (--os/--cpu/--libc) to install
# for another platform.
npm_install() { # DIR [FLAGS...]
  local dir=$1; shift
  rm -rf "$dir" && mkdir -p "$dir"
  echo '{ "name": "mixerlead-dist-test", "private": true }' > "$dir/package.json"
  (cd "$dir" && npm install --silent --no-audit --no-fund --userconfig "$NPMRC" --cache "$work/npm-cache" "$@" "mixerlead@$version")
}

# The platform packages an install brought must be exactly EXPECTED.
expect_platform_packages() { # DIR EXPECTED
  local got
  got=$(ls "$1/node_modules/@mixerlead" 2>/dev/null | paste -sd' ' -)
  echo "  optionalDependencies brought: @mixerlead/{${got}}"
  [ "$got" = "$2" ] || { echo "  expected @mixerlead/$2 alone" >&2; return 1; }
}

npm_host() {
  local dir=$work/npm/host
  npm_install "$dir"
  expect_platform_packages "$dir" "$NPM_HOST_PLATFORM"
  cp bindings-node/npm/smoke.cjs "$dir/"
  (cd "$dir" && node smoke.cjs "$ROOT_URL")
  echo "  installed size: $(du -sk "$dir/node_modules/mixerlead" "$dir/node_modules/@mixerlead" | awk '{s+=$1} END {print s}') KiB"
}

# Without its platform package, require('mixerlead') fails naming the package it looked for.
npm_missing() {
  local dir=$work/npm/host out
  rm -rf "$dir/node_modules/@mixerlead/$NPM_HOST_PLATFORM"
  if out=$(cd "$dir" && node -e "require('mixerlead')" 2>&1); then
    echo "  require('mixerlead') succeeded without @mixerlead/$NPM_HOST_PLATFORM" >&2; return 1
  fi
  grep -m1 'mixerlead:' <<<"$out" | sed 's/^/  /'
  grep -q "the package @mixerlead/$NPM_HOST_PLATFORM is not installed" <<<"$out"
  grep -q "for ${NPM_HOST_PLATFORM%-*}" <<<"$out"
}

npm_row() { # the Rust target of a Linux platform package
  local name=$1 arch libc
  arch=$(cut -d- -f2 <<<"$name"); [ "$arch" = x64 ] && arch=x86_64 || arch=aarch64
  libc=$(cut -d- -f3 <<<"$name")
  echo "$arch-unknown-linux-$libc"
}

npm_other() { # PLATFORM: npm install for another Linux row picks its package
  local name=$1 cpu libc
  cpu=$(cut -d- -f2 <<<"$name")
  libc=$(cut -d- -f3 <<<"$name"); [ "$libc" = gnu ] && libc=glibc
  npm_install "$work/npm/$name" --os=linux --cpu="$cpu" --libc="$libc"
  expect_platform_packages "$work/npm/$name" "$name"
}

if [[ "$HOST_TARGET" == *linux* ]]; then zig_tools; fi # zig cc links the musl smoke tests
if want python || want sdist || want arm64; then start_index; fi
if want npm || want arm64 && [ -d dist/npm ]; then start_registry; fi
if want npm; then
  case "$HOST_TARGET" in
    x86_64-unknown-linux-gnu) NPM_HOST_PLATFORM=linux-x64-gnu ;;
    aarch64-unknown-linux-gnu) NPM_HOST_PLATFORM=linux-arm64-gnu ;;
    aarch64-apple-darwin) NPM_HOST_PLATFORM=darwin-arm64 ;;
    x86_64-apple-darwin) NPM_HOST_PLATFORM=darwin-x64 ;;
    x86_64-pc-windows-msvc) NPM_HOST_PLATFORM=win32-x64-msvc ;;
    *) NPM_HOST_PLATFORM= ;;
  esac
  if [ -n "$NPM_HOST_PLATFORM" ]; then
    run_case "$HOST_TARGET" node "npm install from a local registry (verdaccio): optionalDependencies, smoke" -- npm_host
    run_case "$HOST_TARGET" node "the platform package removed: the loader's error names it" -- npm_missing
    for other in linux-x64-gnu linux-arm64-gnu linux-x64-musl linux-arm64-musl; do
      # Where dist/npm/ holds them (on macOS and Windows runners it holds their own package only).
      [ "$other" = "$NPM_HOST_PLATFORM" ] || [ ! -f "dist/npm/mixerlead-$other-$version.tgz" ] && continue
      run_case "$(npm_row "$other")" node "npm install --os/--cpu/--libc: @mixerlead/$other alone arrives" -- npm_other "$other"
    done
  fi
fi
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
    run_case x86_64-unknown-linux-musl C "the C and C++ suites linked statically by zig (tests/c/run-cross.sh)" -- c_suite_cross x86_64-unknown-linux-musl
    run_case aarch64-unknown-linux-musl C "zig cc -static, smoke under qemu-aarch64" -- c_musl_static aarch64-unknown-linux-musl
  else
    run_case aarch64-unknown-linux-musl C "zig cc -static against libmixerlead.a, smoke" -- c_musl_static aarch64-unknown-linux-musl
  fi
fi
if want win && [ "$HOST_TARGET" = x86_64-unknown-linux-gnu ] && [ -f "dist/c/mixerlead-$version-x86_64-pc-windows-gnu.tar.gz" ]; then
  run_case x86_64-pc-windows-gnu C "zig cc against mixerlead.dll (import library), smoke under wine" -- c_windows_wine
  run_case x86_64-pc-windows-gnu C "the C and C++ suites cross-built by zig, under wine (tests/c/run-cross.sh)" -- c_suite_cross x86_64-pc-windows-gnu
fi
if want arm64 && [ "$HOST_TARGET" = x86_64-unknown-linux-gnu ]; then
  if [ -n "${INDEX_URL:-}" ]; then
    run_case aarch64-unknown-linux-gnu python "arm64 Debian root (debootstrap) under qemu-user: pip from the local index, smoke" \
      -- bash scripts/dist-test-arm64.sh python "$INDEX_URL"
  fi
  run_case aarch64-unknown-linux-gnu C "arm64 Debian root under qemu-user: zig cc via pkg-config (shared), smoke" \
    -- bash scripts/dist-test-arm64.sh c
  if [ -n "${NPMRC:-}" ]; then
    run_case aarch64-unknown-linux-gnu node "arm64 Debian root under qemu-user: npm install for linux/arm64 from the local registry, smoke" \
      -- bash scripts/dist-test-arm64.sh npm
  fi
fi
echo
echo "dist-test results (mixerlead $version):"
printf '  %s\n' "${results[@]}"
exit $failed
