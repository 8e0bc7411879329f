"""Keys that act on the transcript from anywhere in the chat screen, and Ctrl+C as a copy or stop key."""

from __future__ import annotations

from typing import Any

from textual.actions import SkipAction

from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.clipboard import copy_with_note
from hailuo_tui.widgets.prompt_input import PromptInput

class TranscriptKeys:
    """A mixin of ``ChatScreen``: the ``messages.focus``, ``messages.*`` and ``chat.interrupt`` actions.

    PageUp, PageDown, Home and End are priority bindings (the message box's TextArea binds them); they
    scroll the transcript while the message box or the transcript has focus and step aside
    (`SkipAction`) elsewhere, so the sidebar and the search box keep their own meaning. With the
    transcript focused, Home and End step aside too: they are the message cursor's there
    (`message.first`, `message.last` on `ChatView`).

    The ``message.*`` actions below are the command palette's way to the transcript's own bindings
    (the palette calls the screen's actions): they act on the message under the cursor.
    """

    current_id: int | None
    replies: dict[int, Any]
    account: Any

    def _transcript(self) -> ChatView:
        focused = self.focused  # type: ignore[attr-defined]
        if not isinstance(focused, (PromptInput, ChatView)):
            raise SkipAction()
        return self.query_one(ChatView)  # type: ignore[attr-defined]

    def action_focus_messages(self) -> None:
        self.query_one(ChatView).focus()  # type: ignore[attr-defined]

    def action_messages_page_up(self) -> None:
        self._transcript().scroll_page_up()

    def action_messages_page_down(self) -> None:
        self._transcript().scroll_page_down()

    def _transcript_unfocused(self) -> ChatView:
        """The transcript, for Home and End typed in the message box (with it focused: its cursor's keys)."""
        if isinstance(self.focused, ChatView):  # type: ignore[attr-defined]
            raise SkipAction()
        return self._transcript()

    def action_messages_last(self) -> None:
        self._transcript_unfocused().scroll_end(animate=False)

    async def action_messages_first(self) -> None:
        """The very first message, in one press: every older page is loaded on the way."""
        view = self._transcript_unfocused()
        conversation_id = self.current_id

        async def load_older(before_id: Any) -> None:
            if self.current_id == conversation_id:  # not once another conversation is open
                await self.load_older(ChatView.OlderRequested(view, before_id))  # type: ignore[attr-defined]

        await view.scroll_to_first(load_older)

    def copy_selection(self) -> bool:
        """Copy the text selected with the mouse (OSC 52), as shown; False when nothing is selected."""
        text = self.get_selected_text()  # type: ignore[attr-defined]
        if not text:
            return False
        copy_with_note(self.app, text, "Copied the selection", self.account.user_keymap)  # type: ignore[attr-defined]
        return True

    def action_message_copy(self) -> None:
        self.query_one(ChatView).action_message_copy()  # type: ignore[attr-defined]

    def action_message_copy_text(self) -> None:
        self.query_one(ChatView).action_message_copy_text()  # type: ignore[attr-defined]

    def action_message_edit(self) -> None:
        self.query_one(ChatView).action_message_edit()  # type: ignore[attr-defined]

    def action_message_regenerate(self) -> None:
        self.query_one(ChatView).action_message_regenerate()  # type: ignore[attr-defined]

    def action_message_delete(self) -> None:
        self.query_one(ChatView).action_message_delete()  # type: ignore[attr-defined]

    def action_message_fork(self) -> None:
        self.query_one(ChatView).action_message_fork()  # type: ignore[attr-defined]

    def action_interrupt(self) -> None:
        """Ctrl+C: copy the mouse selection if there is one (the answer goes on); else stop the open
        conversation's answer; with none streaming, Textual's Ctrl+C."""
        if self.copy_selection():
            return
        reply = self.replies.get(self.current_id) if self.current_id is not None else None
        if reply is None or reply.worker is None:
            raise SkipAction()
        reply.stopped = True
        reply.worker.cancel()
