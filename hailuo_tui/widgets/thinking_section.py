"""The "Thinking" section of an answer: the model's reasoning, dim, above the answer.

While the reasoning streams the section is open and shows it live; once the
answer starts, the bubble folds it to one summary line ("▸ Thought for 12 s ·
1,234 characters"), which a click (or the bubble's `toggle_thinking`) opens
again.

Reasoning runs to thousands of deltas and tens of kilobytes, so it is shown
as plain wrapped text in a `PlainBody` (an append re-wraps only its last
line; drawing costs only the visible rows), never as Markdown or markup. The
text given here is already sanitized by the bubble; the section writes it
only when the bubble flushes (at most once per frame).
"""

from __future__ import annotations

import time

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.widgets import Static

from hailuo_tui.sanitize import StreamSanitizer
from hailuo_tui.widgets.plain_body import PlainBody
from hailuo_tui.widgets.repaint import KeepLinesOnGrow
from hailuo_tui.widgets.usage_format import format_count, format_seconds

__all__ = ["ReasoningBuffer", "ThinkingBody", "ThinkingSection", "ThinkingSummary", "thinking_summary"]

OPEN_MARK = "▾"
FOLDED_MARK = "▸"


def thinking_summary(characters: int, seconds: float | None, *, live: bool = False, folded: bool = True) -> str:
    """The one line that stands for the reasoning.

    Args:
        characters: Length of the reasoning.
        seconds: How long the model thought, or None when unknown (a stored message).
        live: True while the reasoning still streams.
        folded: True when the reasoning is hidden.

    Returns:
        E.g. "▸ Thought for 12 s · 1,234 characters", "▾ Thinking… · 80 characters".
    """
    mark = FOLDED_MARK if folded else OPEN_MARK
    if live:
        head = "Thinking…"
    elif seconds is None:
        head = "Thought"
    else:
        head = f"Thought for {format_seconds(seconds)}"
    noun = "character" if characters == 1 else "characters"
    return f"{mark} {head} · {format_count(characters)} {noun}"


class ReasoningBuffer:
    """An answer's reasoning on its way to the section: sanitized, timed, held until the next flush.

    Args:
        text: Reasoning already received (sanitized).
        live: True when more may still arrive (a reply shown again while it streams).
    """

    def __init__(self, text: str = "", *, live: bool = False) -> None:
        self._chunks: list[str] = [text] if text else []
        self._cache: str | None = None
        #: Sanitized text not yet written to the section.
        self.pending: list[str] = []
        self._sanitizer: StreamSanitizer | None = None
        self._started: float | None = None
        self.live = live
        #: How long the model thought (from the first delta seen here to the end), once known.
        self.seconds: float | None = None
        #: The reasoning ended and the section has not been told yet; and whether it should fold.
        self.ended = False
        self.fold = False

    @property
    def text(self) -> str:
        """All the (sanitized) reasoning received."""
        if self._cache is None:
            self._cache = "".join(self._chunks)
            self._chunks = [self._cache] if self._cache else []
        return self._cache

    def feed(self, delta: str) -> bool:
        """Take the next piece of raw server reasoning; False when nothing showable came of it."""
        if self._sanitizer is None:
            self._sanitizer = StreamSanitizer()
        delta = self._sanitizer.feed(delta)
        if not delta:
            return False
        if self._started is None and not self._chunks:
            self._started = time.monotonic()
        self.live = True
        self._add(delta)
        return True

    def end(self, *, fold: bool) -> None:
        """The reasoning is over (the answer began, or the reply ended)."""
        if self._sanitizer is not None:
            tail = self._sanitizer.flush()
            self._sanitizer = None
            if tail:
                self._add(tail)
        if self._started is not None and self.seconds is None:
            self.seconds = time.monotonic() - self._started
        self.live = False
        self.ended = True
        self.fold = fold

    def take(self) -> str:
        """The text not yet written to the section (and forget it)."""
        fragment = "".join(self.pending)
        self.pending.clear()
        return fragment

    def _add(self, text: str) -> None:
        self._chunks.append(text)
        self._cache = None
        self.pending.append(text)


class ThinkingBody(KeepLinesOnGrow, PlainBody):
    """The reasoning text, repainted only where an append changed it.

    `PlainBody.append` re-wraps only the last line but repaints the whole
    widget: while the reasoning streams, every visible row was drawn again on
    every flush. Here an append repaints the rows of its last line and the
    blank row under them (rows added below are drawn anyway), and growing
    taller asks for no second layout pass (see `repaint`).

    Reads `PlainBody`'s wrap state (`_lines`, `_rows`, `_wrapped`,
    `_last_line_row`) to know which rows an append re-wraps.

    The blank row between the reasoning and the answer is the body's (and,
    when folded, the summary's) bottom padding, not a margin: a margin would
    show the bubble's own line there, which the bubble does not repaint as
    it grows.
    """

    _changed: Region | None = None

    def append(self, fragment: str) -> None:
        last = len(self._lines) - 1
        # The rows of the last line, once it is wrapped: an append re-wraps only that line.
        first = self._last_line_row if self._wrapped > last else len(self._rows)
        self._changed = Region(0, first, max(1, self.size.width), len(self._rows) - first + 1)
        try:
            super().append(fragment)
        finally:
            self._changed = None

    def mark_dirty(self, *regions: Region) -> None:
        if not regions and self._changed is not None:
            regions = (self._changed,)
        super().mark_dirty(*regions)


