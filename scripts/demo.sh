#!/usr/bin/env bash
# make demo: stream one chat through the CLI. With MIXERLEAD_API_KEY set it talks to the real
# service; otherwise it starts the emulator on a free port, streams from it, and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p mixerlead-cli
bin=target/debug/mixerlead
message=${DEMO_MESSAGE:-"Tell me about streaming APIs"}

if [ -n "${MIXERLEAD_API_KEY:-}" ]; then
  echo "== talking to ${MIXERLEAD_BASE_URL:-https://ai.mixerlead.com/api}"
  "$bin" models
  "$bin" chat "$message"
  exit 0
fi

out=$(mktemp)
"$bin" emulator --port 0 --token-delay-ms "${DEMO_TOKEN_DELAY_MS:-60}" >"$out" &
emulator=$!
trap 'kill $emulator 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
base_url=$(awk '/listening/ {print $NF}' "$out")
[ -n "$base_url" ] || { echo "the emulator did not start" >&2; exit 1; }
echo "== emulator at $base_url (no MIXERLEAD_API_KEY set, so not the real service)"
export MIXERLEAD_API_KEY=ml_test_demo_key MIXERLEAD_BASE_URL=$base_url
"$bin" models
echo "== mixerlead chat \"$message\""
"$bin" chat "$message"
