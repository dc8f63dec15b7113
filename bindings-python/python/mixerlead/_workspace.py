"""The Workspace API beyond chat: ``client.knowledge``, ``client.skills``, ``client.agents``
and ``client.artifacts`` (sync and async), and their result types.

Every argument is checked before anything is sent (by the core: exactly one of ``url``,
``text`` and ``file``, a non-empty id, a known agent type); a bad one raises ``ValueError``
(``TypeError`` for a value of the wrong type). Results keep the object as the service sent it
in ``.raw``."""

from __future__ import annotations

import os

from . import _telemetry
from ._types import _Frozen

# json is imported where it is used: it brings re and enum (about 7 ms), which `import mixerlead`
# should not pay for (bench (f)).

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (12 ms)

if TYPE_CHECKING:
    from typing import IO, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

    from ._client import AsyncClient, Client

    FileArg = Union[str, "os.PathLike[str]", IO[bytes]]

__all__ = [
    "Source",
    "Indexing",
    "Skill",
    "SkillOutput",
    "Agent",
    "Artifact",
    "Knowledge",
    "Skills",
    "Agents",
    "Artifacts",
    "AsyncKnowledge",
    "AsyncSkills",
    "AsyncAgents",
    "AsyncArtifacts",
]


class _Result(_Frozen):
    """Immutable, compared by value; not hashable (``raw`` is a dict)."""

    __slots__: Tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, *values: Any) -> None:
        import json

        *fields, raw = values
        for name, value in zip(self.__slots__, [*fields, json.loads(raw)]):
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__ if name != "raw")
        return f"{type(self).__name__}({fields})"


class Source(_Result):
    """A source of the knowledge base, as ``knowledge.list()`` gives it."""

    __slots__ = (
        "id",
        "kind",
        "source_url_or_path",
        "status",
        "chunk_count",
        "enabled",
        "created_at",
        "indexed_at",
        "last_error",
        "raw",
    )

    id: str
    """The source's id."""
    kind: Optional[str]
    """``"url"``, ``"text"``, ``"file"``, ``"crawl"``…, when the service said."""
    source_url_or_path: Optional[str]
    """The URL, file name or text it came from."""
    status: str
    """``"indexing"``, ``"indexed"`` or ``"error"`` (another value the service sends, as it is)."""
    chunk_count: Optional[int]
    """How many chunks it was split into, once indexed."""
    enabled: bool
    """Whether chat grounds on it."""
    created_at: Optional[str]
    """When it was added."""
    indexed_at: Optional[str]
    """When it finished indexing."""
    last_error: Optional[str]
    """Why indexing failed (status ``"error"``)."""
    raw: Dict[str, Any]
    """The object as the service sent it."""


class Indexing(_Result):
    """What ``knowledge.add()``, ``.crawl()`` or ``.reindex()`` started."""

    __slots__ = ("id", "status", "max_pages", "raw")

    id: str
    """The source's id: pass it to ``wait_until_indexed``."""
    status: str
    """Usually ``"indexing"``."""
    max_pages: Optional[int]
    """For a crawl: the page limit the service applied."""
    raw: Dict[str, Any]
    """The object as the service sent it."""


class Skill(_Result):
    """A skill, as ``skills.list()`` gives it."""

    __slots__ = ("id", "name", "category", "description", "raw")

    id: str
    """The id to pass to ``skills.run``."""
    name: Optional[str]
    """Display name."""
    category: Optional[str]
    """Its category."""
    description: Optional[str]
    """What it does."""
    raw: Dict[str, Any]
    """The object as the service sent it."""


class SkillOutput(_Result):
    """What ``skills.run()`` returned."""

    __slots__ = ("output", "raw")

    output: str
    """The skill's output text."""
    raw: Dict[str, Any]
    """The object as the service sent it."""

    def __str__(self) -> str:
        return self.output


class Agent(_Result):
    """An agent, as ``agents.list()`` and ``agents.create()`` give it."""

    __slots__ = ("id", "name", "type", "raw")

    id: Optional[str]
    """The id to pass to ``agents.run``."""
    name: Optional[str]
    """Its name."""
    type: Optional[str]
    """``"research"``, ``"strategy"``, ``"execution"`` or ``"monitoring"``."""
    raw: Dict[str, Any]
    """The object as the service sent it."""


