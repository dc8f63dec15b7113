#!/usr/bin/env bash
# Packs the npm packages as a user gets them (npm pack): the main package and this platform's
# package around the debug build of the addon; installs both into a scratch project (the main
# package's loader finds the addon in @mixerlead/<platform>, as after an install from the registry),
# runs the node:test suites against the emulator and tsc --strict over the examples and a typing file.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
pkg=$root/target/node-pkg
scratch=$root/target/node-test
# This machine's platform package (CI and development machines run glibc).
platform=linux-$(node -p process.arch)-gnu
rm -rf "$pkg" && mkdir -p "$pkg" "$scratch"
node "$root/bindings-node/npm/package.js" main "$pkg/main"
node "$root/bindings-node/npm/package.js" platform "$platform" "$root/target/debug/libmixerlead_node.so" "$pkg/$platform"
(cd "$pkg" && npm pack --silent ./main "./$platform" >/dev/null)
tarballs=("$pkg"/mixerlead-*.tgz)

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
# A fresh install each time (the npm cache makes it quick): npm's resolver can spin without end
# over a tree left by an older install once the package has a peer dependency.
rm -rf node_modules
npm install --silent --no-audit --no-fund --no-save "${tarballs[@]}" typescript@5 @types/node@20 \
  @opentelemetry/api@1 @opentelemetry/sdk-trace-base @opentelemetry/sdk-metrics @opentelemetry/context-async-hooks @opentelemetry/core
[ ! -e node_modules/mixerlead/mixerlead.node ] && [ -f "node_modules/@mixerlead/$platform/mixerlead.$platform.node" ]
cp "$root"/tests/node/*.test.mjs "$root"/tests/node/helpers.mjs "$root"/tests/node/worker.cjs "$root"/tests/node/types.ts .
cp "$root"/examples/node/* .
node --test --test-concurrency=1 ./*.test.mjs
npx tsc -p tsconfig.json
echo "tsc: 1 passed, 0 failed"
