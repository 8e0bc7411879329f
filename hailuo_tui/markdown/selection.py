"""What a mouse selection over painted lines copies (no Textual, no Rich).

Textual's selection hands a widget two points, ``(x, y)``: `y` a painted line,
`x` a character index in that line's text (the offsets the widget put on its
segments; a double-width character is one character). The painter describes
each line with a `LineText`, and `selected_text` turns the points back into
text:

* a line's `lead` (a list marker's indent, a quote bar) is decoration: it is
  dropped where the line continues a wrapped one, and always on a code line
  (`bare`: the code block's padding, a gutter), so code copies without it;
* a wrapped line is joined to the next by what the wrap took out of the source
  (`soft`: usually one space, nothing inside a CJK run or a folded word), so a
  paragraph copies as one line, without an invented newline;
* lines that only frame something (`skip`: a code block's label and bottom
  padding) give nothing;
* trailing blanks (the padding up to the width) are not copied, but a code
  line's own trailing spaces are (its `size` says where the code ends).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

__all__ = ["LineText", "selected_text"]


class LineText(NamedTuple):
    """How one painted line copies.

    Attributes:
        text: The line's characters as painted (the `x` offsets index it).
        lead: Characters of decoration at its start (indent, bullet, quote bar, padding).
        bare: Drop `lead` always (a code line); otherwise only on a wrapped continuation.
        soft: The text joining this line to the next when the next continues it (a wrap),
            else None (a line break).
        skip: The line gives no text at all.
        size: Characters of `text` that are content (the rest is padding); None: up to the
            trailing blanks.
    """

    text: str
    lead: int = 0
    bare: bool = False
    soft: str | None = None
    skip: bool = False
    size: int | None = None


def selected_text(
    lines: Sequence[LineText],
    start: tuple[int, int] | None,
    end: tuple[int, int] | None,
    *,
    first: int = 0,
    continued: bool = False,
) -> str:
    """The text between two selection points.

    Args:
        lines: The lines from number `first` on (at least those the selection covers).
        start: ``(x, y)`` of the first selected character, or None from the first line.
        end: ``(x, y)`` just past the last selected character, or None to the last line.
        first: The line number of ``lines[0]``.
        continued: The line before ``lines[0]`` wraps into it.

    Returns:
        The selected text (no trailing line break).
    """
    if not lines:
        return ""
    top = first if start is None else max(first, start[1])
    bottom = first + len(lines) - 1 if end is None else min(first + len(lines) - 1, end[1])
    if bottom < top:
        return ""
    if top > first:
        continued = lines[top - first - 1].soft is not None
    out: list[str] = []
    joiner: str | None = None
    for y in range(top, bottom + 1):
        line = lines[y - first]
        was_continued, continued = continued, line.soft is not None
        if line.skip:
            continue
        left = start[0] if start is not None and y == start[1] else 0
        right = end[0] if end is not None and y == end[1] else len(line.text)
        if line.bare or was_continued:
            left = max(left, line.lead)
        if line.size is not None:
            right = min(right, line.size)
            piece = line.text[left:right] if right > left else ""
        else:
            piece = line.text[left:right].rstrip() if right > left else ""
        if joiner is not None:
            out.append(joiner)
        out.append(piece)
        joiner = line.soft if line.soft is not None else "\n"
    return "".join(out)
