# Sourced: puts zig (from the `ziglang` PyPI package, in the venv target/zig-tools) in reach of cargo,
# cc-rs, cargo-zigbuild and maturin, and installs that venv when it is missing.
# Callers: scripts/check-targets.sh, scripts/dist-*.sh.
ML_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ZIG_VENV=${CARGO_TARGET_DIR:-$ML_ROOT/target}/zig-tools
# One version of each, so a fresh machine gets what was measured here.
ZIG_TOOLS=("ziglang==0.15.2" "cargo-zigbuild==0.24.1" "maturin==1.16.0")

zig_tools() {
  if ! "$(venv_bin "$ZIG_VENV")/python" -c 'import ziglang' 2>/dev/null \
     || [ ! -x "$(venv_bin "$ZIG_VENV")/cargo-zigbuild" ] || [ ! -x "$(venv_bin "$ZIG_VENV")/maturin" ]; then
    echo "installing ${ZIG_TOOLS[*]} into $ZIG_VENV" >&2
    "${PYTHON:-python3}" -m venv "$ZIG_VENV"
    "$(venv_bin "$ZIG_VENV")/pip" install -q --disable-pip-version-check "${ZIG_TOOLS[@]}"
  fi
  ZIG=$(ls -d "$ZIG_VENV"/lib/python3*/site-packages/ziglang/zig "$ZIG_VENV"/Lib/site-packages/ziglang/zig.exe \
    2>/dev/null | head -n 1 || true)
  export ZIG
  # cargo-zigbuild and maturin --zig look for `python3 -m ziglang` (or ZIG_COMMAND) on PATH.
  PATH=$(venv_bin "$ZIG_VENV"):$PATH
  export PATH
}

# A virtualenv's programs: Scripts/ on Windows (the release workflow's runner), bin/ elsewhere.
venv_bin() { if [ -d "$1/Scripts" ]; then echo "$1/Scripts"; else echo "$1/bin"; fi; }

# rustup targets, added only when missing (a no-op on a warm machine).
rust_targets() {
  local installed missing=()
  installed=$(rustup target list --installed)
  for t in "$@"; do
    grep -qx "$t" <<<"$installed" || missing+=("$t")
  done
  [ ${#missing[@]} -eq 0 ] || rustup target add "${missing[@]}"
}

# CC_/AR_ variables for one Rust target: C built by zig for that target.
cross_cc() {
  local t=$1 u
  u=${t//-/_}
  export "CC_$u=$ML_ROOT/scripts/zig-cc" "CXX_$u=$ML_ROOT/scripts/zig-cc"
  case "$t" in
    *-msvc) export "AR_$u=$ML_ROOT/scripts/zig-lib" ;;
    *) export "AR_$u=$ML_ROOT/scripts/zig-ar" ;;
  esac
  # musl targets default to a static C runtime, which cannot make a cdylib (the Python and Node
  # modules, libmixerlead.so): link musl dynamically, as Alpine's own packages do. The static
  # archive libmixerlead.a is the same either way.
  case "$t" in
    *-musl) export "CARGO_TARGET_${u^^}_RUSTFLAGS=-C target-feature=-crt-static" ;;
  esac
}

TARGET_DIR=${CARGO_TARGET_DIR:-$ML_ROOT/target}
# Root here; a release runner's user gets there through sudo.
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# The Rust triple of this machine, and its OS.
HOST_TARGET=$(rustc -vV | sed -n 's/^host: //p')

# The one version every artifact carries: the workspace's (Cargo.toml [workspace.package]).
ml_version() {
  sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$ML_ROOT/Cargo.toml"
}

# Debian packages for missing commands: need_tools CMD:PACKAGE...
need_tools() {
  local missing=() spec
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null || missing+=("${spec#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "installing ${missing[*]} (Debian)" >&2
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The libraries a static link against the C archive unpacked at PREFIX needs besides
# libmixerlead.a itself, as its pkg-config file names them (-lgcc_s: zig's libunwind).
static_link_libs() {
  need_tools pkg-config:pkg-config
  PKG_CONFIG_PATH=$1/lib/pkgconfig pkg-config --libs-only-l --static mixerlead | tr ' ' '\n' | grep -vx -- -lmixerlead | paste -sd' ' -
}

# Fails, saying so, when the program FILE has a dynamic loader (it was meant to be static).
expect_static() {
  if readelf -l "$1" | grep -q INTERP; then echo "  $(basename "$1") is not static: it has a dynamic loader" >&2; return 1; fi
}

# wine64, and in DIR (beside the .exe) what wine 8 (Debian 12) lacks: bcryptprimitives.dll, which
# Rust's std imports, as a test-only stand-in built by zig. Sets WINE.
wine_ready() {
  need_tools /usr/lib/wine/wine64:wine64
  WINE=/usr/lib/wine/wine64
  "$ZIG" cc -target x86_64-windows-gnu -shared -O2 "$ML_ROOT/packaging/smoke/wine-bcryptprimitives.c" -ladvapi32 \
    -o "$1/bcryptprimitives.dll"
}

# The musl rule of cross_cc alone (cargo-zigbuild and maturin set the C compiler themselves).
cross_rustflags() {
  local u=${1//-/_}
  case "$1" in
    *-musl) export "CARGO_TARGET_${u^^}_RUSTFLAGS=-C target-feature=-crt-static" ;;
  esac
}

# A release build as shipped: no debug info, symbols stripped (the workspace profile keeps line
# tables for `make bench`; these override it for the command alone).
release_env() {
  CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols "$@"
}

soname_of() {
  readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p'
}

# Debug sections out of a static archive, in place: rust-objcopy (llvm-objcopy, shipped with
# rustc) reads archives of every architecture; Debian's strip knows only the host's.
strip_archive() {
  local sysroot objcopy
  sysroot=$(rustc --print sysroot)
  objcopy=$(ls "$sysroot"/lib/rustlib/*/bin/rust-objcopy | head -n 1)
  LD_LIBRARY_PATH=$sysroot/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$objcopy" --strip-debug "$1"
}

# The checks a C archive passes before it is packed (scripts/check-binary.py).
check_c_archive() {
  local t=$1 stage=$2 so
  for so in "$stage"/lib/*.so.*; do
    [ -f "$so" ] && [ ! -L "$so" ] || continue
    python3 "$ML_ROOT/scripts/check-binary.py" --target "$t" --exports '^ml_' "$so"
  done
}

# A tar.gz that is the same bytes for the same inputs (owner, order, times from the commit).
tar_reproducible() {
  local file=$1; shift
  local epoch
  epoch=$(git -C "$ML_ROOT" log -1 --format=%ct 2>/dev/null || echo 0)
  if tar --version 2>/dev/null | grep -q GNU; then
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -cf - "$@" | gzip -n -9 > "$file"
  else # bsdtar (macOS): the same contents, not byte-reproducible
    tar -cf - "$@" | gzip -n -9 > "$file"
  fi
}
