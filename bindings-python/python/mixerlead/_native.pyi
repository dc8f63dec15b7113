"""Type stubs of the native module (Rust, pyo3)."""

from typing import Any, Awaitable, Iterator, List, Optional, Tuple

__version__: str

class NativeClient:
    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        project_id: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        max_retry_wait: Optional[float] = None,
        allow_insecure_http: Optional[bool] = None,
    ) -> None: ...
    @property
    def base_url(self) -> str: ...
    def list_models(self) -> List[Tuple[str, str, str, bool]]: ...
    def alist_models(self) -> Awaitable[List[Tuple[str, str, str, bool]]]: ...
    def chat(self, message: str, model: Optional[str] = None, conversation_id: Optional[str] = None) -> ChatStream: ...
    def achat(
        self, message: str, model: Optional[str] = None, conversation_id: Optional[str] = None
    ) -> Awaitable[ChatStream]: ...
    def send(
        self, message: str, model: Optional[str] = None, conversation_id: Optional[str] = None
    ) -> Tuple[str, Optional[str]]: ...
    def asend(
        self, message: str, model: Optional[str] = None, conversation_id: Optional[str] = None
    ) -> Awaitable[Tuple[str, Optional[str]]]: ...

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
    def read(self) -> str:
        """Consumes the rest of the stream and returns the whole reply."""
    def close(self) -> None:
        """Aborts the request (the connection is closed); iteration then ends."""
    def display(self) -> str:
        """Renders the reply progressively (Markdown in a notebook, printing elsewhere)."""
    def __enter__(self) -> "ChatStream": ...
    def __exit__(self, *args: Any) -> None: ...
    def _afetch(self) -> Awaitable[Optional["BatchPieces"]]: ...
    def _try_take(self) -> Optional["BatchPieces"]: ...

class BatchPieces:
    """A batch's pieces for ``AsyncChatStream``, each ``str`` made when it is reached."""

    def __iter__(self) -> Iterator[str]: ...
    def __next__(self) -> str: ...
    def __len__(self) -> int: ...
    def unserved_chars(self) -> int: ...
    def skip(self) -> None: ...
