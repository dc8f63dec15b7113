#!/usr/bin/env bash
# Packs the npm package as a user gets it (npm pack), installs it into a scratch project, runs the
# node:test suites against the emulator and tsc --strict over the examples and a typing file.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pkg=$root/target/node-pkg
scratch=$root/target/node-test
cp "$root/target/debug/libmixerlead_node.so" "$root/bindings-node/mixerlead.node"
rm -rf "$pkg" && mkdir -p "$pkg" "$scratch"
(cd "$root/bindings-node" && npm pack --silent --pack-destination "$pkg" >/dev/null)
tarball=$(ls "$pkg"/mixerlead-*.tgz)

cd "$scratch"
cat > package.json <<'JSON'
{ "name": "mixerlead-node-tests", "private": true, "type": "module" }
JSON
cat > tsconfig.json <<'JSON'
{
  "compilerOptions": {
    "strict": true, "noEmit": true, "target": "es2022", "module": "nodenext",
    "moduleResolution": "nodenext", "types": ["node"], "allowJs": false
  },
  "files": ["types.ts", "typed.ts"]
}
JSON
npm install --silent --no-audit --no-fund --no-save "$tarball" typescript@5 @types/node@20
cp "$root"/tests/node/*.test.mjs "$root"/tests/node/helpers.mjs "$root"/tests/node/worker.cjs "$root"/tests/node/types.ts .
cp "$root"/examples/node/* .
node --test --test-concurrency=1 ./*.test.mjs
npx tsc -p tsconfig.json
echo "tsc: 1 passed, 0 failed"