class ThinkingSummary(Static):
    """The section's first line; a click folds or opens the reasoning."""

    ALLOW_SELECT = False

    def on_click(self, event: events.Click) -> None:
        event.stop()
        section = self.parent
        if isinstance(section, ThinkingSection):
            section.toggle()


class ThinkingSection(KeepLinesOnGrow, Vertical):
    """The reasoning of one answer: a summary line, and the text below it unless folded.

    Args:
        text: The reasoning so far (sanitized).
        live: True while more reasoning may arrive.
        folded: Start folded (a stored message).
        seconds: How long the model thought, if known.
    """

    DEFAULT_CSS = """
    ThinkingSection {
        height: auto;
        color: $text-muted;
        & > ThinkingSummary {
            width: 1fr;
            height: 1;
            padding: 0 1;
            text-style: italic;
            text-wrap: nowrap;
            text-overflow: ellipsis;
        }
        & > ThinkingSummary:hover { color: $text; }
        & > ThinkingBody {
            height: auto;
            padding: 0 1 1 3;
            color: $text-muted;
        }
        &.-folded > ThinkingSummary { height: 2; padding: 0 1 1 1; }
        &.-folded > ThinkingBody { display: none; }
    }
    """

    def __init__(
        self,
        text: str = "",
        *,
        live: bool = False,
        folded: bool = False,
        seconds: float | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="-folded" if folded else None)
        self._live = live
        self._seconds = seconds
        self._length = len(text)
        self._body = ThinkingBody(text, id="thinking-body")
        self._line = ThinkingSummary(Content(self._summary()), id="thinking-summary", markup=False)

    def compose(self) -> ComposeResult:
        yield self._line
        yield self._body

    # -- public API -------------------------------------------------------

    @property
    def text(self) -> str:
        """The reasoning shown (sanitized)."""
        return self._body.source

    @property
    def folded(self) -> bool:
        """True when only the summary line shows."""
        return self.has_class("-folded")

    @property
    def live(self) -> bool:
        """True while the reasoning still streams."""
        return self._live

    @property
    def seconds(self) -> float | None:
        """How long the model thought, once known."""
        return self._seconds

    @property
    def summary(self) -> str:
        """The summary line as shown (plain text)."""
        return self._summary()

    @property
    def body(self) -> PlainBody:
        """The widget that shows the reasoning text."""
        return self._body

    def append(self, fragment: str) -> None:
        """Add sanitized reasoning at the end (the bubble calls this once per flush).

        Args:
            fragment: The next piece of reasoning.
        """
        if not fragment:
            return
        self._length += len(fragment)
        self._body.append(fragment)
        self._update_summary()

    def write(self, buffer: ReasoningBuffer) -> None:
        """Write what `buffer` holds (once per flush), and end or fold as it says.

        Args:
            buffer: The bubble's reasoning buffer.
        """
        fragment = buffer.take()
        if fragment:
            self._length += len(fragment)
            self._body.append(fragment)
        if buffer.ended:
            buffer.ended = False
            self.end(buffer.seconds, fold=buffer.fold)
        elif fragment:
            self._update_summary()

    def end(self, seconds: float | None, *, fold: bool) -> None:
        """The reasoning is over (the answer started, or the reply ended).

        Args:
            seconds: How long the model thought, if known.
            fold: Fold the section to its summary line.
        """
        self._live = False
        self._seconds = seconds
        if fold:
            self.add_class("-folded")
        self._update_summary()

    def set_folded(self, folded: bool) -> None:
        """Fold the section to its summary line, or open it.

        Args:
            folded: True to show only the summary.
        """
        self.set_class(folded, "-folded")
        self._update_summary()

    def toggle(self) -> None:
        """Open a folded section, fold an open one (the reader's doing: an opened one is scrolled into view)."""
        self.set_folded(not self.folded)
        if not self.folded:
            # A view that follows the bottom would push the opened reasoning up and out of sight.
            self.call_after_refresh(self._reveal)

    def _reveal(self) -> None:
        if self.is_attached and not self.folded:
            self._line.scroll_visible(animate=False)

    # -- internals --------------------------------------------------------

    def _summary(self) -> str:
        return thinking_summary(self._length, self._seconds, live=self._live, folded=self.folded)

    def _update_summary(self) -> None:
        # One line of fixed size: a repaint, not a layout.
        self._line.update(Content(self._summary()), layout=False)
