"""Plain result types: ``Model`` and ``ChatReply``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Model:
    """A model the service offers."""

    id: str
    """The id to pass as ``model`` (e.g. ``"ml-auto"``)."""
    name: str
    """Display name."""
    task: str
    """What the model is for."""
    requires_paid: bool
    """Whether the model needs a paid plan."""


@dataclass(frozen=True)
class ChatReply:
    """A whole chat reply, as ``chat.send()`` returns it."""

    text: str
    """The reply's text."""
    conversation_id: Optional[str]
    """The conversation id, to continue the conversation; ``None`` if the service named none."""

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        """Notebooks render the reply as Markdown."""
        return self.text
