"""What a line-drawing body needs for Textual's mouse selection (shared by MarkdownBody and PlainBody)."""

from __future__ import annotations

from rich.style import Style as RichStyle
from textual.geometry import Region
from textual.selection import Selection
from textual.strip import Strip

from hailuo_tui.markdown.lines import selection_style


class SelectableLines:
    """Mixin of a widget drawing lines itself: keeps the selection, its style, and whether a line is drawn.

    Textual maps the pointer to text by calling ``render_line`` alone, outside ``render_lines``; only
    then (or on a selected line) does a line need the selection offsets, so the drawn lines keep their
    segments as they were (``_drawing`` tells the two apart).
    """

    _selection: Selection | None = None
    _drawing = False

    def selection_updated(self, selection: Selection | None) -> None:
        self._selection = selection
        self.refresh()  # type: ignore[attr-defined]

    def _selection_style(self) -> RichStyle:
        from textual.style import Style

        selection = Style.from_styles(self.screen.get_component_styles("screen--selection"))  # type: ignore[attr-defined]
        return selection_style(selection, self.visual_style)  # type: ignore[attr-defined]

    def render_lines(self, crop: Region) -> list[Strip]:
        self._drawing = True
        try:
            return super().render_lines(crop)  # type: ignore[misc]
        finally:
            self._drawing = False


def selection_points(selection: Selection) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The selection's start and end as ``(x, y)`` pairs (None: from the start, to the end)."""
    start = None if selection.start is None else (selection.start.x, selection.start.y)
    end = None if selection.end is None else (selection.end.x, selection.end.y)
    return start, end
