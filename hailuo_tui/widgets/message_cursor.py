"""The transcript's keyboard cursor: a highlighted message, and a highlighted block inside an answer.

A mixin of `ChatView` (it uses the view's window of mounted bubbles: `_held` older messages not
mounted yet, `_below` newer ones unmounted while reading up, and `OlderRequested` for the store's).
The cursor is the id of a message; the highlight is the ``-cursor`` class on its bubble. The block
cursor marks rows of the answer's `MarkdownBody` (`MarkdownBody.mark_block`): moving it repaints
the rows of two blocks and renders nothing again.

Commands on the highlighted message that need the store (edit, regenerate, delete, fork, switching
versions) are not done here: the view posts `MessageCommandRequested` and the screen does them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from textual import events
from textual.message import Message

from hailuo_tui.domain import MessageCommand, ShownMessage
from hailuo_tui.widgets.message_bubble import MessageBubble
from hailuo_tui.widgets.message_copy import MessageCopy

#: The view this mixin is part of (``ChatView``), not imported: chat_view imports this module, and
#: the package has no import cycle, even under TYPE_CHECKING (tests/unit/test_import_rules.py).
ChatView = Any

CURSOR_CSS = """
ChatView {
    & > MessageBubble.-cursor { border-left: thick $accent 60%; background: $accent 6%; }
    &:focus > MessageBubble.-cursor { border-left: thick $accent; background: $accent 12%; }
    &:ansi > MessageBubble.-cursor { background: ansi_default; }
    & > .chat-view--block-cursor { background: $accent 25%; }
    &:ansi > .chat-view--block-cursor { background: ansi_default; text-style: reverse; }
}
"""
"""The highlights (in `ChatView.DEFAULT_CSS`): a thick left border in place of the outer one (same width:
nothing moves) and a tint; the ANSI themes keep the terminal's background and show the border's colour."""


class MessageCursor(MessageCopy):
    """Mixin of `ChatView`: the message cursor, the block cursor and message commands (copying: `MessageCopy`)."""

    #: Seconds to wait for the screen's answer to `OlderRequested` while the cursor goes up.
    OLDER_TIMEOUT = 5.0
    #: Within this many messages of the edge of the window, the next page is mounted ahead of the cursor.
    PREFETCH = 4

    @dataclass
    class MessageCommandRequested(Message, namespace="chat_view"):
        """The reader asked for a command on the highlighted message (done by the screen, with the store)."""

        chat_view: ChatView
        command: MessageCommand
        message_id: int

        @property
        def control(self) -> ChatView:
            return self.chat_view

    _cursor_id: Any = None
    _cursor_block: int | None = None
    _cursor_lock: asyncio.Lock | None = None
    _prepended: asyncio.Event | None = None

    # -- public API -------------------------------------------------------

    @property
    def cursor_message(self) -> ShownMessage | None:
        """The highlighted message (None: no cursor, or its bubble is not mounted any more)."""
        bubble = self.cursor_bubble
        return self._shown_of(bubble) if bubble is not None else None  # type: ignore[attr-defined]

    @property
    def cursor_bubble(self) -> MessageBubble | None:
        """The bubble of the highlighted message, if it is mounted."""
        if self._cursor_id is None:
            return None
        return self.bubble_for(self._cursor_id)  # type: ignore[attr-defined]

    @property
    def cursor_block(self) -> int | None:
        """The index (in its `MarkdownBody.blocks`) of the block under the block cursor, or None."""
        return self._cursor_block if self.cursor_bubble is not None else None

    def set_cursor(self, message_id: Any, *, reveal: bool = True) -> bool:
        """Highlight a mounted message (the block cursor goes); False if it is not mounted.

        Args:
            message_id: The message's id.
            reveal: Scroll so that it is visible.
        """
        bubble = self.bubble_for(message_id)  # type: ignore[attr-defined]
        if bubble is None:
            return False
        self._highlight(bubble, None)
        if reveal:
            self._reveal(bubble)
        return True

    def clear_cursor(self) -> None:
        """No message is highlighted."""
        old = self.cursor_bubble
        if old is not None:
            old.remove_class("-cursor")
            self._mark(old, None)
        self._cursor_id = None
        self._cursor_block = None

    def _window_start(self, messages: list[ShownMessage], focus_id: Any) -> int:
        """Where `ChatView.load` starts mounting: the newest window, or a window from just above `focus_id`."""
        start = max(0, len(messages) - self.WINDOW)  # type: ignore[attr-defined]
        at = next((i for i, m in enumerate(messages) if m.id == focus_id), None) if focus_id is not None else None
        return start if at is None else min(start, max(0, at - 2))  # a little of what led to it, above

    # -- actions ------------------------------------------------------------

    def on_mouse_down(self, event: events.MouseDown) -> None:
        # A click (or the start of a drag to select text) puts the cursor on that message: focusing
        # the view by the mouse would otherwise highlight the lowest message, away from the pointer.
        node = event.widget
        while node is not None and node is not self and not isinstance(node, MessageBubble):
            node = node.parent
        if isinstance(node, MessageBubble) and node.message_id is not None and node is not self.cursor_bubble:
            self._highlight(node, None)

    def on_focus(self) -> None:
        if self.cursor_bubble is None:
            bubble = self._lowest_visible()
            if bubble is not None:
                self._highlight(bubble, None)

    async def action_message_previous(self) -> None:
        await self._serial(self._step(-1))

    async def action_message_next(self) -> None:
        await self._serial(self._step(1))

    async def action_message_first(self) -> None:
        await self._serial(self._to_first_message())

    async def action_message_last(self) -> None:
        await self._serial(self._to_last_message())

    async def action_block_previous(self) -> None:
        await self._serial(self._step_block(-1))

    async def action_block_next(self) -> None:
        await self._serial(self._step_block(1))

    def action_message_edit(self) -> None:
        self._command(MessageCommand.EDIT)

    def action_message_regenerate(self) -> None:
        self._command(MessageCommand.REGENERATE)

    def action_message_delete(self) -> None:
        self._command(MessageCommand.DELETE)

    def action_message_fork(self) -> None:
        self._command(MessageCommand.FORK)

    def action_message_version_previous(self) -> None:
        self._command(MessageCommand.VERSION_PREVIOUS)

    def action_message_version_next(self) -> None:
        self._command(MessageCommand.VERSION_NEXT)

    # -- moving -------------------------------------------------------------

    async def _serial(self, move: Any) -> None:
        """Run one move after the previous one (a held key queues moves that may load pages)."""
        if self._cursor_lock is None:
            self._cursor_lock = asyncio.Lock()
        async with self._cursor_lock:
            await move

    async def _step(self, delta: int) -> None:
        current = self.cursor_bubble
        if current is None:
            start = self._lowest_visible()
            if start is not None:
                self._highlight(start, None)
                self._reveal(start)
            return
        index = self.bubbles.index(current)  # type: ignore[attr-defined]
        if index + delta < 0 and not await self._mount_page_above():
            return
        if index + delta >= len(self.bubbles):  # type: ignore[attr-defined]
            if not self._below:  # type: ignore[attr-defined]
                return
            await self._mount_below()  # type: ignore[attr-defined]
        bubbles = self.bubbles  # type: ignore[attr-defined]
        if not current.is_attached:
            return
        index = bubbles.index(current) + delta
        target = bubbles[index]
        self._highlight(target, None)
        self._reveal(target)
        if (index if delta < 0 else len(bubbles) - 1 - index) < self.PREFETCH:
            self.call_after_refresh(self._prefetch, delta)

    def _prefetch(self, delta: int) -> None:
        """Near the edge of the window, mount the next page once the frame is drawn (not on the next key)."""
        view: ChatView = self  # type: ignore[assignment]
        if delta < 0 and view._held:
            view.run_worker(view._mount_held(), group="chat-view-older", exclusive=True)
        elif delta < 0:
            view._request_older()
        elif delta > 0 and view._below:
            view.run_worker(view._mount_below(), group="chat-view-newer", exclusive=True)

    async def _mount_page_above(self) -> bool:
        """Mount the page above the first bubble (held, or from the store); False if there is none."""
        view: ChatView = self  # type: ignore[assignment]
        first = view.bubbles[0] if view.bubbles else None
        if view._held:
            await view._mount_held()
        elif view.has_older:
            await self._ask_older()
        return bool(view.bubbles) and view.bubbles[0] is not first

    async def _ask_older(self) -> None:
        """Ask the screen for the page before the first bubble (unless already asked) and wait (bounded)
        for its `prepend`, which mounts a page of it."""
        view: ChatView = self  # type: ignore[assignment]
        self._prepended = asyncio.Event()
        view._page_wanted = True
        view._request_older()
        try:
            await asyncio.wait_for(self._prepended.wait(), self.OLDER_TIMEOUT)
        except asyncio.TimeoutError:
            view._older_requested = view._page_wanted = False
        finally:
            self._prepended = None

    def older_arrived(self) -> None:
        """`prepend` is done (wakes a cursor waiting for older messages)."""
        if self._prepended is not None:
            self._prepended.set()

    async def _to_first_message(self) -> None:
        view: ChatView = self  # type: ignore[assignment]

        async def load_older(_before_id: Any) -> None:
            await self._ask_older()

        await view.scroll_to_first(load_older)
        if view.bubbles:
            self._highlight(view.bubbles[0], None)

    async def _to_last_message(self) -> None:
        view: ChatView = self  # type: ignore[assignment]
        if view._below:
            await view._show_newest()
        if view.bubbles:
            self._highlight(view.bubbles[-1], None)
            view.scroll_end(animate=False)

    async def _step_block(self, delta: int) -> None:
        """The next/previous block of the answer; past its last (first) block, the next (previous) message."""
        bubble = self.cursor_bubble
        if bubble is None:
            await self._step(delta)
            return
        body = self._markdown_of(bubble)
        shown = [i for i, (first, end) in enumerate(body.block_rows()) if end > first] if body else []
        current = self._cursor_block
        if current is None:
            candidates = shown if delta > 0 else []
        else:
            candidates = [i for i in shown if (i > current if delta > 0 else i < current)]
        if candidates:
            block = candidates[0] if delta > 0 else candidates[-1]
            self._highlight(bubble, block)
            self._reveal(bubble, block)
            return
        if current is not None and delta < 0:  # back from the first block to the whole message
            self._highlight(bubble, None)
            self._reveal(bubble)
            return
        await self._step(delta)
        if delta < 0:  # arriving from below: the last block of the answer above
            above = self.cursor_bubble
            body = self._markdown_of(above) if above is not None else None
            rows = [i for i, (first, end) in enumerate(body.block_rows()) if end > first] if body else []
            if above is not None and rows:
                self._highlight(above, rows[-1])
                self._reveal(above, rows[-1])

    # -- drawing ------------------------------------------------------------

    def _highlight(self, bubble: MessageBubble, block: int | None) -> None:
        old = self.cursor_bubble
        if old is not None and old is not bubble:
            old.remove_class("-cursor")
            self._mark(old, None)
        self._cursor_id = bubble.message_id
        self._cursor_block = block
        bubble.add_class("-cursor")
        self._mark(bubble, block)

    def notify_style_update(self) -> None:
        super().notify_style_update()  # type: ignore[misc]
        bubble = self.cursor_bubble
        if bubble is not None and self._cursor_block is not None:  # a new theme: the block's new colour
            self._mark(bubble, self._cursor_block)

    def _mark(self, bubble: MessageBubble, block: int | None) -> None:
        body = self._markdown_of(bubble)
        if body is not None:
            view: ChatView = self  # type: ignore[assignment]
            style = view.get_component_rich_style("chat-view--block-cursor") if block is not None else None
            body.mark_block(block, style)

    def _reveal(self, bubble: MessageBubble, block: int | None = None) -> None:
        """Scroll (once laid out) so the message's top, or its block, is in view."""
        view: ChatView = self  # type: ignore[assignment]

        def reveal() -> None:
            if not bubble.is_attached:
                return
            place = bubble.virtual_region
            top, height = place.y, place.height
            body = self._markdown_of(bubble) if block is not None else None
            if body is not None:
                rows = body.block_rows()
                if block is not None and block < len(rows):
                    first, end = rows[block]
                    top += body.content_region.y - bubble.region.y + first
                    height = end - first
            height = max(1, min(height, view.scrollable_content_region.height))
            view.scroll_to_region(place._replace(y=top, height=height), animate=False, immediate=True)

        view._after_layout(bubble, reveal)

    def _lowest_visible(self) -> MessageBubble | None:
        """The newest bubble whose top is in view (the newest of all while following the bottom)."""
        view: ChatView = self  # type: ignore[assignment]
        bubbles = view.bubbles
        if not bubbles:
            return None
        if view._following and not view._below:
            return bubbles[-1]
        bottom = view.scroll_y + view.scrollable_content_region.height
        for bubble in reversed(bubbles):
            if bubble.virtual_region.y < bottom:
                return bubble
        return bubbles[-1]

    # -- helpers ------------------------------------------------------------

    def _command(self, command: MessageCommand) -> None:
        bubble = self.cursor_bubble
        if bubble is None or bubble.message_id is None:
            self._no_cursor()
            return
        view: ChatView = self  # type: ignore[assignment]
        view.post_message(view.MessageCommandRequested(view, command, bubble.message_id))