class Artifact(_Result):
    """An artifact, as ``artifacts.list()`` and ``artifacts.create()`` give it."""

    __slots__ = ("id", "name", "type", "raw")

    id: Optional[str]
    """Its id."""
    name: Optional[str]
    """Its name (or title)."""
    type: Optional[str]
    """Its type, when it has one."""
    raw: Dict[str, Any]
    """The object as the service sent it."""


def _call(
    timeout: Optional[float], max_retries: Optional[int], extra_headers: Optional[Mapping[str, str]]
) -> Optional[Dict[str, Any]]:
    if timeout is None and max_retries is None and extra_headers is None:
        return None
    return {"timeout": timeout, "max_retries": max_retries, "extra_headers": extra_headers}


def _run(client: Client, op: str, args: Tuple[Any, ...], options: Optional[Dict[str, Any]]) -> Any:
    """The Workspace API call ``op`` (traced when OpenTelemetry is installed)."""
    return _telemetry.call(client._live.workspace, (op, args), _telemetry.OPERATIONS[op], options)


async def _arun(client: AsyncClient, op: str, args: Tuple[Any, ...], options: Optional[Dict[str, Any]]) -> Any:
    """:func:`_run` for asyncio."""
    return await _telemetry.acall(client._live.aworkspace, (op, args), _telemetry.OPERATIONS[op], options)


def _add_args(
    url: Optional[str], text: Optional[str], file: Optional[FileArg], name: Optional[str]
) -> Tuple[Any, ...]:
    """The native arguments of ``knowledge.add``: a path is streamed from disk; a binary file
    object from its ``.name`` when that is a file on disk, else its bytes are read."""
    path: Optional[str] = None
    data: Optional[bytes] = None
    file_name: Optional[str] = None
    if file is None:
        pass
    elif isinstance(file, (str, os.PathLike)):
        path = os.fsdecode(file)
        if not os.path.exists(path):
            raise FileNotFoundError(2, "no such file", path)
        if not os.path.isfile(path):
            raise ValueError(f"file is not a regular file: {path}")
    elif hasattr(file, "read"):
        given = getattr(file, "name", None)
        if isinstance(given, (str, bytes)) and os.path.isfile(given):
            path = os.fsdecode(given)
        else:
            read = file.read()
            if not isinstance(read, (bytes, bytearray, memoryview)):
                raise TypeError("file must be a path or a binary file object (opened with 'rb')")
            data = bytes(read)
            if isinstance(given, str) and given and not given.startswith("<"):
                file_name = os.path.basename(given)
    else:
        raise TypeError(f"file must be a path or a binary file object, not {type(file).__name__}")
    return (url, text, path, data, file_name, name)


def _json(what: str, value: Optional[Mapping[str, Any]]) -> Optional[str]:
    if value is None:
        return None
    import json

    try:
        return json.dumps(dict(value))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what} must be a dict of JSON values: {e}") from None


def _sources(out: List[Any]) -> List[Source]:
    return [Source(*row) for row in out]


def _agent_run(out: str) -> Dict[str, Any]:
    import json

    result = json.loads(out)
    return result if isinstance(result, dict) else {"result": result}


_OPTIONS_DOC = """``timeout``, ``max_retries`` and ``extra_headers`` apply to this call only (as for
``chat.stream``)."""


