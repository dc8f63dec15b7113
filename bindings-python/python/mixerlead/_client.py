"""``Client`` and ``AsyncClient``: options, and the ``models`` / ``chat`` resources (the
Workspace API's others are in ``_workspace.py``)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (12 ms)

from . import _native, _telemetry
from ._async_stream import AsyncChatStream
from ._errors import MixerLeadError
from ._native import ChatStream
from ._types import ChatReply, Headers, Model, ModelList
from ._workspace import (
    Agents,
    Artifacts,
    AsyncAgents,
    AsyncArtifacts,
    AsyncKnowledge,
    AsyncSkills,
    Knowledge,
    Skills,
)

if TYPE_CHECKING:
    import os
    from types import TracebackType
    from typing import Any, Dict, Mapping, Optional, Tuple, Type, TypeVar, Union

    _Client = TypeVar("_Client", bound="_Base")
    _Models = Tuple[Any, Optional[str], Any]


class _Base:
    __slots__ = ("_native_client",)

    _native_client: Optional[_native.NativeClient]

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        project_id: Optional[str] = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        max_retries: Optional[int] = None,
        max_retry_wait: float = 60.0,
        allow_insecure_http: Optional[bool] = None,
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
        proxy: Optional[str] = None,
        rate_limit: Optional[float] = None,
        rate_limit_burst: Optional[int] = None,
        rate_limit_redis: Optional[str] = None,
        max_concurrency: Optional[int] = None,
        record: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> None:
        # One value to the core, which knows every option by name (None: environment, default).
        self._native_client = _native.NativeClient(
            {
                "api_key": api_key,
                "base_url": base_url,
                "project_id": project_id,
                "timeout": timeout,
                "connect_timeout": connect_timeout,
                "read_timeout": read_timeout,
                "max_retries": max_retries,
                "max_retry_wait": max_retry_wait,
                "allow_insecure_http": allow_insecure_http,
                "ca_file": ca_file,
                "proxy": proxy,
                "rate_limit": rate_limit,
                "rate_limit_burst": rate_limit_burst,
                "rate_limit_redis": rate_limit_redis,
                "max_concurrency": max_concurrency,
                "record": record,
            }
        )
        self._add_resources()

    def with_options(
        self: _Client,
        *,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        project_id: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        max_retry_wait: Optional[float] = None,
        allow_insecure_http: Optional[bool] = None,
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
        proxy: Optional[str] = None,
        rate_limit: Optional[float] = None,
        rate_limit_burst: Optional[int] = None,
        rate_limit_redis: Optional[str] = None,
        max_concurrency: Optional[int] = None,
        record: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> _Client:
        """A client with the given options changed (the others as this client has them), sharing
        this client's connection pool (unless ``connect_timeout``, ``ca_file`` or ``proxy``
        changes how connections are made). This client is left as it is.

        >>> patient = client.with_options(timeout=300, max_retries=5)
        """
        options: Dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "project_id": project_id,
            "timeout": timeout,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "max_retries": max_retries,
            "max_retry_wait": max_retry_wait,
            "allow_insecure_http": allow_insecure_http,
            "ca_file": ca_file,
            "proxy": proxy,
            "rate_limit": rate_limit,
            "rate_limit_burst": rate_limit_burst,
            "rate_limit_redis": rate_limit_redis,
            "max_concurrency": max_concurrency,
            "record": record,
        }
        derived = object.__new__(type(self))
        derived._native_client = self._live.with_options(options)
        derived._add_resources()
        return derived

    def _add_resources(self) -> None:
        raise NotImplementedError

    @property
    def _live(self) -> _native.NativeClient:
        native = self._native_client
        if native is None:
            raise MixerLeadError("the client is closed")
        return native

    @property
    def base_url(self) -> str:
        """The base URL requests go to."""
        return self._live.base_url

    def __repr__(self) -> str:
        # mixerlead.Client(base_url='…', api_key='…1234', max_retries=2): the key's last 4
        # characters at most.
        native = self._native_client
        if native is None:
            return f"<mixerlead.{type(self).__name__} closed>"
        fields = ", ".join(f"{name}={value!r}" for name, value in native._shown_options())
        return f"mixerlead.{type(self).__name__}({fields})"


def _call(
    timeout: Optional[float], max_retries: Optional[int], extra_headers: Optional[Mapping[str, str]]
) -> Optional[Dict[str, Any]]:
    """The options of one call as one value, each set by name in the core (``None`` values:
    the client's); ``None`` when none is given."""
    if timeout is None and max_retries is None and extra_headers is None:
        return None
    return {"timeout": timeout, "max_retries": max_retries, "extra_headers": extra_headers}


def _model_list(out: _Models) -> ModelList:
    rows, request_id, headers = out
    return ModelList([Model(*row) for row in rows], request_id=request_id, headers=Headers(headers))


def _reply(out: Tuple[str, Optional[str], Optional[str], Any]) -> ChatReply:
    text, conversation, request_id, headers = out
    return ChatReply(text, conversation, request_id, Headers(headers))


class Models:
    """``client.models``: the models the service offers."""

    __slots__ = ("_client",)

    def __init__(self, client: "Client") -> None:
        self._client = client

    def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> ModelList:
        """Lists the models (``GET /ai/models``).

        ``timeout``, ``max_retries`` and ``extra_headers`` apply to this call only (see
        :meth:`Chat.stream`)."""
        options = _call(timeout, max_retries, extra_headers)
        return _model_list(_telemetry.call(self._client._live.list_models, (), "GET /ai/models", options))


class Chat:
    """``client.chat``: send a message, streamed or whole."""

    __slots__ = ("_client",)

    def __init__(self, client: "Client") -> None:
        self._client = client

    def stream(
        self,
        message: str,
        model: Optional[str] = None,
        conversation_id: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> ChatStream:
        """Sends ``message``; returns once the response headers arrived, with the reply as an
        iterator of ``str`` pieces. Status errors raise here (after retries).

        For this call only: ``timeout`` (seconds until the response headers, per attempt),
        ``max_retries`` (``0``: one attempt) and ``extra_headers`` (sent with the request; any
        header but ``Authorization``, which raises ``ConfigurationError``, as does a value with
        a newline)."""
        options = _call(timeout, max_retries, extra_headers)
        args = (message, model, conversation_id)
        return _telemetry.call(self._client._live.chat, args, _telemetry.chat_name(model), options, args)  # type: ignore[no-any-return]

    def send(
        self,
        message: str,
        model: Optional[str] = None,
        conversation_id: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> ChatReply:
        """Sends ``message`` and waits for the whole reply (options as for :meth:`stream`)."""
        options = _call(timeout, max_retries, extra_headers)
        args = (message, model, conversation_id)
        return _reply(_telemetry.call(self._client._live.send, args, _telemetry.chat_name(model), options, args))


class Client(_Base):
    """A synchronous client of MixerLead's Workspace API. Safe to share between threads.

    Every option falls back to its environment variable (``MIXERLEAD_API_KEY``,
    ``MIXERLEAD_BASE_URL``, ``MIXERLEAD_PROJECT_ID``, ``MIXERLEAD_MAX_RETRIES``,
    ``MIXERLEAD_ALLOW_INSECURE_HTTP``), then to its default. Times are in seconds.
    ``max_retries`` defaults to 2: set 0 if your application retries on its own.

    ``ca_file`` is a PEM file of certificates trusted besides the system's roots (a company
    proxy's, a test server's); ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` are honoured too.
    ``proxy`` is the URL every request goes through (``http://``, ``https://`` or
    ``socks5://``), instead of ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` from the
    environment (``NO_PROXY`` still applies).

    Traffic control for fleets: every client of one key, base URL and project in the process
    shares a 429 gate (after a 429 with ``Retry-After`` no request of theirs goes before then)
    and, from the first 429, a pacing that follows the service. ``rate_limit`` (requests per
    minute) paces from the start, with bursts of ``rate_limit_burst``; ``rate_limit=0`` turns
    gate and pacing off. ``rate_limit_redis`` (``redis://…``; else
    ``MIXERLEAD_RATE_LIMIT_REDIS``) shares the limit between processes and machines.
    ``max_concurrency`` caps the requests in flight (a stream holds its place to its end). A
    request that would wait longer than ``max_retry_wait`` raises ``RateLimitError`` at once.

    ``record`` (a path; else ``MIXERLEAD_RECORD``) appends every exchange — every attempt,
    with its body chunks and their timing, never the key — to a cassette that
    ``mixerlead.testing.Emulator(cassette=...)`` replays. A path that cannot be opened for
    appending raises ``ConfigurationError`` here.

    Every call takes ``timeout=``, ``max_retries=`` and ``extra_headers=`` for that call only;
    :meth:`with_options` makes a client with other options that shares this one's connections.
    Records of attempts, retries and responses go to ``logging.getLogger("mixerlead")``.
    """

    __slots__ = ("models", "chat", "knowledge", "skills", "agents", "artifacts")

    models: Models
    """``client.models.list()``."""
    chat: Chat
    """``client.chat.stream(...)`` and ``client.chat.send(...)``."""
    knowledge: Knowledge
    """``client.knowledge.add(...)``, ``.crawl``, ``.list``, ``.wait_until_indexed``, …"""
    skills: Skills
    """``client.skills.list()`` and ``client.skills.run(...)``."""
    agents: Agents
    """``client.agents.list()``, ``.create(...)`` and ``.run(...)``."""
    artifacts: Artifacts
    """``client.artifacts.list()`` and ``client.artifacts.create(...)``."""

    def _add_resources(self) -> None:
        self.models = Models(self)
        self.chat = Chat(self)
        self.knowledge = Knowledge(self)
        self.skills = Skills(self)
        self.agents = Agents(self)
        self.artifacts = Artifacts(self)

    def close(self) -> None:
        """Releases the connection pool. Streams already open keep working."""
        self._native_client = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


class AsyncModels:
    """``aclient.models``: the models the service offers."""

    __slots__ = ("_client",)

    def __init__(self, client: "AsyncClient") -> None:
        self._client = client

    async def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> ModelList:
        """Lists the models (``GET /ai/models``); options as for :meth:`AsyncChat.stream`."""
        options = _call(timeout, max_retries, extra_headers)
        return _model_list(await _telemetry.acall(self._client._live.alist_models, (), "GET /ai/models", options))


class AsyncChat:
    """``aclient.chat``: send a message, streamed or whole."""

    __slots__ = ("_client",)

    def __init__(self, client: "AsyncClient") -> None:
        self._client = client

    async def stream(
        self,
        message: str,
        model: Optional[str] = None,
        conversation_id: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> AsyncChatStream:
        """Sends ``message``; returns once the response headers arrived, with the reply as an
        async iterator of ``str`` pieces. Status errors raise here (after retries).

        For this call only: ``timeout`` (seconds until the response headers, per attempt),
        ``max_retries`` (``0``: one attempt) and ``extra_headers`` (sent with the request; any
        header but ``Authorization``, which raises ``ConfigurationError``, as does a value with
        a newline)."""
        options = _call(timeout, max_retries, extra_headers)
        args = (message, model, conversation_id)
        native = await _telemetry.acall(self._client._live.achat, args, _telemetry.chat_name(model), options, args)
        return AsyncChatStream(native)

    async def send(
        self,
        message: str,
        model: Optional[str] = None,
        conversation_id: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> ChatReply:
        """Sends ``message`` and waits for the whole reply (options as for :meth:`stream`)."""
        options = _call(timeout, max_retries, extra_headers)
        args = (message, model, conversation_id)
        out = await _telemetry.acall(self._client._live.asend, args, _telemetry.chat_name(model), options, args)
        return _reply(out)


class AsyncClient(_Base):
    """An asyncio client of MixerLead's Workspace API; same options as ``Client``.

    Its work runs on the library's own runtime threads, so the event loop is never blocked.
    """

    __slots__ = ("models", "chat", "knowledge", "skills", "agents", "artifacts")

    models: AsyncModels
    """``await aclient.models.list()``."""
    chat: AsyncChat
    """``await aclient.chat.stream(...)`` and ``await aclient.chat.send(...)``."""
    knowledge: AsyncKnowledge
    """``await aclient.knowledge.add(...)``, … (as ``Client.knowledge``)."""
    skills: AsyncSkills
    """``await aclient.skills.list()`` and ``.run(...)``."""
    agents: AsyncAgents
    """``await aclient.agents.list()``, ``.create(...)`` and ``.run(...)``."""
    artifacts: AsyncArtifacts
    """``await aclient.artifacts.list()`` and ``.create(...)``."""

    def _add_resources(self) -> None:
        self.models = AsyncModels(self)
        self.chat = AsyncChat(self)
        self.knowledge = AsyncKnowledge(self)
        self.skills = AsyncSkills(self)
        self.agents = AsyncAgents(self)
        self.artifacts = AsyncArtifacts(self)

    async def aclose(self) -> None:
        """Releases the connection pool. Streams already open keep working."""
        self._native_client = None

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()
