"""One chat message: a header line (who, status badge) and a body.

An answer's body is Markdown (`markdown_body` describes how it streams without
re-laying out the whole message); the user's own message is shown as typed
(`user_body`). Past the sizes in `plain_body.shown_as_plain` (32,000
characters, 2,000 lines, or 20,000 characters without a blank line) Markdown
layout takes seconds to minutes, so an answer is shown as plain, soft-wrapped
text in a `PlainBody` that draws only the visible rows, and its header says so
("shown as plain text: 1.2 MB"). A streamed answer switches over at the flush
where its text crosses a limit (the limits only grow with the text, so it ends
up shown as it would be when loaded); `text`, the store and the exports always
hold the whole text.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from hailuo_tui.domain import LIVE_STATUSES, MessageStatus
from hailuo_tui.sanitize import StreamSanitizer, clean
from hailuo_tui.textual_compat import draw_soon
from hailuo_tui.markdown.blocks import code_blocks
from hailuo_tui.widgets.answer_extras import AnswerExtras
from hailuo_tui.widgets.bubble_header import (
    STATUS_CLASSES, STOPPED, BubbleHeader, UsageLine, header_content, status_class,
)
from hailuo_tui.widgets.bubble_replace import ReplaceText
from hailuo_tui.widgets.flush_pacing import FlushPacing
from hailuo_tui.widgets.markdown_body import MarkdownBody
from hailuo_tui.widgets.plain_body import PlainBody, format_size, shown_as_plain
from hailuo_tui.widgets.repaint import KeepLinesOnGrow
from hailuo_tui.widgets.thinking_section import ReasoningBuffer, ThinkingSection
from hailuo_tui.widgets.user_body import user_body
from hailuo_tui.widgets.usage_format import format_usage

Role = Literal["user", "assistant"]

class MessageBubble(FlushPacing, ReplaceText, KeepLinesOnGrow, Vertical):
    """A single message, streamed into a Markdown body when it is an answer.

    Deltas are sanitized, buffered and written to the body at most once per
    flush interval; the body re-renders only its open block (see
    `markdown_body`). `finish` flushes and seals; it never re-renders the
    whole answer.

    The flush interval holds the app to a CPU budget while answers stream:
    every write costs a layout and, as the view follows the bottom, a repaint
    of the screen (10-20 ms on a 2-core VM), so the interval starts at
    `FLUSH_INTERVAL` and is stretched (up to `FLUSH_INTERVAL_MAX`) while the
    process uses more than `CPU_BUDGET` of a core, and shortened again when
    it uses much less. A fast machine streams at 15 frames a second, a slow
    one at fewer (4 at the least), and drawing takes about a twelfth of a core.

    Reasoning (`append_reasoning`) goes through the same flushes into a
    `ThinkingSection` above the body; a usage line goes under a finished answer.
    """

    DEFAULT_CSS = """
    MessageBubble {
        height: auto;
        margin: 0 0 1 0;
        padding: 0 1;
        & > #header { height: 1; color: $text-muted; }
        & > MarkdownBody, & > PlainBody { height: auto; margin: 0; }
        & > #usage { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
        &.-user { border-left: outer $primary; background: $boost; }
        &.-assistant { border-left: outer $secondary 50%; }
        &.-streaming { border-left: outer $accent; }
        &.-interrupted { border-left: outer $warning; }
        &.-error { border-left: outer $error; }
    }
    """

    fold_thinking: bool = True
    """Fold the "Thinking" section when the answer's first text arrives (the app sets it from the config)."""

    def __init__(
        self,
        role: Role | str,
        text: str = "",
        status: str = MessageStatus.COMPLETE,
        message_id: int | str | None = None,
        *,
        error: str | None = None,
        reasoning: str = "",
        usage: dict | None = None,
        fold_thinking: bool | None = None,
        sources: tuple[tuple[str, str], ...] = (),
        follow_ups: tuple[str, ...] = (),
        version: int = 1,
        versions: int = 1,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create a message bubble.

        Args:
            role: "user" or "assistant".
            text: Initial (already complete) text; it is sanitized here.
            status: "pending", "streaming", "complete", "interrupted" or "failed".
            message_id: The store's message id, kept for the screen.
            error: The reason shown with a "failed" status.
            reasoning: The model's reasoning (sanitized here): folded, unless still streaming (no text yet).
            usage: Token counts and timing, shown under a finished answer (see `set_usage`).
            fold_thinking: Overrides the class's `fold_thinking`.
            sources, follow_ups: Web-search links and suggested questions under an answer (`AnswerExtras`).
            version, versions: Which version of the message this is, of how many ("◀ 2/3 ▶" when several).
            id: DOM id.
            classes: Extra CSS classes.
        """
        # The classes are given here, not added after: add_class on a widget not yet mounted applies
        # the whole stylesheet to it at once, and again on mount (~1 ms a bubble, 30 a page of history).
        super().__init__(id=id, classes=" ".join(filter(None, (classes, f"-{role}", status_class(status)))))
        self.role: str = role
        self.message_id = message_id
        self.version, self.versions = version, versions
        text = clean(text) if text else ""
        self._chunks: list[str] = [text] if text else []
        self._text_cache: str | None = None
        self._pending: list[str] = []
        self._pending_length = 0
        self._sanitizer = StreamSanitizer()
        self._flush_timer: Timer | None = None
        self._last_flush = 0.0
        #: The pending `draw_soon` of the last write, if any.
        self._drawing: asyncio.Future[bool] | None = None
        #: The current flush interval, and where the last CPU measurement started (wall, CPU).
        self._interval = self.FLUSH_INTERVAL
        self._cpu_mark: tuple[float, float] | None = None
        self._status = status
        self._error = error
        self._initial_text = text
        self._md: MarkdownBody | None = None
        #: The plain-text body, once the message is too big for Markdown (see `plain_body`).
        self._plain: PlainBody | None = None
        self._plain_bytes = 0
        self._user: Widget | None = None  # the body of a user message, shown as typed
        if text and shown_as_plain(text):  # a huge paste too: the header says so
            self._plain = PlainBody(text, id="plain-body")
            self._plain_bytes = len(text.encode("utf-8", "surrogatepass"))
        if fold_thinking is not None:
            self.fold_thinking = fold_thinking
        reasoning = clean(reasoning) if reasoning else ""
        live = bool(reasoning) and not text and status in LIVE_STATUSES
        self._reasoning = ReasoningBuffer(reasoning, live=live)
        self._thinking: ThinkingSection | None = None
        if reasoning:
            self._thinking = ThinkingSection(reasoning, live=live, folded=not live, id="thinking")
        self._usage: dict | None = usage if isinstance(usage, dict) else None
        self._usage_line: Static | None = None
        #: Why it did not complete, sources and suggestions (answers only; see `answer_extras`). Made when
        #: first needed: most answers have none, and a widget made per answer cost ~0.2 ms each.
        self._extras: AnswerExtras | None = None
        self._set_extras_state(sources, follow_ups)

    def compose(self) -> ComposeResult:
        yield BubbleHeader(self._header_content(), id="header", markup=False)
        if self._thinking is None and self._reasoning.text:  # reasoning arrived before the mount
            self._thinking = self._new_thinking()
        if self._thinking is not None:
            yield self._thinking
        if self._plain is not None:
            yield self._plain
        elif self.role == "user":
            self._user = user_body(self._initial_text, id="user-body")
            yield self._user
        else:
            streaming = self._status in LIVE_STATUSES  # opened mid-answer: the tail stays open
            self._md = MarkdownBody(self._initial_text, streaming=streaming, id="md-body")
            yield self._md
        self._initial_text = ""
        if self._extras is not None and self._extras.has_content():
            yield self._extras
        if self._usage_words():
            self._usage_line = UsageLine(Content(self._usage_words()), id="usage", markup=False)
            yield self._usage_line

    def on_mount(self) -> None:
        # The header was composed with the current status: only the classes are missing.
        # (Updating it here would ask for a second layout of the chat view per mount.)
        self._apply_status(header=False)
        self._mount_extras()  # in case something to show arrived between compose and mount

    def on_unmount(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None

    # -- public API -------------------------------------------------------

    @property
    def text(self) -> str:
        """The full (sanitized) Markdown source received so far."""
        if self._text_cache is None:
            self._text_cache = "".join(self._chunks)
            self._chunks = [self._text_cache] if self._text_cache else []
        return self._text_cache

    @property
    def status(self) -> str:
        """The current status string."""
        return self._status

    @property
    def error(self) -> str | None:
        """The reason shown with a "failed" status."""
        return self._error

    @property
    def markdown(self) -> MarkdownBody:
        """The Markdown body (`source`, and every `MarkdownBlock` in order).

        Raises:
            ValueError: The message is shown as plain text (`is_plain`) or is the user's: see `body`.
        """
        if self._plain is not None or self.role == "user":
            raise ValueError("this message is not shown as Markdown: use MessageBubble.body")
        if self._md is not None:
            return self._md
        return self.query_one("#md-body", MarkdownBody)

    @property
    def body(self) -> Any:
        """The widget showing the text (with `source`): a `MarkdownBody`, a `PlainBody`, or a user body."""
        if self._user is not None:
            return self._user
        return self._plain if self._plain is not None else self.markdown

    @property
    def is_plain(self) -> bool:
        """True when the message is too big for Markdown and is shown as plain text."""
        return self._plain is not None

    @property
    def reasoning(self) -> str:
        """The model's (sanitized) reasoning received so far ("" when none)."""
        return self._reasoning.text

    @property
    def thinking(self) -> ThinkingSection | None:
        """The "Thinking" section above the answer, once there is reasoning to show."""
        return self._thinking

    @property
    def usage(self) -> dict | None:
        """Token counts and timing of the answer, if known."""
        return self._usage

    @property
    def usage_text(self) -> str:
        """The usage line under the answer as shown ("" while hidden)."""
        return self._usage_words() if self._usage_line is not None else ""

    async def append_reasoning(self, delta: str) -> None:
        """Stream more reasoning into the "Thinking" section (created on the first delta).

        Args:
            delta: The next piece of raw server reasoning (sanitized here, shown as plain text).
        """
        if not self._reasoning.feed(delta):
            return
        if self._status not in LIVE_STATUSES:
            self.set_status(MessageStatus.STREAMING)
        await self._schedule_flush()

    def toggle_thinking(self) -> None:
        """Open the folded "Thinking" section, or fold it (nothing without reasoning)."""
        if self._thinking is not None:
            self._thinking.toggle()

    def action_toggle_thinking(self) -> None:
        self.toggle_thinking()

    def set_usage(self, usage: dict | None) -> None:
        """Set the answer's token counts and timing (shown under it once it is finished).

        Args:
            usage: {"model", "prompt_tokens", "completion_tokens", "reasoning_tokens", "seconds"}, or None.
        """
        self._usage = usage if isinstance(usage, dict) else None
        self._show_usage()

    async def append(self, delta: str) -> None:
        """Stream more text into the body.

        Args:
            delta: The next piece of raw server text (sanitized here).
        """
        delta = self._sanitizer.feed(delta)
        if not delta:
            return
        if self._reasoning.live:
            self._reasoning.end(fold=self.fold_thinking)  # the answer began
        self._chunks.append(delta)
        self._text_cache = None
        self._pending.append(delta)
        self._pending_length += len(delta)
        if self._status not in LIVE_STATUSES:
            self.set_status(MessageStatus.STREAMING)
        await self._schedule_flush()

    async def show_buffered(self) -> None:
        """No more text is coming: write what waits for the next flush now (the status stays as it is)."""
        self._take_sanitizer_tail()
        if self._pending or self._reasoning.pending:
            await self._flush()
            self._draw_soon()

    async def finish(self, status: str = MessageStatus.COMPLETE, error: str | None = None) -> None:
        """Flush what is pending, seal the last runs and set the final status (and its reason, shown in full)."""
        if self._reasoning.live:
            self._reasoning.end(fold=False)  # no answer text came: the reasoning is all there is
        self._take_sanitizer_tail()
        await self._flush(final=True)
        self.set_status(status, error)
        self._show_usage()
        self._draw_soon()

    def _take_sanitizer_tail(self) -> None:
        """What the sanitizer held back (a sequence that might have continued) is text now."""
        tail = self._sanitizer.flush()
        if tail:
            self._chunks.append(tail)
            self._text_cache = None
            self._pending.append(tail)
            self._pending_length += len(tail)

    #: Why the text shown is not all on disk yet ("disk full"); None when it is.
    unsaved: str | None = None

    def set_unsaved(self, reason: str | None) -> None:
        """Show "not saved yet: <reason>" in the header (None: saved now, the note goes)."""
        self.unsaved = reason
        if self.is_mounted:
            self.query_one("#header", Static).update(self._header_content(), layout=False)

    def set_version(self, version: int, versions: int) -> None:
        """Show that this is version `version` of `versions` (an edited question, a regenerated answer)."""
        self.version, self.versions = version, versions
        if self.is_mounted:
            self.query_one("#header", Static).update(self._header_content(), layout=False)

    def set_status(self, status: str, error: str | None = None) -> None:
        """Set the status ("pending", "streaming", "complete", "interrupted", "failed"), its reason, the classes."""
        self._status = status
        self._error = error
        self._set_extras_state()
        self._apply_status()

    def set_extras(self, sources: tuple[tuple[str, str], ...], follow_ups: tuple[str, ...]) -> None:
        """Show an answer's web-search sources and suggested follow-up questions (server text)."""
        self._set_extras_state(sources, follow_ups)

    def _set_extras_state(
        self, sources: tuple[tuple[str, str], ...] | None = None, follow_ups: tuple[str, ...] | None = None
    ) -> None:
        """Give the extras the status and (if given) the server's extras; make them only when there may be
        something to show (an answer that stopped early, sources, suggestions)."""
        if self.role != "assistant":
            return
        if self._extras is None and not (self._status in STOPPED or sources or follow_ups):
            return
        self._answer_extras().set_state(self._status, self._error, sources, follow_ups)

    def _answer_extras(self) -> AnswerExtras:
        if self._extras is None:
            self._extras = AnswerExtras(id="extras", wanted=self._mount_extras)
            self._extras.set_state(self._status, self._error)
        return self._extras

    def _mount_extras(self) -> None:
        """Mount the extras (under the body, above the usage line) once they have something to show."""
        extras = self._extras
        if extras is None or extras.parent is not None or not self.is_mounted or not extras.has_content():
            return
        usage = self._usage_line
        self.mount(extras, before=usage if usage is not None and usage.parent is self else None)

    @property
    def extras(self) -> AnswerExtras | None:
        """What is shown under an answer: the reason it stopped, sources, suggestions (None: a question)."""
        return self._answer_extras() if self.role == "assistant" else None

    def code_blocks(self) -> list[str]:
        """The contents of the fenced (and indented) code blocks, in order, without the fences."""
        return [code for _language, code in code_blocks(self.text)]

    # -- internals --------------------------------------------------------

    async def _schedule_flush(self) -> None:
        """Write now if the last write is a flush interval old, else once it is."""
        if self._flush_timer is None:
            wait = self._last_flush + self._flush_interval() - time.monotonic()
            if wait <= 0:
                await self._flush()
            else:
                self._flush_timer = self.set_timer(wait, self._flush)

    def _new_thinking(self) -> ThinkingSection:
        """A section for reasoning that arrived before there was one (it holds all of it)."""
        self._reasoning.take()
        section = ThinkingSection(self._reasoning.text, live=self._reasoning.live, id="thinking")
        section.write(self._reasoning)  # ends (and folds) it if the reasoning is over
        return section

    def _flush_interval(self) -> float:
        self._adapt_interval()
        live = self._pending_length
        if self._plain is None and self.is_mounted:
            live += len(self.markdown.open_text)
        return min(self.FLUSH_INTERVAL_MAX, self._interval + live / self.FLUSH_CHARS_PER_SECOND)

    def _draw_soon(self) -> None:
        """Draw what this bubble just changed as soon as it is laid out, not at the screen's next frame tick
        (up to 16.7 ms later): for an answer's last words and its end, whose wait is the lag a reader sees.
        The writes before them keep to the tick: drawn at once inside a burst, each took a frame of its own
        that the tick would have merged with the next change (see `textual_compat.draw_soon`)."""
        if self._drawing is not None and not self._drawing.done():
            return  # the pending one waits for this change too
        if self.is_attached and self.screen.is_current:
            self._drawing = draw_soon(self.screen, [self, *self.children])

    async def _flush(self, final: bool = False) -> None:
        """Write the buffered deltas to the body (one write per frame at most)."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._last_flush = time.monotonic()
        if not self.is_attached:
            return
        if self._reasoning.pending or self._reasoning.ended:
            if self._thinking is None:
                self._thinking = self._new_thinking()
                await self.mount(self._thinking, after=self.query_one("#header"))
            else:
                self._thinking.write(self._reasoning)
        fragment = "".join(self._pending)
        self._pending.clear()
        self._pending_length = 0
        if self._plain is not None:
            self._append_plain(fragment)
            return
        if fragment and shown_as_plain(self.text):
            await self._switch_to_plain()
            return
        body = self.markdown
        if fragment:
            await body.append(fragment)
        if final:
            await body.finish()

    def _append_plain(self, fragment: str) -> None:
        assert self._plain is not None
        if fragment:
            self._plain.append(fragment)
            self._plain_bytes += len(fragment.encode("utf-8", "surrogatepass"))
            self.query_one("#header", Static).update(self._header_content())

    async def _switch_to_plain(self) -> None:
        """The text got too big for Markdown: show all of it as plain text from now on.

        Runs synchronously up to the first await, so a flush that overlaps it
        appends to the plain body (which already holds the whole text).
        """
        text = self.text  # everything received: the pending deltas were just taken
        plain = PlainBody(text, id="plain-body")
        self._plain = plain
        self._plain_bytes = len(text.encode("utf-8", "surrogatepass"))
        markdown = self.query_one("#md-body", MarkdownBody)
        header = self.query_one("#header", Static)
        header.update(self._header_content())
        await self.mount(plain, before=markdown)
        await markdown.remove()

    def _usage_words(self) -> str:
        """The usage line's text: only under an answer that is over."""
        if self.role != "assistant" or self._status in LIVE_STATUSES:
            return ""
        return format_usage(self._usage)

    def _show_usage(self) -> None:
        """Show, change or remove the usage line to match `usage` and the status."""
        text, line = self._usage_words(), self._usage_line
        if line is not None and text:
            line.update(Content(text))
        elif line is not None:
            self._usage_line = None
            line.remove()
        elif text and self.is_mounted:
            self._usage_line = UsageLine(Content(text), id="usage", markup=False)
            self.mount(self._usage_line)

    def _header_content(self) -> Content:
        plain = format_size(self._plain_bytes) if self._plain is not None else None
        return header_content(self.role, self._status, self.version, self.versions, plain, self.unsaved)

    def _apply_status(self, header: bool = True) -> None:
        wanted, mounted = status_class(self._status), self.is_mounted
        # Before the mount the classes are only recorded (styles are applied once, on mount).
        self.remove_class(*(c for c in STATUS_CLASSES if c != wanted), update=mounted)
        if wanted:
            self.add_class(wanted, update=mounted)
        if header and mounted:
            self.query_one("#header", Static).update(self._header_content(), layout=False)


__all__ = ["MarkdownBody", "MessageBubble", "PlainBody"]
