"""The main screen: sidebar, message view, prompt; runs one reply session per answering conversation."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from hailuo_tui.bindings import CHAT_BINDINGS
from hailuo_tui.domain import MessageStatus, Paging, Role, ShownMessage
from hailuo_tui.provider import AuthError
from hailuo_tui.provider.backend import Backend, settings_label
from hailuo_tui.reply_session import (
    ErrorReported,
    HistoryShortened,
    InternalError,
    ReplyEnded,
    ReplyEvent,
    ReplySession,
    TitleApplied,
)
from hailuo_tui.sanitize import clean
from hailuo_tui.screens.account import AccountHost
from hailuo_tui.screens.chat_actions import ChatActions
from hailuo_tui.screens.transcript_keys import TranscriptKeys
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.conversation_list import ConversationList, SearchBox
from hailuo_tui.widgets.md_render import warm as warm_markdown
from hailuo_tui.widgets.prompt_input import PromptInput
from hailuo_tui.widgets.reply_messages import ReplyFinished, ReplyProblem, ReplyStarted
from hailuo_tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from hailuo_tui.services import Services

SIDEBAR_PAGE = 500
#: A search that starts with this also looks in the models' reasoning.
THINKING_PREFIX = "thinking:"


def shown_message(row: Any) -> ShownMessage:
    """A stored message as the view shows it."""
    return ShownMessage(
        row.id, row.role, row.content, row.status, row.error,
        getattr(row, "reasoning", "") or "", getattr(row, "usage", None),
    )


class ChatScreen(ChatActions, TranscriptKeys, Screen):
    """Conversations in a sidebar, the open one in the middle, a prompt below."""

    BINDINGS = CHAT_BINDINGS
    #: The prompt has the focus in the very first frame (Textual would focus the search box,
    #: the first focusable widget, and the prompt only a frame later).
    AUTO_FOCUS = "PromptInput"
    web_search: reactive[bool] = reactive(False)

    def __init__(self, services: Services, store: Any, account: AccountHost) -> None:
        super().__init__()
        self.services = services
        self.store = store
        self.account = account
        self.current_id: int | None = None
        self.replies: dict[int, ReplySession] = {}
        #: (user message id, assistant message id) being edited, if any.
        self.editing: tuple[int, int | None] | None = None
        self._searching = False
        self._search_wanted = self._search_done = 0
        self._open_lock = asyncio.Lock()
        #: Backend and model of a new conversation not saved yet (chosen with the model picker).
        self.draft: tuple[str, str | None] | None = None
        #: Backend and model of the open conversation (the header shows them).
        self.settings: tuple[str, str | None] = ("web", None)
        #: True once the conversation shown at start has been loaded (tests wait for it).
        self.loaded = False
        self._markdown_warm = False

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="layout"):
            with Vertical(id="sidebar"):
                yield SearchBox(placeholder="Search conversations…", id="search")
                yield ConversationList(id="conversations")
            with Vertical(id="main"):
                yield ChatView(id="chat-view")
                yield PromptInput(id="prompt")
        yield StatusBar(id="status-bar")
        yield Footer()

    async def on_mount(self) -> None:
        self.web_search = self.services.config.web_search
        self.query_one(ChatView).fold_thinking = self.services.config.fold_thinking
        self.query_one(PromptInput).focus()
        self.update_account()
        rows = await self.refresh_sidebar()
        # The newest conversation opens in a worker started once this first frame (sidebar
        # and focused prompt) is drawn: mounting its messages must not hold that frame back.
        # current_id is set now, so a message sent meanwhile goes to it (after the load).
        first = rows[0].id if rows else None
        self.current_id = first
        self.call_after_refresh(self._start_open_first, first)

    def _start_open_first(self, conversation_id: int | None) -> None:
        self.run_worker(self._open_first(conversation_id), group="open-first", exit_on_error=True)

    async def _open_first(self, conversation_id: int | None) -> None:
        try:
            if self.current_id == conversation_id:  # nothing else was opened meanwhile
                await self.open_conversation(conversation_id)
        finally:
            self.loaded = True
            self.account.start_up_done()

    # --- helpers --------------------------------------------------------------

    def update_account(self) -> None:
        self.query_one(StatusBar).set_account(self.account.account_label())

    def _update_activity(self) -> None:
        count = len(self.replies)
        if not count:
            self.query_one(StatusBar).set_activity("web search on" if self.web_search else "")
            return
        sidebar = self.query_one(ConversationList)
        names = [f"“{sidebar.title_of(cid) or 'New conversation'}”" for cid in self.replies]
        text = f"answering: {', '.join(names[:2])}" + (f" and {count - 2} more" if count > 2 else "")
        if self.web_search:
            text += " · web search on"
        self.query_one(StatusBar).set_activity(text)

    def _set_title(self, title: str | None) -> None:
        title = " ".join(clean(title).split()) if title else ""  # server text: never escapes in the header
        title = title or ("New conversation" if self.current_id is not None else "")
        self.sub_title = " · ".join(part for part in (title, settings_label(*self.settings)) if part)

    def _take_settings(self, row: Any) -> None:
        """Remember the open conversation's backend and model (a stored row, or None: the draft's)."""
        if row is not None:
            self.settings = (getattr(row, "backend", "web") or "web", getattr(row, "model", None))
        else:
            self.settings = self.draft or (self.services.default_backend, None)

    def _tell_widgets(self, message: Any) -> None:
        """Post a reply message to each widget that reacts to it (they never bubble)."""
        for widget in (self.query_one(ConversationList), self.query_one(PromptInput), self.query_one(StatusBar)):
            widget.post_message(message)

    async def refresh_sidebar(self) -> list[Any]:
        query = self.query_one("#search", Input).value.strip()
        # "thinking: words" also searches the models' reasoning (left out otherwise: it is long and noisy).
        thinking = query.lower().startswith(THINKING_PREFIX)
        if thinking:
            query = query[len(THINKING_PREFIX):].strip()
        rows = await (
            self.store.search(query, limit=SIDEBAR_PAGE, snippets=False, include_reasoning=thinking)
            if query
            else self.store.list_conversations(limit=SIDEBAR_PAGE)
        )
        total = None if query else await self.store.count_conversations()
        sidebar = self.query_one(ConversationList)
        sidebar.set_items(rows, total=total, label="Matches" if query else "Conversations")
        for conversation_id in self.replies:
            sidebar.set_busy(conversation_id, True)
        if self.current_id is not None:
            sidebar.select_id(self.current_id)
        if self.replies:
            self._update_activity()  # it names answering conversations by their sidebar titles
        return rows

    async def open_conversation(self, conversation_id: int | None) -> None:
        """Show a conversation (``None``: a new, not yet saved one)."""
        async with self._open_lock:  # quick switching must not interleave two loads
            await self._open_conversation(conversation_id)

    async def _open_conversation(self, conversation_id: int | None) -> None:
        old = self.replies.get(self.current_id) if self.current_id is not None else None
        if old is not None:
            old.view = None  # keeps streaming into the store
        self.editing = None
        self.current_id = conversation_id
        view = self.query_one(ChatView)
        prompt = self.query_one(PromptInput)
        if conversation_id is None:
            await view.load([])
            self._take_settings(None)
            self._set_title(None)
            prompt.busy = False
            self._update_activity()
            return
        # Take the live reply before reading: one that ends during the read leaves a stale "streaming" row.
        reply = self.replies.get(conversation_id)
        rows = await self.store.messages(conversation_id, limit=Paging.READ)
        shown = shown_reasoning = ""
        items = []
        for row in rows:
            message = shown_message(row)
            if reply is not None and row.id == reply.message_id:
                shown, shown_reasoning = reply.text, reply.reasoning
                message = ShownMessage(row.id, row.role, shown, MessageStatus.STREAMING, None, shown_reasoning)
            items.append(message)
        count = await self.store.count_messages(conversation_id)
        await view.load(items, has_older=count > len(rows))
        if reply is not None:
            bubble = view.bubble_for(reply.message_id)
            if bubble is not None:
                await reply.catch_up(bubble, shown, shown_reasoning)
        if self.current_id != conversation_id:
            return  # the user moved on while this one loaded
        # Read the title after loading: it may have arrived meanwhile.
        row = await self.store.get_conversation(conversation_id)
        self._take_settings(row)
        self._set_title(row.title if row else None)
        self._show_usage_totals(conversation_id)
        self.query_one(ConversationList).select_id(conversation_id)
        prompt.busy = conversation_id in self.replies  # live: the reply may have finished meanwhile
        self._update_activity()

    # --- sending --------------------------------------------------------------

    @on(PromptInput.Changed)
    def _warm_markdown(self) -> None:
        """The first key typed: load the Markdown parser now (after that key is drawn),
        so that sending the message does not wait for its import (it is not imported
        for the first frame)."""
        if not self._markdown_warm:
            self._markdown_warm = True
            self.call_after_refresh(warm_markdown)

    @on(PromptInput.Submitted)
    async def send_prompt(self, event: PromptInput.Submitted) -> None:
        if self.current_id is not None and self.current_id in self.replies:
            self.notify("This conversation is still answering. Press Esc to stop it.", severity="warning")
            return
        # Sending in the open conversation only adds two bubbles; reloading it all made each send O(length).
        # A new conversation's view is empty: the two bubbles go in place too (a reload would mount the
        # whole view again and hold the first frame of the answer back).
        in_place = self.editing is None
        new = self.current_id is None
        if self.editing is not None:
            user_id, assistant_id = self.editing
            self.editing = None
            await self.store.delete_message(user_id)
            if assistant_id is not None:
                await self.store.delete_message(assistant_id)
            if self.current_id is not None:
                # The server's chat holds the old turn: replay the edited history as a new chat.
                await self.store.set_remote_chat(self.current_id, None, None)
        if self.current_id is None:
            row = await self._create_conversation()
            self.current_id = row.id
        conversation_id = self.current_id
        if new:
            self._set_title(None)  # "New conversation" until the server's title arrives
        user, reply = await ReplySession.begin(self.store, conversation_id, event.text)
        self._start_reply(reply)
        if not (in_place and await self._show_new_turn(user, reply)):
            await self.open_conversation(conversation_id)
        await self._bump_in_sidebar(conversation_id)

    async def _create_conversation(self) -> Any:
        """A new conversation on the backend and model chosen for it, or the defaults (a backend that
        has a login: a user with only an API key starts API conversations)."""
        backend, model = self.draft or (await self._default_backend(), None)
        self.draft = None
        config = self.services.config
        if backend == "api":
            row = await self.store.create_conversation(
                backend="api", model=model or config.default_model, system_prompt=config.system_prompt or None
            )
        else:
            row = await self.store.create_conversation()
        self._take_settings(row)
        return row

    async def _default_backend(self) -> str:
        preferred = self.services.default_backend
        if preferred == "web" and not await self.account.has_web_login() and await self.services.api_key():
            return "api"
        if preferred == "api" and not await self.services.api_key() and await self.account.has_web_login():
            return "web"
        return preferred

    def _show_usage_totals(self, conversation_id: int | None) -> None:
        if self.settings[0] == "api" or conversation_id is None:
            self.run_worker(self._usage_totals(conversation_id), group="usage", exclusive=True, exit_on_error=False)

    async def _usage_totals(self, conversation_id: int | None) -> None:
        prompt = completion = 0
        if conversation_id is not None:
            for message in await self.store.messages(conversation_id):
                if message.usage:
                    prompt += int(message.usage.get("prompt_tokens") or 0)
                    completion += int(message.usage.get("completion_tokens") or 0)
        if conversation_id == self.current_id:
            self.query_one(StatusBar).set_usage_totals(prompt, completion)

    async def _bump_in_sidebar(self, conversation_id: int) -> None:
        """Show a conversation that just got a message: a row update, not a reload of the whole sidebar."""
        sidebar = self.query_one(ConversationList)
        ids = sidebar.item_ids()
        row = await self.store.get_conversation(conversation_id)
        if row is not None and ids and ids[0] == conversation_id and not self.query_one("#search", Input).value.strip():
            sidebar.update_item(row)  # already the newest: refresh its time in place
        else:
            await self.refresh_sidebar()  # it moves to the top, is new, or a search is on

    async def _show_new_turn(self, user: Any, reply: ReplySession) -> bool:
        """Mount the new question and its answer's bubble in the open view. False: reload the view instead."""
        async with self._open_lock:
            if self.current_id != reply.conversation_id:
                return False
            view = self.query_one(ChatView)
            await view.add_message(user.role, user.content, MessageStatus.COMPLETE, user.id)
            bubble = await view.add_message(Role.ASSISTANT, "", MessageStatus.STREAMING, reply.message_id)
            if self.current_id != reply.conversation_id:
                return False  # the user moved on: a reload shows the final state
            if reply.final is None and self.replies.get(reply.conversation_id) is not reply:
                return False
            await reply.catch_up(bubble, "")
            if reply.final is not None:
                return True
            self.query_one(PromptInput).busy = True
            self._update_activity()
            return True

    def _start_reply(self, reply: ReplySession) -> None:
        """Run a reply session in a worker of its own (one per conversation)."""
        conversation_id = reply.conversation_id
        self.replies[conversation_id] = reply
        reply.worker = self.run_worker(
            reply.run(
                self,
                web_search=self.web_search,
                thinking=self.services.config.thinking,
                titles=self.services.config.api_titles,
            ),
            group=f"reply-{conversation_id}",
            exclusive=True,
            exit_on_error=False,
            name=f"reply {conversation_id}",
        )
        self._tell_widgets(ReplyStarted(conversation_id, shown=conversation_id == self.current_id))

    # --- the reply sessions' host (reply_session.ReplyHost) --------------------------------

    async def backend_for(self, conversation: Any) -> Backend | None:
        """The backend a conversation answers with: its own (web or API), logged in."""
        if getattr(conversation, "backend", "web") == "api":
            key = await self.services.api_key()
            if not key and await self.account.request_login("Enter a MiniMax API key to use the MiniMax API.", api=True):
                key = await self.services.api_key()
            return self.services.api_backend(key) if key else None
        auth = await self.account.get_auth()
        return self.services.web_backend(auth) if auth is not None else None

    async def login_again(self, error: AuthError) -> bool:
        return await self.account.request_login(error.message)

    def reply_event(self, event: ReplyEvent) -> None:
        """Forward what a reply session reports to the widgets (each reacts to its part)."""
        reply = event.reply
        if isinstance(event, ErrorReported):
            error = event.error
            hint = "Ctrl+R retries" if error.retryable and not isinstance(error, AuthError) else ""
            self._tell_widgets(ReplyProblem(error.title, error.message, hint))
        elif isinstance(event, InternalError):
            exc = event.error
            self.log.error(f"reply worker crashed: {exc!r}")
            self._tell_widgets(ReplyProblem("Internal error", f"{type(exc).__name__}: {exc}", "Ctrl+R retries"))
        elif isinstance(event, TitleApplied):
            self.run_worker(self._show_title(reply.conversation_id), group="titles", exit_on_error=False)
        elif isinstance(event, HistoryShortened):
            self.notify(f"The {event.dropped} oldest messages were not sent: the conversation is longer than "
                        "the model can read at once. They are still saved.", severity="warning")
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

    async def stop_all(self) -> None:
        """Stop every answer and wait until each partial text is saved (before quitting)."""
        replies = list(self.replies.values())
        for reply in replies:
            reply.closing = True
            if reply.worker is not None:
                reply.worker.cancel()
        for reply in replies:
            if reply.worker is not None:
                try:
                    await reply.worker.wait()
                except Exception:
                    pass  # cancelled or failed: the session has saved what there was

    # --- sidebar, search, paging ----------------------------------------------------

    def watch_web_search(self) -> None:
        if self.is_mounted:
            self._update_activity()

    @on(ConversationList.Selected)
    async def conversation_chosen(self, event: ConversationList.Selected) -> None:
        if event.conversation_id != self.current_id:
            await self.open_conversation(event.conversation_id)
        self.query_one(PromptInput).focus()  # the next keys typed are a message

    @on(ChatView.OlderRequested)
    async def load_older(self, event: ChatView.OlderRequested) -> None:
        if self.current_id is None:
            return
        rows = await self.store.messages(self.current_id, limit=Paging.READ, before_id=event.before_id)
        if rows:
            oldest = rows[0].id
            has_older = bool(await self.store.messages(self.current_id, limit=1, before_id=oldest))
            await self.query_one(ChatView).prepend([shown_message(m) for m in rows], has_older=has_older)

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        # No debounce: the first key searches at once (a search of 10,000 conversations
        # takes a few ms). Keys typed while one runs are coalesced: one more search, for
        # the latest text, follows it.
        self._search_wanted += 1
        if not self._searching:
            self._searching = True
            self._run_search()

    @work(group="search")
    async def _run_search(self) -> None:
        try:
            while self._search_done != self._search_wanted:
                self._search_done = self._search_wanted
                await self.refresh_sidebar()
        finally:
            self._searching = False

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.query_one(ConversationList).focus()
