"""The scrolling list of messages of one conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from hailuo_tui.widgets.message_bubble import MessageBubble

MessageTuple = tuple[Any, str, str, str, "str | None"]
"""(message_id, role, content, status, error)."""

EMPTY_TEXT = "Start the conversation: type below and press Enter"


class ChatView(VerticalScroll):
    """A VerticalScroll of MessageBubbles that follows the bottom.

    Only the last `WINDOW` messages are mounted by `load`; older ones are
    mounted `PAGE` at a time when the reader scrolls to the top. Messages
    that `load` received but did not mount are kept here; when none are left
    and the caller said there are more (`has_older=True`), the view posts
    `ChatView.OlderRequested` and the screen answers with `prepend`.

    `add_message` keeps the window bounded while the view follows the
    bottom: past `WINDOW + TRIM_SLACK` bubbles it unmounts the oldest down to
    `WINDOW` (every mounted bubble costs layout time on each new message).
    They come back from the store through `OlderRequested` on scroll-up.
    """

    DEFAULT_CSS = """
    ChatView {
        height: 1fr;
        padding: 0 1;
        & > #empty-state {
            width: 1fr;
            height: 1fr;
            content-align: center middle;
            color: $text-muted;
        }
    }
    """

    WINDOW = 50
    """How many messages `load` mounts."""
    PAGE = 30
    """How many older messages are mounted per scroll to the top."""
    TRIM_SLACK = 10
    """Bubbles allowed beyond `WINDOW` before `add_message` unmounts the oldest (in batches, not one per message)."""

    @dataclass
    class OlderRequested(Message):
        """The reader reached the top and older messages may exist."""

        chat_view: ChatView
        before_id: Any
        """The id of the oldest mounted message."""

        @property
        def control(self) -> ChatView:
            return self.chat_view

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._held: list[MessageTuple] = []
        self._has_older = False
        self._older_requested = False

    def compose(self) -> ComposeResult:
        yield Static(EMPTY_TEXT, id="empty-state", markup=False)

    def on_mount(self) -> None:
        self.anchor()

    # -- public API -------------------------------------------------------

    @property
    def bubbles(self) -> list[MessageBubble]:
        """The mounted bubbles, oldest first."""
        return [child for child in self.children if isinstance(child, MessageBubble)]

    def bubble_for(self, message_id: Any) -> MessageBubble | None:
        """The mounted bubble of a message, if any."""
        for bubble in reversed(self.bubbles):
            if bubble.message_id == message_id:
                return bubble
        return None

    @property
    def held_count(self) -> int:
        """How many loaded messages are not mounted yet."""
        return len(self._held)

    async def load(
        self, messages: Sequence[MessageTuple], *, has_older: bool = False
    ) -> None:
        """Replace the contents with `messages` (oldest first).

        Args:
            messages: (message_id, role, content, status, error) tuples.
            has_older: True when the store holds messages older than these.
        """
        messages = list(messages)
        self._held = messages[: -self.WINDOW] if len(messages) > self.WINDOW else []
        tail = messages[-self.WINDOW :]
        self._has_older = has_older
        self._older_requested = False
        with self.app.batch_update():
            await self.remove_children(MessageBubble)
            if tail:
                await self.mount_all([self._make_bubble(m) for m in tail])
        self._update_empty()
        self.anchor()

    async def prepend(
        self, messages: Sequence[MessageTuple], *, has_older: bool = False
    ) -> None:
        """Mount older messages above the current ones, keeping the view still.

        Args:
            messages: Older (message_id, role, content, status, error) tuples,
                oldest first.
            has_older: True when even older messages exist in the store.
        """
        self._has_older = has_older
        self._older_requested = False
        await self._mount_older(list(messages))

    async def add_message(
        self,
        role: str,
        text: str = "",
        status: str = "complete",
        message_id: Any = None,
        error: str | None = None,
    ) -> MessageBubble:
        """Mount a new bubble at the bottom and return it.

        Args:
            role: "user" or "assistant".
            text: Initial text.
            status: Initial status ("streaming" for an answer about to stream).
            message_id: The store's message id.
            error: The reason for a "failed" status.

        Returns:
            The mounted bubble (stream into it with `append`/`finish`).
        """
        bubble = MessageBubble(role, text, status, message_id, error=error)
        following = self._following
        await self.mount(bubble)
        self._update_empty()
        if following:
            await self._trim()
        return bubble

    async def _trim(self) -> None:
        """Unmount the oldest bubbles beyond the window (the store keeps them; scroll-up reloads them)."""
        bubbles = self.bubbles
        if len(bubbles) <= self.WINDOW + self.TRIM_SLACK:
            return
        # Held messages are older than the ones unmounted here: drop them too, the store has all of them.
        self._held = []
        self._has_older = True
        self._older_requested = False
        await self.remove_children(bubbles[: len(bubbles) - self.WINDOW])
        self.anchor()

    @property
    def _following(self) -> bool:
        """True while the view sticks to the bottom (the reader is not looking at older messages)."""
        return (self.is_anchored and not self._anchor_released) or self.is_vertical_scroll_end

    def last_bubble(self, role: str | None = None) -> MessageBubble | None:
        """The newest bubble, optionally of one role.

        Args:
            role: "user" or "assistant", or None for any.

        Returns:
            The bubble, or None.
        """
        for child in reversed(self.children):
            if isinstance(child, MessageBubble) and (role is None or child.role == role):
                return child
        return None

    async def clear(self) -> None:
        """Remove every message and show the empty state."""
        self._held = []
        self._has_older = False
        await self.remove_children(MessageBubble)
        self._update_empty()
        self.anchor()

    # -- internals --------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value <= 0 < old_value or (new_value <= 0 and self.max_scroll_y > 0):
            self._at_top()

    def _at_top(self) -> None:
        if self._held:
            self.run_worker(self._mount_held(), group="chat-view-older", exclusive=True)
        elif self._has_older and not self._older_requested:
            bubbles = self.bubbles
            if bubbles:
                self._older_requested = True
                self.post_message(self.OlderRequested(self, bubbles[0].message_id))

    async def _mount_held(self) -> None:
        if not self._held:
            return
        page = self._held[-self.PAGE :]
        del self._held[-self.PAGE :]
        await self._mount_older(page)

    async def _mount_older(self, messages: list[MessageTuple]) -> None:
        if not messages:
            return
        first = next(iter(self.bubbles), None)
        bubbles = [self._make_bubble(m) for m in messages]
        old_height = self.virtual_size.height
        old_y = self.scroll_y
        if first is None:
            await self.mount_all(bubbles)
        else:
            await self.mount_all(bubbles, before=first)
        self._update_empty()

        def keep_position() -> None:
            grown = self.virtual_size.height - old_height
            self.scroll_to(y=old_y + max(grown, 0), animate=False, immediate=True)

        self.call_after_refresh(keep_position)

    @staticmethod
    def _make_bubble(message: MessageTuple) -> MessageBubble:
        message_id, role, content, status, error = message
        return MessageBubble(role, content or "", status, message_id, error=error)

    def _update_empty(self) -> None:
        self.query_one("#empty-state").display = not any(
            isinstance(child, MessageBubble) for child in self.children
        )
