#!/usr/bin/env bash
# Every artifact carries the one version: the workspace's in Cargo.toml. Fails when the Python
# package, the npm package or the C header says another (a dynamic version passes: it is read
# from Cargo.toml at build time).
set -euo pipefail
. "$(dirname "$0")/cross-env.sh"
cd "$ML_ROOT"
version=$(ml_version)
bad=0
say() { printf '  %-34s %s\n' "$1" "$2"; }
echo "check-version: $version (Cargo.toml [workspace.package])"

py=$(sed -n '/^\[project\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' bindings-python/pyproject.toml)
if [ -z "$py" ] && grep -q 'dynamic *=.*"version"' bindings-python/pyproject.toml; then py=$version; fi
say bindings-python/pyproject.toml "${py:-?}"; [ "$py" = "$version" ] || bad=1

node=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' bindings-node/package.json)
say bindings-node/package.json "$node"; [ "$node" = "$version" ] || bad=1
for f in bindings-node/npm/*/package.json; do
  [ -f "$f" ] || continue
  v=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$f")
  say "$f" "$v"; [ "$v" = "$version" ] || bad=1
done

if grep -q 'define ML_VERSION_MAJOR' include/mixerlead.h; then
  h=$(for p in MAJOR MINOR PATCH; do sed -n "s/^#define ML_VERSION_$p \([0-9]*\).*/\1/p" include/mixerlead.h; done | paste -sd. -)
  say include/mixerlead.h "$h"; [ "$h" = "$version" ] || bad=1
else
  say include/mixerlead.h "(no ML_VERSION_* macros yet; ml_version() reports the crate's)"
fi
if [ $bad = 1 ]; then echo "check-version: versions differ" >&2; exit 1; fi
