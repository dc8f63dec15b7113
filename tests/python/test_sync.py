"""The sync Client against the emulator: the public surface, errors, retries, cancellation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List

import pytest

import mixerlead
from conftest import KEY, Emulator

REPLY_START = "Hello! You said: \u201c"
MULTIBYTE = "héllo wörld — 世界 👋🏽 naïve ∑ ok"


def client(url: str, **options: Any) -> mixerlead.Client:
    return mixerlead.Client(KEY, base_url=url, **options)


def generated(n: int) -> str:
    return "".join(f"é{i} " if i % 20 == 19 else f"w{i} " for i in range(n))


# --- 1. the surface -----------------------------------------------------------------------------


def test_models_list_returns_models(emu: Emulator) -> None:
    models = client(emu.url()).models.list()
    assert all(isinstance(m, mixerlead.Model) for m in models)
    auto = next(m for m in models if m.id == "ml-auto")
    assert (auto.name, auto.task, auto.requires_paid) == ("Auto", "Automatic model selection", False)
    assert any(m.requires_paid for m in models)


def test_stream_yields_str_pieces_in_order(emu: Emulator) -> None:
    stream = client(emu.url()).chat.stream("Hi there", model="ml-fast")
    assert isinstance(stream, mixerlead.ChatStream)
    assert stream.conversation_id is not None and stream.conversation_id.startswith("conv_")
    pieces: List[str] = []
    for text in stream:
        assert isinstance(text, str) and text
        pieces.append(text)
        assert stream.text == "".join(pieces)
    assert len(pieces) > 10
    assert "".join(pieces).startswith(REPLY_START + "Hi there\u201d.")


def test_read_returns_the_whole_reply_after_some_pieces(emu: Emulator) -> None:
    stream = client(emu.url()).chat.stream("x")
    assert next(stream) == "Hello! "
    whole = stream.read()
    assert whole.startswith(REPLY_START) and whole.endswith("— done.")
    assert stream.text == whole
    assert list(stream) == []


def test_text_is_what_was_handed_out_across_batches(emu: Emulator) -> None:
    stream = client(emu.url("pieces=30000")).chat.stream("x")
    handed: List[str] = []
    for piece in stream:
        handed.append(piece)
        if len(handed) % 997 == 0:
            assert stream.text == "".join(handed), len(handed)
        if len(handed) == 25000:
            break
    stream.close()
    assert stream.text == "".join(handed)


def test_many_pieces_in_order(emu: Emulator) -> None:
    for fmt in ["sse", "ndjson", "text", "json"]:
        text = "".join(client(emu.url(f"format={fmt};pieces=20000")).chat.stream("x"))
        assert text == generated(20000), fmt


def test_split_utf8_in_every_format(emu: Emulator) -> None:
    for fmt in ["sse", "ndjson", "jsonl", "json", "text", "none"]:
        assert client(emu.url(f"format={fmt};split_utf8")).chat.stream("x").read() == MULTIBYTE, fmt


def test_send_and_conversation_continuation(emu: Emulator) -> None:
    c = client(emu.url())
    first = c.chat.send("one")
    assert isinstance(first, mixerlead.ChatReply)
    assert first.conversation_id is not None
    second = c.chat.send("two", conversation_id=first.conversation_id)
    assert f"reply 2 in {first.conversation_id}" in second.text
    assert second.conversation_id == first.conversation_id


def test_conversation_id_from_payload_is_none_until_known(emu: Emulator) -> None:
    stream = client(emu.url("conv_in=payload")).chat.stream("x")
    assert stream.conversation_id is None
    stream.read()
    assert stream.conversation_id is not None
    stream = client(emu.url("conv_in=none")).chat.stream("x")
    stream.read()
    assert stream.conversation_id is None


def test_context_managers(emu: Emulator, sid: str) -> None:
    with client(emu.url(f"id={sid}")) as c:
        with c.chat.stream("x") as stream:
            assert stream.read().startswith(REPLY_START)
    with pytest.raises(mixerlead.MixerLeadError, match="closed"):
        c.models.list()


def test_options_and_environment(emu: Emulator, sid: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIXERLEAD_API_KEY", KEY)
    monkeypatch.setenv("MIXERLEAD_BASE_URL", emu.url(f"id={sid}") + "/")
    monkeypatch.setenv("MIXERLEAD_PROJECT_ID", "proj_env")
    c = mixerlead.Client()
    c.chat.send("x")
    stats = emu.stats(sid)
    assert stats["last_path"] == f"/s/id={sid}/api/chat"
    assert stats["last_headers"]["x-project-id"] == "proj_env"
    assert stats["last_headers"]["user-agent"].startswith(f"mixerlead-python/{mixerlead.__version__} (")
    mixerlead.Client(project_id="proj_arg").models.list()
    assert emu.stats(sid)["last_headers"]["x-project-id"] == "proj_arg"
    monkeypatch.setenv("MIXERLEAD_MAX_RETRIES", "0")
    url = emu.url(f"id={sid}x;fail=503;retry_after=0")
    with pytest.raises(mixerlead.InternalServerError):
        mixerlead.Client(base_url=url).models.list()
    assert emu.stats(sid + "x")["requests"] == 1
    with pytest.raises(mixerlead.InternalServerError):
        mixerlead.Client(base_url=url, max_retries=1).models.list()
    assert emu.stats(sid + "x")["requests"] == 3


def test_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(mixerlead.ConfigurationError, match="MIXERLEAD_API_KEY"):
        mixerlead.Client()
    with pytest.raises(mixerlead.ConfigurationError):
        mixerlead.Client(KEY, base_url="http://example.com/api")
    with pytest.raises(mixerlead.ConfigurationError):
        mixerlead.Client(KEY, base_url="not a url")
    mixerlead.Client(KEY, base_url="http://example.com/api", allow_insecure_http=True)
    monkeypatch.setenv("MIXERLEAD_ALLOW_INSECURE_HTTP", "1")
    mixerlead.Client(KEY, base_url="http://example.com/api")


def test_invalid_arguments_are_value_errors(emu: Emulator, sid: str) -> None:
    invalid: List[Dict[str, Any]] = [{"timeout": -1.0}, {"connect_timeout": 0.0}, {"read_timeout": -5.0},
                                     {"max_retries": -1}, {"max_retry_wait": -1.0}]  # fmt: skip
    for options in invalid:
        with pytest.raises(ValueError, match=next(iter(options))):
            client(emu.url(), **options)
    c = client(emu.url(f"id={sid}"))
    for message in ["", "a\0b"]:
        with pytest.raises(ValueError):
            c.chat.stream(message)
    assert emu.stats(sid)["requests"] == 0


# --- 2. errors ----------------------------------------------------------------------------------

STATUS_CLASSES = [
    (400, mixerlead.BadRequestError),
    (401, mixerlead.AuthenticationError),
    (403, mixerlead.PermissionDeniedError),
    (404, mixerlead.NotFoundError),
    (409, mixerlead.ConflictError),
    (413, mixerlead.PayloadTooLargeError),
    (422, mixerlead.APIStatusError),
    (429, mixerlead.RateLimitError),
    (500, mixerlead.InternalServerError),
    (503, mixerlead.InternalServerError),
]


@pytest.mark.parametrize("status,cls", STATUS_CLASSES)
def test_status_errors(emu: Emulator, status: int, cls: type) -> None:
    c = client(emu.url(f"fail={status};retry_after=0"), max_retries=0)
    with pytest.raises(cls) as info:
        c.chat.stream("x")
    err = info.value
    assert isinstance(err, mixerlead.APIStatusError) and isinstance(err, mixerlead.MixerLeadError)
    assert err.status_code == status
    assert err.message == f"scripted failure {status}"
    assert f"scripted failure {status}" in str(err)
    assert err.body == {"error": f"scripted failure {status}"}
    assert err.request_id is not None and err.request_id.startswith("req_")
    assert err.retry_after == 0.0


def test_status_error_bodies_in_text_or_empty(emu: Emulator) -> None:
    with pytest.raises(mixerlead.BadRequestError) as info:
        client(emu.url("fail=400;error_body=text")).models.list()
    assert info.value.message == "upstream failure 400 (plain text)"
    assert info.value.body == "upstream failure 400 (plain text)"
    with pytest.raises(mixerlead.ConflictError) as conflict:
        client(emu.url("fail=409;error_body=empty")).models.list()
    assert conflict.value.message == "Conflict" and conflict.value.body is None
    assert conflict.value.retry_after is None


def test_paid_model_and_revoked_key(emu: Emulator) -> None:
    with pytest.raises(mixerlead.PermissionDeniedError, match="paid plan"):
        client(emu.url()).chat.stream("x", model="ml-pro")
    with pytest.raises(mixerlead.AuthenticationError, match="revoked"):
        mixerlead.Client("ml_live_revoked_0000", base_url=emu.url()).models.list()


def test_stream_interrupted_keeps_partial_text(emu: Emulator) -> None:
    stream = client(emu.url("disconnect_after=4")).chat.stream("x")
    got: List[str] = []
    with pytest.raises(mixerlead.StreamInterruptedError) as info:
        for piece in stream:
            got.append(piece)
    err = info.value
    assert isinstance(err, mixerlead.APIConnectionError)
    assert err.partial_text == "".join(got) == REPLY_START + "x\u201d. "


def test_timeouts(emu: Emulator) -> None:
    stream = client(emu.url("stall_after=3"), read_timeout=0.3).chat.stream("x")
    got: List[str] = []
    with pytest.raises(mixerlead.APITimeoutError) as info:
        for piece in stream:
            got.append(piece)
    assert isinstance(info.value, mixerlead.APIConnectionError)
    assert len(got) == 3
    with pytest.raises(mixerlead.APITimeoutError):
        client(emu.url("header_delay_ms=2000"), timeout=0.2, max_retries=0).models.list()


def test_connection_error(unused_port: int) -> None:
    with pytest.raises(mixerlead.APIConnectionError) as info:
        client(f"http://127.0.0.1:{unused_port}/api", max_retry_wait=0.0).models.list()
    assert not isinstance(info.value, mixerlead.APITimeoutError)


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_decode_errors(emu: Emulator) -> None:
    with pytest.raises(mixerlead.APIResponseError, match="scripted in-band error"):
        client(emu.url("error_after=2")).chat.stream("x").read()
    with pytest.raises(mixerlead.APIResponseError):
        client(emu.url("format=json;malformed")).chat.send("x")
    with pytest.raises(mixerlead.APIResponseError):
        client(emu.url("oversize")).chat.send("x")


# --- 3. retries ---------------------------------------------------------------------------------


def test_rate_limit_then_success(emu: Emulator, sid: str) -> None:
    reply = client(emu.url(f"id={sid};fail=429;times=2;retry_after=0.1")).chat.send("x")
    assert reply.text.startswith(REPLY_START)
    stats = emu.stats(sid)
    assert stats["requests"] == 3
    times = stats["request_times"]
    assert all(b - a >= 0.095 for a, b in zip(times, times[1:]))


def test_rate_limit_exhaustion(emu: Emulator, sid: str) -> None:
    with pytest.raises(mixerlead.RateLimitError) as info:
        client(emu.url(f"id={sid};fail=429;retry_after=0.05")).chat.stream("x")
    assert info.value.retry_after == 0.05
    assert emu.stats(sid)["requests"] == 3


# --- 4. cancellation ----------------------------------------------------------------------------


def slow(emu: Emulator, sid: str) -> mixerlead.Client:
    return client(emu.url(f"id={sid};pieces=500;delay_ms=20"))


def test_break_and_close_abort(emu: Emulator, sid: str) -> None:
    stream = slow(emu, sid).chat.stream("x")
    for _ in stream:
        break
    stream.close()
    assert emu.wait_disconnects(sid)["client_disconnects"] == 1
    assert list(stream) == []


def test_leaving_with_aborts(emu: Emulator, sid: str) -> None:
    with slow(emu, sid).chat.stream("x") as stream:
        next(stream)
    assert emu.wait_disconnects(sid)["client_disconnects"] == 1


def test_del_of_half_read_stream_aborts(emu: Emulator, sid: str) -> None:
    stream = slow(emu, sid).chat.stream("x")
    next(stream)
    del stream
    assert emu.wait_disconnects(sid)["client_disconnects"] == 1


def test_close_from_another_thread_wakes_a_blocked_reader(emu: Emulator, sid: str) -> None:
    stream = client(emu.url(f"id={sid};stall_after=1")).chat.stream("x")
    next(stream)
    threading.Timer(0.2, stream.close).start()
    started = time.monotonic()
    assert list(stream) == []
    assert time.monotonic() - started < 1.0
    assert emu.wait_disconnects(sid)["client_disconnects"] == 1


# --- 5. Ctrl-C ----------------------------------------------------------------------------------

CTRL_C_CHILD = """
import sys, time, mixerlead
c = mixerlead.Client(sys.argv[1], base_url=sys.argv[2])
stream = c.chat.stream("x")
next(stream)
print("blocked", flush=True)
try:
    for _ in stream:
        pass
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), flush=True)
"""


def test_ctrl_c_interrupts_a_blocked_stream_within_200ms(emu: Emulator, sid: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_CHILD, KEY, emu.url(f"id={sid};stall_after=1")],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "blocked"
    time.sleep(0.3)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    line = child.stdout.readline().split()
    assert line and line[0] == "interrupted", line
    assert float(line[1]) - sent < 0.2
    assert child.wait(timeout=5) == 0
    assert emu.wait_disconnects(sid)["client_disconnects"] == 1


# --- 6. the GIL is released ---------------------------------------------------------------------


def test_threads_stream_in_parallel_and_python_keeps_running(emu: Emulator, sid: str) -> None:
    c = client(emu.url(f"id={sid};pieces=20;delay_ms=25"))
    one = time.monotonic()
    c.chat.stream("x").read()
    single = time.monotonic() - one
    ticks = [0]
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            ticks[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    results: List[str] = []
    threads = [threading.Thread(target=lambda: results.append(c.chat.stream("x").read())) for _ in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    stop.set()
    spinner.join()
    assert results == [generated(20)] * 8
    assert elapsed < single * 3, (elapsed, single)
    assert ticks[0] > 1000


# --- 7. one runtime -----------------------------------------------------------------------------

ONE_RUNTIME_CHILD = """
import asyncio, os, sys, mixerlead
c = mixerlead.Client(sys.argv[1], base_url=sys.argv[2])
c.chat.send("x")
async def main():
    a = mixerlead.AsyncClient(sys.argv[1], base_url=sys.argv[2])
    await a.chat.send("x")
    await a.models.list()
