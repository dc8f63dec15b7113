"""``AsyncChatStream``: async iteration over the native stream's batches."""

from __future__ import annotations


TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (12 ms)

if TYPE_CHECKING:
    from types import TracebackType
    from typing import AsyncIterator, Generator, Optional, Type

    from ._native import BatchPieces, ChatStream
    from ._types import Headers


class AsyncChatStream:
    """A streamed chat reply for asyncio: ``async for text in stream``.

    Leaving ``async with``, ``await stream.aclose()``, ``break`` followed by garbage collection,
    or cancelling the task that iterates it aborts the request.
    """

    __slots__ = ("_native", "_batch")

    def __init__(self, native: ChatStream) -> None:
        self._native = native
        # The pieces of the batch being served (the core reads the next batch meanwhile); the
        # native stream counts what was served of it.
        self._batch: Optional[BatchPieces] = None

    def __aiter__(self) -> AsyncIterator[str]:
        # An async generator looping over the batch's native iterator resumes one frame per
        # piece, where calling __anext__ would build a coroutine per piece.
        return self._pieces()

    async def _pieces(self) -> AsyncIterator[str]:
        while True:
            if self._batch is not None:
                for piece in self._batch:
                    yield piece
            try:
                piece = await self.__anext__()
            except StopAsyncIteration:
                return
            yield piece

    async def __anext__(self) -> str:
        # Pieces are served from the current batch: one crossing into the runtime per batch.
        if self._batch is not None:
            piece = next(self._batch, None)
            if piece is not None:
                return piece
        native = self._native
        try:
            while True:
                batch = native._try_take()
                if batch is not None and not len(batch):  # nothing decoded yet: wait for it
                    batch = await native._afetch()
                else:
                    await _LET_OTHERS_RUN  # one turn of the loop per batch, as a wait would give
                if batch is None:
                    break
                piece = next(batch, None)
                if piece is not None:
                    self._batch = batch
                    return piece
        except BaseException:
            # A cancelled task (asyncio.CancelledError) or a failure: the request is over either
            # way, so abort it now rather than when the stream is garbage-collected.
            native.close()
            raise
        raise StopAsyncIteration

    async def chunks(self) -> AsyncIterator[str]:
        """The reply in chunks: each is every piece that has arrived and not been handed out yet,
        joined — never empty, never a piece split. Mixes with ``async for`` over the pieces (each
        goes on where the other stopped); a failure raises as it does per piece, with
        ``partial_text`` holding every chunk before it. The fastest way to relay a reply::

            return StreamingResponse((await aclient.chat.stream(message)).chunks())
        """
        native = self._native
        while True:
            try:
                text = native._try_chunk()
                if text == "":  # nothing decoded yet: wait for it
                    text = await native._afetch_chunk()
                else:
                    await _LET_OTHERS_RUN  # one turn of the loop per chunk, as a wait would give
            except BaseException:
                # Cancelled or failed: the request is over either way (as in __anext__).
                native.close()
                raise
            if text is None:
                return
            yield text

    @property
    def conversation_id(self) -> Optional[str]:
        """The conversation id, once the service named it; ``None`` until then."""
        return self._native.conversation_id

    @property
    def text(self) -> str:
        """All the text handed out so far."""
        return self._native.text

    @property
    def request_id(self) -> Optional[str]:
        """The response's request id (``X-Request-Id``, else ``Request-Id``), if it had one."""
        return self._native.request_id

    @property
    def headers(self) -> Headers:
        """The response headers: a case-insensitive mapping."""
        return self._native.headers

    async def read(self) -> str:
        """Consumes the rest of the stream and returns the whole reply. A reply longer than the
        64 MiB kept for this raises ``APIResponseError`` rather than come back cut: iterate
        over such a reply instead."""
        native = self._native
        try:
            while True:
                native._skip()
                await self.__anext__()
        except StopAsyncIteration:
            return native._whole_text()

    async def display(self) -> str:
        """Renders the reply as it arrives: as Markdown in a notebook, updated at most 20 times a
        second and once at the end; as plain printing elsewhere. Returns the whole text."""
        from ._display import display_async_stream

        return await display_async_stream(self._native)

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
        native = self._native
        return (
            f"<mixerlead.AsyncChatStream conversation_id={native.conversation_id!r}, "
            f"request_id={native.request_id!r}, state={native._state!r}>"
        )


class _LetOthersRun:
    """Awaiting it gives the event loop one turn (what ``asyncio.sleep(0)`` does, without
    importing asyncio): a reply read faster than it is served never starves other tasks."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        yield


_LET_OTHERS_RUN = _LetOthersRun()
