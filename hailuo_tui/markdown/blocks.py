"""The Markdown parser, the block splitter, and the code blocks of a text (no Textual, no Rich).

One markdown-it parser ("gfm-like", the parser and options Textual's own
Markdown widget uses) serves the painter (`markdown.painter`) and this module,
so what is offered for copying is exactly what is shown as a code block.

`split_blocks` cuts Markdown into top-level blocks whose rendering can no
longer change: each block is rendered once, from its own source, while an
answer streams (issue 5).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_PARSER: MarkdownIt | None = None
_BLOCK_PARSER: MarkdownIt | None = None


def parser() -> MarkdownIt:
    """The shared markdown-it parser, created on first use (not for the first frame)."""
    global _PARSER
    if _PARSER is None:
        from markdown_it import MarkdownIt

        _PARSER = MarkdownIt("gfm-like")
    return _PARSER


def block_parser() -> MarkdownIt:
    """The same parser with only its block stage: where blocks start does not depend on the text inside
    them, and the inline stage (emphasis, links, linkify) was most of cutting a whole answer: 6.7 ms of
    bench/decode_burst.py --markdown's 20,000 characters, 1.9 ms without it."""
    global _BLOCK_PARSER
    if _BLOCK_PARSER is None:
        from markdown_it import MarkdownIt

        _BLOCK_PARSER = MarkdownIt("gfm-like")
        _BLOCK_PARSER.core.ruler.enableOnly(["normalize", "block"])
    return _BLOCK_PARSER


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


def warm() -> None:
    """Load the parser (markdown-it and linkify, ~50 ms) ahead of the first message."""
    from markdown_it.tree import SyntaxTreeNode

    SyntaxTreeNode(parser().parse("warm *up* https://example.com"))
    block_parser()


# -- cutting text into blocks ---------------------------------------------------------------


def block_starts(text: str) -> list[int]:
    """The character offsets where the top-level blocks of `text` start.

    The first block always starts at 0 (leading blank lines belong to it);
    text between two blocks (blank lines, link definitions) belongs to the
    earlier one.
    """
    lines = [
        token.map[0]
        for token in block_parser().parse(text)
        if token.level == 0 and token.nesting >= 0 and token.map is not None
    ]
    if not lines:
        return [0]
    offsets = [0]
    line_no, offset = 0, 0
    for line in lines[1:]:
        while line_no < line:
            offset = text.index("\n", offset) + 1
            line_no += 1
        if offset > offsets[-1]:
            offsets.append(offset)
    return offsets


def split_blocks(text: str, *, final: bool) -> tuple[list[str], str]:
    """Cut `text` (starting at a block boundary) into finished blocks and the rest.

    While the stream goes on (`final=False`) the last block may still grow,
    and so may the one before it while the last block's first line is
    incomplete: a half-written line can turn out to be a setext underline or
    a table's delimiter row that changes the block above it.

    Args:
        text: Markdown source.
        final: True when no more text will come: every block is finished.

    Returns:
        (the sources of the finished blocks, the text that is still open).
    """
    if not text:
        return [], ""
    starts = block_starts(text)
    if final:
        cut = len(starts)
    else:
        cut = len(starts) - 1
        if cut > 0 and "\n" not in text[starts[-1] :]:
            cut -= 1
    if cut <= 0:
        return ([text], "") if final else ([], text)
    bounds = [*starts[:cut], starts[cut] if cut < len(starts) else len(text)]
    blocks = [text[a:b] for a, b in zip(bounds, bounds[1:])]
    return blocks, text[bounds[-1] :]


def split_all(text: str) -> list[str]:
    """The finished blocks of a complete text, cut exactly as streaming cuts them."""
    return split_blocks(text, final=True)[0]
