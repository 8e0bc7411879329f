"""Repaint only what changed when a widget merely grows taller.

Textual repaints a widget whole (every visible line through its styles
cache) whenever its size or virtual size changes. While an answer streams,
the message, its bubble and the chat view all grow on every frame, so every
frame re-rendered every visible line of all three: about two thirds of the
streaming CPU (issue 5). Their lines do not depend on their height (no
vertical border or padding), so `KeepLinesOnGrow` turns the whole-widget
repaint of a same-width size change into a repaint of the lines the widget
names as changed (`_grown_regions`; none by default: new rows are not
cached anyway). It also stores the new virtual size without requesting the
second layout pass Textual would otherwise run after every size change, a
widget's first sizing included: the pass that just ran computed the height
at the new width and placed everything. (Only a widget that may show or hide
a scroll bar still asks for it, since that changes the width inside.) Without
this, mounting a page of 30 older messages laid the chat view out twice.

It hooks Textual's private size update and dirty marking through
`textual_compat.ResizeHooks`. tests/ui/test_stream_equivalence.py compares a
streamed screen with a one-shot render line by line, so a stale line shows up
there.
"""

from __future__ import annotations

from textual.geometry import Region, Size

from hailuo_tui.textual_compat import ResizeHooks


class KeepLinesOnGrow(ResizeHooks):
    """Mixin (listed before the Widget class) for widgets whose lines do not depend
    on their height. A plain class at run time: a Widget subclass here would
    re-apply Widget's default CSS over the widget's own (a scroll view lost its
    scroll bar)."""

    _same_width_resize = False

    def handle_size_update(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        self._same_width_resize = size.width == self.outer_size.width and size.width > 0
        # layout=False: store the new virtual size without asking for a second layout
        # pass; this one already placed everything at the new size. Not when a scroll
        # bar may appear or go (that changes the width inside).
        second_pass = self.styles.overflow_y in ("auto", "scroll") and not (
            self.show_vertical_scrollbar and virtual_size.height > size.height
        )
        try:
            return super().handle_size_update(size, virtual_size, container_size, layout and second_pass)
        finally:
            self._same_width_resize = False
            self._grown()

    def mark_dirty(self, *regions: Region) -> None:
        if not regions and self._same_width_resize:
            regions = self._grown_regions()
            if not regions:
                return
        super().mark_dirty(*regions)

    def _grown_regions(self) -> tuple[Region, ...]:
        """Regions (content coordinates) whose lines changed since the last size update."""
        return ()

    def _grown(self) -> None:
        """A size update was handled."""


__all__ = ["KeepLinesOnGrow"]
