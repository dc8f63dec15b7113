"""`import mixerlead` stays cheap (bench (f)): it loads none of the standard library's heavy
modules, which cost milliseconds each; those load only when a call needs them."""

import subprocess
import sys

HEAVY = {"json", "re", "enum", "typing", "asyncio", "logging", "inspect", "dataclasses", "threading", "ssl"}


def test_import_loads_no_heavy_standard_module() -> None:
    script = (
        "import sys; before = set(sys.modules); import mixerlead; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert "mixerlead" in loaded
    assert sorted(HEAVY.intersection(loaded)) == []
    assert [m for m in loaded if m.startswith("opentelemetry") or m == "mixerlead._otel"] == []
