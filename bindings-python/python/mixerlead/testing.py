"""Test your own code against the MixerLead API without the network: :class:`Emulator` runs the
project's emulator of the service inside this process, on a free port of 127.0.0.1.

>>> from mixerlead.testing import Emulator
>>> with Emulator() as emu:
...     client = emu.client()
...     print(client.chat.send("Hi").text)

It speaks the real API (models, streamed chat, conversations, every wire format, errors) and
scripts faults per request: ``emu.client(script)`` (or :meth:`Emulator.scenario_url` as a
client's ``base_url``) with a script such as ``"fail=429;times=2;retry_after=0.1"`` (429 twice,
then success), ``"disconnect_after=3"``, ``"stall_after=2"``, ``"header_delay_ms=500"``,
``"pieces=5000"``, ``"format=ndjson"`` or ``"error_after=2"``, joined with ``;``.

A script counts its own requests: ``times=N`` and :meth:`Emulator.stats` count those sent with
that script only, under its ``id=NAME`` when it has one, else under the whole script string
(``emu.stats("fail=429;times=2;retry_after=0.1")``). Requests sent without a script count under
``""``.

The same helper in Node is ``require('mixerlead/testing').Emulator``, with the same methods in
camelCase.

A pytest fixture::

    @pytest.fixture
    def emulator():
        with Emulator() as emu:
            yield emu
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from types import TracebackType
from typing import Any, Dict, List, Optional, Type, TypedDict, Union, cast

from . import _native
from ._client import AsyncClient, Client

__all__ = ["Emulator", "EmulatorStats"]


class EmulatorStats(TypedDict):
    """What the emulator saw of one scenario: the requests of one script (its ``id=NAME``, or the
    script itself without one), or those sent without a script (``""``)."""

    requests: int
    """Requests received, every attempt (retries included)."""
    streams_started: int
    """Chat replies that began streaming."""
    streams_completed: int
    """Chat replies sent to their end."""
    client_disconnects: int
    """Replies the client abandoned (it closed the connection mid-reply)."""
    request_times: List[float]
    """When each request came, in seconds since the emulator started."""
    disconnect_times: List[float]
    """When each client disconnect happened, in seconds since the emulator started."""
    last_headers: Dict[str, str]
    """The last request's headers (names in lower case), without ``Authorization``."""
    last_path: str
    """The last request's path."""
    last_body: str
    """The last request's body."""
    last_authorized: bool
    """Whether the last request carried an ``Authorization`` header (its value is not kept)."""
    replayed: int
    """With a ``cassette``: requests answered from it."""
    unmatched: int
    """With a ``cassette``: requests no recorded exchange matched (answered with 404)."""


