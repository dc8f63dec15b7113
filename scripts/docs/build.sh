#!/usr/bin/env bash
# Builds the documentation site into target/docs/: the README as the front page, the guides of
# docs/, and the API reference of each language generated from the code's own documentation.
# Fails on a doc warning, an undocumented public item or a broken internal link.
#
# Needs the Python wheel in target/wheels/ (`make python-wheel`). Installs its own tools: Python
# packages in target/docs-tools/py (with the wheel: tests/docs runs the examples with it),
# typedoc in target/docs-tools/node, Doxygen via apt-get.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tools=$root/target/docs-tools
out=$root/target/docs
here=scripts/docs

step() { printf '\n== docs: %s\n' "$*"; }

step "tools"
# fastapi and uvicorn: the guides' services (`serve` examples, tests/docs/examples.py).
# opentelemetry-sdk: the guide's OpenTelemetry example.
if [ ! -x "$tools/py/bin/pdoc" ] || [ ! -x "$tools/py/bin/pytest" ] || [ ! -x "$tools/py/bin/uvicorn" ] ||
  ! "$tools/py/bin/python" -c 'import opentelemetry.sdk' 2>/dev/null; then
  python3 -m venv "$tools/py"
  "$tools/py/bin/pip" install -q "markdown>=3.5,<4" "pdoc>=15,<17" "websockets>=12,<16" "pytest>=8,<10" \
    "fastapi>=0.110,<1" "uvicorn>=0.30,<1" "opentelemetry-sdk>=1.20,<2"
fi
if [ ! -x "$tools/node/node_modules/.bin/typedoc" ]; then
  mkdir -p "$tools/node"
  (cd "$tools/node" && echo '{ "private": true }' > package.json &&
    npm install --silent --no-audit --no-fund typedoc@0.28 typescript@5 @types/node@20)
fi
if ! command -v doxygen >/dev/null; then
  apt-get update -qq && apt-get install -y -qq doxygen >/dev/null
fi
wheel=$(ls target/wheels/mixerlead-*.whl 2>/dev/null | head -n1 || true)
[ -n "$wheel" ] || { echo "docs: no wheel in target/wheels (run make python-wheel)" >&2; exit 1; }
"$tools/py/bin/pip" install -q --force-reinstall --no-deps "$wheel"

rm -rf "$out" && mkdir -p "$out/reference"

step "Rust reference (rustdoc; warnings, broken intra-doc links and missing docs are errors)"
RUSTDOCFLAGS="-D warnings -D missing_docs -D rustdoc::all -A rustdoc::private_doc_tests" \
  cargo doc -p mixerlead --no-deps --locked
cp -r "${CARGO_TARGET_DIR:-target}/doc" "$out/reference/rust"
# rustdoc's help and settings pages link the docs' root, which --no-deps does not write.
echo '<!DOCTYPE html><meta charset="utf-8"><title>mixerlead</title><meta http-equiv="refresh" content="0; url=mixerlead/index.html"><a href="mixerlead/index.html">mixerlead</a>' \
  > "$out/reference/rust/index.html"

step "Python reference (pdoc; every public item must have a docstring, only public names shown)"
"$tools/py/bin/python" "$here/check_python_docs.py"
# pdoc_python.py is pdoc naming classes as mixerlead exports them (no private module or base).
"$tools/py/bin/python" -W error "$here/pdoc_python.py" --docformat restructuredtext --no-show-source -t "$here/pdoc" \
  -o "$out/reference/python" mixerlead mixerlead.testing
# A name under a private module or a private base (mixerlead._client._Base), in a page or the
# search index; dunders (mixerlead.Client.__init__) are pdoc's own.
private=$(grep -rhoE 'mixerlead(\.[A-Za-z0-9]+)*\._[A-Za-z][A-Za-z0-9_.]*' "$out/reference/python" | sort -u || true)
if [ -n "$private" ]; then
  printf '%s\n' "$private" >&2
  echo "docs: the Python reference names private modules or bases (above); name what mixerlead exports" >&2
  exit 1
fi

step "Node reference (typedoc; warnings and undocumented items are errors)"
(cd "$here" && "$tools/node/node_modules/.bin/typedoc" --options typedoc.json --out "$out/reference/node")

step "C reference (Doxygen; warnings and undocumented items are errors)"
mkdir -p "$out/reference/c-build"
(cat "$here/Doxyfile"; echo "OUTPUT_DIRECTORY = $out/reference/c-build") | doxygen -
mv "$out/reference/c-build/html" "$out/reference/c" && rmdir "$out/reference/c-build"

step "guides and front page"
"$tools/py/bin/python" "$here/site.py" "$root" "$out"

step "links"
"$tools/py/bin/python" "$here/check_links.py" "$out"
echo "docs: target/docs/index.html"
