# Sourced by the C suite runners: starts the emulator, and a second one over TLS (its certificate
# in $scratch/ca.pem) for ca_file and proxy, both stopped at exit; exports what test_c.c reads
# (MIXERLEAD_TEST_ROOT, MIXERLEAD_TEST_TLS_BASE_URL, MIXERLEAD_TEST_CA_FILE) and sets $base.
emulator_bin=${MIXERLEAD_EMULATOR:-$root/target/debug/mixerlead-emulator}
scratch=$(mktemp -d)
"$emulator_bin" --port 0 >"$scratch/plain" &
emulator=$!
"$emulator_bin" --port 0 --tls --tls-ca-out "$scratch/ca.pem" >"$scratch/tls" &
tls_emulator=$!
trap 'kill $emulator $tls_emulator 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 200); do grep -q listening "$scratch/plain" && grep -q listening "$scratch/tls" && break; sleep 0.02; done
base=$(awk '/listening/ {print $NF}' "$scratch/plain")
tls_base=$(awk '/listening/ {print $NF}' "$scratch/tls")
export MIXERLEAD_TEST_ROOT=${base%/api}
export MIXERLEAD_TEST_TLS_BASE_URL=$tls_base MIXERLEAD_TEST_CA_FILE=$scratch/ca.pem
