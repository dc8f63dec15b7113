"""``ChatStream.display()`` and ``AsyncChatStream.display()``: progressive Markdown in a
notebook, plain printing elsewhere.

The output is updated at most 20 times a second, and once at the end, so that a long reply
costs about as much to display as to read: the text is taken a batch at a time (whatever has
arrived), and an update is made when 50 ms have passed since the last one, or before waiting
for more of the reply (no sooner than 50 ms after the last one), so that what arrived shows
while the service is still writing.
"""

from __future__ import annotations

import importlib
import sys
import time
from typing import Any, List, Optional

from ._native import ChatStream

INTERVAL = 0.05
"""Seconds between two updates of the output, at least (20 a second at most)."""


def _in_notebook() -> bool:
    ipython: Any = sys.modules.get("IPython")  # never imported here: a notebook has done it
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    # A kernel's shell (Jupyter, VS Code, Colab): a terminal IPython has no kernel.
    return shell is not None and getattr(shell, "kernel", None) is not None


class _Output:
    """Where the text goes, and when it was last updated."""

    def __init__(self) -> None:
        self.parts: List[str] = []
        self.shown = 0  # parts on screen
        self.last = 0.0  # time.monotonic() of the last update
        self.handle: Any = None
        if _in_notebook():
            ipython_display: Any = importlib.import_module("IPython.display")
            self.markdown: Any = ipython_display.Markdown
            self.handle = ipython_display.display(self.markdown(""), display_id=True)

    def add(self, text: str) -> None:
        self.parts.append(text)
        if self.handle is None:
            sys.stdout.write(text)  # flushed by update()

    def pending(self) -> bool:
        return self.shown < len(self.parts)

    def due_in(self) -> float:
        """Seconds until an update is allowed (0 or less: now)."""
        return self.last + INTERVAL - time.monotonic()

    def update(self) -> None:
        if self.handle is not None:
            self.parts[:] = ["".join(self.parts)]
            self.handle.update(self.markdown(self.parts[0]))
        else:
            sys.stdout.flush()
        self.shown = len(self.parts)
        self.last = time.monotonic()

    def finish(self) -> str:
        text = "".join(self.parts)
        if self.handle is not None:
            self.handle.update(self.markdown(text))
        else:
            sys.stdout.write("\n")
            sys.stdout.flush()
        return text


def display_stream(stream: ChatStream) -> str:
    """Shows the rest of ``stream`` as it arrives; returns the whole text shown."""
    out = _Output()
    while True:
        text: Optional[str] = stream._ready_text()
        if text is None:
            break
        if text:
            out.add(text)
            if out.due_in() <= 0:
                out.update()
            continue
        # The next piece must be waited for: show what arrived first.
        if out.pending():
            wait = out.due_in()
            if wait > 0:
                time.sleep(wait)
                continue  # more may have arrived meanwhile
            out.update()
        piece = next(stream, None)
        if piece is None:
            break
        out.add(piece)
    return out.finish()


async def display_async_stream(stream: ChatStream) -> str:
    """``display_stream`` for asyncio: waits without blocking the event loop."""
    import asyncio

    out = _Output()
    try:
        while True:
            text: Optional[str] = stream._ready_text()
            if text is None:
                break
            if text:
                out.add(text)
                if out.due_in() <= 0:
                    out.update()
                await asyncio.sleep(0)
                continue
            if out.pending():
                wait = out.due_in()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue  # more may have arrived meanwhile
                out.update()
            if await stream._afetch() is None:
                break
    except BaseException:
        stream.close()
        raise
    return out.finish()
