"""The Markdown body of a message: one widget that draws pre-rendered lines.

The streaming path (issue 5, "Speed and scale")
-----------------------------------------------
Textual's compositor arranges every widget of the screen whenever one
changes size, so a message built from Markdown block widgets costs frames x
document size while it grows: a 20,000-character answer streamed over 20 s
spent tens of CPU seconds in `Compositor.reflow`. Here a message is a single
widget using Textual's line API:

* the text is cut into top-level blocks (`markdown.blocks.split_blocks`); a block
  that can no longer change is rendered once, from its own source, into
  lines (`Strip`s) that are appended to the widget's line list;
* only the open tail (normally the one block still being written) is parsed
  and rendered again when new text arrives, and the bubble coalesces deltas
  to the frame rate, so a frame costs that block, whatever the answer's length;
* `render_line` hands out stored lines, so drawing costs what is visible.

A message loaded in one go is cut at the same places as the same message
streamed, and every block is rendered from the same source in both cases,
so both give the same lines (tests/ui/test_stream_equivalence). A new width
or theme renders the blocks again (lazily, on the next layout).

Mouse selection: when Textual maps the pointer to text (it calls `render_line`
alone, outside `render_lines`) or a part is selected, a line carries Textual's
selection offsets (`Strip.apply_offsets`: `y` the line, `x` a character of its text), the
selected part drawn in the screen's `screen--selection` style, and
`get_selection` copies what the lines say they hold (`markdown.selection`:
code without its padding, a wrapped paragraph as one line).
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.geometry import Region, Size
from textual.selection import Selection
from textual.strip import Strip
from textual.widget import Widget

from hailuo_tui.markdown.blocks import split_blocks
from hailuo_tui.markdown.code import LazyLine, line_strip
from hailuo_tui.markdown.lines import copy_of, highlight
from hailuo_tui.markdown.painter import SAFE_SCHEMES, BlockPainter
from hailuo_tui.markdown.selection import selected_text
from hailuo_tui.widgets.repaint import KeepLinesOnGrow
from hailuo_tui.widgets.selectable_lines import SelectableLines, selection_points

__all__ = ["MarkdownBody"]


def _drawn_alike(old: list[Strip | LazyLine], new: list[Strip | LazyLine]) -> int:
    """How many leading lines of `new` draw what the same rows of `old` drew.

    A code line never highlighted was never drawn (drawing highlights it), so no row holds it and
    it counts as alike without highlighting either version.
    """
    count = 0
    for before, after in zip(old, new):
        if before is not after:
            if isinstance(before, LazyLine):
                if before.block.drawn:
                    if not isinstance(after, LazyLine) or line_strip(before) != line_strip(after):
                        break
                elif not isinstance(after, LazyLine):
                    break
            elif isinstance(after, LazyLine) or before != after:
                break
        count += 1
    return count


class MarkdownBody(SelectableLines, KeepLinesOnGrow, Widget):
    """The Markdown of one message, drawn from pre-rendered lines.

    `source` is the whole text written so far; `blocks` the sources of the
    finished blocks and `open_text` the tail still being written. `append`
    adds streamed text, `finish` marks the end.
    """

    DEFAULT_CSS = """
    MarkdownBody {
        height: auto;
        width: 1fr;
        padding: 0 1;
        color: $foreground;
    }
    """

    def __init__(self, text: str = "", *, streaming: bool = False, id: str | None = None) -> None:
        """Create the body.

        Args:
            text: The text so far.
            streaming: More text will come (a view opened while the answer streams): the tail stays
                open, as it was when streamed here, instead of being sealed (a paragraph or a code
                fence would end at the point of return).
            id: DOM id.
        """
        super().__init__(id=id)
        blocks, rest = split_blocks(text, final=not streaming)
        #: Sources of the finished blocks, in order.
        self.blocks: list[str] = blocks
        #: The text after the last finished block (still being written).
        self.open_text: str = rest
        self._source_cache: str | None = text
        #: What the lines were rendered for: (width, theme name, dark, ansi).
        self._key: tuple | None = None
        #: Lines of the finished blocks rendered so far (with the blank lines between).
        self._lines: list[Strip | LazyLine] = []
        self._rendered_blocks = 0
        #: Lines of the open text.
        self._open_lines: list[Strip | LazyLine] = []
        self._open_dirty = True
        self._painter: BlockPainter | None = None
        self._painter_key: tuple | None = None
        #: First line whose content changed since the last repaint (None: none).
        self._dirty_from: int | None = None
        #: The part of the text selected with the mouse (Textual tells `selection_updated`).
        self._selection: Selection | None = None
        #: Inside `render_lines`: a line is drawn, not read for the character under the pointer.
        self._drawing = False
        #: The rows of each rendered finished block, (first, end), by index in `blocks`.
        self._block_rows: list[tuple[int, int]] = []
        #: The block drawn marked (the reader's block cursor) and the style laid over it.
        self._marked: tuple[int, RichStyle] | None = None

    # -- text ------------------------------------------------------------------

    @property
    def source(self) -> str:
        """The whole Markdown source written so far."""
        if self._source_cache is None:
            self._source_cache = "".join(self.blocks) + self.open_text
        return self._source_cache

    async def append(self, markdown: str) -> None:
        """Add streamed (sanitized) Markdown text."""
        self.write(markdown, final=False)

    async def finish(self) -> None:
        """No more text will come: every block is finished."""
        self.write("", final=True)

    def write(self, fragment: str, *, final: bool) -> None:
        """Add `fragment`; cut finished blocks; redraw only what changed."""
        if fragment:
            self.open_text += fragment
            self._source_cache = None
            self._open_dirty = True
        if final or "\n" in fragment:
            done, rest = split_blocks(self.open_text, final=final)
            if done:
                self.blocks.extend(done)
                self.open_text = rest
                self._open_dirty = True
        if not (fragment or final):
            return
        self._redraw()

    # -- lines -----------------------------------------------------------------

    def on_unmount(self) -> None:
        # Removed (an old message trimmed, a conversation left, the plain body taking over): the lines go
        # now, freed by reference counting, not with the widget at the next full collection
        # (textual_compat.forget_drawn_lines says why). Were it drawn again, they would be rendered afresh.
        self._key = None
        self._lines, self._open_lines, self._block_rows = [], [], []
        self._rendered_blocks = 0
        self._open_dirty = True

    def _theme_key(self, width: int) -> tuple:
        app = self.app
        return (width, app.theme, app.current_theme.dark, app.ansi_color)

    def _ensure(self, width: int) -> None:
        """Render whatever is missing or stale for `width`."""
        if width <= 0:
            return
        key = self._theme_key(width)
        fresh = key != self._key
        if fresh:
            self._key = key
            self._lines = []
            self._block_rows = []
            self._rendered_blocks = 0
            self._open_dirty = True
        painter = self._painter
        if painter is None or key != self._painter_key:
            painter = self._painter = BlockPainter.for_widget(self)  # resolves styles once per theme and width
            self._painter_key = key
        rebuilt = fresh or self._rendered_blocks < len(self.blocks)  # the rows from `first` on are new
        first = len(self._lines)
        if rebuilt:
            lines = self._lines
            for source in self.blocks[self._rendered_blocks :]:
                block = painter.render(source, width, lazy=True)
                if block:
                    if lines:
                        lines.append(painter.blank(width))
                    start = len(lines)
                    lines.extend(block)
                    self._block_rows.append((start, len(lines)))
                else:
                    self._block_rows.append((len(lines), len(lines)))
            self._rendered_blocks = len(self.blocks)
        elif not self._open_dirty:
            return
        if self._open_dirty:
            lines = painter.render(self.open_text, width, lazy=True)
            if lines and self._lines:
                lines.insert(0, painter.blank(width))
            # Rows of the open text that look as they did need no repaint: a code block or a list
            # being written changes its last lines only. (Repainted whole, the open block was
            # ~18 of the 33 lines Textual drew again on each frame of bench/api_stream.py.)
            if not rebuilt:
                first += _drawn_alike(self._open_lines, lines)
            self._open_lines = lines
            self._open_dirty = False
        self._dirty_from = first if self._dirty_from is None else min(first, self._dirty_from)

    @property
    def line_count(self) -> int:
        return len(self._lines) + len(self._open_lines)

    def _redraw(self) -> None:
        if not self.is_mounted or self._key is None:
            self.refresh(layout=True)
            return
        before = self.line_count
        self._ensure(self._key[0])
        after = self.line_count
        first = self._dirty_from if self._dirty_from is not None else after
        rows = max(before, after) - first
        if rows > 0:
            self.refresh(Region(0, first, self.size.width, rows), layout=after != before)
        if after == before:
            self._dirty_from = None

    def _grown_regions(self) -> tuple[Region, ...]:
        if self._dirty_from is None:
            return (self.size.region,)
        return (Region(0, self._dirty_from, self.size.width, max(1, self.line_count - self._dirty_from)),)

    def _grown(self) -> None:
        self._dirty_from = None

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._ensure(width)
        return self.line_count

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if width <= 0:
            return Strip.blank(0)
        self._ensure(width)
        line = self._line(y)
        if line is None:
            return Strip.blank(width, self.visual_style.rich_style)
        if self._marked is not None and y in range(*self._marked_rows()):  # the block cursor's block
            line = Strip(Segment.apply_style(line, post_style=self._marked[1]), line.cell_length)
        selection = self._selection
        if selection is not None:
            span = selection.get_span(y)
            if span is not None:
                line = highlight(line, span[0], span[1], self._selection_style())
            return line.apply_offsets(0, y)
        return line.apply_offsets(0, y) if not self._drawing else line

    def _line(self, y: int) -> Strip | None:
        lines = self._lines
        if 0 <= y < len(lines):
            return line_strip(lines[y])
        y -= len(lines)
        if 0 <= y < len(self._open_lines):
            return line_strip(self._open_lines[y])
        return None

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text as shown (see `markdown.selection`), and what ends it."""
        if self._key is None:
            return None
        count = self.line_count
        first = 0 if selection.start is None else max(0, selection.start.y - 1)
        last = count - 1 if selection.end is None else min(count - 1, selection.end.y)
        lines = [copy_of(self._line(y)) for y in range(first, last + 1)]  # type: ignore[arg-type]
        start, end = selection_points(selection)
        return selected_text(lines, start, end, first=first), "\n\n"

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self._key is not None and self._key[1:] != self._theme_key(0)[1:]:
            self._key = None
            self.refresh(layout=True)

    # -- the block cursor (drawn over the stored lines: marking a block re-renders nothing) --------

    def block_rows(self) -> list[tuple[int, int]]:
        """The rows of each finished block, ``(first, end)``, by index in `blocks` (empty: draws nothing)."""
        if self.size.width > 0:
            self._ensure(self.size.width)
        return list(self._block_rows)

    def mark_block(self, index: int | None, style: RichStyle | None = None) -> None:
        """Lay `style` over the rows of block `index` (the block cursor); None: no block is marked.

        Only the rows of the block marked before and of the new one are repainted.
        """
        marked = (index, style) if index is not None and style is not None else None
        if marked == self._marked:
            return
        before = self._marked_rows()
        self._marked = marked
        for first, end in (before, self._marked_rows()):
            if end > first:
                self.refresh(Region(0, first, self.size.width, end - first))

    def _marked_rows(self) -> tuple[int, int]:
        if self._marked is None or self._marked[0] >= len(self._block_rows):
            return (0, 0)
        return self._block_rows[self._marked[0]]

    def lines_text(self) -> list[str]:
        """The text of every rendered line (for tests and copy)."""
        return [line_strip(line).text for line in (*self._lines, *self._open_lines)]

    async def action_link(self, href: str) -> None:
        """A link was clicked: open it (only http, https and mailto links are clickable)."""
        if href.lower().startswith(SAFE_SCHEMES):
            self.app.open_url(href)
