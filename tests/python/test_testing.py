"""`mixerlead.testing.Emulator`: the emulator in-process, its TLS mode, and with it the
`ca_file` and `proxy` options for real."""

from __future__ import annotations

import pathlib
import socket
import subprocess
import sys
import threading
from typing import Iterator, List

import pytest

import mixerlead
from mixerlead.testing import Emulator

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture(scope="module")
def tls_emulator() -> Iterator[Emulator]:
    with Emulator(tls=True) as emu:
        yield emu


def test_the_emulator_in_process(emulator: Emulator, sid: str) -> None:
    assert emulator.base_url.startswith("http://127.0.0.1:") and emulator.base_url.endswith("/api")
    assert emulator.api_key.startswith("ml_test_") and len(emulator.api_key) > 16
    assert emulator.ca_pem is None and emulator.ca_file is None
    assert "Emulator" in repr(emulator)
    c = mixerlead.Client(emulator.api_key, base_url=emulator.base_url)
    assert any(m.id == "ml-auto" for m in c.models.list())
    assert c.chat.send("hello there").text.startswith("Hello! You said: \u201chello there")
    url = emulator.scenario_url(f"id={sid};fail=429;times=2;retry_after=0.01")
    assert url.startswith(emulator.base_url[: -len("/api")] + "/s/")
    assert mixerlead.Client(emulator.api_key, base_url=url).chat.send("x").text
    stats = emulator.stats(sid)
    assert stats["requests"] == 3 and stats["streams_completed"] == 1 and stats["last_authorized"]
    assert stats["last_path"].endswith("/api/chat") and '"message":"x"' in stats["last_body"]
    assert stats["last_headers"]["user-agent"].startswith("mixerlead-python/")
    assert "authorization" not in stats["last_headers"]
    assert len(stats["request_times"]) == 3 and stats["client_disconnects"] == 0
    assert emulator.stats("never-used")["requests"] == 0


def test_client_helpers_and_faults(emulator: Emulator, sid: str) -> None:
    stream = emulator.client(f"id={sid};pieces=300;delay_ms=10").chat.stream("x")
    next(stream)
    stream.close()
    deadline = 50
    while emulator.stats(sid)["client_disconnects"] == 0 and deadline:
        threading.Event().wait(0.02)
        deadline -= 1
    assert emulator.stats(sid)["client_disconnects"] == 1
    with pytest.raises(mixerlead.StreamInterruptedError):
        emulator.client("disconnect_after=2").chat.stream("x").read()
    with pytest.raises(mixerlead.AuthenticationError):
        emulator.client(api_key="ml_test_revoked").models.list()


async def test_async_client_of_the_emulator(emulator: Emulator) -> None:
    c = emulator.async_client(max_retries=0)
    assert (await c.chat.send("async")).text.startswith("Hello! You said: \u201casync")


def test_close_stops_serving() -> None:
    emu = Emulator()
    c = emu.client(max_retries=0)
    c.models.list()
    emu.close()
    with pytest.raises(mixerlead.APIConnectionError):
        mixerlead.Client(emu.api_key, base_url=emu.base_url, max_retries=0).models.list()
    with pytest.raises(RuntimeError, match="stopped"):
        emu.stats("x")
    emu.close()  # twice is fine


def test_times_counts_the_requests_of_its_script_alone(emulator: Emulator) -> None:
    # Six other calls first: without a script, and with other scripts.
    for _ in range(3):
        emulator.client().models.list()
        emulator.client("pieces=2").chat.send("x")
    script = "fail=429;times=1;retry_after=0"
    once = emulator.client(script, max_retries=0)
    with pytest.raises(mixerlead.RateLimitError):
        once.chat.send("x")
    assert once.chat.send("x").text, "the second request is past times=1"
    assert emulator.stats(script)["requests"] == 2, "the script string is its id"
    assert emulator.stats("pieces=2")["requests"] == 3
    assert emulator.stats("never sent")["requests"] == 0


def test_client_script_and_options_over_the_defaults(emulator: Emulator, sid: str) -> None:
    assert emulator.client().chat.send("Hi").text.startswith("Hello! You said")
    assert emulator.stats()["last_path"] == "/api/chat", "stats() is stats(''): requests without a script"
    assert emulator.stats()["last_authorized"]
    for none in (None, ""):
        emulator.client(none, max_retries=0).models.list()
        assert emulator.stats()["last_path"] == "/api/ai/models"
    emulator.client(f"id={sid}a;fail=503;times=1;retry_after=0").models.list()
    assert emulator.stats(f"{sid}a")["requests"] == 2, "retried with the default max_retries"
    with pytest.raises(mixerlead.InternalServerError):
        emulator.client(f"id={sid}b;fail=503;retry_after=0", max_retries=0).models.list()
    assert emulator.stats(f"{sid}b")["requests"] == 1, "options over the defaults"
    with pytest.raises(TypeError):
        emulator.scenario_url(42)  # type: ignore[arg-type]


