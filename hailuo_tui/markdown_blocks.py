"""The Markdown parser, and the fenced code blocks of a text (for "copy code block").

One markdown-it parser ("gfm-like") serves the message renderer
(`widgets/md_render`) and this module, so what is offered for copying is
exactly what is shown as a code block.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

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


# -- nesting too deep for the parser ------------------------------------------------------------

#: Leading spaces and quote markers kept on a line of a too deeply nested text (see `flatten_nesting`).
FLAT_INDENT = 12
FLAT_QUOTES = 3
_LEAD = re.compile(r"^[ \t>]+")


def nesting_truncated(tokens: list[Any]) -> bool:
    """Whether markdown-it stopped at its nesting limit (it then drops the rest of the text)."""
    limit = parser().options.get("maxNesting", 20)
    return any(token.level >= limit - 2 for token in tokens)


def flatten_nesting(text: str) -> str:
    """`text` with every line's indentation and quote depth capped, so deep lists and quotes become
    siblings of the deepest level kept rather than text the parser drops."""

    def cap(match: re.Match[str]) -> str:
        lead = match.group(0).replace("\t", "    ")
        quotes = min(lead.count(">"), FLAT_QUOTES)
        spaces = min(len(lead.replace(">", "")), FLAT_INDENT)
        return "> " * quotes + " " * spaces if quotes else " " * spaces

    return "\n".join(_LEAD.sub(cap, line) for line in text.split("\n"))


def parse_whole(text: str) -> list[Any] | None:
    """markdown-it's tokens for all of ``text``, or ``None`` when it cannot give them.

    markdown-it silently drops everything past its nesting limit (a list ten levels deep hides the
    rest of the answer, the next paragraph included): such a text is parsed again with its deep part
    flattened (:func:`flatten_nesting`); ``None`` if even that is too deep (show the text plain).
    """
    tokens = parser().parse(text)
    if not nesting_truncated(tokens):
        return tokens
    tokens = parser().parse(flatten_nesting(text))
    return None if nesting_truncated(tokens) else tokens
