"""What the chat screen does when the conversation database refuses something.

The store names the fault (:class:`~hailuo_tui.store.StoreError` ``kind`` and ``reason``:
locked by another program, disk full, read-only, damaged); the screen says it in a toast
and the status bar, and never lets it end the app with a traceback. A message that could
not be saved goes back into the message box, so nothing typed is lost.
"""

from __future__ import annotations

from typing import Any

from hailuo_tui.store import StoreError
from hailuo_tui.textual_compat import MessageHooks
from hailuo_tui.widgets.prompt_input import PromptInput
from hailuo_tui.widgets.status_bar import StatusBar


class StoreFaults(MessageHooks):
    """Mixed into the chat screen (a Textual ``Screen``)."""

    async def handle_message(self, message: Any) -> None:
        # Every handler of the screen (and the callbacks of its dialogs: rename, delete, export…)
        # may read or write the store. Left to Textual, a refusal would end the screen's message
        # loop and the app, with a traceback; here it is said in words and the app goes on.
        try:
            await super().handle_message(message)
        except StoreError as exc:
            self.store_problem(exc)

    def store_problem(self, exc: StoreError, what: str = "") -> None:
        """Tell the user the store refused something: a toast and the status bar, never a traceback."""
        screen: Any = self
        screen.log.warning(f"store: {exc.kind}: {exc.message}")
        if not screen.is_attached:
            return  # the screen is going away (the store is being replaced): nothing to tell it
        title = what or f"Conversation database {exc.reason}"
        for bar in screen.query(StatusBar):
            bar.set_error(title, exc.message, "")
        screen.notify(exc.message, title=title, severity="error", timeout=15, markup=False)

    def _restore_typed(self, text: str) -> None:
        """Put ``text`` back in the message box (unless the user already typed something new)."""
        prompt = self.query_one(PromptInput)  # type: ignore[attr-defined]
        if not prompt.text.strip():
            prompt.text = text
            prompt.move_cursor(prompt.document.end)

    def _keep_typed(self, text: str, exc: StoreError) -> None:
        """The message could not be saved: nothing was sent, and the text goes back in the box."""
        self._restore_typed(text)
        self.store_problem(exc, f"Your message was not saved ({exc.reason})")
        for bar in self.query(StatusBar):  # type: ignore[attr-defined]
            bar.set_error(
                f"Not sent: your message was not saved ({exc.reason})",
                "it is back in the message box; press Enter to try again", "",
            )
