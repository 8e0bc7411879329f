"""The body of a huge message: plain, soft-wrapped text, rendered a line at a time.

Textual's `Markdown` gets slow well before a message is big: a 100 KB answer
of ordinary paragraphs takes seconds to lay out, and one 100,000-line
paragraph minutes. Past the sizes in `shown_as_plain`, a `MessageBubble` shows
its text with a `PlainBody` instead (and says so in its header):

* the text is split into its lines once; each line is wrapped at word
  boundaries to the content width (Textual's `compute_wrap_offsets`, the
  wrapping `TextArea` uses, measured in terminal cells, so CJK and emoji
  count two cells) and the wrap is redone only when the width changes;
* appending re-wraps only the last line (the one that may have grown);
* `render_line` draws only the rows Textual asks for, that is the rows on
  screen, so drawing costs the same for a 1 KB and a 100 MB message.

Nothing is dropped or altered: `source` is the whole text, as given.

Mouse selection: when Textual maps the pointer to text (it calls `render_line`
alone, outside `render_lines`) or a part is selected, a row carries Textual's
selection offsets (`y` the row, `x` a
character of it), so a selection copies the rows' text, the rows of one
line joined back without a line break (tabs as shown, expanded).
"""

from __future__ import annotations

import unicodedata

from rich.segment import Segment
from textual.geometry import Size
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from hailuo_tui.markdown.lines import highlight
from hailuo_tui.markdown.selection import LineText, selected_text
from hailuo_tui.textual_compat import compute_wrap_offsets
from hailuo_tui.widgets.selectable_lines import SelectableLines, selection_points


PLAIN_CHARS = 32_000
"""Characters past which a message is shown as plain text. Rendering Markdown
costs about 40 ms per KB of ordinary paragraphs here (20 KB: 0.7 s, 50 KB:
2.8 s, 100 KB: 17 s with Textual 8.2.8)."""
PLAIN_LINES = 2_000
"""Lines past which a message is shown as plain text (one paragraph of 3,000
short lines: 1 s to render; 100,000 lines: more than 90 s)."""
PLAIN_STRETCH = 20_000
"""Characters without a blank line (one paragraph, one code block or one
line) past which a message is shown as plain text: while streaming, the open
block is re-parsed and re-laid out on every frame."""


def shown_as_plain(text: str) -> bool:
    """Whether `text` is too big to be rendered as Markdown.

    Each test only grows as text is appended, so a streamed message switches
    to plain text exactly when its whole text would have been shown as plain.

    Args:
        text: The whole message.

    Returns:
        True when the message should be shown with a `PlainBody`.
    """
    if len(text) > PLAIN_CHARS or text.count("\n") >= PLAIN_LINES:
        return True
    if len(text) <= PLAIN_STRETCH:
        return False
    return max(map(len, text.split("\n\n"))) > PLAIN_STRETCH


def format_size(text_bytes: int) -> str:
    """A short human size: "950 KB", "1.2 MB"."""
    if text_bytes >= 1_000_000:
        return f"{text_bytes / 1_000_000:.1f} MB"
    return f"{max(1, round(text_bytes / 1000))} KB"


#: Characters that belong to the character before them: a wrap never goes just before one.
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")


def _keeps_with_previous(text: str, index: int) -> bool:
    char = text[index]
    if char in _JOINERS or unicodedata.combining(char) or "\U0001f3fb" <= char <= "\U0001f3ff":
        return True
    return index > 0 and text[index - 1] == "\u200d"  # the emoji after a zero-width joiner


def wrap_line(line: str, width: int) -> list[int]:
    """Where to break one line of text so each piece fits in `width` cells.

    Args:
        line: One line (no newline; tabs already expanded).
        width: The width in cells (at least 1).

    Returns:
        The start offset of every row after the first.
    """
    if len(line) <= width and line.isascii():
        return []
    offsets = compute_wrap_offsets(line, width, tab_size=4, fold=True)
    fixed: list[int] = []
    previous = 0
    for offset in offsets:
        # Keep a combining mark, a variation selector, a skin tone or a joined emoji
        # on the row of the character it modifies.
        while offset > previous + 1 and offset < len(line) and _keeps_with_previous(line, offset):
            offset -= 1
        if offset > previous:
            fixed.append(offset)
            previous = offset
    return fixed


