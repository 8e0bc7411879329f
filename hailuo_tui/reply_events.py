"""What a reply session tells its host, and what it needs from it and from the view. No textual here.

:class:`ReplyEvent` values go to the host (:class:`ReplyHost`, the chat screen, which turns them into
Textual messages); the text itself goes to the :class:`ReplyView` (the bubble on screen). See
:mod:`hailuo_tui.reply_session`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from hailuo_tui.domain import MessageStatus
from hailuo_tui.provider.backend import Backend
from hailuo_tui.provider.errors import AuthError, HailuoError, SiteRefused
from hailuo_tui.store import StoreError


# --- what a session tells its host --------------------------------------------------


@dataclass(frozen=True)
class ReplyEvent:
    """Base of everything a session reports."""

    #: The :class:`~hailuo_tui.reply_session.ReplySession` it comes from (typed loosely: that module imports this).
    reply: Any


@dataclass(frozen=True)
class TitleApplied(ReplyEvent):
    """The conversation took a new title (already saved; cleaned of escapes)."""

    title: str


@dataclass(frozen=True)
class ErrorReported(ReplyEvent):
    """An error to show (the status bar); the answer may still go on (a login retry)."""

    error: HailuoError


@dataclass(frozen=True)
class InternalError(ReplyEvent):
    """A bug in the app: the text is kept; the host should say so and keep running."""

    error: BaseException


@dataclass(frozen=True)
class HistoryShortened(ReplyEvent):
    """The oldest ``dropped`` messages were left out of the request (not out of the store)."""

    dropped: int


@dataclass(frozen=True)
class SaveProblem(ReplyEvent):
    """The answer's text could not be written (it is kept in memory and retried)."""

    error: StoreError

    @property
    def reason(self) -> str:
        """A few words: "locked by another program", "disk full", "read-only"…"""
        return self.error.reason


@dataclass(frozen=True)
class Saved(ReplyEvent):
    """Text that could not be written before is now on disk (a :class:`SaveProblem` cleared)."""


@dataclass(frozen=True)
class Waiting(ReplyEvent):
    """The answer waits for another one to end (the web chat streams one answer per account at a time);
    ``waiting`` False: its turn came and it is being sent."""

    waiting: bool


@dataclass(frozen=True)
class ExtrasReceived(ReplyEvent):
    """Web-search sources or follow-up questions arrived (cleaned); the view has them already."""

    sources: tuple[tuple[str, str], ...]
    follow_ups: tuple[str, ...]


@dataclass(frozen=True)
class ReplyEnded(ReplyEvent):
    """The answer ended and its final state is saved."""

    status: MessageStatus
    error: str | None


class ReplyView(Protocol):
    """Whatever shows a reply live (the chat screen's bubble)."""

    @property
    def is_attached(self) -> bool: ...

    async def append(self, delta: str) -> None: ...

    async def replace(self, text: str) -> None: ...

    async def append_reasoning(self, delta: str) -> None: ...

    async def show_buffered(self) -> None:
        """No more text is coming: draw what is held back for the next frame now (the final save and
        `finish`, which sets the status, come after)."""
        ...

    async def finish(self, status: str = ..., error: str | None = ...) -> None: ...

    def set_usage(self, usage: dict[str, Any] | None) -> None: ...

    def set_unsaved(self, reason: str | None) -> None:
        """Say that the text shown is not all on disk yet, and why (None: it is)."""
        ...

    def set_extras(self, sources: tuple[tuple[str, str], ...], follow_ups: tuple[str, ...]) -> None:
        """Show web-search sources and suggested follow-up questions under the answer."""
        ...


class ReplyHost(Protocol):
    """What a session needs from the app around it."""

    async def backend_for(self, conversation: Any) -> Backend | None:
        """The backend to answer in ``conversation`` (a store row); ``None``: not logged in."""
        ...

    async def login_again(self, error: AuthError | SiteRefused) -> bool:
        """The login was refused, or the site wants a browser check (SiteRefused: offer the browser login).

        True: logged in (again); retry the same message."""
        ...

    def reply_event(self, event: ReplyEvent) -> None:
        """Told of every event, in order, on the event loop."""
        ...

    def stream_gate(self, backend: Backend) -> asyncio.Lock | None:
        """A lock answers on ``backend`` take turns on (the web chat streams one answer per account), or None."""
        ...
