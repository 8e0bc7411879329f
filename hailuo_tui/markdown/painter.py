"""Markdown to lines: the painter behind `MarkdownBody`.

Textual's `Markdown` widget builds a tree of widgets per document, and the
compositor visits every one of them on every frame, so streaming into it
costs frames x document size (issue 5). A message is instead drawn as plain
lines (`Strip`s) rendered here, one top-level block at a time
(`blocks.split_blocks` says where blocks end): `BlockPainter.render` turns
the source of one or more blocks into lines at a width: headings, paragraphs
with inline styles and links, nested lists, block quotes, syntax-highlighted
code, tables, rules.

The painter is built from plain inputs (a base style, a resolver of style
names, dark or light, ANSI or not), so it runs without an App (the golden
tests); `BlockPainter.for_widget` builds one from a widget's styles. Lines
that wrap, carry decoration or frame code are `lines.TextLine`s, so a mouse
selection copies the text as shown (`selection.selected_text`).

Text from the server is never read as markup: it only ever becomes `Content`
text, and links become a `link('...')` click action with a quoted string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.content import Content, Span
from textual.strip import Strip
from textual.style import Style

from hailuo_tui.markdown.blocks import parse_whole
from hailuo_tui.markdown.code import CodeBlock, LazyLine, line_strip
from hailuo_tui.markdown.lines import described, prefixed, soft_joins

if TYPE_CHECKING:
    from markdown_it.token import Token
    from markdown_it.tree import SyntaxTreeNode
    from textual.widget import Widget


# -- painting ------------------------------------------------------------------------------

BULLETS = ("• ", "◦ ", "▪ ", "‣ ")
QUOTE_BAR = "▌ "
SAFE_SCHEMES = ("http://", "https://", "mailto:")
MIN_COLUMN = 4
"""Cells a table column keeps at least (fewer if its widest cell is narrower) before the table is
shown as lines instead of a grid."""
_SPACES = re.compile(r"\s+")


@dataclass
class _Cell:
    content: Content
    align: str


class BlockPainter:
    """Render Markdown source to lines.

    Args:
        base: The style under everything (the body's colours).
        styles: Resolves a style name of `Content` spans to a `Style`: component classes
            (``".md--h1"``, ``".md--code-block"``, ...) and style text (``"bold"``).
        dark: A dark theme (picks the code highlighting theme in ANSI mode).
        ansi: The app uses the terminal's ANSI colours.
    """

    def __init__(self, base: Style, styles: Callable[[str], Style], *, dark: bool = True, ansi: bool = False) -> None:
        self.base = base
        self._resolve = styles
        self._styles: dict[str, Style] = {}
        self._rich: dict[str, RichStyle] = {}
        self.dark = dark
        self.ansi = ansi

    @classmethod
    def for_widget(cls, widget: Widget) -> BlockPainter:
        """A painter with `widget`'s base style and styles (component classes from its nearest ancestor
        that declares them: `ChatView` declares them once, so each message does not resolve 18 classes)."""
        from functools import partial

        from hailuo_tui.textual_compat import content_style

        app = widget.app
        return cls(widget.visual_style, partial(content_style, widget), dark=app.current_theme.dark, ansi=app.ansi_color)

    # styles

    def component(self, name: str) -> Style:
        """A component class's style (`md--h1`, ...)."""
        return self.resolve_style("." + name)

    def resolve_style(self, style: str | Style) -> Style:
        """A style of `Content` spans, resolved (cached per painter)."""
        if isinstance(style, Style):
            return style
        resolved = self._styles.get(style)
        if resolved is None:
            resolved = self._styles[style] = self._resolve(style)
        return resolved

    def rich(self, name: str) -> RichStyle:
        """The rich style of a component class on top of the base style."""
        style = self._rich.get(name)
        if style is None:
            style = (self.base + self.component(name)).rich_style
            self._rich[name] = style
        return style

    def _strips(self, content: Content, width: int, wrap: bool = True) -> list[Strip]:
        """Wrap `content` to `width` cells; every strip is exactly `width` wide."""
        if width <= 0:
            return []
        from textual.visual import RenderOptions

        rules = {"text_wrap": "wrap" if wrap else "nowrap", "text_overflow": "fold"}
        strips = content.render_strips(width, None, self.base, RenderOptions(self.resolve_style, rules))  # type: ignore[arg-type]
        base = self.base.rich_style
        out = [strip.extend_cell_length(width, base).crop(0, width) for strip in strips]
        if len(out) > 1:
            joins = soft_joins(content.plain, [strip.text.rstrip() for strip in out])
            if joins is not None:
                out = [described(strip, soft=join) for strip, join in zip(out, joins)]
        return out

    def blank(self, width: int) -> Strip:
        return Strip.blank(width, self.base.rich_style)

    # documents

    def render(self, source: str, width: int, *, lazy: bool = False) -> list[Strip]:
        """The lines of Markdown `source` at `width` cells (a blank line between blocks).

        With `lazy`, the lines of top-level code blocks are `LazyLine`s: their
        number is exact, but they are highlighted only when first drawn
        (`line_strip`), so a long answer costs its visible code only.

        A failure inside the renderer (it reads untrusted text) falls back to
        the source as plain wrapped text rather than losing the message.
        """
        if width <= 0 or not source.strip():
            return []
        try:
            from markdown_it.tree import SyntaxTreeNode

            tokens = parse_whole(source)  # None: too deep even flattened; never hide text
            if tokens is None:
                return self._strips(Content(source.rstrip("\n")), width)
            root = SyntaxTreeNode(tokens)
            return self._blocks(root.children, width, loose=True, lazy=lazy)
        except Exception:  # pragma: no cover - a renderer bug must not lose text
            return self._strips(Content(source.rstrip("\n")), width)

    def _blocks(self, nodes: Iterable[SyntaxTreeNode], width: int, loose: bool, lazy: bool = False) -> list[Strip]:
        out: list[Strip] = []
        for node in nodes:
            lines = self._block(node, width, lazy)
            if not lines:
                continue
            if out and loose:
                out.append(self.blank(width))
            out.extend(lines)
        return out

    def _block(self, node: SyntaxTreeNode, width: int, lazy: bool = False) -> list[Strip]:
        kind = node.type
        if kind == "paragraph":
            return self._strips(self.inline(node), width)
        if kind == "heading":
            level = int(node.tag[1:]) if node.tag[1:].isdigit() else 1
            content = self.inline(node).stylize_before(f".md--h{min(level, 6)}")
            return self._strips(content, width)
        if kind in ("bullet_list", "ordered_list"):
            return self._list(node, width, depth=0)
        if kind == "blockquote":
            return self._prefixed(self._blocks(node.children, width - 2, loose=True), QUOTE_BAR, "md--quote-bar", width)
        if kind in ("fence", "code_block"):
            language = (node.info or "").strip().split(" ")[0] if kind == "fence" else ""
            block = CodeBlock(self, node.content, language, width)
            if lazy:
                return [LazyLine(block, index) for index in range(block.height)]  # type: ignore[misc]
            return block.strips()
        if kind == "table":
            return self._table(node, width)
        if kind == "hr":
            return [Strip([Segment("─" * width, self.rich("md--rule"))], width)]
        if kind == "html_block":
            return self._strips(Content(node.content.rstrip("\n")), width)
        if kind == "inline":
            return self._strips(self.inline(node), width)
        if node.children:
            return self._blocks(node.children, width, loose=True)
        return self._strips(Content((node.content or "").rstrip("\n")), width)

    # inline text

    def inline(self, node: SyntaxTreeNode) -> Content:
        """The Content of a block's inline children (styles and links)."""
        inline = next((child for child in node.children if child.type == "inline"), None)
        token = inline.token if inline is not None else None
        return self.inline_tokens(token.children if token is not None else None)

    def inline_tokens(self, tokens: list[Token] | None) -> Content:
        if not tokens:
            return Content("")
        text: list[str] = []
        spans: list[Span] = []
        stack: list[tuple[list[str | Style], int]] = []
        position = 0

        def add(piece: str) -> None:
            nonlocal position
            text.append(piece)
            position += len(piece)

        def close() -> None:
            if stack:
                styles, start = stack.pop()
                for style in styles:
                    spans.append(Span(start, position, style))

        for child in tokens:
            kind = child.type
            if kind == "text":
                add(_SPACES.sub(" ", child.content))
            elif kind == "softbreak":
                add(" ")
            elif kind == "hardbreak":
                add("\n")
            elif kind == "code_inline":
                start = position
                add(child.content)
                spans.append(Span(start, position, ".md--code-inline"))
            elif kind == "html_inline":
                add(child.content)
            elif kind == "em_open":
                stack.append(([".md--em"], position))
            elif kind == "strong_open":
                stack.append(([".md--strong"], position))
            elif kind == "s_open":
                stack.append(([".md--s"], position))
            elif kind == "link_open":
                stack.append(([".md--link", *self._link(str(child.attrs.get("href", "")))], position))
            elif kind == "image":
                start = position
                alt = child.content or str(child.attrs.get("alt", ""))
                add(f"🖼  {alt}" if alt else "🖼 ")
                for style in [".md--link", *self._link(str(child.attrs.get("src", "")))]:
                    spans.append(Span(start, position, style))
            elif kind.endswith("_close"):
                close()
            elif child.content:
                add(child.content)
        while stack:
            close()
        return Content("".join(text), spans=spans)

    @staticmethod
    def _link(href: str) -> list[Style]:
        if not href.lower().startswith(SAFE_SCHEMES):
            return []
        return [Style.from_meta({"@click": f"link({href!r})"})]

    # containers

    def _prefixed(self, lines: list[Strip], prefix: str, style: str, width: int, rest: str | None = None) -> list[Strip]:
        """`lines` with `prefix` before the first and `rest` (default: `prefix`) before the others."""
        if not lines:
            return []
        first = Segment(prefix, self.rich(style))
        other = Segment(rest if rest is not None else prefix, self.rich(style) if rest is None else self.base.rich_style)
        out = []
        for index, line in enumerate(lines):
            head = first if index == 0 else other
            joined = Strip.join([Strip([head], len(prefix)), line]).crop(0, width)
            out.append(prefixed(joined, line, len(prefix)))
        return out

    def _list(self, node: SyntaxTreeNode, width: int, depth: int) -> list[Strip]:
        ordered = node.type == "ordered_list"
        items = [child for child in node.children if child.type == "list_item"]
        start = int(node.attrs.get("start", 1) or 1) if ordered else 1
        marker_width = len(f"{start + len(items) - 1}. ") if ordered else 2
        tight = all(
            child.type != "paragraph" or child.nester_tokens.opening.hidden
            for item in items
            for child in item.children
        )
        out: list[Strip] = []
        for index, item in enumerate(items):
            inner = width - marker_width
            lines: list[Strip] = []
            for child in item.children:
                if child.type in ("bullet_list", "ordered_list"):
                    child_lines = self._list(child, inner, depth + 1)
                else:
                    child_lines = self._block(child, inner)
                if not child_lines:
                    continue
                if lines and not tight:
                    lines.append(self.blank(inner))
                lines.extend(child_lines)
            if not lines:
                lines = [self.blank(inner)]
            if ordered:
                marker = f"{start + index}.".rjust(marker_width - 1) + " "
            else:
                marker = BULLETS[depth % len(BULLETS)]
            if out and not tight:
                out.append(self.blank(width))
            out.extend(self._prefixed(lines, marker, "md--bullet", width, rest=" " * marker_width))
        return out

    # tables

    def _table(self, node: SyntaxTreeNode, width: int) -> list[Strip]:
        rows: list[list[_Cell]] = []
        header_rows = 0
        for section in node.children:
            for row in section.children:
                cells = []
                for cell in row.children:
                    style = str(cell.attrs.get("style", ""))
                    align = "right" if "right" in style else "center" if "center" in style else "left"
                    content = self.inline(cell)
                    if cell.type == "th":
                        content = content.stylize_before(".md--table-header")
                    cells.append(_Cell(content, align))
                rows.append(cells)
                if section.type == "thead":
                    header_rows += 1
        columns = max((len(row) for row in rows), default=0)
        if not columns:
            return []
        for row in rows:
            row.extend(_Cell(Content(""), "left") for _ in range(columns - len(row)))
        natural = [max(max(row[c].content.cell_length for row in rows), 1) for c in range(columns)]
        available = width - (3 * columns + 1)
        if available < sum(min(n, MIN_COLUMN) for n in natural):
            # Too narrow for a grid whose columns keep a few cells each (narrower ones fold every word
            # into slivers): one line per row, its cells joined by " | ".
            return self._strips(Content("\n").join(
                Content(" | ").join(cell.content for cell in row) for row in rows
            ), width)
        widths = natural[:]
        while sum(widths) > available:
            widest = max(range(columns), key=lambda c: widths[c])
            widths[widest] -= 1
        border = self.rich("md--table-border")

        def rule(left: str, middle: str, right: str) -> Strip:
            text = left + middle.join("─" * (w + 2) for w in widths) + right
            return Strip([Segment(text, border)], len(text))

        out = [rule("┌", "┬", "┐")]
        for index, row in enumerate(rows):
            if index == header_rows and header_rows:
                out.append(rule("├", "┼", "┤"))
            cells = [self._cell_lines(cell.content, widths[c]) for c, cell in enumerate(row)]
            for c, cell in enumerate(row):
                if cell.align != "left":
                    cells[c] = [self._align(strip, widths[c], cell.align) for strip in cells[c]]
            height = max(len(lines) for lines in cells)
            for y in range(height):
                parts: list[Strip] = [Strip([Segment("│ ", border)], 2)]
                for c in range(columns):
                    lines = cells[c]
                    parts.append(lines[y] if y < len(lines) else self.blank(widths[c]))
                    parts.append(Strip([Segment(" │ " if c < columns - 1 else " │", border)], 3 if c < columns - 1 else 2))
                out.append(Strip.join(parts))
        out.append(rule("└", "┴", "┘"))
        return [strip.extend_cell_length(width, self.base.rich_style).crop(0, width) for strip in out]

    def _cell_lines(self, content: Content, width: int) -> list[Strip]:
        """A table cell's lines; a squeezed column folds words, and the space between two words may
        land on a row of its own: such blank rows are dropped (a hard break's are kept)."""
        lines = self._strips(content, width)
        if "\n" not in content.plain:
            lines = [line for line in lines if line.text.strip()]
        return lines or [self.blank(width)]

    def _align(self, strip: Strip, width: int, align: str) -> Strip:
        text_width = cell_len(strip.text.rstrip(" "))
        used = strip.crop(0, text_width) if text_width else Strip([])
        used_width = used.cell_length
        spare = max(0, width - used_width)
        left = spare if align == "right" else spare // 2
        base = self.base.rich_style
        return Strip.join([Strip.blank(left, base), used, Strip.blank(spare - left, base)])


__all__ = ["BULLETS", "QUOTE_BAR", "SAFE_SCHEMES", "BlockPainter", "CodeBlock", "LazyLine", "line_strip"]