class PlainBody(SelectableLines, Widget):
    """A message's text, soft-wrapped, drawn only where it is visible."""

    selection_end = "\n\n"
    """What follows this body's part of a selection that goes on past it (a blank line between
    messages; a line break between the parts of one user message)."""

    DEFAULT_CSS = """
    PlainBody {
        height: auto;
        width: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[str] = text.split("\n")
        self._source_cache: str | None = text
        #: Rows for `_wrap_width`: (line index, start, end) in the line with expanded tabs.
        self._rows: list[tuple[int, int, int]] = []
        self._wrap_width = 0
        #: Lines wrapped into `_rows` (the last of them may still grow).
        self._wrapped = 0
        #: Index in `_rows` of the first row of line `_wrapped - 1`.
        self._last_line_row = 0
        self._expanded: dict[int, str] = {}
        #: The part of the text selected with the mouse (Textual tells `selection_updated`).
        self._selection: Selection | None = None
        #: Inside `render_lines`: a line is drawn, not read for the character under the pointer.
        self._drawing = False

    @property
    def source(self) -> str:
        """The whole text shown."""
        if self._source_cache is None:
            self._source_cache = "\n".join(self._lines)
        return self._source_cache

    @property
    def line_count(self) -> int:
        """Rows at the current wrap width."""
        return len(self._rows)

    def append(self, fragment: str) -> None:
        """Add text at the end (re-wraps only the last line).

        Args:
            fragment: The next piece of text.
        """
        if not fragment:
            return
        parts = fragment.split("\n")
        last = len(self._lines) - 1
        self._lines[last] += parts[0]
        self._lines.extend(parts[1:])
        self._expanded.pop(last, None)
        self._source_cache = None
        if self._wrapped > last:  # the old last line was wrapped: wrap it again
            del self._rows[self._last_line_row :]
            self._wrapped = last
        self.refresh(layout=True)

    def _line(self, index: int) -> str:
        line = self._lines[index]
        if "\t" not in line:
            return line
        expanded = self._expanded.get(index)
        if expanded is None:
            expanded = self._expanded[index] = line.expandtabs(4)
        return expanded

    def _wrap(self, width: int) -> None:
        width = max(1, width)
        if width != self._wrap_width:
            self._wrap_width = width
            self._rows = []
            self._wrapped = 0
            self._last_line_row = 0
        rows = self._rows
        for index in range(self._wrapped, len(self._lines)):
            line = self._line(index)
            self._last_line_row = len(rows)
            start = 0
            for offset in wrap_line(line, width):
                rows.append((index, start, offset))
                start = offset
            rows.append((index, start, len(line)))
        self._wrapped = len(self._lines)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._wrap(width)
        return len(self._rows)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        self._wrap(width)
        if not 0 <= y < len(self._rows):
            return Strip.blank(width, self.rich_style)
        index, start, end = self._rows[y]
        text = self._line(index)[start:end]
        style = self.rich_style
        strip = Strip([Segment(text, style)]).crop_extend(0, width, style)
        selection = self._selection
        if selection is not None:
            if (span := selection.get_span(y)) is not None:
                end = min(len(text), span[1]) if span[1] >= 0 else len(text)
                strip = highlight(strip, span[0], end, self._selection_style())
            return strip.apply_offsets(0, y)
        return strip.apply_offsets(0, y) if not self._drawing else strip

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text: rows of one line joined back as they were, lines by line breaks."""
        rows = self._rows
        if not rows:
            return None
        first = 0 if selection.start is None else max(0, min(len(rows) - 1, selection.start.y))
        last = len(rows) - 1 if selection.end is None else min(len(rows) - 1, selection.end.y)
        lines = []
        for y in range(first, last + 1):
            index, start, end = rows[y]
            joined = y + 1 < len(rows) and rows[y + 1][0] == index
            text = self._line(index)[start:end]
            lines.append(LineText(text, soft="" if joined else None, size=len(text)))
        start, end = selection_points(selection)
        return selected_text(lines, start, end, first=first), self.selection_end


__all__ = ["PLAIN_CHARS", "PLAIN_LINES", "PLAIN_STRETCH", "PlainBody", "format_size", "shown_as_plain", "wrap_line"]
