"""What OpenTelemetry adds to a call when its API is installed but no SDK is configured (the
no-op providers), against the same call with OpenTelemetry hidden: the per-call work of
mixerlead's layer alone (a native call that does nothing), then a whole models list against the
emulator, and the same list with the real SDK (spans to an in-memory exporter, metrics to an
in-memory reader). Run with a Python that has mixerlead, opentelemetry-api and -sdk installed:

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
n = int(sys.argv[2])
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
if sys.argv[1] == "sdk":
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[InMemoryMetricReader()]))
import mixerlead
client = mixerlead.Client("ml_bench_key", base_url=sys.argv[2])
n, best = int(sys.argv[3]), float("inf")
for _ in range(n // 10):
    client.models.list()
for _ in range(5):
    start = time.perf_counter()
    for _ in range(n):
        client.models.list()
    best = min(best, (time.perf_counter() - start) / n)
    if sys.argv[1] == "sdk":
        exporter.clear()
print(best * 1e6)
"""


def run(script: str, mode: str, *args: str) -> float:
    out = subprocess.run([sys.executable, "-c", script, mode, *args], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    # --quick (make bench-smoke): tiny counts, so the script cannot rot; its figures mean nothing.
    quick = "--quick" in sys.argv
    sys.argv = [a for a in sys.argv if a != "--quick"]
    layer_n, calls_n = ("2000", "20") if quick else ("200000", "2000")
    hidden, noop = run(LAYER, "hidden", layer_n), run(LAYER, "noop", layer_n)
    print(f"mixerlead's layer per call: {hidden:.2f} µs without OpenTelemetry, {noop:.2f} µs with the "
          f"no-op providers: +{noop - hidden:.2f} µs")
    if len(sys.argv) > 1:
        hidden, noop = run(CALLS, "hidden", sys.argv[1], calls_n), run(CALLS, "noop", sys.argv[1], calls_n)
        print(f"models.list against the emulator: {hidden:.1f} µs without, {noop:.1f} µs with the no-op "
              f"providers: +{noop - hidden:.1f} µs")
        sdk = run(CALLS, "sdk", sys.argv[1], calls_n)
        print(f"models.list with the real SDK (a span to an in-memory exporter, metrics to an in-memory "
              f"reader): {sdk:.1f} µs: +{sdk - hidden:.1f} µs a call")


if __name__ == "__main__":
    main()
