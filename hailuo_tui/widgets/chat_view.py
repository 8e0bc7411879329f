"""The scrolling list of messages of one conversation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.layout import DockArrangeResult
from textual.message import Message
from textual.scrollbar import ScrollBar
from textual.widget import Widget
from textual.widgets import Static

from hailuo_tui.bindings import MESSAGE_BINDINGS
from hailuo_tui.domain import LIVE_STATUSES, MessageStatus, Paging, ShownMessage
from hailuo_tui.textual_compat import (
    AnchorHooks,
    anchor_released,
    draw_when_laid_out,
    drop_removed_render_caches,
    forget_drawn_lines,
)
from hailuo_tui.widgets.message_bubble import MessageBubble
from hailuo_tui.widgets.message_cursor import CURSOR_CSS, MessageCursor
from hailuo_tui.widgets.repaint import KeepLinesOnGrow

EMPTY_TEXT = "Start the conversation: type below and press Enter"

#: `prepend` without `before_id`: mount what is given, whatever the oldest message here is.
_ANY = object()


class ChatView(MessageCursor, KeepLinesOnGrow, AnchorHooks, VerticalScroll):
    """A VerticalScroll of MessageBubbles that follows the bottom.

    Only the last `WINDOW` messages are mounted by `load` (more of those it
    received while they do not fill two screens); older ones are mounted
    `PAGE` at a time when the reader scrolls to the top. Messages that
    `load` or `prepend` received but did not mount are held here; when fewer
    than a page are left and the caller said there are more
    (`has_older=True`), the view posts `ChatView.OlderRequested` ahead of
    need and the screen answers with `prepend`, so reaching the top seldom
    waits for the store.

    A page mounted above keeps the reader's place in the frame that first
    shows it: `arrange` moves the scroll offset by what the page added above
    the message the reader was looking at (see `_keep_place`). Before, the
    view was laid out at the old offset, drawn, then scrolled back: a frame
    of the wrong messages, and a second full repaint, on every page.

    `add_message` keeps the window bounded while the view follows the
    bottom: past `KEEP + TRIM_SLACK` bubbles it unmounts the oldest down to
    `KEEP` (every mounted bubble costs layout time on each new message).
    They come back from the store through `OlderRequested` on scroll-up.

    Reading upwards keeps the window bounded too: past `MOUNTED_MAX` bubbles,
    the newest are unmounted (their messages are kept here) and mounted again
    a page at a time when the reader scrolls back down; a new message brings
    the newest messages back first. Bubbles of an answer still streaming are
    never unmounted this way. With the focus, a cursor highlights a message (`MessageCursor`).
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
        & > .md--h1 { color: $markdown-h1-color; background: $markdown-h1-background; text-style: $markdown-h1-text-style; }
        & > .md--h2 { color: $markdown-h2-color; background: $markdown-h2-background; text-style: $markdown-h2-text-style; }
        & > .md--h3 { color: $markdown-h3-color; background: $markdown-h3-background; text-style: $markdown-h3-text-style; }
        & > .md--h4 { color: $markdown-h4-color; background: $markdown-h4-background; text-style: $markdown-h4-text-style; }
        & > .md--h5 { color: $markdown-h5-color; background: $markdown-h5-background; text-style: $markdown-h5-text-style; }
        & > .md--h6 { color: $markdown-h6-color; background: $markdown-h6-background; text-style: $markdown-h6-text-style; }
        & > .md--em { text-style: italic; }
        & > .md--strong { text-style: bold; }
        & > .md--s { text-style: strike; }
        & > .md--link { color: $text-accent; text-style: underline; }
        &:dark > .md--code-inline { background: $warning 10%; color: $text-warning 95%; }
        &:light > .md--code-inline { background: $error 5%; color: $text-error 95%; }
        &:dark > .md--code-block { background: black 25%; }
        &:light > .md--code-block { background: white 40%; }
        & > .md--code-label { color: $text-muted; background: black 25%; text-style: italic; }
        &:light > .md--code-label { background: white 40%; }
        & > .md--bullet { color: $text-primary; }
        & > .md--quote-bar { color: $text-primary 50%; }
        & > .md--rule { color: $secondary; }
        & > .md--table-border { color: $primary 60%; }
        & > .md--table-header { text-style: bold; color: $text-primary; }
        &:ansi > .md--code-inline { background: ansi_default; }
        &:ansi > .md--code-block { background: ansi_default; }
        &:ansi > .md--code-label { background: ansi_default; }
    }
    """ + CURSOR_CSS

    # The styles of message text (see markdown.painter.BlockPainter): declared here once
    # rather than on each message, which made every mounted message resolve them.
    COMPONENT_CLASSES = {
        "md--h1", "md--h2", "md--h3", "md--h4", "md--h5", "md--h6",
        "md--em", "md--strong", "md--s", "md--link", "md--code-inline",
        "md--code-block", "md--code-label", "md--bullet", "md--quote-bar",
        "md--rule", "md--table-border", "md--table-header", "chat-view--block-cursor",
    }

    BINDINGS = MESSAGE_BINDINGS  # Textual reads BINDINGS from widget classes only, not from the mixin

    # The page sizes are Paging's (hailuo_tui.domain), named here for the view's own code and tests.
    WINDOW = Paging.WINDOW
    KEEP = Paging.KEEP
    PAGE = Paging.PAGE
    TRIM_SLACK = Paging.TRIM_SLACK
    MOUNTED_MAX = Paging.MOUNTED_MAX
    MAX_PAGES = 10_000
    """Most pages `scroll_to_first` reads (a bound, far beyond any real conversation)."""

    fold_thinking: bool | None = None
    """Given to every bubble made here (see `MessageBubble.fold_thinking`); None: the bubble's default."""

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
        self._held: list[ShownMessage] = []
        #: Newer messages unmounted while the reader looks at older ones (oldest first).
        self._below: list[ShownMessage] = []
        self._has_older = False
        self._older_requested = False
        #: True while `scroll_to_first` mounts the older messages.
        self._to_first = False
        #: A page is wanted now (the reader is at the top, or the cursor waits): `prepend` mounts one.
        self._page_wanted = False
        #: While a page is mounted above (or unmounted above, going down): the bubble whose place on
        #: screen is kept, its top in the last arrangement, and whether the mount is done.
        self._kept: list[Any] | None = None

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

    @property
    def has_older(self) -> bool:
        """True when the store holds messages older than every one loaded here."""
        return self._has_older

    async def scroll_to_first(self, load_older: Callable[[Any], Awaitable[object]]) -> None:
        """Show the very first message: mount every older one, then scroll to the top.

        While it runs, reaching the top or the bottom of the window mounts nothing by itself
        (those mounts would race with this one).

        Args:
            load_older: Called with the oldest mounted message's id; it reads the page before it
                from the store and gives it to `prepend` (as the screen does for `OlderRequested`).
        """
        self._to_first = True
        try:
            for _ in range(self.MAX_PAGES):
                if self._held:
                    held, self._held = self._held, []
                    await self._mount_older(held)
                    continue
                bubbles = self.bubbles
                if not self._has_older or not bubbles:
                    break
                oldest = bubbles[0].message_id
                await load_older(oldest)
                if not self._held and self.bubbles and self.bubbles[0].message_id == oldest:
                    break  # nothing older came back
        finally:
            self._page_wanted = False  # a cursor's wish made on the way was served by the loop above
            self.scroll_home(animate=False, immediate=True)

            def at_top() -> None:  # after the positions kept by the mounts above
                self.scroll_home(animate=False, immediate=True)
                self._to_first = False

            bubbles = self.bubbles
            if bubbles:
                self._after_layout(bubbles[0], at_top)
            else:
                self._to_first = False

    @property
    def below_count(self) -> int:
        """How many newer messages are unmounted while the reader looks at older ones."""
        return len(self._below)

    async def load(
        self, messages: Sequence[ShownMessage], *, has_older: bool = False, focus_id: Any = None
    ) -> None:
        """Replace the contents with `messages` (oldest first).

        Args:
            messages: The messages to show.
            has_older: True when the store holds messages older than these.
            focus_id: Open with the cursor on this message, scrolled into view, instead of at the
                bottom (`messages` must hold it and every message after it).
        """
        messages = list(messages)
        start = self._window_start(messages, focus_id)
        self._held = messages[:start]
        tail = messages[start : start + self.WINDOW]
        self._below = messages[start + self.WINDOW :]
        self._has_older = has_older
        self._older_requested = self._page_wanted = False
        self._kept = None
        self.clear_cursor()
        with self.app.batch_update():
            await self._remove(MessageBubble)
            if tail:
                await self.mount_all([self._make_bubble(m) for m in tail])
        self._update_empty()
        if self._below:  # opened on an older message (focus_id): the newest wait below, not followed
            self.release_anchor()
        else:
            self.anchor()
        self._fill_later()
        if focus_id is not None:
            self.set_cursor(focus_id)

    async def prepend(
        self, messages: Sequence[ShownMessage], *, has_older: bool = False, before_id: Any = _ANY
    ) -> None:
        """Hold older messages above the current ones; mount a page of them if one is wanted now
        (the reader is at the top or the message cursor waits), keeping the view still.

        Args:
            messages: Older messages, oldest first.
            has_older: True when even older messages exist in the store.
            before_id: The `OlderRequested.before_id` these answer: if it is no longer the oldest
                message here (another conversation was opened, or another answer came first), they
                are dropped.
        """
        if before_id is _ANY or before_id == self._oldest_id():
            self._held[:0] = messages
            self._has_older = has_older
            self._older_requested = False
            if self._page_wanted and not self._to_first:
                self._page_wanted = False
                await self._mount_held()
        self.older_arrived()

    async def add_message(
        self,
        role: str,
        text: str = "",
        status: str = MessageStatus.COMPLETE,
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
        if self._below:
            await self._show_newest()
        bubble = MessageBubble(role, text, status, message_id, error=error, fold_thinking=self.fold_thinking)
        following = self._following
        await self.mount(bubble)
        self._update_empty()
        if following:
            await self._trim()
        return bubble

    async def _trim(self) -> None:
        """Unmount the oldest bubbles beyond the window (the store keeps them; scroll-up reloads them)."""
        bubbles = self.bubbles
        if len(bubbles) <= self.KEEP + self.TRIM_SLACK:
            return
        # Held messages are older than the ones unmounted here: drop them too, the store has all of them.
        self._held = []
        self._has_older = True
        self._older_requested = False
        await self._remove(bubbles[: len(bubbles) - self.KEEP])
        self.anchor()

    async def _remove(self, bubbles: Any) -> None:
        """Unmount bubbles (a list, or MessageBubble for all) and let the lines they drew go."""
        gone = self.bubbles if isinstance(bubbles, type) else bubbles
        widgets = [widget for bubble in gone for widget in bubble.walk_children(with_self=True)]
        await self.remove_children(bubbles)
        forget_drawn_lines(widgets)
        drop_removed_render_caches()

    @property
    def _following(self) -> bool:
        """True while the view sticks to the bottom (the reader is not looking at older messages)."""
        return (self.is_anchored and not anchor_released(self)) or self.is_vertical_scroll_end

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

    def action_toggle_thinking(self) -> None:
        """Open or fold the "Thinking" section of the newest answer that has one."""
        for bubble in reversed(self.bubbles):
            if bubble.thinking is not None:
                bubble.toggle_thinking()
                return

    async def clear(self) -> None:
        """Remove every message and show the empty state."""
        self._held = []
        self._below = []
        self._has_older = self._page_wanted = False
        self._kept = None
        self.clear_cursor()
        await self._remove(MessageBubble)
        self._update_empty()
        self.anchor()

    # -- internals --------------------------------------------------------

    def on_resize(self) -> None:
        if self._unfilled():
            self._fill_later()

    def _unfilled(self) -> bool:
        """True when the mounted messages do not fill two screens and more are held."""
        return bool(self._held) and self.virtual_size.height < 2 * self.size.height

    def _fill_later(self) -> None:
        """Once laid out, mount held messages if those mounted do not fill two screens
        (without scrolling there would be no way to reach the older ones). Only held
        ones: a page from the store mounted while the view follows the bottom could
        push the newest out of the window."""
        bubbles = self.bubbles
        if bubbles and self._held:
            self._after_layout(bubbles[0], self._fill)

    def _fill(self) -> None:
        if self.size.height and self._unfilled():
            self.run_worker(self._mount_held(), group="chat-view-older", exclusive=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._to_first:
            return
        if new_value <= 0 < old_value or (new_value <= 0 and self.max_scroll_y > 0):
            self._at_top()
        elif self._below and new_value >= self.max_scroll_y > 0:
            self.run_worker(self._mount_below(), group="chat-view-newer", exclusive=True)

    def scroll_end(self, *args: Any, **kwargs: Any) -> None:
        """End: the newest message (bringing back those unmounted while reading up)."""
        if self._below:
            self.run_worker(self._show_newest(), group="chat-view-newer", exclusive=True)
            return
        super().scroll_end(*args, **kwargs)

    def may_restore_anchor(self) -> bool:
        # At the bottom of the window is not at the newest message while some wait below.
        return not self._below

    def _at_top(self) -> None:
        if self._held:
            self.run_worker(self._mount_held(), group="chat-view-older", exclusive=True)
        elif self._has_older and self.bubbles:
            self._page_wanted = True  # mounted when the store's answer comes
            self._request_older()

    def _oldest_id(self) -> Any:
        """The id of the oldest message here, mounted or held (None when there is none)."""
        if self._held:
            return self._held[0].id
        bubbles = self.bubbles
        return bubbles[0].message_id if bubbles else None

    def _request_older(self) -> None:
        """Ask the screen for the store's messages before the oldest one here (one request at a time)."""
        if self._has_older and not self._older_requested and (self._held or self.bubbles):
            self._older_requested = True
            self.post_message(self.OlderRequested(self, self._oldest_id()))

    async def _mount_held(self) -> None:
        if not self._held:
            return
        page = self._held[-self.PAGE :]
        del self._held[-self.PAGE :]
        try:
            await self._mount_older(page)
        except asyncio.CancelledError:
            # Cancelled by the next scroll to the top (the workers are exclusive): a page not mounted yet goes
            # back where it was rather than being lost.
            if not any(bubble.message_id == page[0].id for bubble in self.bubbles[: self.PAGE]):
                self._held += page
            raise
        finally:
            if len(self._held) < self.PAGE:  # asked even when cancelled: the next run may find nothing held
                self._request_older()  # ahead of need: the store's answer waits here until the reader is at the top

    async def _mount_older(self, messages: list[ShownMessage]) -> None:
        if not messages:
            return
        first = next(iter(self.bubbles), None)
        bubbles = [self._make_bubble(m) for m in messages]
        await self._keep_place(first)
        with self.app.batch_update():  # one layout for the mount and the trim
            if first is None:
                await self.mount_all(bubbles)
            else:
                await self.mount_all(bubbles, before=first)
            await self._trim_bottom()
        self._place_kept()
        # Drawn as soon as it is laid out, not at Textual's next frame tick: bench/app_scale.py open-2000+top,
        # three runs each way, mean page 0.052-0.053 -> 0.037-0.041 s, median 0.050-0.051 -> 0.034-0.037 s,
        # worst 0.080-0.089 -> 0.070-0.095 s, the CPU of the 330 pages unchanged (12.2-13.7 s against 12.9-13.8 s).
        if not self._to_first:  # mounting every page up to the first: one frame at the end is enough
            await draw_when_laid_out(self.screen, self._asked_layout(bubbles))
        self._update_empty()
        self._fill_later()

    def _asked_layout(self, bubbles: list[MessageBubble]) -> list[Widget]:
        """The widgets a mount of `bubbles` asked a layout of: the view, the bubbles and what they hold."""
        held = (each for bubble in bubbles if bubble.is_attached for each in bubble.walk_children(with_self=True))
        return [self, *held]

    async def _keep_place(self, bubble: MessageBubble | None) -> None:
        """Keep `bubble` where it is on screen while bubbles are mounted above it or removed above it
        (see `arrange`); a running scroll animation ends first (its next step would undo the move)."""
        if bubble is None or not bubble.is_attached:
            self._kept = None
            return
        if self.app.animator.is_being_animated(self, "scroll_y"):
            await self.stop_animation("scroll_y")
        self._kept = [bubble, bubble.virtual_region.y, False]

    def _place_kept(self) -> None:
        """The mount is done: the next arrangement places everything; it keeps the place one last time."""
        if self._kept is not None:
            self._kept[2] = True
            self.refresh(layout=True)

    def arrange(self, size: Size, optimal: bool = False) -> DockArrangeResult:
        """Textual's arrangement; while a page is mounted above, the scroll offset moves with the
        message kept in place. Textual places the children at the scroll offset it reads after this
        returns (as its own anchor does), so the first frame with the page is the right one."""
        arrangement = super().arrange(size, optimal)
        kept = self._kept
        if kept is None:
            return arrangement
        bubble, top, done = kept
        if not bubble.is_attached:
            self._kept = None
            return arrangement
        for placement in arrangement.placements:
            if placement.widget is bubble:
                moved = placement.region.y - top
                if moved:
                    kept[1] = placement.region.y
                    self._scroll_by_layout(moved)
                break
        if done:
            self._kept = None
        return arrangement

    def _scroll_by_layout(self, moved: int) -> None:
        """Move the scroll offset by `moved` rows inside a layout (no watchers: nothing scrolled for the reader)."""
        y = max(0, self.scroll_y + moved)
        self.set_reactive(Widget.scroll_y, y)
        self.set_reactive(Widget.scroll_target_y, max(0, self.scroll_target_y + moved))
        self.vertical_scrollbar.set_reactive(ScrollBar.position, y)

    async def _trim_bottom(self) -> None:
        """Unmount the newest bubbles beyond `MOUNTED_MAX`, keeping their messages in `_below`; not while
        what is mounted is under three screens high (a tall terminal of short messages: `_fill_later`
        mounts until two screens are filled, and a trim here would undo it, again and again)."""
        bubbles = self.bubbles
        excess = len(bubbles) - self.MOUNTED_MAX
        if excess <= 0 or any(b.status in LIVE_STATUSES for b in bubbles):
            return
        if self.virtual_size.height < 3 * self.size.height:
            return
        gone = bubbles[-excess:]
        self.release_anchor()
        self._below[:0] = [self._shown_of(bubble) for bubble in gone]
        await self._remove(gone)

    async def _mount_below(self) -> None:
        """The reader reached the bottom of the window: mount the next newer page, unmount the oldest."""
        if not self._below:
            return
        page = self._below[: self.PAGE]
        del self._below[: self.PAGE]
        bubbles = self.bubbles
        excess = len(bubbles) + len(page) - self.MOUNTED_MAX
        gone = bubbles[:excess] if excess > 0 else []
        if gone:
            await self._keep_place(bubbles[len(gone)] if len(gone) < len(bubbles) else None)
        mounted = [self._make_bubble(m) for m in page]
        with self.app.batch_update():  # one layout for the mount and the trim
            await self.mount_all(mounted)
            if gone:
                self._held.extend(self._shown_of(bubble) for bubble in gone)
                await self._remove(gone)
        self._place_kept()
        await draw_when_laid_out(self.screen, self._asked_layout(mounted))
        if not self._below:
            self.anchor()

    def _after_layout(self, probe: MessageBubble, callback: Callable[[], None], tries: int = 10) -> None:
        """Call `callback` after the refresh that first places `probe` (a bubble just mounted).

        The layout a mount asks for comes by message, so the next refresh may
        still show the old arrangement; wait (a few frames at most) for one
        that has placed the new bubble.
        """

        def check(tries: int) -> None:
            if probe.is_attached and not probe.virtual_region.height and tries > 0:
                self.call_after_refresh(check, tries - 1)
            else:
                callback()

        self.call_after_refresh(check, tries)

    async def _show_newest(self) -> None:
        """Bring the newest messages back (a new message is about to be added)."""
        messages = [*self._held, *(self._shown_of(b) for b in self.bubbles), *self._below]
        await self.load(messages, has_older=self._has_older)

    @staticmethod
    def _shown_of(bubble: MessageBubble) -> ShownMessage:
        return ShownMessage(
            bubble.message_id, bubble.role, bubble.text, bubble.status, bubble.error, bubble.reasoning, bubble.usage,
            version=bubble.version, versions=bubble.versions,
        )

    def _make_bubble(self, message: ShownMessage) -> MessageBubble:
        return MessageBubble(
            message.role, message.content or "", message.status, message.id, error=message.error,
            reasoning=message.reasoning or "", usage=message.usage, fold_thinking=self.fold_thinking,
            sources=message.sources, follow_ups=message.follow_ups, version=message.version, versions=message.versions,
        )

    def set_examples(self, examples: Sequence[tuple[str, str]]) -> None:
        """Offer example prompts in the empty state.

        Args:
            examples: (key label, prompt) pairs, e.g. ``("Alt+P", "Show me some code")``; none: just the hint.
        """
        lines = [EMPTY_TEXT]
        if examples:
            lines += ["", "Or press a key to send an example:", ""]
            lines += [f"{key}  {text}" for key, text in examples]
        self.query_one("#empty-state", Static).update("\n".join(lines))

    @property
    def is_empty(self) -> bool:
        """True while no message is shown (the empty state is)."""
        return not any(isinstance(child, MessageBubble) for child in self.children)

    def _update_empty(self) -> None:
        self.query_one("#empty-state").display = not any(
            isinstance(child, MessageBubble) for child in self.children
        )