class Emulator:
    """The MixerLead API emulator, served in this process on 127.0.0.1 until :meth:`close` (or
    :meth:`stop`, or the end of a ``with`` block).

    ``port``: the port to listen on (0, the default: a free one).

    ``tls=True`` serves https with a certificate made at start, which clients do not trust
    unless given :attr:`ca_file` (``Client(..., ca_file=emu.ca_file)``, as :meth:`client`
    does): a way to test certificate handling.

    How chat replies come when a request does not script otherwise: ``format`` (``"sse"``, the
    default, ``"ndjson"``, ``"jsonl"``, ``"json"``, ``"text"`` or ``"none"``),
    ``token_delay_ms`` (milliseconds between pieces; 0) and ``rate_limit`` (requests a second
    allowed per key, then 429 with ``Retry-After``; no limit).

    The Workspace API's limits: ``index_delay_ms`` (how long a knowledge source takes to
    index; 300), ``max_upload_bytes`` (larger uploads get 413; 8 MiB) and
    ``agent_runs_per_day`` (runs past it get 403; 5). ``None``: those defaults.

    ``cassette`` (a path) replays a session recorded with a client's ``record=`` option instead
    of the emulated service: each request is answered by the next unused recorded exchange with
    the same method, path and body, its chunks sent at their recorded times divided by
    ``speed`` (1, the default: as recorded; 0: at once). A request nothing matches gets 404
    ``"no recorded exchange for POST /chat {...}"`` and counts in ``stats()["unmatched"]``. A
    cassette that is missing, not JSON, of an unknown version or cut mid-line raises
    ``ValueError`` naming the file and the line.

    Raises ``ValueError`` for an unknown ``format``, a ``port`` past 65535 or a negative
    ``token_delay_ms``, and ``OSError`` when the port cannot be listened on.
    """

    __slots__ = ("_native", "_api_key", "_ca_file", "_closed")

    def __init__(
        self,
        *,
        port: int = 0,
        tls: bool = False,
        format: Optional[str] = None,
        token_delay_ms: Optional[float] = None,
        rate_limit: Optional[int] = None,
        index_delay_ms: Optional[int] = None,
        max_upload_bytes: Optional[int] = None,
        agent_runs_per_day: Optional[int] = None,
        cassette: Optional[Union[str, "os.PathLike[str]"]] = None,
        speed: Optional[float] = None,
    ) -> None:
        self._native = _native.NativeEmulator(
            tls,
            index_delay_ms,
            max_upload_bytes,
            agent_runs_per_day,
            port=port,
            format=format,
            token_delay_ms=token_delay_ms,
            rate_limit=rate_limit,
            cassette=os.fspath(cassette) if cassette is not None else None,
            speed=speed,
        )
        self._api_key = "ml_test_" + secrets.token_hex(8)
        self._ca_file: Optional[str] = None
        self._closed = False

    @property
    def base_url(self) -> str:
        """The base URL of the API: ``http://127.0.0.1:PORT/api`` (``https`` with ``tls``)."""
        return self._native.base_url

    @property
    def api_key(self) -> str:
        """A key the emulator accepts (``ml_test_`` and 16 hex digits, made for this emulator). Any
        key starting with ``ml_`` works; one containing ``revoked`` gets 401."""
        return self._api_key

    @property
    def ca_pem(self) -> Optional[str]:
        """With ``tls``: the certificate to trust (PEM); ``None`` for plain http."""
        return self._native.ca_pem

    @property
    def ca_file(self) -> Optional[str]:
        """With ``tls``: a file holding :attr:`ca_pem`, for a client's ``ca_file`` (removed at
        :meth:`close`); ``None`` for plain http, and once closed."""
        pem = self._native.ca_pem
        if pem is None or self._closed:
            return None
        if self._ca_file is None:
            fd, path = tempfile.mkstemp(prefix="mixerlead-emulator-", suffix=".pem")
            with os.fdopen(fd, "w") as f:
                f.write(pem)
            self._ca_file = path
        return self._ca_file

    def scenario_url(self, script: str) -> str:
        """A base URL whose every request is scripted by ``script`` (``"fail=503;times=1"``,
        ``"id=mine;pieces=5000"``, …; see the module's documentation). Raises ``RuntimeError``
        once the emulator is stopped."""
        return self._native.scenario_url(script)

    def stats(self, scenario_id: str = "") -> EmulatorStats:
        """What the emulator saw of one scenario: ``scenario_id`` is a script's ``id=NAME``, or
        the script itself for a script without an ``id=`` (as given to :meth:`client` or
        :meth:`scenario_url`), or ``""`` (the default) for the requests sent without a script.
        An id nothing was sent under has all counts 0. Raises ``RuntimeError`` once the emulator
        is stopped."""
        return cast(EmulatorStats, self._native.stats(scenario_id))

    def wait_for_disconnects(self, scenario_id: str, count: int = 1, within: float = 1.0) -> EmulatorStats:
        """The :meth:`stats` of ``scenario_id`` once they show ``count`` client disconnects, or
        after ``within`` seconds, whichever comes first (a client's disconnect reaches the
        emulator a moment after the client closed the stream)."""
        deadline = time.monotonic() + within
        while True:
            stats = self.stats(scenario_id)
            if stats["client_disconnects"] >= count or time.monotonic() >= deadline:
                return stats
            time.sleep(0.005)

    def client(self, script: Optional[str] = None, **options: Any) -> Client:
        """A :class:`mixerlead.Client` of this emulator: of ``scenario_url(script)`` when a script
        is given (``None`` or ``""``: of :attr:`base_url`), with :attr:`api_key` and, with
        ``tls``, :attr:`ca_file`; ``options`` (any of ``Client``'s) are passed on, over those."""
        return Client(**self._client_options(script, options))

    def async_client(self, script: Optional[str] = None, **options: Any) -> AsyncClient:
        """An :class:`mixerlead.AsyncClient` of this emulator, as :meth:`client` makes one."""
        return AsyncClient(**self._client_options(script, options))

    def _client_options(self, script: Optional[str], options: Dict[str, Any]) -> Dict[str, Any]:
        base_url = self.scenario_url(script) if script else self.base_url
        given: Dict[str, Any] = {"api_key": self.api_key, "base_url": base_url}
        if self.ca_pem is not None:
            given["ca_file"] = self.ca_file
        given.update(options)
        return given

    def close(self) -> None:
        """Stops serving; open connections are dropped, and :attr:`ca_file` is removed. Calling
        it again does nothing."""
        self._native.close()
        self._closed = True
        if self._ca_file is not None:
            try:
                os.unlink(self._ca_file)
            except OSError:
                pass
            self._ca_file = None

    def stop(self) -> None:
        """The same as :meth:`close` (the name Node's ``Emulator`` has)."""
        self.close()

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<mixerlead.testing.Emulator {self.base_url}>"
