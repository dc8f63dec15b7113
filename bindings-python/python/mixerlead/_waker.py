"""The waker thread of an asyncio loop without ``add_reader`` (Windows' proactor loop): it hands
the calls the runtime finished to the loop (see ``src/wait.rs``).

It runs here, in Python, rather than in the native module, so that its stack holds no Rust
frame while it waits or runs Python code: CPython ends a daemon thread that takes the GIL during
interpreter finalization with ``pthread_exit``, and that forced unwinding through a native
function aborts the whole process.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (12 ms)

if TYPE_CHECKING:
    import socket
    from typing import Any, Callable, Optional


def serve(
    loop_ref: Callable[[], Optional[Any]],
    wakeups: socket.socket,
    drain: Callable[[], None],
    close: Callable[[], None],
) -> None:
    """Waits for a byte on ``wakeups`` (written by the runtime when calls finished), then asks
    the loop to ``drain`` them; ends when the socket is shut down (the loop was collected) or
    the loop is gone or closed."""
    try:
        while wakeups.recv(4096):
            loop = loop_ref()
            if loop is None:
                return
            try:
                loop.call_soon_threadsafe(drain)
            except RuntimeError:  # the loop is closed: nothing will settle its futures any more
                close()
                return
            del loop
    except OSError:
        close()
    finally:
        wakeups.close()
