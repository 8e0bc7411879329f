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


#: The statuses of a message still being written (an answer waiting or streaming).
LIVE_STATUSES = frozenset({MessageStatus.PENDING, MessageStatus.STREAMING})


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
    #: Web-search sources of the answer, (title, url) pairs as the server sent them.
    sources: tuple[tuple[str, str], ...] = ()
    #: Follow-up questions the server suggested after the answer.
    follow_ups: tuple[str, ...] = ()
    #: Which version this message is among its siblings (1-based): an edited question or a
    #: regenerated answer keeps the older ones beside it (see the store's message tree).
    version: int = 1
    #: How many versions there are (1: the message was never edited or regenerated).
    versions: int = 1


class MessageCommand(StrEnum):
    """What a reader can ask of one message in the transcript (posted by the chat view, done by the screen)."""

    EDIT = "edit"
    REGENERATE = "regenerate"
    DELETE = "delete"
    FORK = "fork"
    VERSION_PREVIOUS = "version_previous"
    VERSION_NEXT = "version_next"


class Paging:
    """How many messages are read and mounted at a time: one owner for every page size."""

    READ = 60
    """Messages read from the store when a conversation opens, and per request for older ones."""
    WINDOW = 24
    """Messages the chat view mounts when a conversation opens (more of those it read, until they fill
    two screens). Each mounted bubble costs time when a conversation opens."""
    PAGE = 6
    """Older messages mounted per scroll to the top. Small: each mounted message costs ~2 ms (compose,
    styles, its Markdown laid out for its height) on top of ~25 ms for the layout and frame every page
    costs (bench/app_scale.py open-2000+top); 30 at a time made each page 0.15-0.2 s, a visible stop."""
    KEEP = 50
    """Bubbles that stay mounted while the view follows the bottom and new messages are added."""
    TRIM_SLACK = 10
    """Bubbles allowed beyond KEEP before a new message unmounts the oldest (in batches, not one per message)."""
    MOUNTED_MAX = 40
    """Most bubbles mounted while the reader scrolls up or back down (every one is laid out again on each
    page: 80 cost ~12 ms a page more than 40). Well over PAGE: the bubbles kept below the reader after
    a page is mounted above must fill more than a screen, or reaching their bottom would mount the
    newer ones back at once."""
