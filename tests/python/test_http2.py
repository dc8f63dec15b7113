"""HTTP/2: over TLS the client and the in-process emulator agree on h2, which the emulator echoes
in `x-emulator-protocol`; plain http stays HTTP/1.1."""

from __future__ import annotations

from typing import Iterator

import pytest

import mixerlead
from mixerlead.testing import Emulator


@pytest.fixture(scope="module")
def tls_emulator() -> Iterator[Emulator]:
    with Emulator(tls=True) as emu:
        yield emu


def test_a_stream_over_tls_is_http2(tls_emulator: Emulator) -> None:
    client = mixerlead.Client(tls_emulator.api_key, base_url=tls_emulator.base_url, ca_file=tls_emulator.ca_file)
    with client.chat.stream("over h2") as stream:
        assert stream.headers["X-Emulator-Protocol"] == "HTTP/2"
        text = stream.read()
    assert text.startswith("Hello! You said: \u201cover h2\u201d") and text.endswith("done.")
    models = client.models.list()
    assert models.headers["x-emulator-protocol"] == "HTTP/2" and len(models) == 4


async def test_async_over_tls_is_http2(tls_emulator: Emulator) -> None:
    client = mixerlead.AsyncClient(
        tls_emulator.api_key, base_url=tls_emulator.base_url, ca_file=tls_emulator.ca_file
    )
    stream = await client.chat.stream("x")
    assert stream.headers["x-emulator-protocol"] == "HTTP/2"
    assert (await stream.read()).endswith("done.")


def test_plain_http_is_http1() -> None:
    with Emulator() as emu:
        stream = emu.client().chat.stream("x")
        assert stream.headers["x-emulator-protocol"] == "HTTP/1.1"
        assert stream.read()
