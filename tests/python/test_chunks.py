"""``chunks()`` on ChatStream and AsyncChatStream: every piece that arrived and was not handed
out yet, joined — never empty, never a split piece, mixable with per-piece iteration, failing
and cancelling as per piece."""

from __future__ import annotations

from typing import Any, List

import pytest

import mixerlead
from conftest import KEY, Emulator


def client(url: str, **options: Any) -> mixerlead.Client:
    return mixerlead.Client(KEY, base_url=url, **options)


def aclient(url: str, **options: Any) -> mixerlead.AsyncClient:
    return mixerlead.AsyncClient(KEY, base_url=url, **options)


def generated(n: int) -> str:
    return "".join(f"é{i} " if i % 20 == 19 else f"w{i} " for i in range(n))


def assert_whole_pieces(chunks: List[str]) -> None:
    # The emulator's generated pieces are "w<i> " (or "é<i> "): a chunk that split one would
    # start or end in the middle of it.
    for chunk in chunks:
        assert chunk, "a chunk is never empty"
        assert chunk[0] in "wé" and chunk.endswith(" "), repr(chunk[:20] + "…" + chunk[-20:])


def test_chunks_join_to_the_reply_in_whole_pieces(emu: Emulator) -> None:
    for fmt in ["sse", "ndjson"]:
        stream = client(emu.url(f"format={fmt};pieces=20000")).chat.stream("x")
        chunks = list(stream.chunks())
        assert "".join(chunks) == generated(20000) == stream.text, fmt
        assert_whole_pieces(chunks)
        assert len(chunks) < 20000, "a chunk carries every piece that had arrived"


def test_chunks_follow_a_paced_reply(emu: Emulator) -> None:
    stream = client(emu.url("pieces=40;delay_ms=5")).chat.stream("x")
    chunks = list(stream.chunks())
    assert "".join(chunks) == generated(40)
    assert_whole_pieces(chunks)
    assert len(chunks) > 1, "pieces paced 5 ms apart arrive in several chunks"


def test_chunks_mix_with_pieces(emu: Emulator) -> None:
    stream = client(emu.url("pieces=300;delay_ms=2")).chat.stream("x")
    got = [next(stream), next(stream)]
    chunks = stream.chunks()
    got.append(next(chunks))
    assert stream.text == "".join(got)
    got.append(next(stream))  # the next piece after the chunk: nothing skipped, nothing twice
    got.extend(chunks)
    assert "".join(got) == generated(300) == stream.text
    assert list(stream) == [] and list(stream.chunks()) == []


def test_chunks_failure_keeps_every_chunk_in_partial_text(emu: Emulator) -> None:
    stream = client(emu.url("disconnect_after=4")).chat.stream("x")
    got: List[str] = []
    with pytest.raises(mixerlead.StreamInterruptedError) as info:
        for chunk in stream.chunks():
            got.append(chunk)
    assert got and info.value.partial_text == "".join(got) == stream.text


def test_close_ends_chunks_and_aborts(emu: Emulator, sid: str) -> None:
    stream = client(emu.url(f"id={sid};pieces=100000;delay_ms=1")).chat.stream("x")
    chunks = stream.chunks()
    first = next(chunks)
    stream.close()
    assert list(chunks) == []
    assert stream.text == first
    assert emu.wait_disconnects(sid)["client_disconnects"] == 1


async def test_async_chunks_join_and_mix(emu: Emulator) -> None:
    async with aclient(emu.url("pieces=300;delay_ms=2")) as c:
        stream = await c.chat.stream("x")
        got = [await stream.__anext__()]
        chunks: List[str] = []
        async for chunk in stream.chunks():
            chunks.append(chunk)
            if len(chunks) == 1:
                break
        got.extend(chunks)
        async for piece in stream:  # on where the chunk stopped
            got.append(piece)
            break
        async for chunk in stream.chunks():
            chunks.append(chunk)
            got.append(chunk)
        assert_whole_pieces(chunks)
        assert "".join(got) == generated(300) == stream.text


async def test_async_chunks_of_a_paced_reply_and_a_failure(emu: Emulator) -> None:
    async with aclient(emu.url("pieces=40;delay_ms=5")) as c:
        chunks = [chunk async for chunk in (await c.chat.stream("x")).chunks()]
        assert "".join(chunks) == generated(40) and len(chunks) > 1
        assert_whole_pieces(chunks)
    stream = await aclient(emu.url("disconnect_after=4")).chat.stream("x")
    got: List[str] = []
    with pytest.raises(mixerlead.StreamInterruptedError) as info:
        async for chunk in stream.chunks():
            got.append(chunk)
    assert got and info.value.partial_text == "".join(got)


async def test_cancelled_task_reading_chunks_aborts(emu: Emulator, sid: str) -> None:
    import asyncio

    stream = await aclient(emu.url(f"id={sid};stall_after=2")).chat.stream("x")

    async def relay() -> None:
        async for _ in stream.chunks():
            pass

    task = asyncio.ensure_future(relay())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert emu.wait_disconnects(sid)["client_disconnects"] == 1
