"""``AsyncChatStream``: async iteration over the native stream's batches."""

from __future__ import annotations


TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (12 ms)

if TYPE_CHECKING:
    from types import TracebackType
    from typing import AsyncIterator, Generator, Optional, Type

    from ._native import BatchPieces, ChatStream


class AsyncChatStream:
    """A streamed chat reply for asyncio: ``async for text in stream``.

    Leaving ``async with``, ``await stream.aclose()``, ``break`` followed by garbage collection,
    or cancelling the task that iterates it aborts the request.
    """

    __slots__ = ("_native", "_pieces_left", "_withheld", "_done")

    def __init__(self, native: ChatStream) -> None:
        self._native = native
        # The pieces of the batch being served not yet handed out (the native stream reads the
        # next batch meanwhile).
        self._pieces_left: Optional[BatchPieces] = None
        self._withheld = 0  # characters of a batch left unserved by close()
        self._done = False

    def __aiter__(self) -> AsyncIterator[str]:
        # An async generator looping over the batch's native iterator resumes one frame per
        # piece, where calling __anext__ would build a coroutine per piece.
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        while True:
            if self._pieces_left is not None:
                for piece in self._pieces_left:
                    yield piece
            try:
                piece = await self.__anext__()
            except StopAsyncIteration:
                return
            yield piece

    async def __anext__(self) -> str:
        # Pieces are served from the current batch: one crossing into the runtime per batch.
        if self._pieces_left is not None:
            piece = next(self._pieces_left, None)
            if piece is not None:
                return piece
        try:
            while not self._done:
                fetched = self._native._try_take()
                if fetched is not None and not len(fetched):  # nothing decoded yet: wait for it
                    fetched = await self._native._afetch()
                else:
                    await _LET_OTHERS_RUN  # one turn of the loop per batch, as a wait would give
                if fetched is None:
                    self._done = True
                    break
                if len(fetched):
                    self._pieces_left = fetched
                    return next(fetched)
        except BaseException:
            # A cancelled task (asyncio.CancelledError) or a failure: the request is over either
            # way, so abort it now rather than when the stream is garbage-collected.
            self._close()
            raise
        raise StopAsyncIteration

    def _unserved(self) -> int:
        """Characters of the current batch not handed out yet."""
        return 0 if self._pieces_left is None else self._pieces_left.unserved_chars()

    def _skip_batch(self) -> None:
        """Counts the rest of the current batch as handed out (its iterator then ends)."""
        if self._pieces_left is not None:
            self._pieces_left.skip()

    @property
    def conversation_id(self) -> Optional[str]:
        """The conversation id, once the service named it; ``None`` until then."""
        return self._native.conversation_id

    @property
    def text(self) -> str:
        """All the text handed out so far."""
        # The native text ends with the whole current batch; part of it may not be served yet.
        text = self._native.text
        return text[: len(text) - self._withheld - self._unserved()]

    async def read(self) -> str:
        """Consumes the rest of the stream and returns the whole reply."""
        try:
            while True:
                await self.__anext__()
                self._skip_batch()
        except StopAsyncIteration:
            return self.text

    async def aclose(self) -> None:
        """Aborts the request (the connection is closed); iteration then ends."""
        self._close()

    def close(self) -> None:
        """Same as ``aclose()``, callable without awaiting."""
        self._close()

    def _close(self) -> None:
        self._done = True
        self._withheld += self._unserved()
        self._skip_batch()  # iteration ends now, not after the rest of the batch
        self._native.close()

    async def __aenter__(self) -> "AsyncChatStream":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._close()

    def __repr__(self) -> str:
        return f"<mixerlead.AsyncChatStream conversation_id={self.conversation_id!r}>"


class _LetOthersRun:
    """Awaiting it gives the event loop one turn (what ``asyncio.sleep(0)`` does, without
    importing asyncio): a reply read faster than it is served never starves other tasks."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield


_LET_OTHERS_RUN = _LetOthersRun()
