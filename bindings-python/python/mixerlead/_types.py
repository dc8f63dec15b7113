"""Plain result types: ``Model``, ``ModelList``, ``ChatReply`` and ``Headers`` (immutable; no
dataclasses or typing import, for a fast ``import mixerlead``)."""

from __future__ import annotations

# collections.abc.Mapping itself, from the module Python loads at startup: importing
# collections.abc would load the collections package too (2-3 ms of `import mixerlead`).
from _collections_abc import Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (12 ms)

if TYPE_CHECKING:
    from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple


class _Frozen:
    __slots__: Tuple[str, ...] = ()

    def _values(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values() == self._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Headers(Mapping):  # type: ignore[type-arg]  # Mapping[str, str]; generic only in the stubs
    """Response headers: a read-only mapping whose keys are case-insensitive.

    ``headers["X-Request-Id"]`` and ``headers["x-request-id"]`` are the same entry. A header
    the response repeated has its values joined with ``", "``; :meth:`get_all` gives them apart.
    Iterating gives the names in lower case.
    """

    __slots__ = ("_pairs", "_joined")

    def __init__(self, pairs: Iterable[Tuple[str, str]] = ()) -> None:
        self._pairs: List[Tuple[str, str]] = [(name.lower(), value) for name, value in pairs]
        joined: Dict[str, str] = {}
        for name, value in self._pairs:
            joined[name] = f"{joined[name]}, {value}" if name in joined else value
        self._joined = joined

    def __getitem__(self, name: str) -> str:
        return self._joined[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._joined

    def __iter__(self) -> Iterator[str]:
        return iter(self._joined)

    def __len__(self) -> int:
        return len(self._joined)

    def get_all(self, name: str) -> List[str]:
        """Every value of header ``name``, in the order received (``[]`` if absent)."""
        name = name.lower()
        return [value for key, value in self._pairs if key == name]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._joined == other._joined
        if isinstance(other, Mapping):
            return self._joined == {str(k).lower(): v for k, v in other.items()}
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._joined.items()))

    def __repr__(self) -> str:
        return f"Headers({self._joined!r})"


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


class ModelList(list):  # type: ignore[type-arg]  # List[Model]; generic only in the stubs
    """The models the service offers: a ``list`` of :class:`Model`, with the response's
    ``request_id`` and ``headers``."""

    __slots__ = ("request_id", "headers")

    request_id: Optional[str]
    """The response's request id (``X-Request-Id``), if it had one: quote it to support."""
    headers: Headers
    """The response headers."""

    def __init__(
        self, models: Iterable[Model] = (), *, request_id: Optional[str] = None, headers: Optional[Headers] = None
    ) -> None:
        super().__init__(models)
        self.request_id = request_id
        self.headers = Headers() if headers is None else headers

    def __repr__(self) -> str:
        return f"ModelList({list.__repr__(self)}, request_id={self.request_id!r})"


class ChatReply(_Frozen):
    """A whole chat reply, as ``chat.send()`` returns it."""

    __slots__ = ("text", "conversation_id", "request_id", "headers")

    text: str
    """The reply's text."""
    conversation_id: Optional[str]
    """The conversation id, to continue the conversation; ``None`` if the service named none."""
    request_id: Optional[str]
    """The response's request id (``X-Request-Id``), if it had one: quote it to support."""
    headers: Headers
    """The response headers."""

    def __init__(
        self,
        text: str,
        conversation_id: Optional[str],
        request_id: Optional[str] = None,
        headers: Optional[Headers] = None,
    ) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "conversation_id", conversation_id)
        object.__setattr__(self, "request_id", request_id)
        object.__setattr__(self, "headers", Headers() if headers is None else headers)

    def __repr__(self) -> str:
        return (
            f"ChatReply(text={self.text!r}, conversation_id={self.conversation_id!r}, "
            f"request_id={self.request_id!r})"
        )

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        """Notebooks render the reply as Markdown."""
        return self.text
