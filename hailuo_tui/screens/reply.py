"""One answer being streamed: the state a reply worker shares with the chat screen."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    #: Store and sidebar work started by the stream (chat id, title, periodic saves), run beside it so the
    #: text is never held up by a database round trip; all of it is awaited before the final save.
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    #: The periodic save in flight, if any (one at a time: a slow disk skips saves, never queues them).
    saving: asyncio.Task[Any] | None = None

    def in_background(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` beside the stream, in call order with the other store calls; see :attr:`tasks`."""
        task = asyncio.ensure_future(coro)
        self.tasks = [t for t in self.tasks if not t.done() or t.cancelled() or t.exception() is not None]
        self.tasks.append(task)
        return task

    async def settle(self) -> list[BaseException]:
        """Wait for the background work; the errors it raised (a stopped task is not an error)."""
        tasks, self.tasks = self.tasks, []
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return [r for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]
