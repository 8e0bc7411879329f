"""One answer being streamed: the state a reply worker shares with the chat screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.worker import Worker

    from hailuo_tui.widgets.message_bubble import MessageBubble


@dataclass
class Reply:
    """The answer to one user message, streaming into the store and (when visible) a bubble."""

    conversation_id: int
    message_id: int
    #: Everything received so far (authoritative while streaming; saved in batches).
    text: str = ""
    #: The bubble showing it, when its conversation is on screen.
    bubble: MessageBubble | None = None
    worker: Worker | None = None
    #: Set when the user pressed Stop, so the worker records "stopped", not "failed".
    stopped: bool = False
    #: Set when the app quits while it streams.
    closing: bool = False
    sources: list[tuple[str, str]] = field(default_factory=list)
    #: The final status and error, set (and saved) when it ended; None while it runs.
    final: tuple[str, str | None] | None = None
