"""`ChatStream.display()` and `await AsyncChatStream.display()`: progressive, at most
20 updates a second plus one at the end, so that a long reply costs about as much to display as
to read; checked with a stand-in for IPython, and in a real Jupyter kernel."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time
import types
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import mixerlead
from conftest import KEY, Emulator


def generated(n: int) -> str:
    return "".join(f"é{i} " if i % 20 == 19 else f"w{i} " for i in range(n))


class FakeNotebook:
    """`IPython` and `IPython.display` as far as display() uses them: records every update."""

    def __init__(self) -> None:
        self.updates: List[Tuple[float, str]] = []
        fake = self

        class Markdown:
            def __init__(self, text: str) -> None:
                self.text = text

        class Handle:
            def update(self, obj: Markdown) -> None:
                fake.updates.append((time.monotonic(), obj.text))

        def display(obj: Markdown, display_id: bool = False) -> Handle:
            assert display_id is True
            fake.updates.append((time.monotonic(), obj.text))
            return Handle()

        shell = types.SimpleNamespace(kernel=object())
        self.ipython = types.ModuleType("IPython")
        self.ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
        self.display = types.ModuleType("IPython.display")
        self.display.Markdown = Markdown  # type: ignore[attr-defined]
        self.display.display = display  # type: ignore[attr-defined]
        self.ipython.display = self.display  # type: ignore[attr-defined]

    def most_in_any_second(self) -> int:
        times = [t for t, _ in self.updates[1:-1]]  # without the first (empty) and the last
        return max((sum(1 for u in times if t <= u < t + 1.0) for t in times), default=0)


@pytest.fixture
def notebook(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNotebook]:
    fake = FakeNotebook()
    monkeypatch.setitem(sys.modules, "IPython", fake.ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", fake.display)
    yield fake


def test_display_updates_at_most_20_times_a_second(emu: Emulator, notebook: FakeNotebook) -> None:
    stream = mixerlead.Client(KEY, base_url=emu.url("pieces=300;delay_ms=5")).chat.stream("x")
    started = time.monotonic()
    text = stream.display()
    elapsed = time.monotonic() - started
    assert text == generated(300) == stream.text
    assert notebook.updates[0][1] == "" and notebook.updates[-1][1] == text, "the whole reply at the end"
    shown = [t for _, t in notebook.updates]
    assert all(text.startswith(s) for s in shown) and shown == sorted(shown, key=len), "progressive"
    assert len(notebook.updates) - 2 <= 20 * elapsed + 1, (len(notebook.updates), elapsed)
    assert notebook.most_in_any_second() <= 21
    assert len(notebook.updates) >= 8, "it did update while the reply streamed"
    gaps = [b - a for (a, _), (b, _) in zip(notebook.updates[1:-1], notebook.updates[2:-1])]
    assert min(gaps, default=1.0) >= 0.049


def test_display_shows_what_arrived_before_waiting(emu: Emulator, notebook: FakeNotebook) -> None:
    # Pieces 300 ms apart: each shows within about 50 ms, not when the next one arrives.
    stream = mixerlead.Client(KEY, base_url=emu.url("pieces=4;delay_ms=300")).chat.stream("x")
    stream.display()
    contents = [t for _, t in notebook.updates]
    for i in range(1, 4):
        assert generated(i) in contents, contents


def test_display_of_a_long_reply_costs_about_its_reading(emu: Emulator, notebook: FakeNotebook) -> None:
    url = emu.url("pieces=5000")
    started = time.perf_counter()
    assert "".join(mixerlead.Client(KEY, base_url=url).chat.stream("x")) == generated(5000)
    iterate = time.perf_counter() - started
    started = time.perf_counter()
    assert mixerlead.Client(KEY, base_url=url).chat.stream("x").display() == generated(5000)
    shown = time.perf_counter() - started
    assert shown <= 1.5 * iterate + 0.3, (shown, iterate)
    assert len(notebook.updates) - 2 <= 20 * shown + 1  # besides the first (empty) and the last


async def test_async_display(emu: Emulator, notebook: FakeNotebook) -> None:
    stream = await mixerlead.AsyncClient(KEY, base_url=emu.url("pieces=200;delay_ms=5")).chat.stream("x")
    started = time.monotonic()
    text = await stream.display()
    elapsed = time.monotonic() - started
    assert text == generated(200) == stream.text
    assert notebook.updates[-1][1] == text
    assert len(notebook.updates) - 2 <= 20 * elapsed + 1
    assert len(notebook.updates) >= 5


async def test_async_display_prints_outside_a_notebook(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    stream = await mixerlead.AsyncClient(KEY, base_url=emu.url("pieces=30")).chat.stream("x")
    assert await stream.display() == generated(30)
    assert capsys.readouterr().out == generated(30) + "\n"


# --- in a real Jupyter kernel ---------------------------------------------------------------------

NOTEBOOK_CELLS = [
    """
