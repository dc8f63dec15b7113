#!/usr/bin/env bash
# The npm packages into dist/npm/, in napi-rs' shape:
#   mixerlead-<version>.tgz                 the main package: the JS, the .d.ts, the loader; every
#                                           platform package in dist/npm/ an exact-version
#                                           optionalDependency
#   mixerlead-<platform>-<version>.tgz      @mixerlead/<platform>: os/cpu/libc fields and the addon
#                                           alone (mixerlead.<platform>.node)
# The addon is release-built per target without debug info: Linux cross-linked by cargo-zigbuild
# (glibc 2.17 on -gnu, as the manylinux2014 wheels), macOS and Windows (-msvc) natively on their
# own runners. Each Linux addon passes scripts/check-binary.py (only the Node-API entry points
# exported, no unexpected shared library, the glibc floor); each package is <= 3 MB packed and its
# addon <= 6 MB, or the script fails.
#
#   scripts/dist-node.sh [TARGET...]   default: x86_64/aarch64 Linux, glibc and musl
# With DIST_TARGETS on several runners, the main package of the last run lists what dist/npm/
# holds by then: the release workflow gathers every runner's platform packages first and runs
# `scripts/dist-node.sh --main-only` to write it.
set -euo pipefail
. "$(dirname "$0")/cross-env.sh"
cd "$ML_ROOT"

TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
main_only=
if [ "${1:-}" = --main-only ]; then main_only=1 TARGETS=(); elif [ $# -gt 0 ]; then TARGETS=("$@"); fi
version=$(ml_version)
out=$ML_ROOT/dist/npm
stage=$TARGET_DIR/dist-stage/npm
max_packed=3000000 max_addon=6000000
mkdir -p "$out"
rm -rf "$stage" && mkdir -p "$stage"

# The platform package's name (the loader's names) and the addon cargo writes, per Rust target.
npm_platform() {
  case "$1" in
    x86_64-unknown-linux-gnu) echo linux-x64-gnu ;;
    aarch64-unknown-linux-gnu) echo linux-arm64-gnu ;;
    x86_64-unknown-linux-musl) echo linux-x64-musl ;;
    aarch64-unknown-linux-musl) echo linux-arm64-musl ;;
    x86_64-apple-darwin) echo darwin-x64 ;;
    aarch64-apple-darwin) echo darwin-arm64 ;;
    x86_64-pc-windows-msvc) echo win32-x64-msvc ;;
    *) echo "dist-node: no npm package for $1 (on Windows the addon ships for -msvc only)" >&2; return 2 ;;
  esac
}
addon_file() {
  case "$1" in
    *-linux-*) echo "$TARGET_DIR/$1/release/libmixerlead_node.so" ;;
    *-apple-darwin) echo "$TARGET_DIR/$1/release/libmixerlead_node.dylib" ;;
    *-windows-*) echo "$TARGET_DIR/$1/release/mixerlead_node.dll" ;;
  esac
}

# npm pack into dist/npm/, then the size rule; prints nothing but npm's own notice on failure.
pack() { # DIR
  local file size
  file=$(cd "$out" && npm pack --silent "$1" | tail -n 1)
  size=$(wc -c < "$out/$file")
  echo "dist-node: dist/npm/$file ($((size / 1024)) KiB packed)"
  [ "$size" -le $max_packed ] || { echo "dist-node: $file is $size bytes > $max_packed" >&2; return 1; }
}

[ ${#TARGETS[@]} -eq 0 ] || rust_targets "${TARGETS[@]}"
case " ${TARGETS[*]}" in *linux*) zig_tools ;; esac

for t in "${TARGETS[@]}"; do
  started=$SECONDS
  name=$(npm_platform "$t")
  cross_rustflags "$t"
  case "$t" in
    *-linux-gnu) build=(cargo-zigbuild build --target "$t.2.17") ;;
    *-linux-musl) build=(cargo-zigbuild build --target "$t") ;;
    *) build=(cargo build --target "$t") ;; # macOS, -msvc: on their own runners
  esac
  release_env "${build[@]}" --release --locked -p mixerlead-node
  addon=$(addon_file "$t")
  case "$t" in
    *-linux-*)
      python3 scripts/check-binary.py --target "$t" \
        --exports '^(napi_register_module_v1|node_api_module_get_api_version_v1)$' "$addon" ;;
  esac
  size=$(wc -c < "$addon")
  [ "$size" -le $max_addon ] || { echo "dist-node: $addon is $size bytes > $max_addon installed" >&2; exit 1; }
  rm -f "$out/mixerlead-$name-$version.tgz"
  node bindings-node/npm/package.js platform "$name" "$addon" "$stage/$name"
  pack "$stage/$name"
  echo "dist-node: @mixerlead/$name from $t in $((SECONDS - started)) s"
done

# The main package lists every platform package of this version that dist/npm/ holds.
names=()
for f in "$out"/mixerlead-*-"$version".tgz; do
  [ -e "$f" ] || continue
  f=${f##*/mixerlead-}
  names+=("${f%-"$version".tgz}")
done
[ ${#names[@]} -gt 0 ] || { echo "dist-node: no platform package in $out" >&2; exit 1; }
rm -f "$out/mixerlead-$version.tgz"
node bindings-node/npm/package.js main "$stage/main" "${names[@]}"
pack "$stage/main"
echo "dist-node: mixerlead $version, optionalDependencies: ${names[*]/#/@mixerlead/}"
