"""Plain types shared by every layer: the store, the reply session and the widgets.

No textual, rich or store import here, so a widget can use these without
reaching into the core.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MessageStatus(StrEnum):
    """Where a message stands. Stored as its value; compares equal to the plain string."""

    PENDING = "pending"
    STREAMING = "streaming"
    COMPLETE = "complete"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True)
class ShownMessage:
    """A message as the chat view shows it (a stored row, or the live text of a reply)."""

    id: int
    role: str
    content: str
    status: MessageStatus | str = MessageStatus.COMPLETE
    error: str | None = None
    #: The model's reasoning before the answer (MiniMax API), "" when there was none.
    reasoning: str = ""
    #: Token counts and timing of the answer (see :class:`hailuo_tui.provider.models.Usage`), if known.
    usage: dict | None = None
