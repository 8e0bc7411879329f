"""Find fenced code blocks in Markdown text (for "copy code block").

Uses markdown-it (the parser Textual's Markdown widget uses), so what is
offered for copying is exactly what is shown as a code block.
"""

from __future__ import annotations

_PARSER = None


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """Return ``(language, code)`` for each fenced or indented code block, in order."""
    global _PARSER
    if _PARSER is None:
        from markdown_it import MarkdownIt  # on first use, not for the first frame

        _PARSER = MarkdownIt("gfm-like")
    blocks = []
    for token in _PARSER.parse(markdown):
        if token.type in ("fence", "code_block"):
            language = (token.info or "").strip().split(" ")[0]
            blocks.append((language, token.content.rstrip("\n")))
    return blocks
