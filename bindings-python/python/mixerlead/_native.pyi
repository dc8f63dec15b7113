"""Type stubs of the native module (Rust, pyo3). Private: the public API is ``mixerlead``."""

import os
from typing import Any, Awaitable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from ._types import Headers

__version__: str

_ModelRow = Tuple[str, str, str, bool]
_HeaderPairs = List[Tuple[str, str]]
_Models = Tuple[List[_ModelRow], Optional[str], _HeaderPairs]
_Reply = Tuple[str, Optional[str], Optional[str], _HeaderPairs]
_OptionValue = Union[None, bool, int, float, str, "os.PathLike[str]"]

class NativeClient:
    def __init__(self, options: Mapping[str, _OptionValue]) -> None: ...
    def with_options(self, options: Mapping[str, _OptionValue]) -> NativeClient: ...
    def _shares_pool_with(self, other: NativeClient) -> bool: ...
    def _shown_options(self) -> List[Tuple[str, _OptionValue]]: ...
    @property
    def base_url(self) -> str: ...
    def list_models(self, options: Optional[Mapping[str, Any]] = None) -> _Models: ...
    def alist_models(self, options: Optional[Mapping[str, Any]] = None) -> Awaitable[_Models]: ...
    def chat(
        self,
        message: str,
        model: Optional[str] = None,
        conversation_id: Optional[str] = None,
        options: Optional[Mapping[str, Any]] = None,
    ) -> ChatStream: ...
    def achat(
        self,
        message: str,
        model: Optional[str] = None,
        conversation_id: Optional[str] = None,
        options: Optional[Mapping[str, Any]] = None,
    ) -> Awaitable[ChatStream]: ...
    def send(
        self,
        message: str,
        model: Optional[str] = None,
        conversation_id: Optional[str] = None,
        options: Optional[Mapping[str, Any]] = None,
    ) -> _Reply: ...
    def asend(
        self,
        message: str,
        model: Optional[str] = None,
        conversation_id: Optional[str] = None,
        options: Optional[Mapping[str, Any]] = None,
    ) -> Awaitable[_Reply]: ...
    def workspace(self, op: str, args: Tuple[Any, ...], options: Optional[Mapping[str, Any]] = None) -> Any:
        """A Workspace API call by name (``knowledge_add``, ``skills_run``, …); see ``_workspace.py``."""
    def aworkspace(
        self, op: str, args: Tuple[Any, ...], options: Optional[Mapping[str, Any]] = None
    ) -> Awaitable[Any]: ...

class ChatStream:
    """A streamed chat reply: iterate it for ``str`` pieces in arrival order.

    ``close()``, leaving ``with``, ``break`` then garbage collection, or Ctrl-C abort the request.
    """

    def __iter__(self) -> Iterator[str]: ...
    def __next__(self) -> str: ...
    @property
    def conversation_id(self) -> Optional[str]:
        """The conversation id, once the service named it; ``None`` until then."""
    @property
    def text(self) -> str:
        """All the text handed out so far."""
    @property
    def request_id(self) -> Optional[str]:
        """The response's request id (``X-Request-Id``, else ``Request-Id``), if it had one."""
    @property
    def headers(self) -> Headers:
        """The response headers: a case-insensitive mapping."""
    def read(self) -> str:
        """Consumes the rest of the stream and returns the whole reply. A reply longer than the
        64 MiB kept for this raises ``APIResponseError`` rather than come back cut: iterate over
        such a reply instead."""
    def chunks(self) -> Iterator[str]:
        """The reply in chunks: each is every piece that has arrived and not been handed out yet,
        joined — never empty, never a piece split. Mixes with iterating piece by piece (each goes
        on where the other stopped); errors and ``close()`` act as they do per piece. The fastest
        way to relay a reply, e.g. ``StreamingResponse(stream.chunks())``."""
    def close(self) -> None:
        """Aborts the request (the connection is closed); iteration then ends."""
    def display(self) -> str:
        """Renders the reply as it arrives: as Markdown in a notebook, updated at most 20 times a
        second and once at the end; as plain printing elsewhere. Returns the whole text."""
    def __enter__(self) -> ChatStream: ...
    def __exit__(self, *args: Any) -> None: ...
    def _whole_text(self) -> str: ...
    def _ready_text(self) -> Optional[str]: ...
    def _try_take(self) -> Optional[BatchPieces]: ...
    def _afetch(self) -> Awaitable[Optional[BatchPieces]]: ...
    def _skip(self) -> None: ...
    @property
    def _state(self) -> str: ...
    def _next_chunk(self) -> Optional[str]: ...
    def _try_chunk(self) -> Optional[str]: ...
    def _afetch_chunk(self) -> Awaitable[Optional[str]]: ...

class BatchPieces:
    """The pieces of the batch being served, for ``AsyncChatStream``."""

    def __iter__(self) -> Iterator[str]: ...
    def __next__(self) -> str: ...
    def __len__(self) -> int: ...

class NativeEmulator:
    def __init__(
        self,
        tls: bool = False,
        index_delay_ms: Optional[int] = None,
        max_upload_bytes: Optional[int] = None,
        agent_runs_per_day: Optional[int] = None,
        port: int = 0,
        format: Optional[str] = None,
        token_delay_ms: Optional[float] = None,
        rate_limit: Optional[int] = None,
        cassette: Optional[Union[str, os.PathLike[str]]] = None,
        speed: Optional[float] = None,
    ) -> None: ...
    @property
    def base_url(self) -> str: ...
    @property
    def ca_pem(self) -> Optional[str]: ...
    def scenario_url(self, script: str) -> str: ...
    def stats(self, id: str) -> Dict[str, Any]: ...
    def close(self) -> None: ...

def _deliver_logs() -> None: ...