asyncio.run(main())
names = [open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")]
print(",".join(names))
"""


def test_one_runtime_for_sync_and_async(emu: Emulator) -> None:
    out = subprocess.run([sys.executable, "-c", ONE_RUNTIME_CHILD, KEY, emu.url()], capture_output=True, text=True)
    names = out.stdout.strip().split(",")
    assert any(n.startswith("mixerlead-rt") for n in names), names
    assert not any(n.startswith("tokio-runtime") for n in names), names


# --- 8. fork ------------------------------------------------------------------------------------


def _child_uses_clients(inherited: mixerlead.Client, url: str, queue: Any) -> None:
    old = inherited.chat.send("child old").text
    new = mixerlead.Client(KEY, base_url=url).chat.send("child new").text
    queue.put(("child old" in old, "child new" in new))


def test_fork_child_uses_parent_and_new_clients(emu: Emulator) -> None:
    import multiprocessing

    c = client(emu.url())
    c.chat.send("parent before")
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_uses_clients, args=(c, emu.url(), queue))
    child.start()
    child.join(20)
    assert child.exitcode == 0
    assert queue.get(timeout=1) == (True, True)
    assert "parent after" in c.chat.send("parent after").text


# --- 9. event loops and notebooks ---------------------------------------------------------------


def test_sync_api_inside_a_running_event_loop(emu: Emulator) -> None:
    import asyncio

    async def notebook_cell() -> str:
        c = client(emu.url())
        c.models.list()
        return "".join(c.chat.stream("in a loop"))

    assert asyncio.run(notebook_cell()).startswith(REPLY_START + "in a loop")


def test_repr_markdown_and_display(emu: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    reply = client(emu.url()).chat.send("md")
    assert reply._repr_markdown_() == reply.text
    text = client(emu.url("pieces=5")).chat.stream("x").display()
    assert text == generated(5)
    assert capsys.readouterr().out == generated(5) + "\n"


DISPLAY_CHILD = """
import sys, time, mixerlead
stream = mixerlead.Client(sys.argv[1], base_url=sys.argv[2]).chat.stream("x")
stream.display()
"""


def test_display_prints_progressively(emu: Emulator) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", DISPLAY_CHILD, KEY, emu.url("pieces=6;delay_ms=300")], stdout=subprocess.PIPE
    )
    assert child.stdout is not None
    started = time.monotonic()
    assert child.stdout.read(3) == b"w0 "
    assert time.monotonic() - started < 1.5
    assert child.poll() is None, "the first piece shows while the reply goes on"
    child.wait(10)


# --- 10. the key never shows --------------------------------------------------------------------

LOG_CHILD = """
import sys, mixerlead
c = mixerlead.Client(sys.argv[1], base_url=sys.argv[2])
try:
    c.chat.send("x")
except mixerlead.MixerLeadError as e:
    print(repr(e), str(e))
"""


def test_key_is_not_in_repr_errors_or_logs(emu: Emulator) -> None:
    c = client(emu.url("fail=401"))
    assert "pysecretkey" not in repr(c)
    assert "Q7w2" in repr(c) or "…" in repr(c)
    with pytest.raises(mixerlead.AuthenticationError) as info:
        c.models.list()
    assert "pysecretkey" not in str(info.value) + repr(info.value)
    env = dict(os.environ, MIXERLEAD_LOG="debug")
    url = emu.url("fail=429;times=1;retry_after=0.01")
    out = subprocess.run([sys.executable, "-c", LOG_CHILD, KEY, url], capture_output=True, text=True, env=env)
    assert "attempt 1 of 3" in out.stderr, out.stderr
    assert "pysecretkey" not in out.stderr + out.stdout
    quiet = {k: v for k, v in os.environ.items() if k != "MIXERLEAD_LOG"}
    out = subprocess.run([sys.executable, "-c", LOG_CHILD, KEY, url], capture_output=True, text=True, env=quiet)
    assert out.stderr == ""
