"""The Markdown parser, and the fenced code blocks of a text (for "copy code block").

One markdown-it parser ("gfm-like") serves the message renderer
(`widgets/md_render`) and this module, so what is offered for copying is
exactly what is shown as a code block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_PARSER: MarkdownIt | None = None


def parser() -> MarkdownIt:
    """The shared markdown-it parser, created on first use (not for the first frame)."""
    global _PARSER
    if _PARSER is None:
        from markdown_it import MarkdownIt

        _PARSER = MarkdownIt("gfm-like")
    return _PARSER


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """Return ``(language, code)`` for each fenced or indented code block, in order."""
    blocks = []
    for token in parser().parse(markdown):
        if token.type in ("fence", "code_block"):
            language = (token.info or "").strip().split(" ")[0]
            blocks.append((language, token.content.rstrip("\n")))
    return blocks
