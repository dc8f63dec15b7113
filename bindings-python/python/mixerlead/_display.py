"""``ChatStream.display()``: progressive Markdown in a notebook, plain printing elsewhere."""

from __future__ import annotations

import sys
from typing import Any, Iterable


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()  # type: ignore[attr-defined]
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def display_stream(stream: Iterable[str]) -> str:
    """Shows the pieces of ``stream`` as they arrive; returns the whole text."""
    parts = []
    if _in_notebook():
        from IPython.display import Markdown, display  # type: ignore[import-not-found]

        handle: Any = display(Markdown(""), display_id=True)
        for piece in stream:
            parts.append(piece)
            handle.update(Markdown("".join(parts)))
    else:
        for piece in stream:
            parts.append(piece)
            sys.stdout.write(piece)
            sys.stdout.flush()
        sys.stdout.write("\n")
        sys.stdout.flush()
    return "".join(parts)
