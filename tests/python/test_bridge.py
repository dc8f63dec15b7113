"""The stream through the core's bridge (issue #11.2): the core counts the text served, whatever
way the stream ends (closed mid-batch, from another thread or task while a batch is on its way);
`read()` refuses to return a reply cut at the 64 MiB the core keeps."""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from typing import Any, Iterator, List

import pytest

import mixerlead
from conftest import KEY, Emulator

CAP = 64 << 20
CHUNK = b"0123456789abcdef" * 65536  # 1 MiB


class BigReplyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


class BigReply(http.server.BaseHTTPRequestHandler):
    """A raw-text reply of 65 MiB (just over what the core keeps), written 1 MiB at a time."""

    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "text/plain; charset=utf-8")
        self.send_header("content-length", str(65 * len(CHUNK)))
        self.end_headers()
        try:
            for _ in range(65):
                self.wfile.write(CHUNK)
        except OSError:
            pass

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def big_url() -> Iterator[str]:
    server = BigReplyServer(("127.0.0.1", 0), BigReply)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d/api" % server.server_address[1]
    server.shutdown()


def test_read_of_a_reply_over_the_kept_text_raises(big_url: str) -> None:
    c = mixerlead.Client(KEY, base_url=big_url, max_retries=0)
    with pytest.raises(mixerlead.APIResponseError, match="64 MiB"):
        c.chat.stream("x").read()
    with pytest.raises(mixerlead.APIResponseError, match="64 MiB"):
        c.chat.send("x")
    stream = c.chat.stream("x")
    total = sum(len(piece) for piece in stream)
    assert total == 65 * len(CHUNK), "iterating delivers every piece"
    text = stream.text
    assert len(text) == CAP and text == (CHUNK * 64).decode(), "text stays at the kept prefix"


async def test_async_read_of_a_reply_over_the_kept_text_raises(big_url: str) -> None:
    c = mixerlead.AsyncClient(KEY, base_url=big_url, max_retries=0)
    stream = await c.chat.stream("x")
    with pytest.raises(mixerlead.APIResponseError, match="64 MiB"):
        await stream.read()
    with pytest.raises(mixerlead.APIResponseError, match="64 MiB"):
        await c.chat.send("x")


def test_text_after_a_close_from_another_thread_during_a_pull(emu: Emulator) -> None:
    # The reader waits for a batch while another thread closes the stream: whichever comes
    # first, the text is what the reader was handed.
    for delay in [0.0, 0.002, 0.005, 0.01, 0.02]:
        stream = mixerlead.Client(KEY, base_url=emu.url("pieces=2000;delay_ms=1")).chat.stream("x")
        handed: List[str] = []
        closer = threading.Timer(delay, stream.close)
        closer.start()
        for piece in stream:
            handed.append(piece)
        closer.join()
        assert stream.text == "".join(handed), delay
        assert list(stream) == []


async def test_text_after_a_close_from_another_task_during_a_fetch(emu: Emulator) -> None:
    for delay in [0.0, 0.002, 0.005, 0.01, 0.02]:
        stream = await mixerlead.AsyncClient(KEY, base_url=emu.url("pieces=2000;delay_ms=1")).chat.stream("x")
        handed: List[str] = []

        async def close_later() -> None:
            await asyncio.sleep(delay)
            await stream.aclose()

        closer = asyncio.create_task(close_later())
        async for piece in stream:
            handed.append(piece)
        await closer
        assert stream.text == "".join(handed), delay


async def test_text_after_a_cancelled_fetch(emu: Emulator) -> None:
    stream = await mixerlead.AsyncClient(KEY, base_url=emu.url("stall_after=3")).chat.stream("x")
    handed = [await stream.__anext__() for _ in range(3)]
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(stream.__anext__(), 0.2)
    assert stream.text == "".join(handed)
    assert [p async for p in stream] == [], "the cancelled wait closed the stream"


def test_close_mid_batch_and_read_after(emu: Emulator) -> None:
    stream = mixerlead.Client(KEY, base_url=emu.url("pieces=5000")).chat.stream("x")
    time.sleep(0.2)  # the whole reply is decoded: one big batch
    first = [next(stream) for _ in range(10)]
    stream.close()
    assert stream.text == "".join(first)
    assert stream.read() == "".join(first), "read() after close returns what was served"


async def test_async_read_after_aclose_returns_what_was_served(emu: Emulator) -> None:
    stream = await mixerlead.AsyncClient(KEY, base_url=emu.url("pieces=500;delay_ms=2")).chat.stream("x")
    first = [await stream.__anext__() for _ in range(5)]
    await stream.aclose()
    assert stream.text == "".join(first)
    assert await stream.read() == "".join(first)