class Knowledge:
    """``client.knowledge``: the project's knowledge base, which chat grounds its replies on."""

    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def add(
        self,
        *,
        url: Optional[str] = None,
        text: Optional[str] = None,
        file: Optional[FileArg] = None,
        name: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Indexing:
        """Adds a source: exactly one of ``url``, ``text`` or ``file`` (a path, streamed from
        disk; or a binary file object), labelled ``name``. Indexing runs in the background:
        see :meth:`wait_until_indexed`. An existing source raises ``ConflictError``, an upload
        over the storage quota ``PayloadTooLargeError``. A create is sent once: it is retried
        only when it surely did not reach the service. """
        args = _add_args(url, text, file, name)
        return Indexing(*_run(self._client, "knowledge_add", args, _call(timeout, max_retries, extra_headers)))

    def crawl(
        self,
        seed_url: str,
        max_pages: Optional[int] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Indexing:
        """Crawls the site from ``seed_url`` (at most ``max_pages`` pages) into one source."""
        args = (seed_url, max_pages)
        return Indexing(*_run(self._client, "knowledge_crawl", args, _call(timeout, max_retries, extra_headers)))

    def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Source]:
        """The project's sources."""
        return _sources(_run(self._client, "knowledge_list", (), _call(timeout, max_retries, extra_headers)))

    def enable(
        self,
        id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Optional[Source]:
        """Lets chat ground on source ``id`` again; the source, when the service returned it."""
        out = _run(self._client, "knowledge_set_enabled", (id, True), _call(timeout, max_retries, extra_headers))
        return None if out is None else Source(*out)

    def disable(
        self,
        id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Optional[Source]:
        """Keeps source ``id`` but stops chat grounding on it."""
        out = _run(self._client, "knowledge_set_enabled", (id, False), _call(timeout, max_retries, extra_headers))
        return None if out is None else Source(*out)

    def reindex(
        self,
        id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Indexing:
        """Indexes source ``id`` anew."""
        return Indexing(*_run(self._client, "knowledge_reindex", (id,), _call(timeout, max_retries, extra_headers)))

    def delete(
        self,
        id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        """Deletes source ``id``."""
        _run(self._client, "knowledge_delete", (id,), _call(timeout, max_retries, extra_headers))

    def wait_until_indexed(
        self,
        ids: Union[str, Sequence[str]],
        timeout: float = 300,
        *,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Source]:
        """Polls until every source of ``ids`` is indexed, and returns them. A source that
        failed raises ``IndexingError`` (with ``source_id`` and ``last_error``); ``timeout``
        seconds (the whole wait) passing raises ``APITimeoutError``."""
        id_list = [ids] if isinstance(ids, str) else list(ids)
        args = (id_list, float(timeout))
        return _sources(_run(self._client, "knowledge_wait_until_indexed", args, _call(None, max_retries, extra_headers)))


class Skills:
    """``client.skills``: ready-made tasks run on the service."""

    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Skill]:
        """The skills there are."""
        out = _run(self._client, "skills_list", (), _call(timeout, max_retries, extra_headers))
        return [Skill(*row) for row in out]

    def run(
        self,
        skill_id: str,
        vars: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> SkillOutput:
        """Runs skill ``skill_id`` with the variables ``vars`` (JSON values)."""
        args = (skill_id, _json("vars", vars))
        return SkillOutput(*_run(self._client, "skills_run", args, _call(timeout, max_retries, extra_headers)))


class Agents:
    """``client.agents``: the project's agents."""

    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Agent]:
        """The project's agents."""
        out = _run(self._client, "agents_list", (), _call(timeout, max_retries, extra_headers))
        return [Agent(*row) for row in out]

    def create(
        self,
        name: str,
        type: str,
        config: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Agent:
        """Creates an agent: ``type`` is ``"research"``, ``"strategy"``, ``"execution"`` or
        ``"monitoring"``; ``config`` its settings (JSON values). A name in use raises
        ``ConflictError``."""
        args = (name, type, _json("config", config))
        return Agent(*_run(self._client, "agents_create", args, _call(timeout, max_retries, extra_headers)))

    def run(
        self,
        agent_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Runs agent ``agent_id``; returns what the service answered. Past the daily quota:
        ``PermissionDeniedError``."""
        out = _run(self._client, "agents_run", (agent_id,), _call(timeout, max_retries, extra_headers))
        return _agent_run(out)


class Artifacts:
    """``client.artifacts``: the project's artifacts."""

    __slots__ = ("_client",)

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Artifact]:
        """The project's artifacts."""
        out = _run(self._client, "artifacts_list", (), _call(timeout, max_retries, extra_headers))
        return [Artifact(*row) for row in out]

    def create(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        **fields: Any,
    ) -> Artifact:
        """Creates an artifact with ``fields`` (JSON values: ``name=``, ``content=``, …)."""
        args = (_json("fields", fields),)
        options = _call(timeout, max_retries, extra_headers)
        return Artifact(*_run(self._client, "artifacts_create", args, options))


class AsyncKnowledge:
    """``aclient.knowledge``: as :class:`Knowledge`, awaited."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def add(
        self,
        *,
        url: Optional[str] = None,
        text: Optional[str] = None,
        file: Optional[FileArg] = None,
        name: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Indexing:
        """As :meth:`Knowledge.add`."""
        args = _add_args(url, text, file, name)
        return Indexing(*await _arun(self._client, "knowledge_add", args, _call(timeout, max_retries, extra_headers)))

    async def crawl(
        self,
        seed_url: str,
        max_pages: Optional[int] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Indexing:
        """As :meth:`Knowledge.crawl`."""
        args = (seed_url, max_pages)
        return Indexing(*await _arun(self._client, "knowledge_crawl", args, _call(timeout, max_retries, extra_headers)))

    async def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Source]:
        """As :meth:`Knowledge.list`."""
        return _sources(await _arun(self._client, "knowledge_list", (), _call(timeout, max_retries, extra_headers)))

    async def enable(
        self,
        id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Optional[Source]:
        """As :meth:`Knowledge.enable`."""
        out = await _arun(self._client, "knowledge_set_enabled", (id, True), _call(timeout, max_retries, extra_headers))
        return None if out is None else Source(*out)

    async def disable(
        self,
        id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Optional[Source]:
        """As :meth:`Knowledge.disable`."""
        out = await _arun(self._client, "knowledge_set_enabled", (id, False), _call(timeout, max_retries, extra_headers))
        return None if out is None else Source(*out)

    async def reindex(
        self,
        id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Indexing:
        """As :meth:`Knowledge.reindex`."""
        return Indexing(*await _arun(self._client, "knowledge_reindex", (id,), _call(timeout, max_retries, extra_headers)))

    async def delete(
        self,
        id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        """As :meth:`Knowledge.delete`."""
        await _arun(self._client, "knowledge_delete", (id,), _call(timeout, max_retries, extra_headers))

    async def wait_until_indexed(
        self,
        ids: Union[str, Sequence[str]],
        timeout: float = 300,
        *,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Source]:
        """As :meth:`Knowledge.wait_until_indexed`."""
        id_list = [ids] if isinstance(ids, str) else list(ids)
        args = (id_list, float(timeout))
        return _sources(await _arun(self._client, "knowledge_wait_until_indexed", args, _call(None, max_retries, extra_headers)))


class AsyncSkills:
    """``aclient.skills``: as :class:`Skills`, awaited."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Skill]:
        """As :meth:`Skills.list`."""
        out = await _arun(self._client, "skills_list", (), _call(timeout, max_retries, extra_headers))
        return [Skill(*row) for row in out]

    async def run(
        self,
        skill_id: str,
        vars: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> SkillOutput:
        """As :meth:`Skills.run`."""
        args = (skill_id, _json("vars", vars))
        options = _call(timeout, max_retries, extra_headers)
        return SkillOutput(*await _arun(self._client, "skills_run", args, options))


class AsyncAgents:
    """``aclient.agents``: as :class:`Agents`, awaited."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Agent]:
        """As :meth:`Agents.list`."""
        out = await _arun(self._client, "agents_list", (), _call(timeout, max_retries, extra_headers))
        return [Agent(*row) for row in out]

    async def create(
        self,
        name: str,
        type: str,
        config: Optional[Mapping[str, Any]] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Agent:
        """As :meth:`Agents.create`."""
        args = (name, type, _json("config", config))
        options = _call(timeout, max_retries, extra_headers)
        return Agent(*await _arun(self._client, "agents_create", args, options))

    async def run(
        self,
        agent_id: str,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """As :meth:`Agents.run`."""
        options = _call(timeout, max_retries, extra_headers)
        return _agent_run(await _arun(self._client, "agents_run", (agent_id,), options))


class AsyncArtifacts:
    """``aclient.artifacts``: as :class:`Artifacts`, awaited."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
    ) -> List[Artifact]:
        """As :meth:`Artifacts.list`."""
        out = await _arun(self._client, "artifacts_list", (), _call(timeout, max_retries, extra_headers))
        return [Artifact(*row) for row in out]

    async def create(
        self,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        **fields: Any,
    ) -> Artifact:
        """As :meth:`Artifacts.create`."""
        args = (_json("fields", fields),)
        options = _call(timeout, max_retries, extra_headers)
        return Artifact(*await _arun(self._client, "artifacts_create", args, options))
