"""Replacing a streaming answer's whole text (the server rewrote what it had sent).

A mixin of :class:`~hailuo_tui.widgets.message_bubble.MessageBubble`, kept apart so the
bubble's module stays small. The Hailuo web protocol's content is cumulative: when a
snapshot rewrites earlier text, the reply session hands the new whole text here, and the
bubble shows exactly that text (never a splice of old and new).
"""

from __future__ import annotations

from typing import Any

from hailuo_tui.sanitize import StreamSanitizer
from hailuo_tui.widgets.markdown_body import MarkdownBody
from hailuo_tui.widgets.plain_body import PlainBody, shown_as_plain


class ReplaceText:
    """Adds :meth:`replace` to the message bubble (which provides the attributes used here)."""

    _chunks: list[str]
    _pending: list[str]

    async def replace(self: Any, text: str) -> None:
        """Show ``text`` (raw server text, sanitized here) instead of everything received so far.

        Args:
            text: The answer's new whole text; later :meth:`append` calls continue it.
        """
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._sanitizer = StreamSanitizer()
        shown = self._sanitizer.feed(text)
        self._chunks = [shown] if shown else []
        self._text_cache = None
        self._pending.clear()
        self._pending_length = 0
        if not self.is_attached:
            self._initial_text = shown
            self._plain = PlainBody(shown, id="plain-body") if shown and shown_as_plain(shown) else None
            return
        old = self._plain if self._plain is not None else self.query_one("#md-body", MarkdownBody)
        anchor = self._thinking if self._thinking is not None else self.query_one("#header")
        await old.remove()
        if shown and shown_as_plain(shown):
            self._plain, self._md = PlainBody(shown, id="plain-body"), None
            self._plain_bytes = len(shown.encode("utf-8", "surrogatepass"))
            await self.mount(self._plain, after=anchor)
        else:
            self._plain, self._md = None, MarkdownBody("", id="md-body")
            await self.mount(self._md, after=anchor)
            if shown:
                await self._md.append(shown)
        self.query_one("#header").update(self._header_content())
