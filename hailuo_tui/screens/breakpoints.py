"""A screen's breakpoint classes from its first frame on, not from its first resize.

Textual sets a screen's breakpoint class (``-wide``, ``-narrow``…) when the screen gets its first
``Resize``, after its first layout; the new class restyles every widget of the screen (5.5 ms for the
chat screen at start, in the middle of its first frame) and lays it out again. A screen that starts with
the class Textual is about to give it is restyled for nothing: Textual sees no change.
"""

from __future__ import annotations

from textual.app import App
from textual.screen import Screen


def _pick(dimension: int, breakpoints: list[tuple[int, str]] | None) -> list[str]:
    # As Textual picks: the class of the largest breakpoint the dimension reaches.
    for breakpoint, name in sorted(breakpoints or (), reverse=True):
        if dimension >= breakpoint:
            return [name]
    return []


def breakpoint_classes(screen: type[Screen], app: App) -> str:
    """The classes Textual will give a ``screen`` of this type in ``app`` at its size now, space-separated."""
    horizontal = app.HORIZONTAL_BREAKPOINTS if screen.HORIZONTAL_BREAKPOINTS is None else screen.HORIZONTAL_BREAKPOINTS
    vertical = app.VERTICAL_BREAKPOINTS if screen.VERTICAL_BREAKPOINTS is None else screen.VERTICAL_BREAKPOINTS
    width, height = app.size
    return " ".join(_pick(width, horizontal) + _pick(height, vertical))
