"""Painted lines that know how they copy, and the selection drawn over them.

A `TextLine` is a `Strip` with the few facts `selection.selected_text` needs
(its decoration, whether it wraps into the next line, whether it gives any
text). Plain strips copy as they are painted. Offsets for Textual's selection
are put on a line when it is drawn (`Strip.apply_offsets`, as Textual's `Log`
does): `x` counts characters of the line's text.
"""

from __future__ import annotations

from typing import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.strip import Strip
from textual.style import Style

from hailuo_tui.markdown.selection import LineText

__all__ = ["TextLine", "copy_of", "described", "highlight", "selection_style"]


class TextLine(Strip):
    """A painted line with how it copies (see `selection.LineText`)."""

    lead: int = 0
    bare: bool = False
    soft: str | None = None
    skip: bool = False
    size: int | None = None


def described(
    strip: Strip,
    *,
    lead: int = 0,
    bare: bool = False,
    soft: str | None = None,
    skip: bool = False,
    size: int | None = None,
) -> Strip:
    """`strip` with how it copies (the strip itself when it copies as painted)."""
    if not (lead or bare or skip or soft is not None or size is not None):
        return strip
    line = TextLine(list(strip), strip.cell_length)
    line.lead, line.bare, line.soft, line.skip, line.size = lead, bare, soft, skip, size
    return line


def prefixed(strip: Strip, inner: Strip, prefix: int) -> Strip:
    """`strip` (``inner`` behind a prefix of `prefix` characters) described as `inner` is, plus the prefix."""
    return described(
        strip,
        lead=prefix + getattr(inner, "lead", 0),
        bare=getattr(inner, "bare", False),
        soft=getattr(inner, "soft", None),
        skip=getattr(inner, "skip", False),
        size=None if getattr(inner, "size", None) is None else prefix + inner.size,  # type: ignore[attr-defined]
    )


def copy_of(strip: Strip) -> LineText:
    """How a painted line copies."""
    if isinstance(strip, TextLine):
        return LineText(strip.text, strip.lead, strip.bare, strip.soft, strip.skip, strip.size)
    return LineText(strip.text)


def soft_joins(plain: str, texts: Iterable[str]) -> list[str | None] | None:
    """What each wrapped line of `plain` lost at its wrap (None at a line break), or None when unknown.

    Args:
        plain: The text that was wrapped.
        texts: The wrapped lines' texts, in order, trailing blanks removed.
    """
    spans: list[tuple[int, int]] = []
    position = 0
    for text in texts:
        found = plain.find(text, position) if text else position
        if found < 0 or plain[position:found].strip():
            return None
        spans.append((found, found + len(text)))
        position = found + len(text)
    joins: list[str | None] = []
    for (_, end), (begin, _) in zip(spans, spans[1:]):
        gap = plain[end:begin]
        joins.append(None if "\n" in gap else gap)
    joins.append(None)
    return joins


def selection_style(selection: Style, base: Style) -> RichStyle:
    """The Rich style that marks selected characters.

    Args:
        selection: The screen's ``screen--selection`` style (its background is see-through; a
            transparent foreground keeps the text's own colours).
        base: The widget's style, whose background the selection's is laid over.
    """
    background = selection.background
    if background is not None and base.background is not None:
        background = base.background + background
    foreground = selection.foreground
    return RichStyle(
        bgcolor=background.rich_color if background is not None else None,
        color=foreground.rich_color if foreground is not None and foreground.a > 0 else None,
    )


def highlight(strip: Strip, start: int, end: int, style: RichStyle) -> Strip:
    """`strip` with characters ``start:end`` (``end`` -1: to the end) drawn in `style` (the selection)."""
    text = strip.text
    if end < 0 or end > len(text):
        end = len(text)
    if start >= end:
        return strip
    left, right = cell_len(text[:start]), cell_len(text[:end])
    before, middle, after = strip.divide([left, right, strip.cell_length])
    marked = Strip([Segment(seg.text, (seg.style + style) if seg.style else style, seg.control) for seg in middle])
    return Strip.join([before, marked, after])
