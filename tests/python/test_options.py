"""Options: client options as one value set by name in the core, `ca_file` and
`proxy`, `with_options`, per-call `timeout=` / `max_retries=` / `extra_headers=`, response
metadata, and the runtime in the User-Agent; sync and async."""

from __future__ import annotations

import pathlib
import platform
import sys
import time
from typing import Any, Callable, List

import pytest

import mixerlead
from conftest import KEY, Emulator


def client(url: str, **options: Any) -> mixerlead.Client:
    return mixerlead.Client(KEY, base_url=url, **options)


def aclient(url: str, **options: Any) -> mixerlead.AsyncClient:
    return mixerlead.AsyncClient(KEY, base_url=url, **options)


# --- client options: one value, each set by name in the core -----------------------------------


def test_an_unknown_option_is_a_configuration_error_naming_it() -> None:
    from mixerlead import _native

    with pytest.raises(mixerlead.ConfigurationError, match="colour"):
        _native.NativeClient({"api_key": KEY, "colour": "blue"})
    with pytest.raises(mixerlead.ConfigurationError, match="colour"):
        _native.NativeClient({"api_key": KEY, "colour": ["blue"]})  # type: ignore[dict-item]  # the name first
    with pytest.raises(TypeError, match="option names"):
        _native.NativeClient({"api_key": KEY, 5: "x"})  # type: ignore[dict-item]


def test_option_types_are_checked_naming_the_option(emu: Emulator) -> None:
    # A type the option does not take at all: TypeError; a bad value of its type: ValueError.
    for name, value in [("timeout", "60"), ("max_retries", "2"), ("base_url", 5), ("allow_insecure_http", 1)]:
        with pytest.raises(TypeError, match=name):
            client(emu.url(), **{name: value})
    for name, value in [("timeout", [60]), ("project_id", object()), ("proxy", b"http://p")]:
        with pytest.raises(TypeError, match=name):
            client(emu.url(), **{name: value})
    with pytest.raises(ValueError, match="max_retries"):
        client(emu.url(), max_retries=1.5)
    with pytest.raises(ValueError, match="timeout"):
        client(emu.url(), timeout=-1)
    # bool is checked before int: True is not a number of seconds.
    with pytest.raises(TypeError, match="timeout"):
        client(emu.url(), timeout=True)
    client(emu.url(), timeout=5, max_retries=2.0, allow_insecure_http=False)  # ints and whole floats


