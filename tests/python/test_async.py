"""The AsyncClient against the emulator."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, List

import pytest

import mixerlead
from conftest import KEY, Emulator, NoReaderLoop

REPLY_START = "Hello! You said: \u201c"


def aclient(url: str, **options: Any) -> mixerlead.AsyncClient:
    return mixerlead.AsyncClient(KEY, base_url=url, **options)


async def test_models_and_stream(emu: Emulator) -> None:
    async with aclient(emu.url()) as c:
        models = await c.models.list()
        assert any(m.id == "ml-auto" for m in models)
        stream = await c.chat.stream("async hi", model="ml-fast")
        assert isinstance(stream, mixerlead.AsyncChatStream)
        assert stream.conversation_id is not None
        pieces: List[str] = []
        async for text in stream:
            assert isinstance(text, str) and text
            pieces.append(text)
            assert stream.text == "".join(pieces)
        assert "".join(pieces).startswith(REPLY_START + "async hi")


async def test_the_loop_is_reached_the_way_it_allows(emu: Emulator) -> None:
    # A loop with add_reader watches a descriptor; one without gets a waker thread.
    before = set(threading.enumerate())
    await aclient(emu.url()).models.list()
    started = [t.name for t in set(threading.enumerate()) - before]
    uses_thread = isinstance(asyncio.get_running_loop(), NoReaderLoop)
    assert ("mixerlead-waker" in started) == uses_thread, started


def test_the_async_suite_runs_under_every_loop() -> None:
    # pytest_asyncio_loop_factories (conftest.py) needs pytest-asyncio 1.4 or later; without it
    # the async tests would quietly run under the default loop only.
    import pytest_asyncio

    major, minor = (int(part) for part in pytest_asyncio.__version__.split(".")[:2])
    assert (major, minor) >= (1, 4), pytest_asyncio.__version__


async def test_read_send_and_continuation(emu: Emulator) -> None:
    c = aclient(emu.url())
    async with await c.chat.stream("x") as stream:
        first = await stream.__anext__()
        assert first == "Hello! "
        whole = await stream.read()
    assert whole.startswith(REPLY_START) and stream.text == whole
    reply = await c.chat.send("one")
    follow = await c.chat.send("two", conversation_id=reply.conversation_id)
    assert f"reply 2 in {reply.conversation_id}" in follow.text
    await c.aclose()
    with pytest.raises(mixerlead.MixerLeadError):
        await c.models.list()


async def test_many_pieces(emu: Emulator) -> None:
    stream = await aclient(emu.url("pieces=20000")).chat.stream("x")
    text = await stream.read()
    assert text == "".join(f"é{i} " if i % 20 == 19 else f"w{i} " for i in range(20000))


async def test_text_is_what_was_handed_out_across_batches(emu: Emulator) -> None:
    stream = await aclient(emu.url("pieces=30000")).chat.stream("x")
    handed: List[str] = []
    async for piece in stream:
        handed.append(piece)
        if len(handed) % 997 == 0:
            assert stream.text == "".join(handed), len(handed)
        if len(handed) == 25000:
            break
    await stream.aclose()
    assert stream.text == "".join(handed)
    assert [piece async for piece in stream] == [], "iteration ends at close, mid-batch too"


async def test_the_loop_keeps_turning_while_a_long_reply_is_read(emu: Emulator) -> None:
    count = 0
    seen_by_ticker: List[int] = []

    async def ticker() -> None:
        while True:
            seen_by_ticker.append(count)
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    stream = await aclient(emu.url("pieces=200000")).chat.stream("x")
    async for _ in stream:
        count += 1
        if count % 8000 == 0:
            time.sleep(0.005)  # a slow consumer: the next batch is decoded before it is asked for
    task.cancel()
    assert count == 200000
    longest = max(b - a for a, b in zip(seen_by_ticker, seen_by_ticker[1:]))
    assert longest <= 2 * 8192, f"{longest} pieces were read without the loop turning once"


async def test_errors(emu: Emulator, sid: str) -> None:
    with pytest.raises(mixerlead.NotFoundError) as info:
        await aclient(emu.url()).chat.stream("x", conversation_id="conv_missing")
    assert info.value.status_code == 404 and "conv_missing" in info.value.message
    stream = await aclient(emu.url("disconnect_after=4")).chat.stream("x")
    with pytest.raises(mixerlead.StreamInterruptedError) as cut:
        await stream.read()
    assert cut.value.partial_text == REPLY_START + "x\u201d. "
    with pytest.raises(mixerlead.RateLimitError) as limited:
        await aclient(emu.url(f"id={sid};fail=429;retry_after=0.05")).models.list()
    assert limited.value.retry_after == 0.05
    assert emu.stats(sid)["requests"] == 3
    stream = await aclient(emu.url("stall_after=2"), read_timeout=0.3).chat.stream("x")
    with pytest.raises(mixerlead.APITimeoutError):
        await stream.read()


async def test_retry_then_success(emu: Emulator, sid: str) -> None:
    reply = await aclient(emu.url(f"id={sid};fail=503;times=1;retry_after=0.05")).chat.send("x")
    assert reply.text.startswith(REPLY_START)
    assert emu.stats(sid)["requests"] == 2


async def wait_disconnects(emu: Emulator, sid: str) -> int:
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        if emu.stats(sid)["client_disconnects"]:
            break
        await asyncio.sleep(0.01)
    return int(emu.stats(sid)["client_disconnects"])


async def test_aclose_and_async_with_abort(emu: Emulator, sid: str) -> None:
    c = aclient(emu.url(f"id={sid};pieces=500;delay_ms=20"))
    stream = await c.chat.stream("x")
    async for _ in stream:
        break
    await stream.aclose()
    assert await wait_disconnects(emu, sid) == 1
    async with await c.chat.stream("x") as s:
        await s.__anext__()
    deadline = time.monotonic() + 1.0
    while emu.stats(sid)["client_disconnects"] < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert emu.stats(sid)["client_disconnects"] == 2


async def test_cancelled_task_aborts_the_request(emu: Emulator, sid: str) -> None:
    c = aclient(emu.url(f"id={sid};stall_after=1"))

    async def consume() -> None:
        stream = await c.chat.stream("x")
        async for _ in stream:
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_disconnects(emu, sid) == 1


async def test_cancelled_while_waiting_for_headers(emu: Emulator, sid: str) -> None:
    c = aclient(emu.url(f"id={sid};header_delay_ms=5000"))
    task = asyncio.create_task(c.chat.send("x"))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_event_loop_stays_responsive(emu: Emulator) -> None:
    c = aclient(emu.url("pieces=30;delay_ms=10"))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    texts = await asyncio.gather(*[c.chat.send("x") for _ in range(20)])
    ticker.cancel()
    assert len({t.text for t in texts}) == 1
    assert ticks >= 10


EXIT_CHILD = """
import asyncio, sys, mixerlead
async def main():
    c = mixerlead.AsyncClient(sys.argv[1], base_url=sys.argv[2])
    for _ in range(30):
        await c.models.list()
    await (await c.chat.stream("x")).read()
asyncio.run(main())
print("ok")
"""


def test_interpreter_exit_right_after_async_calls_is_clean(emu: Emulator) -> None:
    # Runtime threads must never take the GIL: CPython kills a thread that asks for it during
    # finalization, which used to abort the process at exit.
    import subprocess
    import sys

    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", EXIT_CHILD, KEY, emu.url()], capture_output=True, text=True)
        assert (out.returncode, out.stdout, out.stderr) == (0, "ok\n", "")
