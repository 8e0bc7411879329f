"""Copying from the transcript's cursor: the highlighted message, or the block under the block cursor.

A mixin of `MessageCursor` (see `message_cursor`): `message.copy` copies Markdown source (a code block:
its code alone, without the fences), `message.copy_text` the text as it is shown, through the same
clipboard call (OSC 52) and note as F4's "copy answer".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.css.query import NoMatches

from hailuo_tui.bindings import key_name
from hailuo_tui.widgets.clipboard import copy_with_note
from hailuo_tui.markdown.blocks import parser

if TYPE_CHECKING:
    from hailuo_tui.widgets.markdown_body import MarkdownBody
    from hailuo_tui.widgets.message_bubble import MessageBubble

#: What a copied block is called in the notice, by its first markdown-it token.
BLOCK_KINDS = {
    "paragraph_open": "paragraph", "heading_open": "heading", "table_open": "table",
    "bullet_list_open": "list", "ordered_list_open": "list", "blockquote_open": "quote",
    "fence": "code block", "code_block": "code block", "hr": "rule", "html_block": "HTML block",
}


def block_kind(source: str) -> str:
    """What a Markdown block is, in words ("code block", "table", "paragraph"...)."""
    tokens = parser().parse(source)
    return BLOCK_KINDS.get(tokens[0].type, "block") if tokens else "block"


def block_code(source: str) -> str | None:
    """The code of a block that is one fenced or indented code block (no fences); None for any other."""
    tokens = [t for t in parser().parse(source) if t.level == 0]
    if len(tokens) == 1 and tokens[0].type in ("fence", "code_block"):
        return tokens[0].content.rstrip("\n")
    return None


def _lines(text: str) -> str:
    count = text.count("\n") + 1
    return f"{count} line" if count == 1 else f"{count} lines"


class MessageCopy:
    """Mixin: the copy actions and the helpers they share with the cursor."""

    _cursor_block: int | None = None
    if TYPE_CHECKING:
        cursor_bubble: MessageBubble | None  # MessageCursor's

    def action_message_copy(self) -> None:
        bubble = self.cursor_bubble
        if bubble is None:
            self._no_cursor()
            return
        block = self._block_source(bubble)
        if block is None:
            self._copy(bubble.text, f"Copied the message as Markdown ({_lines(bubble.text)})")
            return
        code = block_code(block)
        if code is not None:
            self._copy(code, f"Copied the code block ({_lines(code)})")
        else:
            text = block.strip("\n")
            self._copy(text, f"Copied the {block_kind(block)} as Markdown ({_lines(text)})")

    def action_message_copy_text(self) -> None:
        bubble = self.cursor_bubble
        if bubble is None:
            self._no_cursor()
            return
        body = self._markdown_of(bubble)
        if body is None:
            text = bubble.text
            self._copy(text, f"Copied the message's text ({_lines(text)})")
            return
        lines = [line.rstrip() for line in body.lines_text()]
        rows = body.block_rows()
        what = "message's text"
        if self._cursor_block is not None and self._cursor_block < len(rows):
            first, end = rows[self._cursor_block]
            lines = lines[first:end]
            what = f"{block_kind(body.blocks[self._cursor_block])} as text"
        text = "\n".join(lines).strip("\n")
        self._copy(text, f"Copied the {what} ({_lines(text)})")

    @staticmethod
    def _markdown_of(bubble: MessageBubble) -> MarkdownBody | None:
        if bubble.role == "user" or bubble.is_plain:
            return None
        try:
            return bubble.markdown
        except NoMatches:  # not composed yet
            return None

    def _block_source(self, bubble: MessageBubble) -> str | None:
        body = self._markdown_of(bubble)
        block = self._cursor_block
        if body is None or block is None or block >= len(body.blocks):
            return None
        return body.blocks[block]

    def _keymap(self) -> Any:
        return getattr(self.app, "user_keymap", {})  # type: ignore[attr-defined]

    def _no_cursor(self) -> None:
        keys = key_name("messages.focus", self._keymap())
        self.app.notify(f"No message is highlighted: {keys}, then ↑/↓.", severity="warning")  # type: ignore[attr-defined]

    def _copy(self, text: str, what: str) -> None:
        """Copy through the terminal (OSC 52), with F4's note for terminals without it."""
        copy_with_note(self.app, text, what, self._keymap())  # type: ignore[attr-defined]