def test_ca_file_takes_a_path_and_a_bad_one_names_it(emu: Emulator, tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(mixerlead.ConfigurationError, match="ca_file"):
        client(emu.url(), ca_file=missing)  # os.PathLike
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(mixerlead.ConfigurationError, match="ca_file"):
        client(emu.url(), ca_file=str(garbage))


def test_proxy_is_checked(emu: Emulator) -> None:
    with pytest.raises(mixerlead.ConfigurationError, match="proxy"):
        mixerlead.Client(KEY, proxy="not a url")
    with pytest.raises(mixerlead.ConfigurationError, match="proxy"):
        client(emu.url(), proxy="http://127.0.0.1:3128")  # plain http never goes through a proxy
    mixerlead.Client(KEY, proxy="http://127.0.0.1:3128")


# --- with_options ---------------------------------------------------------------------------------


def test_with_options_derives_a_client_and_leaves_the_original(emu: Emulator, sid: str) -> None:
    base = client(emu.url(f"id={sid}"), project_id="proj_a")
    derived = base.with_options(project_id="proj_b", max_retries=0)
    assert type(derived) is mixerlead.Client
    assert derived.base_url == base.base_url
    assert derived._live._shares_pool_with(base._live), "one connection pool"
    assert not base.with_options(connect_timeout=3)._live._shares_pool_with(base._live), "how connections are made"
    derived.models.list()
    assert emu.stats(sid)["last_headers"]["x-project-id"] == "proj_b"
    base.models.list()
    assert emu.stats(sid)["last_headers"]["x-project-id"] == "proj_a"
    with base.with_options() as same:
        assert same.chat.send("x").text
    failing = emu.url(f"id={sid}f;fail=503;retry_after=0")
    with pytest.raises(mixerlead.InternalServerError):
        base.with_options(base_url=failing).models.list()
    assert emu.stats(sid + "f")["requests"] == 3, "the derived client keeps max_retries=2"
    with pytest.raises(mixerlead.InternalServerError):
        derived.with_options(base_url=failing).models.list()
    assert emu.stats(sid + "f")["requests"] == 4, "and this one max_retries=0"


def test_with_options_checks_values_naming_them(emu: Emulator) -> None:
    base = client(emu.url())
    with pytest.raises(ValueError, match="max_retries"):
        base.with_options(max_retries=-1)
    with pytest.raises(TypeError, match="timeout"):
        base.with_options(timeout="soon")  # type: ignore[arg-type]
    with pytest.raises(mixerlead.ConfigurationError):
        base.with_options(base_url="http://example.com/api")
    base.close()
    with pytest.raises(mixerlead.MixerLeadError, match="closed"):
        base.with_options(timeout=1)


async def test_async_with_options(emu: Emulator, sid: str) -> None:
    base = aclient(emu.url(f"id={sid}"))
    derived = base.with_options(project_id="proj_async")
    assert type(derived) is mixerlead.AsyncClient
    await derived.chat.send("x")
    assert emu.stats(sid)["last_headers"]["x-project-id"] == "proj_async"


# --- per-call options -----------------------------------------------------------------------------


def test_a_per_call_timeout_shorter_than_the_clients_fires(emu: Emulator) -> None:
    c = client(emu.url("header_delay_ms=1500"), timeout=30.0, max_retries=0)
    calls: List[Callable[[], object]] = [
        lambda: c.models.list(timeout=0.2),
        lambda: c.chat.stream("x", timeout=0.2),
        lambda: c.chat.send("x", timeout=0.2),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(mixerlead.APITimeoutError):
            call()
        assert time.monotonic() - started < 1.0
    assert c.models.list(), "the client's own timeout still applies to the other calls"


def test_max_retries_for_one_call(emu: Emulator, sid: str) -> None:
    c = client(emu.url(f"id={sid};fail=503;retry_after=0"))
    with pytest.raises(mixerlead.InternalServerError):
        c.models.list(max_retries=0)
    assert emu.stats(sid)["requests"] == 1
    with pytest.raises(mixerlead.InternalServerError):
        c.models.list()
    assert emu.stats(sid)["requests"] == 4, "the client's other calls retry twice"
    with pytest.raises(mixerlead.InternalServerError):
        c.chat.send("x", max_retries=1)
    assert emu.stats(sid)["requests"] == 6


def test_extra_headers_reach_the_server(emu: Emulator, sid: str) -> None:
    c = client(emu.url(f"id={sid}"), project_id="proj_client")
    c.chat.stream("x", extra_headers={"X-Trace": "t-1"}).read()
    headers = emu.stats(sid)["last_headers"]
    assert headers["x-trace"] == "t-1" and headers["x-project-id"] == "proj_client"
    c.models.list(extra_headers={"X-Project-Id": "proj_call"})
    assert emu.stats(sid)["last_headers"]["x-project-id"] == "proj_call", "extra headers override the client's"
    c.chat.send("x")
    assert "x-trace" not in emu.stats(sid)["last_headers"], "for that call only"


def test_bad_per_call_options_are_refused_before_any_request(emu: Emulator, sid: str) -> None:
    c = client(emu.url(f"id={sid}"))
    for headers in [{"Authorization": "Bearer ml_live_other"}, {"authorization": "x"}]:
        with pytest.raises(mixerlead.ConfigurationError, match="Authorization"):
            c.chat.send("x", extra_headers=headers)
    with pytest.raises(mixerlead.ConfigurationError, match="x-evil"):
        c.models.list(extra_headers={"x-evil": "a\r\nx-injected: 1"})
    with pytest.raises(mixerlead.ConfigurationError, match="x-evil"):
        c.models.list(extra_headers={"x-evil": "a\nb"})
    with pytest.raises(ValueError, match="timeout"):
        c.models.list(timeout=-1)
    with pytest.raises(ValueError, match="timeout"):
        c.chat.stream("x", timeout=0)
    with pytest.raises(ValueError, match="max_retries"):
        c.chat.send("x", max_retries=-1)
    with pytest.raises(TypeError, match="timeout"):
        c.models.list(timeout="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_retries"):
        c.models.list(max_retries="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="extra_headers"):
        c.models.list(extra_headers={"x-n": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="extra_headers"):
        c.models.list(extra_headers=["x-n"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_retries"):
        c.models.list(max_retries=1.5)  # type: ignore[arg-type]
    # Per-call options go to the core as one value too, each set by name.
    with pytest.raises(mixerlead.ConfigurationError, match="colour"):
        c._live.list_models({"colour": "blue"})
    with pytest.raises(mixerlead.ConfigurationError, match="colour"):
        c._live.list_models({"colour": ["blue"]})
    assert emu.stats(sid)["requests"] == 0


async def test_async_per_call_options(emu: Emulator, sid: str) -> None:
    slow = aclient(emu.url("header_delay_ms=1500"), max_retries=0)
    for call in [slow.models.list(timeout=0.2), slow.chat.stream("x", timeout=0.2), slow.chat.send("x", timeout=0.2)]:
        started = time.monotonic()
        with pytest.raises(mixerlead.APITimeoutError):
            await call
        assert time.monotonic() - started < 1.0
    c = aclient(emu.url(f"id={sid};fail=503;retry_after=0"))
    with pytest.raises(mixerlead.InternalServerError):
        await c.models.list(max_retries=0)
    assert emu.stats(sid)["requests"] == 1
    with pytest.raises(mixerlead.InternalServerError):
        await c.chat.send("x", extra_headers={"X-Trace": "async"})
    stats = emu.stats(sid)
    assert stats["requests"] == 4 and stats["last_headers"]["x-trace"] == "async"
    with pytest.raises(mixerlead.ConfigurationError, match="Authorization"):
        await c.chat.stream("x", extra_headers={"Authorization": "Bearer x"})
    assert emu.stats(sid)["requests"] == 4


# --- response metadata ----------------------------------------------------------------------------


def test_metadata_of_streams_replies_and_model_lists(emu: Emulator) -> None:
    c = client(emu.url())
    models = c.models.list()
    assert isinstance(models, mixerlead.ModelList) and isinstance(models, list)
    assert all(isinstance(m, mixerlead.Model) for m in models) and len(models) >= 2
    assert models.request_id is not None and models.request_id.startswith("req_")
    assert models.headers["X-Request-Id"] == models.request_id
    assert models.headers["content-type"].startswith("application/json")
    assert models == list(models), "compares as the list it is"

    stream = c.chat.stream("x")
    assert stream.request_id is not None and stream.request_id.startswith("req_")
    headers = stream.headers
    assert isinstance(headers, mixerlead.Headers)
    assert headers["content-type"] == headers["Content-Type"] == headers["CONTENT-TYPE"]
    assert "X-Request-ID" in headers and "x-missing" not in headers
    assert headers.get("x-missing") is None
    assert headers["x-request-id"] == stream.request_id
    assert dict(headers)["x-request-id"] == stream.request_id, "iterates lower-case names"
    stream.close()

    reply = c.chat.send("x")
    assert reply.request_id is not None and reply.request_id.startswith("req_")
    assert reply.headers["X-Request-Id"] == reply.request_id
    assert reply.request_id != stream.request_id
    assert "request_id=" in repr(reply)


def test_headers_mapping() -> None:
    headers = mixerlead.Headers([("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("X-One", "1")])
    assert headers["SET-COOKIE"] == "a=1, b=2"
    assert headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert list(headers) == ["set-cookie", "x-one"] and len(headers) == 2
    assert headers == {"X-One": "1", "set-cookie": "a=1, b=2"}
    assert hash(headers) == hash(mixerlead.Headers([("x-one", "1"), ("set-cookie", "a=1, b=2")]))
    with pytest.raises(KeyError):
        headers["missing"]


async def test_async_metadata(emu: Emulator) -> None:
    c = aclient(emu.url())
    models = await c.models.list()
    assert isinstance(models, mixerlead.ModelList) and models.request_id is not None
    assert models.headers["x-request-id"] == models.request_id
    async with await c.chat.stream("x") as stream:
        assert stream.request_id is not None and stream.headers["X-Request-Id"] == stream.request_id
    reply = await c.chat.send("x")
    assert reply.request_id is not None and reply.headers["x-request-id"] == reply.request_id


# --- the runtime in the User-Agent ----------------------------------------------------------------


def test_user_agent_names_the_python_runtime(emu: Emulator, sid: str) -> None:
    client(emu.url(f"id={sid}")).models.list()
    agent = emu.stats(sid)["last_headers"]["user-agent"]
    major, minor, micro = sys.version_info[:3]
    runtime = f"{platform.python_implementation()}/{major}.{minor}.{micro}"
    assert agent.startswith(f"mixerlead-python/{mixerlead.__version__} (")
    assert agent.endswith(f") {runtime}"), agent
