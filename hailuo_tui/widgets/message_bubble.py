"""One chat message: a header line (who, status badge) and a Markdown body."""

from __future__ import annotations

import time
from typing import Literal

from markdown_it import MarkdownIt
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

from hailuo_tui.sanitize import StreamSanitizer, clean

Role = Literal["user", "assistant"]

ROLE_LABELS: dict[str, str] = {"user": "You", "assistant": "Hailuo"}
"""Header label per role."""

STATUS_CLASSES = ("-streaming", "-interrupted", "-error")


class MessageBubble(Vertical):
    """A single message, streamed into a Markdown body when it is an answer.

    Deltas are sanitized, buffered and handed to Textual's `MarkdownStream`
    at most `FLUSH_INTERVAL` apart, so a fast server (thousands of tiny
    deltas) costs one incremental re-parse per frame, not one per delta.
    `finish` stops the stream (which flushes) and never re-renders the whole
    answer.
    """

    DEFAULT_CSS = """
    MessageBubble {
        height: auto;
        margin: 0 0 1 0;
        padding: 0 1;
        & > #header {
            height: 1;
            color: $text-muted;
        }
        & > Markdown {
            padding: 0 1;
            margin: 0;
        }
        &.-user {
            border-left: outer $primary;
            background: $boost;
        }
        &.-assistant {
            border-left: outer $secondary 50%;
        }
        &.-streaming { border-left: outer $accent; }
        &.-interrupted { border-left: outer $warning; }
        &.-error { border-left: outer $error; }
    }
    """

    FLUSH_INTERVAL = 1 / 30
    """Least seconds between two writes to the MarkdownStream while streaming."""
    FLUSH_INTERVAL_MAX = 0.2
    """Most seconds between two writes, reached by long answers."""
    FLUSH_CHARS_PER_SECOND = 120_000
    """Growth of the interval with the answer's length: every write re-lays
    out the whole bubble (Textual reflows every block), so long answers are
    refreshed less often (20,000 chars: ~0.2 s)."""

    def __init__(
        self,
        role: Role | str,
        text: str = "",
        status: str = "complete",
        message_id: int | str | None = None,
        *,
        error: str | None = None,
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
            id: DOM id.
            classes: Extra CSS classes.
        """
        super().__init__(id=id, classes=classes)
        self.role: str = role
        self.message_id = message_id
        self._chunks: list[str] = [clean(text)] if text else []
        self._source_length = len(self._chunks[0]) if self._chunks else 0
        self._text_cache: str | None = None
        self._pending: list[str] = []
        self._sanitizer = StreamSanitizer()
        self._stream: MarkdownStream | None = None
        self._flush_timer: Timer | None = None
        self._last_flush = 0.0
        self._status = status
        self._error = error
        self.add_class(f"-{role}")

    def compose(self) -> ComposeResult:
        yield Static(self._header_content(), id="header", markup=False)
        yield Markdown(self.text or None, id="body")

    def on_mount(self) -> None:
        self._apply_status()

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
    def markdown(self) -> Markdown:
        """The Markdown body widget."""
        return self.query_one("#body", Markdown)

    async def append(self, delta: str) -> None:
        """Stream more text into the body.

        Args:
            delta: The next piece of raw server text (sanitized here).
        """
        delta = self._sanitizer.feed(delta)
        if not delta:
            return
        self._chunks.append(delta)
        self._source_length += len(delta)
        self._text_cache = None
        self._pending.append(delta)
        if self._status not in ("streaming", "pending"):
            self.set_status("streaming")
        if self._flush_timer is None:
            wait = self._last_flush + self._flush_interval() - time.monotonic()
            if wait <= 0:
                await self._flush()
            else:
                self._flush_timer = self.set_timer(wait, self._flush)

    async def finish(self, status: str = "complete", error: str | None = None) -> None:
        """Flush what is pending, stop the stream and set the final status.

        Args:
            status: "complete", "interrupted" or "failed".
            error: A short plain-words reason for "failed".
        """
        tail = self._sanitizer.flush()
        if tail:
            self._chunks.append(tail)
            self._source_length += len(tail)
            self._text_cache = None
            self._pending.append(tail)
        await self._flush()
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        self.set_status(status, error)

    def set_status(self, status: str, error: str | None = None) -> None:
        """Set the status badge and state classes.

        Args:
            status: "pending", "streaming", "complete", "interrupted" or "failed".
            error: A short reason shown with "failed".
        """
        self._status = status
        self._error = error
        if self.is_mounted:
            self._apply_status()

    def code_blocks(self) -> list[str]:
        """Return the contents of the fenced (and indented) code blocks.

        Returns:
            Code block texts in document order, without the fences.
        """
        tokens = MarkdownIt("gfm-like").parse(self.text)
        return [
            token.content.rstrip("\n")
            for token in tokens
            if token.type in ("fence", "code_block")
        ]

    # -- internals --------------------------------------------------------

    def _flush_interval(self) -> float:
        size = self._source_length
        return min(
            self.FLUSH_INTERVAL_MAX,
            self.FLUSH_INTERVAL + size / self.FLUSH_CHARS_PER_SECOND,
        )

    async def _flush(self) -> None:
        """Write the buffered deltas to the MarkdownStream."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        fragment = "".join(self._pending)
        self._pending.clear()
        if self._stream is None:
            self._stream = Markdown.get_stream(self.markdown)
        await self._stream.write(fragment)

    def _header_content(self) -> Content:
        label = ROLE_LABELS.get(self.role, self.role.title())
        parts: list[tuple[str, str] | str] = [(label, "bold")]
        badge, style = self._badge()
        if badge:
            parts += ["  ", (badge, style)]
        return Content.assemble(*parts)

    def _badge(self) -> tuple[str, str]:
        status = self._status
        if status in ("streaming", "pending"):
            return "answering…", "$accent italic"
        if status == "interrupted":
            return "interrupted", "$warning"
        if status == "failed":
            reason = clean(self._error or "").strip().replace("\n", " ")
            return (f"failed: {reason}" if reason else "failed"), "$error"
        return "", ""

    def _apply_status(self) -> None:
        status = self._status
        self.remove_class(*STATUS_CLASSES)
        if status in ("streaming", "pending"):
            self.add_class("-streaming")
        elif status == "interrupted":
            self.add_class("-interrupted")
        elif status == "failed":
            self.add_class("-error")
        self.query_one("#header", Static).update(self._header_content())