import json, time, mixerlead
KEY, URL = {key!r}, {url!r}
expected = "".join(f"é{{i}} " if i % 20 == 19 else f"w{{i}} " for i in range(5000))
client = mixerlead.Client(KEY, base_url=URL)
started = time.perf_counter()
iterated = "".join(client.chat.stream("x"))
iterate = time.perf_counter() - started
""",
    """
started = time.perf_counter()
shown = client.chat.stream("x").display()
display_time = time.perf_counter() - started
""",
    """
aclient = mixerlead.AsyncClient(KEY, base_url=URL)
started = time.perf_counter()
ashown = await (await aclient.chat.stream("x")).display()
adisplay_time = time.perf_counter() - started
""",
    """
print("RESULT " + json.dumps({{"iterate": iterate, "display": display_time, "adisplay": adisplay_time,
    "iterated_ok": iterated == expected, "shown_ok": shown == expected, "ashown_ok": ashown == expected}}))
""",
]


@pytest.fixture(scope="session")
def jupyter(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """ipykernel and nbconvert in this virtualenv (installed on first use), and a kernelspec
    that runs this interpreter; skips when they cannot be installed."""
    if importlib.util.find_spec("nbconvert") is None or importlib.util.find_spec("ipykernel") is None:
        try:
            out = subprocess.run(
                [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "ipykernel", "nbconvert"],
                capture_output=True,
                text=True,
                timeout=600,
            )
        except subprocess.TimeoutExpired:
            pytest.skip("installing ipykernel and nbconvert timed out")
        if out.returncode != 0:
            pytest.skip(f"ipykernel and nbconvert cannot be installed: {out.stderr.strip()[-500:]}")
        importlib.invalidate_caches()
    jupyter_path = tmp_path_factory.mktemp("jupyter")
    spec = jupyter_path / "kernels" / "mixerlead-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "mixerlead", "language": "python"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIXERLEAD_")}
    env["JUPYTER_PATH"] = str(jupyter_path)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    return env


def test_display_in_a_real_jupyter_kernel(emu: Emulator, jupyter: Dict[str, str], tmp_path: pathlib.Path) -> None:
    sources = [source.strip().format(key=KEY, url=emu.url("pieces=5000")) for source in NOTEBOOK_CELLS]
    cells: List[Dict[str, Any]] = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}
        for source in sources
    ]
    notebook: Dict[str, Any] = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "mixerlead-test", "display_name": "mixerlead", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    source = tmp_path / "display.ipynb"
    source.write_text(json.dumps(notebook))
    out = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute", "--output", "executed.ipynb",
         "--ExecutePreprocessor.timeout=120", str(source)],
        capture_output=True, text=True, env=jupyter, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    executed = json.loads((tmp_path / "executed.ipynb").read_text())
    expected = generated(5000)
    for index in (1, 2):
        outputs = executed["cells"][index]["outputs"]
        markdown = [o["data"]["text/markdown"] for o in outputs if o.get("output_type") == "display_data"]
        assert len(markdown) == 1, outputs  # one output, updated in place
        text = markdown[0] if isinstance(markdown[0], str) else "".join(markdown[0])
        assert text == expected, "the output holds the whole reply"
    printed = "".join(
        "".join(o["text"]) if isinstance(o["text"], list) else o["text"]
        for o in executed["cells"][3]["outputs"]
        if o.get("output_type") == "stream"
    )
    result = json.loads(printed.split("RESULT ", 1)[1])
    print("times in the notebook:", result)
    assert result["iterated_ok"] and result["shown_ok"] and result["ashown_ok"], result
    assert result["display"] <= 1.5 * result["iterate"] + 0.3, result
    assert result["adisplay"] <= 1.5 * result["iterate"] + 0.3, result
