#!/usr/bin/env bash
# Part of `make dist-test`: the Linux arm64 glibc row, run under qemu-user in an arm64 Debian root.
#   - the root: debootstrap (Debian's packages; minbase + python3-venv), kept in target/arm64-root
#   - qemu: Debian's qemu-user-static, registered with binfmt_misc (flag F, so it runs in a chroot)
#   - Python: a fresh venv in the root, pip install mixerlead from the local index INDEX_URL
#     (pip must pick the manylinux2014 aarch64 wheel), then packaging/smoke/smoke.py
#   - C: packaging/smoke/smoke.c cross-built by zig cc through pkg-config against the aarch64 glibc
#     archive unpacked in the root, run there (the root's glibc, the archive's libmixerlead.so.0)
#   - npm: npm install mixerlead from the local registry (NPMRC) for linux/arm64/glibc, into the
#     root (npm runs on the host: Debian's arm64 npm under qemu takes minutes); only
#     @mixerlead/linux-arm64-gnu must arrive; then bindings-node/npm/smoke.cjs under the root's
#     Node.js (Debian's nodejs, installed into the root once)
#
#   scripts/dist-test-arm64.sh python INDEX_URL | c | npm     (ROOT_URL: the emulator's root, from dist-test.sh)
set -euo pipefail
. "$(dirname "$0")/cross-env.sh"
cd "$ML_ROOT"
part=${1:?python INDEX_URL, c or npm}
INDEX_URL=${2:-}
: "${ROOT_URL:?the emulator root (scripts/dist-test.sh sets it)}"
version=$(ml_version)
root=$TARGET_DIR/arm64-root
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

need_tools debootstrap:debootstrap qemu-aarch64-static:qemu-user-static

# binfmt_misc: aarch64 ELF files run by qemu-aarch64-static, opened now (F) so chroots see it.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  $SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  magic='\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00'
  mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
  echo ":qemu-aarch64:M::$magic:$mask:$(command -v qemu-aarch64-static):F" | $SUDO tee /proc/sys/fs/binfmt_misc/register >/dev/null
fi

if [ ! -e "$root/.mixerlead-root-ok" ]; then
  $SUDO rm -rf "$root"
  echo "dist-test-arm64: debootstrap $suite arm64 into $root (a few minutes under qemu)"
  $SUDO debootstrap --arch=arm64 --variant=minbase --include=python3-venv "$suite" "$root" "$mirror" > "$TARGET_DIR/arm64-root.log" 2>&1 \
    || { tail -20 "$TARGET_DIR/arm64-root.log" >&2; exit 1; }
  $SUDO touch "$root/.mixerlead-root-ok"
fi

mounted=()
cleanup() { for m in "${mounted[@]}"; do $SUDO umount "$m" 2>/dev/null || $SUDO umount -l "$m" 2>/dev/null || true; done; }
trap cleanup EXIT
for m in proc dev; do
  if ! mountpoint -q "$root/$m"; then
    if [ $m = proc ]; then $SUDO mount -t proc proc "$root/proc"; else $SUDO mount --bind /dev "$root/dev"; fi
    mounted+=("$root/$m")
  fi
done
in_root() { $SUDO chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
[ "$(in_root uname -m)" = aarch64 ]

work=/tmp/mixerlead-dist-test
$SUDO rm -rf "${root:?}$work" && $SUDO mkdir -p "$root$work"
$SUDO cp packaging/smoke/smoke.py "$root$work/"

if [ "$part" = python ]; then
  echo "dist-test-arm64: Python $(in_root python3 -c 'import sys; print(sys.version.split()[0])') in the arm64 root"
  in_root python3 -m venv "$work/venv"
  in_root "$work/venv/bin/pip" install -q --disable-pip-version-check --index-url "$INDEX_URL" --only-binary mixerlead "mixerlead==$version"
  tag=$(in_root "$work/venv/bin/python" -c 'import importlib.metadata as m; print(" ".join(l.split(": ",1)[1] for l in m.distribution("mixerlead").read_text("WHEEL").splitlines() if l.startswith("Tag:")))')
  echo "  pip picked: $tag"
  [[ "$tag" == *manylinux2014_aarch64* ]] || { echo "  expected the manylinux2014_aarch64 wheel" >&2; exit 1; }
  (cd "$root$work" && in_root sh -c "cd $work && $work/venv/bin/python smoke.py $ROOT_URL")
fi

t=aarch64-unknown-linux-gnu
archive=$ML_ROOT/dist/c/mixerlead-$version-$t.tar.gz
if [ "$part" = c ]; then
  zig_tools
  $SUDO tar -xzf "$archive" -C "$root/opt"
  prefix=/opt/mixerlead-$version-$t
  export PKG_CONFIG_PATH=$root$prefix/lib/pkgconfig
  "$ZIG" cc -target aarch64-linux-gnu.2.17 -std=c11 -Wall -Werror packaging/smoke/smoke.c \
    $(pkg-config --cflags --libs mixerlead) -Wl,-rpath,"$prefix/lib" -o "$TARGET_DIR/smoke-c-arm64"
  $SUDO cp "$TARGET_DIR/smoke-c-arm64" "$root$work/smoke-c"
  in_root "$work/smoke-c" "$ROOT_URL"
fi
if [ "$part" = npm ]; then
  : "${NPMRC:?the npmrc of the local registry (scripts/dist-test.sh sets it)}"
  if [ ! -e "$root/.mixerlead-nodejs-ok" ]; then
    echo "dist-test-arm64: apt-get install nodejs in the arm64 root (a few minutes under qemu)"
    $SUDO cp /etc/resolv.conf "$root/etc/resolv.conf"
    in_root sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs' \
      > "$TARGET_DIR/arm64-root-nodejs.log" 2>&1 || { tail -20 "$TARGET_DIR/arm64-root-nodejs.log" >&2; exit 1; }
    $SUDO touch "$root/.mixerlead-nodejs-ok"
  fi
  dir=$root$work/npm
  $SUDO mkdir -p "$dir"
  echo '{ "name": "mixerlead-dist-test", "private": true }' | $SUDO tee "$dir/package.json" >/dev/null
  (cd "$dir" && $SUDO npm install --silent --no-audit --no-fund --userconfig "$NPMRC" --cache "$TARGET_DIR/dist-test/npm-cache" \
    --os=linux --cpu=arm64 --libc=glibc "mixerlead@$version")
  got=$(ls "$dir/node_modules/@mixerlead" | paste -sd' ' -)
  echo "  optionalDependencies brought: @mixerlead/{$got}"
  [ "$got" = linux-arm64-gnu ] || { echo "  expected @mixerlead/linux-arm64-gnu alone" >&2; exit 1; }
  $SUDO cp bindings-node/npm/smoke.cjs "$dir/"
  in_root sh -c "cd $work/npm && node smoke.cjs $ROOT_URL"
fi
echo "dist-test-arm64: $part ok"
