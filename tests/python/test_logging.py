"""Log records: the core's records of attempts, retries, responses and stream ends reach
`logging.getLogger("mixerlead")` by the time a call returns, filtered by the logger's level at
that moment; never the key or the text."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from typing import Any, List

import pytest

import mixerlead
from conftest import KEY, Emulator

MESSAGE = "a confidential message 7f3k"


def texts(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mixerlead"]


def assert_clean(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage()
        assert "pysecretkey" not in text and KEY not in text, text
        assert MESSAGE not in text and "confidential" not in text, text
        assert "Hello! You said" not in text, "the reply's text is not logged"


def test_records_of_attempts_retries_responses_and_stream_ends(emu: Emulator, sid: str, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG, logger="mixerlead")
    c = mixerlead.Client(KEY, base_url=emu.url(f"id={sid};fail=429;times=1;retry_after=0.01"))
    c.models.list()
    got = texts(caplog)
    assert "GET /ai/models: attempt 1 of 3" in got, got
    assert any(t.startswith("GET /ai/models: HTTP 429") for t in got), got
    assert any("retry 1 of 2 in 0.010 s" in t for t in got), got
    assert "GET /ai/models: attempt 2 of 3" in got, got
    assert any(t.startswith("GET /ai/models: HTTP 200 in") and "request id req_" in t for t in got), got
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    assert levels["GET /ai/models: attempt 1 of 3"] == logging.DEBUG
    assert next(level for text, level in levels.items() if "retry 1 of 2" in text) == logging.INFO

    caplog.clear()
    stream = mixerlead.Client(KEY, base_url=emu.url("pieces=50")).chat.stream(MESSAGE)
    assert [t for t in texts(caplog) if "POST /chat: attempt" in t], "delivered when stream() returned"
    for _ in stream:
        pass
    assert any(t.startswith("stream ended: 50 pieces") for t in texts(caplog)), texts(caplog)
    assert_clean(caplog)


def test_a_failed_stream_and_a_closed_one(emu: Emulator, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG, logger="mixerlead")
    stream = mixerlead.Client(KEY, base_url=emu.url("disconnect_after=3")).chat.stream(MESSAGE)
    with pytest.raises(mixerlead.StreamInterruptedError):
        stream.read()
    failed = [r for r in caplog.records if r.getMessage().startswith("stream failed after")]
    assert failed and failed[0].levelno == logging.WARNING
    caplog.clear()
    stream = mixerlead.Client(KEY, base_url=emu.url("pieces=500;delay_ms=5")).chat.stream(MESSAGE)
    next(stream)
    stream.close()
    # The abort may run on the runtime a moment later (the read-ahead holds the stream): its
    # record goes out with the next call that returns, or when asked for.
    deadline = time.monotonic() + 1.0
    while not any(t.startswith("stream closed by the caller") for t in texts(caplog)):
        assert time.monotonic() < deadline, texts(caplog)
        time.sleep(0.01)
        mixerlead._native._deliver_logs()
    assert_clean(caplog)


def test_level_changes_after_import_take_effect(emu: Emulator, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG, logger="mixerlead")  # the capturing handler takes everything
    logger, root = logging.getLogger("mixerlead"), logging.getLogger()
    c = mixerlead.Client(KEY, base_url=emu.url())
    logger.setLevel(logging.WARNING)
    c.models.list()
    assert texts(caplog) == []
    logger.setLevel(logging.DEBUG)
    c.models.list()
    assert "GET /ai/models: attempt 1 of 3" in texts(caplog)
    caplog.clear()
    logger.setLevel(logging.INFO)
    c.models.list()
    assert texts(caplog) == [], "debug records are filtered when delivered"
    root_level = root.level
    try:
        logger.setLevel(logging.NOTSET)  # the effective level is then the root's
        root.setLevel(logging.DEBUG)
        c.models.list()
        assert "GET /ai/models: attempt 1 of 3" in texts(caplog)
        caplog.clear()
        root.setLevel(logging.ERROR)
        c.models.list()
        assert texts(caplog) == []
    finally:
        root.setLevel(root_level)


async def test_async_records_arrive_with_the_results(emu: Emulator, sid: str, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG, logger="mixerlead")
    c = mixerlead.AsyncClient(KEY, base_url=emu.url(f"id={sid};fail=503;times=1;retry_after=0.01"))
    await c.models.list()
    got = texts(caplog)
    assert "GET /ai/models: attempt 2 of 3" in got and any("retry 1 of 2" in t for t in got), got
    stream = await mixerlead.AsyncClient(KEY, base_url=emu.url("pieces=40")).chat.stream(MESSAGE)
    async for _ in stream:
        pass
    assert any(t.startswith("stream ended: 40 pieces") for t in texts(caplog)), texts(caplog)
    assert_clean(caplog)


QUIET_CHILD = """
import sys, mixerlead
c = mixerlead.Client(sys.argv[1], base_url=sys.argv[2])
try:
    c.chat.stream("x").read()
except mixerlead.StreamInterruptedError:
    print("interrupted")
"""


def test_nothing_is_printed_without_logging_configured(emu: Emulator) -> None:
    # A warning record (a failed stream) is not printed by logging's last-resort handler.
    env = {k: v for k, v in os.environ.items() if k != "MIXERLEAD_LOG"}
    out = subprocess.run(
        [sys.executable, "-c", QUIET_CHILD, KEY, emu.url("disconnect_after=2")], capture_output=True, text=True, env=env
    )
    assert (out.stdout, out.stderr) == ("interrupted\n", "")
    env["MIXERLEAD_LOG"] = "warn"
    out = subprocess.run(
        [sys.executable, "-c", QUIET_CHILD, KEY, emu.url("disconnect_after=2")], capture_output=True, text=True, env=env
    )
    assert "stream failed after" in out.stderr and out.stderr.count("stream failed") == 1, out.stderr
