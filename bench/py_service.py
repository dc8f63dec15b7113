"""Python services of the `service` case of `make bench`, served by uvicorn: for each incoming
request, stream a chat reply from the upstream and relay it to the caller as text/plain.

    BENCH_SERVICE=IMPL BENCH_UPSTREAM=URL python -m uvicorn py_service:app --app-dir bench --port P

IMPL: mixerlead-pieces (``StreamingResponse(stream)``: Starlette's ``async for`` over the pieces),
mixerlead-chunks (``StreamingResponse(stream.chunks())``), httpx (httpx + httpx-sse, one
``json.loads`` and one write per event).
"""

from __future__ import annotations

import json
import os
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

IMPL = os.environ["BENCH_SERVICE"]
UPSTREAM = os.environ["BENCH_UPSTREAM"]
KEY = "ml_test_bench_key"
TEXT = "text/plain; charset=utf-8"

if IMPL.startswith("mixerlead-"):
    import mixerlead

    client = mixerlead.AsyncClient(KEY, base_url=UPSTREAM)
    chunked = IMPL == "mixerlead-chunks"
    if IMPL not in ("mixerlead-pieces", "mixerlead-chunks"):
        raise SystemExit(f"unknown implementation {IMPL}")

    async def relay(request: Request) -> StreamingResponse:
        stream = await client.chat.stream("bench")
        return StreamingResponse(stream.chunks() if chunked else stream, media_type=TEXT)

elif IMPL == "httpx":
    import httpx
    from httpx_sse import aconnect_sse

    peer = httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=60,
                             limits=httpx.Limits(max_connections=None, max_keepalive_connections=256))

    async def pieces() -> AsyncIterator[str]:
        async with aconnect_sse(peer, "POST", f"{UPSTREAM}/chat", json={"message": "bench"}) as source:
            source.response.raise_for_status()
            async for event in source.aiter_sse():
                if event.data == "[DONE]":
                    break
                text = json.loads(event.data).get("text")
                if text:
                    yield text

    async def relay(request: Request) -> StreamingResponse:
        return StreamingResponse(pieces(), media_type=TEXT)

else:
    raise SystemExit(f"unknown implementation {IMPL}")

app = Starlette(routes=[Route("/", relay)])
