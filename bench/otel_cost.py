"""What OpenTelemetry adds to a call when its API is installed but no SDK is configured (the
no-op providers), against the same call with OpenTelemetry hidden: the per-call work of
mixerlead's layer alone (a native call that does nothing), then a whole models list against the
emulator. Run with a Python that has mixerlead and opentelemetry-api installed:

    python bench/otel_cost.py [BASE_URL]
"""

from __future__ import annotations

import subprocess
import sys
import time

LAYER = """
import sys, time
if sys.argv[1] == "hidden":
    sys.modules["opentelemetry"] = None
from mixerlead import _telemetry
def native(options):
    return options
n = 200_000
for _ in range(3):
    start = time.perf_counter()
    for _ in range(n):
        _telemetry.call(native, (), "GET /ai/models", None)
    best = (time.perf_counter() - start) / n
print(best * 1e6)
"""

CALLS = """
import sys, time
if sys.argv[1] == "hidden":
    sys.modules["opentelemetry"] = None
import mixerlead
client = mixerlead.Client("ml_bench_key", base_url=sys.argv[2])
for _ in range(200):
    client.models.list()
n, best = 2000, float("inf")
for _ in range(5):
    start = time.perf_counter()
    for _ in range(n):
        client.models.list()
    best = min(best, (time.perf_counter() - start) / n)
print(best * 1e6)
"""


def run(script: str, mode: str, *args: str) -> float:
    out = subprocess.run([sys.executable, "-c", script, mode, *args], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    hidden, noop = run(LAYER, "hidden"), run(LAYER, "noop")
    print(f"mixerlead's layer per call: {hidden:.2f} µs without OpenTelemetry, {noop:.2f} µs with the "
          f"no-op providers: +{noop - hidden:.2f} µs")
    if len(sys.argv) > 1:
        hidden, noop = run(CALLS, "hidden", sys.argv[1]), run(CALLS, "noop", sys.argv[1])
        print(f"models.list against the emulator: {hidden:.1f} µs without, {noop:.1f} µs with the no-op "
              f"providers: +{noop - hidden:.1f} µs")


if __name__ == "__main__":
    main()
