"""Find fenced code blocks in Markdown text (pure; for "copy code block")."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """Return ``(language, code)`` for each fenced code block, in order.

    Follows CommonMark's fence rules closely enough for chat answers: a block
    closes at a fence of the same character at least as long; an unclosed
    block runs to the end (as a streaming answer would show it).
    """
    blocks: list[tuple[str, str]] = []
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group("fence")
        language = match.group("info").strip().split(" ")[0] if match.group("info").strip() else ""
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                break
            body.append(lines[i])
            i += 1
        blocks.append((language, "\n".join(body)))
        i += 1
    return blocks
