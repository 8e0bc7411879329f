"""The body of the user's own message: shown as typed, never as Markdown.

A message is what the user wrote, not a document: ``* not a bullet`` stays a
star, ``2*3*4`` keeps its stars, indentation and every line break stay, and a
pasted 120-line log shows as 120 lines. The text is drawn by `PlainBody`
(soft-wrapped at word boundaries in terminal cells, so CJK and emoji count two
cells and a long line folds). The one thing recognised is a fenced code block
(```` ``` ```` or ``~~~`` lines, as a user pastes code): its lines are
syntax-highlighted, and its fence lines are still shown, so nothing typed is
hidden. A fence that is never closed is plain text.
"""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.selection import Selection
from textual.widget import Widget
from textual.widgets import Static

from hailuo_tui.widgets.plain_body import PlainBody, shown_as_plain
from hailuo_tui.widgets.repaint import KeepLinesOnGrow

__all__ = ["CodePart", "UserBody", "UserText", "split_fences", "user_body"]

_OPEN_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
#: Characters past which a fenced block is shown plain (highlighting a huge paste costs seconds).
HIGHLIGHT_LIMIT = 20_000


def split_fences(text: str) -> list[tuple[str, str | None]]:
    """Cut a message into plain runs and fenced code blocks.

    Args:
        text: The message as typed.

    Returns:
        ``(source, language)`` pairs in order whose sources, joined with
        ``"\\n"``, give `text` back. `language` is None for a plain run and
        the fence's info word ("" when none) for a code block, whose source
        includes its opening and closing fence lines.
    """
    lines = text.split("\n")
    parts: list[tuple[str, str | None]] = []
    plain: list[str] = []
    index = 0
    while index < len(lines):
        match = _OPEN_FENCE.match(lines[index])
        fence = match["fence"] if match else ""
        if not match or (fence[0] == "`" and "`" in match["info"]):
            plain.append(lines[index])
            index += 1
            continue
        close = next((end for end in range(index + 1, len(lines)) if _closes(lines[end], fence)), None)
        if close is None:  # never closed: what follows is text, as typed
            plain.append(lines[index])
            index += 1
            continue
        if plain:
            parts.append(("\n".join(plain), None))
            plain = []
        words = match["info"].split()
        parts.append(("\n".join(lines[index : close + 1]), words[0] if words else ""))
        index = close + 1
    if plain or not parts:
        parts.append(("\n".join(plain), None))
    return parts


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(line) - len(line.lstrip(" ")) <= 3 and len(stripped) >= len(fence) and set(stripped) == {fence[0]}


class UserText(KeepLinesOnGrow, PlainBody):
    """Plain text of a user message (a `PlainBody`: wrapped, drawn a visible line at a time).

    `KeepLinesOnGrow`: placing it does not ask for a second layout of the chat view (see `repaint`).
    """


class CodePart(KeepLinesOnGrow, Static):
    """A fenced code block in a user message: its fence lines muted, its code highlighted."""

    DEFAULT_CSS = """
    CodePart {
        height: auto;
        width: 1fr;
        padding: 0 1;
        background: black 20%;
        &:light { background: white 40%; }
    }
    """

    selection_end = "\n\n"
    """What follows this part in a selection that goes on past it (see `PlainBody.selection_end`)."""

    def __init__(self, source: str, language: str) -> None:
        self.source = source
        lines = source.split("\n")
        code = "\n".join(lines[1:-1])
        if len(code) <= HIGHLIGHT_LIMIT and language:
            from textual.highlight import highlight

            body = highlight(code, language=language)
        else:
            body = Content(code)
        muted = "$text-muted"
        parts = [Content.styled(lines[0], muted), body, Content.styled(lines[-1], muted)]
        super().__init__(Content("\n").join(parts), markup=False)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text as Textual's `Static` gives it, ended as the message's parts are joined."""
        found = super().get_selection(selection)
        return None if found is None else (found[0], self.selection_end)


class UserBody(KeepLinesOnGrow, Vertical):
    """A user message with fenced code: plain runs and highlighted code blocks, in order."""

    DEFAULT_CSS = """
    UserBody { height: auto; width: 1fr; }
    """

    def __init__(self, parts: list[tuple[str, str | None]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._parts = parts
        self.source = "\n".join(source for source, _ in parts)

    def compose(self) -> ComposeResult:
        for index, (source, language) in enumerate(self._parts):
            part = UserText(source) if language is None else CodePart(source, language)
            if index < len(self._parts) - 1:
                part.selection_end = "\n"  # a selection copies the message's parts joined as typed
            yield part


def user_body(text: str, *, id: str | None = None) -> Widget:
    """The widget showing a user message (its `source` is `text`, unchanged).

    Args:
        text: The message as typed (already sanitized).
        id: DOM id.

    Returns:
        A `UserText`, or a `UserBody` when the message has fenced code (and is not huge).
    """
    parts = split_fences(text) if "```" in text or "~~~" in text else []
    if all(language is None for _, language in parts) or shown_as_plain(text):
        return UserText(text, id=id)
    return UserBody(parts, id=id)
