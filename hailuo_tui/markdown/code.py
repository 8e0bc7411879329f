"""Code blocks of the Markdown painter (`painter`): their height is known at once, their lines
are highlighted on first use, so off-screen code costs nothing until it is scrolled to.

A selection copies the code alone: the label and the bottom padding line give no text, the padding
cell before each line is decoration (`lines.TextLine`), and a line folded at the width copies as one.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip

from hailuo_tui.markdown.lines import described


WARM_LANGUAGES = ("python", "javascript", "typescript", "bash")
"""Languages whose highlighter `warm_highlighting` builds ahead of the first answer."""


def warm_highlighting(languages: tuple[str, ...] = WARM_LANGUAGES) -> None:
    """Build the highlighters of the commonest languages once (the app runs this in a thread after start).

    Highlighting a language the first time imports Pygments and compiles its lexer's rules (22 ms for
    Python, 11 for JavaScript, 16 for TypeScript, 3 for Bash on this VM); otherwise the first frame that
    shows such a code block, in the middle of a streaming answer, pays it.
    """
    from textual import highlight as hl

    for language in languages:
        hl.highlight("x = 1", language=language, theme=hl.HighlightTheme)


class CodeBlock:
    """A code block at a width: its height is known at once, its lines are
    highlighted on first use.

    The block's lines are those of Textual's `highlight` (the code joined
    with `str.splitlines`), tabs expanded to 8 columns, each folded at the
    width minus one cell of padding on each side; a label line on top (the
    language, if any) and a padding line below.
    """

    def __init__(self, painter: Any, code: str, language: str, width: int) -> None:
        """``painter``: the `painter.BlockPainter` drawing the message (its styles and colours)."""
        self.painter = painter
        self.language = language
        self.width = width
        self.inner = max(1, width - 2)
        self.code = "\n".join(code.rstrip("\n").splitlines())
        rows = 0
        for line in self.code.split("\n") if self.code else []:
            plain = Content(line).expand_tabs(8)
            rows += len(plain.fold(self.inner)) if plain.cell_length > self.inner else 1
        self.height = rows + 2
        self._strips: list[Strip] | None = None

    @property
    def drawn(self) -> bool:
        """Whether its lines were highlighted (drawing one highlights them all)."""
        return self._strips is not None

    def strip(self, index: int) -> Strip:
        if self._strips is None:
            self._strips = self.strips()
        return self._strips[index]

    def _highlighted(self) -> Content:
        from textual import highlight as hl

        painter = self.painter
        if painter.ansi:
            theme = hl.ANSIDarkHighlightTheme if painter.dark else hl.ANSILightHighlightTheme
        else:
            theme = hl.HighlightTheme
        content = hl.highlight(self.code, language=self.language or "text", theme=theme)
        # Lines must be exactly those measured: drop highlighting rather than the text.
        return content if content.plain == self.code else Content(self.code)

    def strips(self) -> list[Strip]:
        painter, width, inner = self.painter, self.width, self.inner
        background = painter.rich("md--code-block")
        base = painter.base + painter.component("md--code-block")
        label = painter.rich("md--code-label")
        head = Strip([Segment(f" {self.language}", label)]).crop(0, width) if self.language else Strip([])
        out = [described(head.extend_cell_length(width, background), skip=True)]
        pad = Strip([Segment(" ", background)], 1)
        content = self._highlighted() if self.code else None
        for line in content.split("\n", allow_blank=True) if content is not None else []:
            line = line.expand_tabs(8)
            pieces = line.fold(inner) if line.cell_length > inner else [line]
            for index, piece in enumerate(pieces):
                segments = [
                    Segment(text, style.rich_style)
                    for text, style in piece.render(base, end="", parse_style=painter.resolve_style)
                ]
                body = Strip(segments).extend_cell_length(inner, background).crop(0, inner)
                soft = "" if index < len(pieces) - 1 else None
                out.append(described(Strip.join([pad, body, pad]), lead=1, bare=True, soft=soft, size=1 + len(piece.plain)))
        out.append(described(Strip([Segment(" " * width, background)], width), skip=True))
        if len(out) != self.height:  # pragma: no cover - measured and drawn lines disagree
            out = (out + [Strip.blank(width, background)] * self.height)[: self.height]
        return out


class LazyLine:
    """Line `index` of a `CodeBlock`, drawn on first use."""

    __slots__ = ("block", "index")

    def __init__(self, block: CodeBlock, index: int) -> None:
        self.block = block
        self.index = index


def line_strip(line: Strip | LazyLine) -> Strip:
    """The strip of a rendered line (materializing a lazy one)."""
    if isinstance(line, LazyLine):
        return line.block.strip(line.index)
    return line