def test_the_same_surface_as_node(emulator: Emulator, sid: str) -> None:
    assert emulator.api_key.startswith("ml_test_") and len(emulator.api_key) == len("ml_test_") + 16
    assert emulator.ca_file is None
    stream = emulator.client(f"id={sid};pieces=300;delay_ms=10").chat.stream("x")
    next(stream)
    stream.close()
    stats = emulator.wait_for_disconnects(sid, count=1, within=2.0)
    assert stats["client_disconnects"] == 1 and len(stats["disconnect_times"]) == 1
    assert emulator.wait_for_disconnects("never sent", within=0.01)["client_disconnects"] == 0
    with Emulator(format="ndjson", token_delay_ms=1, rate_limit=100) as other:
        s = other.client().chat.stream("Hi")
        assert "ndjson" in s.headers["content-type"]
        assert s.read()
    with pytest.raises(ValueError, match="format"):
        Emulator(format="xml")
    with pytest.raises(ValueError, match="port"):
        Emulator(port=70000)
    with pytest.raises(ValueError, match="token_delay_ms"):
        Emulator(token_delay_ms=-1)
    stopped = Emulator()
    stopped.stop()
    stopped.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        stopped.stats()


# --- TLS: ca_file for real ------------------------------------------------------------------------


def test_an_untrusted_certificate_is_a_connection_error_that_says_so(tls_emulator: Emulator) -> None:
    assert tls_emulator.base_url.startswith("https://127.0.0.1:")
    pem = tls_emulator.ca_pem
    assert pem is not None and pem.startswith("-----BEGIN CERTIFICATE-----")
    untrusted = mixerlead.Client(tls_emulator.api_key, base_url=tls_emulator.base_url, max_retries=0)
    with pytest.raises(mixerlead.APIConnectionError) as info:
        untrusted.models.list()
    assert not isinstance(info.value, mixerlead.APITimeoutError)
    assert "certificate" in str(info.value).lower(), str(info.value)


def test_ca_file_trusts_the_certificate(tls_emulator: Emulator, tmp_path: pathlib.Path) -> None:
    ca_file = tls_emulator.ca_file
    assert ca_file is not None and pathlib.Path(ca_file).read_text() == tls_emulator.ca_pem
    c = mixerlead.Client(tls_emulator.api_key, base_url=tls_emulator.base_url, ca_file=ca_file)
    assert c.chat.send("over tls").text.startswith("Hello! You said: \u201cover tls")
    as_path = tmp_path / "ca.pem"
    as_path.write_text(tls_emulator.ca_pem or "")
    c = mixerlead.Client(tls_emulator.api_key, base_url=tls_emulator.base_url, ca_file=as_path)
    assert c.models.list()
    assert tls_emulator.client().chat.stream("x").read()
    untrusted = mixerlead.Client(tls_emulator.api_key, base_url=tls_emulator.base_url, max_retries=0)
    with pytest.raises(mixerlead.APIConnectionError, match="(?i)certificate"):
        untrusted.with_options(timeout=5).models.list()
    assert untrusted.with_options(ca_file=ca_file).models.list(), "with_options can add a ca_file"


async def test_async_over_tls(tls_emulator: Emulator) -> None:
    assert (await tls_emulator.async_client().chat.send("x")).text
    with pytest.raises(mixerlead.APIConnectionError, match="(?i)certificate"):
        await mixerlead.AsyncClient(tls_emulator.api_key, base_url=tls_emulator.base_url, max_retries=0).models.list()


def test_ca_file_is_removed_at_close() -> None:
    with Emulator(tls=True) as emu:
        path = emu.ca_file
        assert path is not None and pathlib.Path(path).exists()
    assert not pathlib.Path(path).exists()
    assert emu.ca_file is None, "no file written again once closed"


# --- proxy: through a CONNECT proxy, for real -----------------------------------------------------


class ConnectProxy:
    """A minimal HTTP CONNECT proxy on loopback that records the targets it was asked for."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.server.getsockname()[1]
        self.targets: List[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(conn,), daemon=True).start()

    def _tunnel(self, conn: socket.socket) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            head += chunk
        method, target = head.split(b" ")[:2]
        if method != b"CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n")
            conn.close()
            return
        self.targets.append(target.decode())
        host, port = target.decode().rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(a: socket.socket, b: socket.socket) -> None:
            try:
                while True:
                    data = a.recv(65536)
                    if not data:
                        break
                    b.sendall(data)
            except OSError:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()
        pipe(conn, upstream)

    def close(self) -> None:
        self.server.close()


def test_requests_go_through_the_proxy_option(tls_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ["NO_PROXY", "no_proxy"]:
        monkeypatch.delenv(name, raising=False)
    proxy = ConnectProxy()
    try:
        c = tls_emulator.client(proxy=proxy.url)
        assert c.chat.send("via the proxy").text.startswith("Hello! You said: \u201cvia the proxy")
        port = tls_emulator.base_url.split(":")[2].split("/")[0]
        assert proxy.targets and all(t == f"127.0.0.1:{port}" for t in proxy.targets), proxy.targets
    finally:
        proxy.close()


# --- the example users copy -----------------------------------------------------------------------


def test_the_pytest_fixture_example_passes() -> None:
    example = ROOT / "examples" / "python" / "test_with_emulator.py"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
        capture_output=True,
        text=True,
        cwd=example.parent,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 passed" in out.stdout, out.stdout
