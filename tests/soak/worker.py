"""One Python worker of the soak: mixed traffic against the emulator until the time is up, then a
JSON summary on stdout. Usage: worker.py ROOT SECONDS (ROOT: the emulator's http://host:port)."""

import json
import sys
import time

import mixerlead

KEY = "ml_test_soak_python"


def main() -> int:
    root, seconds = sys.argv[1], float(sys.argv[2])
    url = lambda script: f"{root}/s/{script}/api"  # noqa: E731
    ops, unexpected, first = 0, 0, ""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, op in OPS:
            try:
                op(url)
            except Exception as e:  # anything not scripted is a failure of the soak
                unexpected += 1
                first = first or f"{name}: {type(e).__name__}: {e}"
            ops += 1
    print(json.dumps({"worker": "python", "ops": ops, "unexpected": unexpected, "first_unexpected": first}))
    return 0


def client(base_url: str, **options) -> mixerlead.Client:
    return mixerlead.Client(api_key=KEY, base_url=base_url, max_retry_wait=0.0, **options)


def full_stream(url) -> None:
    with client(url("pieces=200")) as c, c.chat.stream("soak") as stream:
        pieces = sum(1 for _ in stream)
    assert pieces == 200, f"{pieces} pieces of 200"


def cancel(url) -> None:
    with client(url("pieces=2000;delay_ms=1")) as c:
        stream = c.chat.stream("soak")
        for i, _ in enumerate(stream):
            if i == 4:
                break
        stream.close()


def retried(url) -> None:
    with client(url("fail=503;times=1;id=soakpy503")) as c:
        assert len(c.models.list()) >= 1


def timeout(url) -> None:
    with client(url("stall_after=3"), read_timeout=0.2) as c:
        try:
            c.chat.stream("soak").read()
        except mixerlead.APITimeoutError:
            return
    raise AssertionError("a stalled stream did not time out")


def interrupted(url) -> None:
    with client(url("disconnect_after=5;delay_ms=1")) as c:
        try:
            c.chat.stream("soak").read()
        except mixerlead.StreamInterruptedError as e:
            assert e.partial_text, "no partial text"
            return
    raise AssertionError("a cut stream ended cleanly")


def rate_limited(url) -> None:
    with client(url("fail=429;retry_after=0"), max_retries=1) as c:
        try:
            c.models.list()
        except mixerlead.RateLimitError:
            return
    raise AssertionError("429 forever did not raise RateLimitError")


OPS = [("full", full_stream), ("cancel", cancel), ("retried", retried), ("timeout", timeout),
       ("interrupted", interrupted), ("rate_limited", rate_limited)]

if __name__ == "__main__":
    sys.exit(main())
