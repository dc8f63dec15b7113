"""Fixtures: one emulator process for the session, scripted per test through its base URL; and
the event loops every async test runs under."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Mapping

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEY = "ml_test_pysecretkey_Q7w2"


class Emulator:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.root = base_url[: -len("/api")]

    def url(self, script: str = "") -> str:
        return f"{self.root}/s/{script}/api" if script else self.base_url

    def stats(self, scenario_id: str) -> Dict[str, Any]:
        with urllib.request.urlopen(f"{self.root}/_emulator/stats?id={scenario_id}") as response:
            stats: Dict[str, Any] = json.loads(response.read())
            return stats

    def wait_disconnects(self, scenario_id: str, count: int = 1, within: float = 1.0) -> Dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            stats = self.stats(scenario_id)
            if stats["client_disconnects"] >= count or time.monotonic() > deadline:
                return stats
            time.sleep(0.01)


@pytest.fixture(scope="session")
def emu() -> Iterator[Emulator]:
    binary = os.environ.get("MIXERLEAD_EMULATOR", str(ROOT / "target" / "debug" / "mixerlead-emulator"))
    process = subprocess.Popen([binary, "--port", "0"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "listening on" in line, line
    yield Emulator(line.split()[-1])
    process.kill()
    process.wait()


@pytest.fixture
def sid() -> str:
    """A scenario id unique to the test."""
    return "py" + uuid.uuid4().hex[:10]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MIXERLEAD_") and name != "MIXERLEAD_EMULATOR":
            monkeypatch.delenv(name)


class NoReaderLoop(asyncio.SelectorEventLoop):
    """A loop without add_reader/add_writer, like Windows' proactor loop (the default there):
    the library must reach it without watching a descriptor."""

    def add_reader(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        raise NotImplementedError

    def remove_reader(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError

    def add_writer(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        raise NotImplementedError

    def remove_writer(self, *args: Any, **kwargs: Any) -> bool:
        raise NotImplementedError


def new_uvloop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        pytest.skip("uvloop is not installed")
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


LOOPS: Dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "default": asyncio.new_event_loop,
    "no_add_reader": NoReaderLoop,
    "uvloop": new_uvloop,
}


@pytest.hookimpl(optionalhook=True)
def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], Any]]:
    """Every async test runs once per loop: the default one, one without add_reader, uvloop."""
    return LOOPS
