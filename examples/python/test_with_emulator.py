"""Testing your own code against the API emulator that ships with mixerlead, without the network:
run it with `pytest examples/python/test_with_emulator.py`.

`mixerlead.testing.Emulator` serves the MixerLead API in the test process, on a free port. A
client from `emulator.client()` talks to it; `emulator.client(script)` scripts faults for every
request it makes (a 429 first, a server error, a stream cut short, …), and
`emulator.stats(id)` tells what the emulator saw of a scenario named with `id=`.
"""

from __future__ import annotations

import uuid
from typing import Iterator, Optional

import pytest

import mixerlead
from mixerlead.testing import Emulator

# --- the code under test: yours -------------------------------------------------------------------


def summarise(client: mixerlead.Client, text: str) -> Optional[str]:
    """Asks for a summary; `None` when the service is unavailable (after the client's retries)."""
    try:
        return client.chat.send(f"Summarise: {text}").text
    except mixerlead.InternalServerError:
        return None


# --- the fixture ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator for the whole test session."""
    with Emulator() as emu:
        yield emu


@pytest.fixture
def scenario() -> str:
    """A scenario id unique to the test, so that its stats are its own."""
    return "t" + uuid.uuid4().hex[:12]


# --- the tests ------------------------------------------------------------------------------------


def test_summarise(emulator: Emulator) -> None:
    summary = summarise(emulator.client(), "the quarterly report")
    assert summary is not None and "Summarise: the quarterly report" in summary


def test_a_rate_limit_is_retried(emulator: Emulator, scenario: str) -> None:
    client = emulator.client(f"id={scenario};fail=429;times=1;retry_after=0.05")
    assert summarise(client, "x") is not None
    assert emulator.stats(scenario)["requests"] == 2  # one 429, then the retry


def test_an_unavailable_service(emulator: Emulator, scenario: str) -> None:
    client = emulator.client(f"id={scenario};fail=503;retry_after=0", max_retries=1)
    assert summarise(client, "x") is None
    assert emulator.stats(scenario)["requests"] == 2


def test_a_stream_cut_short(emulator: Emulator) -> None:
    stream = emulator.client("disconnect_after=3").chat.stream("tell me more")
    with pytest.raises(mixerlead.StreamInterruptedError) as cut:
        stream.read()
    assert cut.value.partial_text == stream.text  # what arrived before the cut
