"""Smoke test of an installed mixerlead wheel against the emulator: the models list, a streamed
chat, an error, a cancel (sync and asyncio). `make dist-test` runs it in a fresh virtualenv per
wheel it can run here.

usage: python smoke.py ROOT     ROOT is the emulator's root, e.g. http://127.0.0.1:8765
"""

import asyncio
import sys
import time

import mixerlead


def main(root: str) -> None:
    def url(script: str = "") -> str:
        return f"{root}/s/{script}/api" if script else f"{root}/api"

    with mixerlead.Client(api_key="ml_test_smoke", base_url=url(), max_retries=0) as client:
        models = client.models.list()
        assert models and models[0].id, models
        with client.chat.stream("smoke test") as stream:
            text = "".join(stream)
        assert text and stream.conversation_id, (text, stream.conversation_id)

    with mixerlead.Client(api_key="ml_test_smoke", base_url=url("fail=400"), max_retries=0) as client:
        try:
            client.chat.send("smoke test")
            raise AssertionError("no error raised")
        except mixerlead.BadRequestError as e:
            assert e.status_code == 400, e

    async def cancel() -> float:
        async with mixerlead.AsyncClient(api_key="ml_test_smoke", base_url=url("pieces=200;delay_ms=20"), max_retries=0) as client:
            async def read() -> str:
                async with await client.chat.stream("smoke test") as stream:
                    return await stream.read()

            task = asyncio.ensure_future(read())
            await asyncio.sleep(0.1)
            started = time.monotonic()
            task.cancel()
            try:
                await task
                raise AssertionError("the cancelled task finished")
            except asyncio.CancelledError:
                return time.monotonic() - started

    took = asyncio.run(cancel())
    assert took < 1.0, took
    native = mixerlead._native.__file__
    print(f"smoke (Python {sys.version.split()[0]}, {native.rsplit('/', 1)[-1]}): models, stream, error, cancel: ok")


if __name__ == "__main__":
    main(sys.argv[1])
