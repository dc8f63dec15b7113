"""Plain result types: ``Model`` and ``ChatReply`` (immutable; no dataclasses import, for a fast
``import mixerlead``)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (12 ms)

if TYPE_CHECKING:
    from typing import Any, Optional, Tuple


class _Frozen:
    __slots__: Tuple[str, ...] = ()

    def _values(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values() == self._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Model(_Frozen):
    """A model the service offers."""

    __slots__ = ("id", "name", "task", "requires_paid")

    id: str
    """The id to pass as ``model`` (e.g. ``"ml-auto"``)."""
    name: str
    """Display name."""
    task: str
    """What the model is for."""
    requires_paid: bool
    """Whether the model needs a paid plan."""

    def __init__(self, id: str, name: str, task: str, requires_paid: bool) -> None:
        for key, value in (("id", id), ("name", name), ("task", task), ("requires_paid", requires_paid)):
            object.__setattr__(self, key, value)


class ChatReply(_Frozen):
    """A whole chat reply, as ``chat.send()`` returns it."""

    __slots__ = ("text", "conversation_id")

    text: str
    """The reply's text."""
    conversation_id: Optional[str]
    """The conversation id, to continue the conversation; ``None`` if the service named none."""

    def __init__(self, text: str, conversation_id: Optional[str]) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "conversation_id", conversation_id)

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        """Notebooks render the reply as Markdown."""
        return self.text
