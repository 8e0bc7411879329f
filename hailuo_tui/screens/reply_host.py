"""The chat screen as the host of its reply sessions (reply_events.ReplyHost): a mixin of ChatScreen.

It chooses each conversation's backend (asking for a login or an API key when there is none), makes
web answers take turns, and forwards what the sessions report to the widgets as Textual messages.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from hailuo_tui.provider import AuthError, SiteRefused
from hailuo_tui.provider.backend import Backend
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.reply_messages import ReplyFinished, ReplyProblem
from hailuo_tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from hailuo_tui.reply_events import ReplyEvent


class ReplyHosting:
    """The chat screen's side of a reply session (uses the screen's services, account and widgets)."""

    services: Any
    account: Any
    store: Any
    replies: dict[int, Any]
    current_id: int | None
    _web_turn: asyncio.Lock

    async def backend_for(self, conversation: Any) -> Backend | None:
        """The backend a conversation answers with: its own (web or API), logged in."""
        if conversation is not None and conversation.backend == "api":
            key = await self.services.api_key()
            if not key and await self.account.request_login("Enter a MiniMax API key to use the MiniMax API.", api=True):
                key = await self.services.api_key()
            return self.services.api_backend(key) if key else None
        auth = await self.account.get_auth()
        return self.services.web_backend(auth) if auth is not None else None

    def stream_gate(self, backend: Backend) -> asyncio.Lock | None:
        """The turn an answer on ``backend`` waits for: the web chat refuses a second stream per account."""
        return self._web_turn if backend.id == "web" else None

    async def login_again(self, error: AuthError | SiteRefused) -> bool:
        return await self.account.request_login(error.message)

    def reply_event(self, event: ReplyEvent) -> None:
        """Forward what a reply session reports to the widgets (each reacts to its part)."""
        # Loaded with the first reply session (ChatScreen's send), not on the start's path.
        from hailuo_tui.reply_events import (
            ErrorReported,
            HistoryShortened,
            InternalError,
            ReplyEnded,
            Saved,
            SaveProblem,
            TitleApplied,
            Waiting,
        )

        reply = event.reply
        if isinstance(event, ErrorReported):
            error = event.error
            retry = f"{self.key_for('chat.regenerate')} retries"
            hint = retry if error.retryable and not isinstance(error, (AuthError, SiteRefused)) else ""
            self._tell_widgets(ReplyProblem(error.title, error.message, hint))
        elif isinstance(event, InternalError):
            exc = event.error
            self.log.error(f"reply worker crashed: {exc!r}")
            retry = f"{self.key_for('chat.regenerate')} retries"
            self._tell_widgets(ReplyProblem("Internal error", f"{type(exc).__name__}: {exc}", retry))
        elif isinstance(event, Waiting):
            self._show_waiting(reply, event.waiting)
        elif isinstance(event, TitleApplied):
            self.run_worker(self._show_title(reply.conversation_id), group="titles", exit_on_error=False)
        elif isinstance(event, HistoryShortened):
            self.notify(f"The {event.dropped} oldest messages were not sent: the conversation is longer than "
                        "the model can read at once. They are still saved.", severity="warning")
        elif isinstance(event, SaveProblem):
            self._tell_widgets(ReplyProblem(
                f"Not saved yet: {event.reason}",
                "the answer is kept in memory and saved as soon as the database can be written", "",
            ))
        elif isinstance(event, Saved):
            bar = self.query_one(StatusBar)
            if bar.error_text.startswith("Not saved yet"):
                bar.clear_error()
        elif isinstance(event, ReplyEnded) and self.is_attached:
            if self.replies.get(reply.conversation_id) is reply:
                del self.replies[reply.conversation_id]
            shown = reply.conversation_id == self.current_id
            self._tell_widgets(ReplyFinished(reply.conversation_id, shown, event.status, event.error))
            self._update_activity()
            if shown and reply.usage is not None:
                self._show_usage_totals(reply.conversation_id)

    async def _show_title(self, conversation_id: int) -> None:
        row = await self.store.get_conversation(conversation_id)
        if row is not None:
            self.query_one(ConversationList).update_item(row)
            if conversation_id == self.current_id:
                self._set_title(row.title)
            if conversation_id in self.replies:
                self._update_activity()

    def _show_waiting(self, reply: Any, waiting: bool) -> None:
        bubble = self.query_one(ChatView).bubble_for(reply.message_id) if reply.view is not None else None
        if bubble is not None and bubble.extras is not None:
            bubble.extras.set_waiting(waiting)
        self._update_activity()
