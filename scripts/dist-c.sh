#!/usr/bin/env bash
# The C library's archives, one per target, into dist/c/mixerlead-<version>-<target>.tar.gz:
#   include/mixerlead.h, mixerlead.hpp
#   Linux:   lib/libmixerlead.so.<version>, libmixerlead.so.0 (the SONAME), libmixerlead.so
#   macOS:   lib/libmixerlead.0.dylib (install name @rpath/libmixerlead.0.dylib), libmixerlead.dylib
#   Windows: bin/mixerlead.dll + its import library lib/mixerlead.lib (-msvc) or
#            lib/libmixerlead.dll.a (-gnu)
#   lib/libmixerlead.a (mixerlead_static.lib on -msvc): the static library
#   lib/pkgconfig/mixerlead.pc                      (relocatable: ${pcfiledir})
#   lib/cmake/mixerlead/mixerlead-config.cmake      (find_package(mixerlead CONFIG): mixerlead::mixerlead)
#   lib/cmake/mixerlead/mixerlead-config-version.cmake
#   LICENSE-MIT, LICENSE-APACHE
# Release builds without debug info. Linux and windows-gnu are cross-linked by cargo-zigbuild
# (glibc 2.17 on -gnu, so the library loads wherever a manylinux2014 wheel does); macOS and
# -msvc build natively on their own runners (the release workflow).
#
#   scripts/dist-c.sh [TARGET...]   default: x86_64/aarch64 Linux, glibc and musl
set -euo pipefail
. "$(dirname "$0")/cross-env.sh"
cd "$ML_ROOT"

TARGETS=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl)
[ $# -gt 0 ] && TARGETS=("$@")
version=$(ml_version)
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
out=$ML_ROOT/dist/c
mkdir -p "$out"

rust_targets "${TARGETS[@]}"
case " ${TARGETS[*]}" in *linux*|*windows-gnu*) zig_tools ;; esac

# The functions the library exports, from the header: the .def of a Windows import library.
exports_def() {
  echo "LIBRARY mixerlead.dll"
  echo "EXPORTS"
  grep -oE '\bml_[a-z0-9_]+\(' include/mixerlead.h | tr -d '(' | sort -u | sed 's/^/  /'
}

# The static library's link interface for CMake, from rustc's list: -lfoo and foo.lib become foo,
# "-framework X" stays one item, and pthread / dl become Threads::Threads / ${CMAKE_DL_LIBS}.
cmake_deps() {
  local deps=()
  while [ $# -gt 0 ]; do
    case "$1" in
      -framework) deps+=("-framework $2"); shift ;;
      -lpthread) deps+=("Threads::Threads") ;;
      -ldl) deps+=('${CMAKE_DL_LIBS}') ;;
      -l*) deps+=("${1#-l}") ;;
      *.lib) deps+=("${1%.lib}") ;;
      *) deps+=("$1") ;;
    esac
    shift
  done
  (IFS=';'; echo "${deps[*]}")
}

