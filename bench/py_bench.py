"""Python side of `make bench`: one implementation, one case, one run; prints a JSON result.

usage: py_bench.py IMPL CASE URL N     (IMPL: mixerlead-sync mixerlead-async httpx aiohttp)
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any, Dict

KEY = "ml_test_bench_key"


def result(seconds: float, **extra: Any) -> None:
    print(json.dumps({"seconds": seconds, **extra}))


# --- mixerlead ----------------------------------------------------------------------------------


def mixerlead_sync(case: str, url: str, n: int) -> Dict[str, Any]:
    import mixerlead

    client = mixerlead.Client(KEY, base_url=url)
    if case in ("sse", "text"):
        start = time.perf_counter()
        pieces = chars = 0
        for piece in client.chat.stream("bench"):
            pieces += 1
            chars += len(piece)
        return {"seconds": time.perf_counter() - start, "pieces": pieces, "chars": chars}
    if case == "models":
        start = time.perf_counter()
        for _ in range(n):
            client.models.list()
        return {"seconds": time.perf_counter() - start, "calls": n}
    if case == "first":
        times = []
        for _ in range(n):
            start = time.perf_counter()
            stream = client.chat.stream("bench")
            next(stream)
            times.append(time.perf_counter() - start)
            stream.close()
        times.sort()
        return {"seconds": times[len(times) // 2]}
    raise SystemExit(f"unknown case {case}")


async def mixerlead_async(case: str, url: str, n: int) -> Dict[str, Any]:
    import mixerlead

    client = mixerlead.AsyncClient(KEY, base_url=url)
    if case in ("sse", "text"):
        start = time.perf_counter()
        pieces = chars = 0
        async for piece in await client.chat.stream("bench"):
            pieces += 1
            chars += len(piece)
        return {"seconds": time.perf_counter() - start, "pieces": pieces, "chars": chars}
    if case == "models":
        start = time.perf_counter()
        for _ in range(n):
            await client.models.list()
        return {"seconds": time.perf_counter() - start, "calls": n}
    if case == "first":
        times = []
        for _ in range(n):
            start = time.perf_counter()
            stream = await client.chat.stream("bench")
            await stream.__anext__()
            times.append(time.perf_counter() - start)
            await stream.aclose()
        times.sort()
        return {"seconds": times[len(times) // 2]}
    if case == "concurrent":
        streams, each = n, int(sys.argv[5]) if len(sys.argv) > 5 else 1000

        async def one() -> int:
            count = 0
            async for _ in await client.chat.stream("bench"):
                count += 1
            return count

        start = time.perf_counter()
        counts = await asyncio.gather(*(one() for _ in range(streams)))
        return {"seconds": time.perf_counter() - start, "pieces": sum(counts), "expected": streams * each}
    raise SystemExit(f"unknown case {case}")


# --- httpx + httpx-sse (+ json.loads per event) -------------------------------------------------


def httpx_impl(case: str, url: str, n: int) -> Dict[str, Any]:
    import httpx
    from httpx_sse import connect_sse

    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(headers=headers, timeout=60) as client:
        if case == "sse":
            start = time.perf_counter()
            pieces = chars = 0
            with connect_sse(client, "POST", f"{url}/chat", json={"message": "bench"}) as source:
                for event in source.iter_sse():
                    if event.data == "[DONE]":
                        break
                    text = json.loads(event.data).get("text")
                    if text:
                        pieces += 1
                        chars += len(text)
            return {"seconds": time.perf_counter() - start, "pieces": pieces, "chars": chars}
        if case == "text":
            start = time.perf_counter()
            pieces = chars = 0
            with client.stream("POST", f"{url}/chat", json={"message": "bench"}) as response:
                for text in response.iter_text():
                    pieces += 1
                    chars += len(text)
            return {"seconds": time.perf_counter() - start, "pieces": pieces, "chars": chars}
        if case == "models":
            start = time.perf_counter()
            for _ in range(n):
                client.get(f"{url}/ai/models").json()
            return {"seconds": time.perf_counter() - start, "calls": n}
        if case == "first":
            times = []
            for _ in range(n):
                start = time.perf_counter()
                with connect_sse(client, "POST", f"{url}/chat", json={"message": "bench"}) as source:
                    for event in source.iter_sse():
                        json.loads(event.data)
                        break
                times.append(time.perf_counter() - start)
            times.sort()
            return {"seconds": times[len(times) // 2]}
    raise SystemExit(f"unknown case {case}")


# --- aiohttp ------------------------------------------------------------------------------------


async def aiohttp_impl(case: str, url: str, n: int) -> Dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"Bearer {KEY}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        if case == "sse":
            start = time.perf_counter()
            pieces = chars = 0
            async with session.post(f"{url}/chat", json={"message": "bench"}) as response:
                async for line in response.content:
                    if line.startswith(b"data: "):
                        data = line[6:].strip()
                        if data == b"[DONE]":
                            break
                        text = json.loads(data).get("text")
                        if text:
                            pieces += 1
                            chars += len(text)
            return {"seconds": time.perf_counter() - start, "pieces": pieces, "chars": chars}
        if case == "models":
            start = time.perf_counter()
            for _ in range(n):
                async with session.get(f"{url}/ai/models") as response:
                    await response.json()
            return {"seconds": time.perf_counter() - start, "calls": n}
        if case == "first":
            times = []
            for _ in range(n):
                start = time.perf_counter()
                async with session.post(f"{url}/chat", json={"message": "bench"}) as response:
                    async for line in response.content:
                        if line.startswith(b"data: "):
                            json.loads(line[6:])
                            break
                times.append(time.perf_counter() - start)
            times.sort()
            return {"seconds": times[len(times) // 2]}
    raise SystemExit(f"unknown case {case}")


def main() -> None:
    impl, case, url, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    if impl == "mixerlead-sync":
        out = mixerlead_sync(case, url, n)
    elif impl == "mixerlead-async":
        out = asyncio.run(mixerlead_async(case, url, n))
    elif impl == "httpx":
        out = httpx_impl(case, url, n)
    elif impl == "aiohttp":
        out = asyncio.run(aiohttp_impl(case, url, n))
    else:
        raise SystemExit(f"unknown implementation {impl}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
