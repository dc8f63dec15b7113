"""``AsyncChatStream``: async iteration over the native stream's batches."""

from __future__ import annotations


TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (12 ms)

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Optional, Type

    from ._native import ChatStream


class AsyncChatStream:
    """A streamed chat reply for asyncio: ``async for text in stream``.

    Leaving ``async with``, ``await stream.aclose()``, ``break`` followed by garbage collection,
    or cancelling the task that iterates it aborts the request.
    """

    __slots__ = ("_native",)

    def __init__(self, native: ChatStream) -> None:
        self._native = native

    def __aiter__(self) -> "AsyncChatStream":
        return self

    async def __anext__(self) -> str:
        native = self._native
        piece = native._pop()
        if piece is not None:
            return piece
        try:
            while not native._done:
                if not native._store(await native._afetch()):
                    break
                piece = native._pop()
                if piece is not None:
                    return piece
        except BaseException:
            # A cancelled task (asyncio.CancelledError) or a failure: the request is over either
            # way, so abort it now rather than when the stream is garbage-collected.
            native.close()
            raise
        raise StopAsyncIteration

    @property
    def conversation_id(self) -> Optional[str]:
        """The conversation id, once the service named it; ``None`` until then."""
        return self._native.conversation_id

    @property
    def text(self) -> str:
        """All the text handed out so far."""
        return self._native.text

    async def read(self) -> str:
        """Consumes the rest of the stream and returns the whole reply."""
        async for _ in self:
            pass
        return self._native.text

    async def aclose(self) -> None:
        """Aborts the request (the connection is closed); iteration then ends."""
        self._native.close()

    def close(self) -> None:
        """Same as ``aclose()``, callable without awaiting."""
        self._native.close()

    async def __aenter__(self) -> "AsyncChatStream":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._native.close()

    def __repr__(self) -> str:
        return f"<mixerlead.AsyncChatStream conversation_id={self.conversation_id!r}>"