for t in "${TARGETS[@]}"; do
  started=$SECONDS
  cross_rustflags "$t"
  case "$t" in
    *-linux-gnu) build=(cargo-zigbuild rustc --target "$t.2.17") ;;
    *-linux-musl | *-windows-gnu) build=(cargo-zigbuild rustc --target "$t") ;;
    *) build=(cargo rustc --target "$t") ;; # macOS, -msvc: on their own runners
  esac
  # rustc prints the system libraries a static link needs (pkg-config's Libs.private, CMake's
  # link interface); cargo replays the note when the build is fresh.
  mkdir -p "$TARGET_DIR/dist-stage"
  log=$TARGET_DIR/dist-stage/build-$t.log
  release_env "${build[@]}" --release --locked -p mixerlead-c --lib -- --print=native-static-libs 2>&1 | tee "$log" >&2
  native=$(sed -n 's/.*native-static-libs: //p' "$log" | tail -n 1)
  [ -n "$native" ] || { echo "dist-c: rustc printed no native-static-libs for $t" >&2; exit 1; }
  built=$TARGET_DIR/$t/release
  name=mixerlead-$version-$t
  stage=$TARGET_DIR/dist-stage/$name
  rm -rf "$stage" && mkdir -p "$stage/include" "$stage/lib/pkgconfig" "$stage/lib/cmake/mixerlead"
  install -m 644 include/mixerlead.h include/mixerlead.hpp "$stage/include/"
  install -m 644 LICENSE-MIT LICENSE-APACHE "$stage/"
  soname= implib=
  # -lc and the MSVC runtime come with every C compiler; the rest are the static link's needs.
  libs_private=$(tr ' ' '\n' <<<"$native" | grep -vxE -- '-lc|msvcrt\.lib|/defaultlib:msvcrt|' | paste -sd' ' -)
  static_deps=$(cmake_deps $libs_private)

  case "$t" in
    *-linux-*)
      static=lib/libmixerlead.a
      install -m 644 "$built/libmixerlead_c.a" "$stage/$static"
      real=libmixerlead.so.$version soname=libmixerlead.so.$major
      install -m 755 "$built/libmixerlead_c.so" "$stage/lib/$real"
      # The SONAME (set by bindings-c's build.rs) carries the ABI version.
      got=$(soname_of "$stage/lib/$real")
      [ "$got" = "$soname" ] || { echo "dist-c: $t: SONAME is '$got', expected $soname" >&2; exit 1; }
      ln -s "$real" "$stage/lib/$soname"
      ln -s "$soname" "$stage/lib/libmixerlead.so"
      shared=lib/$soname
      ;;
    *-apple-darwin)
      static=lib/libmixerlead.a
      install -m 644 "$built/libmixerlead_c.a" "$stage/$static"
      shared=lib/libmixerlead.$major.dylib soname=@rpath/libmixerlead.$major.dylib
      install -m 755 "$built/libmixerlead_c.dylib" "$stage/$shared"
      ln -s "libmixerlead.$major.dylib" "$stage/lib/libmixerlead.dylib"
      ;;
    *-windows-gnu)
      static=lib/libmixerlead.a
      install -m 644 "$built/libmixerlead_c.a" "$stage/$static"
      mkdir -p "$stage/bin"
      shared=bin/mixerlead.dll implib=lib/libmixerlead.dll.a
      install -m 755 "$built/mixerlead_c.dll" "$stage/$shared"
      exports_def > "$TARGET_DIR/dist-stage/mixerlead.def"
      "$ZIG" dlltool -m i386:x86-64 -d "$TARGET_DIR/dist-stage/mixerlead.def" -D mixerlead.dll -l "$stage/$implib"
      ;;
    *-windows-msvc)
      static=lib/mixerlead_static.lib
      install -m 644 "$built/mixerlead_c.lib" "$stage/$static"
      mkdir -p "$stage/bin"
      shared=bin/mixerlead.dll implib=lib/mixerlead.lib
      install -m 755 "$built/mixerlead_c.dll" "$stage/$shared"
      exports_def > "$TARGET_DIR/dist-stage/mixerlead.def"
      lib.exe -nologo -machine:x64 -def:"$TARGET_DIR/dist-stage/mixerlead.def" -out:"$stage/$implib"
      ;;
    *) echo "dist-c: no packaging rule for $t" >&2; exit 2 ;;
  esac
  case "$t" in
    *-linux-*) strip_archive "$stage/$static" ;; # the debug info of the precompiled std
  esac

  sed -e 's|@PREFIX@|${pcfiledir}/../..|' -e "s|@VERSION@|$version|" \
      -e "s|^Libs.private:.*|Libs.private: $libs_private|" \
      bindings-c/mixerlead.pc.in > "$stage/lib/pkgconfig/mixerlead.pc"
  for f in mixerlead-config.cmake mixerlead-config-version.cmake; do
    sed -e "s|@VERSION@|$version|g" -e "s|@VERSION_MAJOR@|$major|g" -e "s|@VERSION_MINOR@|$minor|g" \
        -e "s|@TARGET@|$t|g" -e "s|@STATIC_LIB@|$static|g" -e "s|@STATIC_DEPS@|$static_deps|g" \
        -e "s|@SHARED_LIB@|$shared|g" -e "s|@SONAME@|$soname|g" -e "s|@IMPLIB@|$implib|g" \
        "packaging/c/$f.in" > "$stage/lib/cmake/mixerlead/$f"
  done
  check_c_archive "$t" "$stage"
  tar_reproducible "$out/$name.tar.gz" -C "$(dirname "$stage")" "$name"
  echo "dist-c: $out/$name.tar.gz ($(du -k "$out/$name.tar.gz" | cut -f1) KiB packed, $(du -sk "$stage" | cut -f1) KiB unpacked, $((SECONDS - started)) s)"
done
