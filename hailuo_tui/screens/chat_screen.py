"""The main screen: sidebar, message view, prompt; runs one reply session per answering conversation."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Header, Input

from hailuo_tui.bindings import CHAT_BINDINGS, key_name
from hailuo_tui.domain import MessageStatus, Paging, Role, ShownMessage
from hailuo_tui.provider.backend import settings_label
from hailuo_tui.sanitize import clean
from hailuo_tui.store import StoreError
from hailuo_tui.screens.account import AccountHost
from hailuo_tui.screens.breakpoints import breakpoint_classes
from hailuo_tui.screens.chat_actions import ChatActions
from hailuo_tui.screens.message_actions import MessageActions
from hailuo_tui.screens.reply_host import ReplyHosting
from hailuo_tui.screens.store_faults import StoreFaults
from hailuo_tui.screens.chat_search import SIDEBAR_PAGE, THINKING_PREFIX, ChatSearch  # noqa: F401 (re-exported)
from hailuo_tui.screens.transcript_keys import TranscriptKeys
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.conversation_list import ConversationList, SearchBox
from hailuo_tui.markdown.blocks import warm as warm_markdown
from hailuo_tui.widgets.prompt_input import PromptInput
from hailuo_tui.widgets.reply_messages import ReplyStarted
from hailuo_tui.widgets.status_bar import StatusBar
from hailuo_tui.widgets.steady_footer import SteadyFooter

if TYPE_CHECKING:
    from hailuo_tui.reply_session import ReplySession
    from hailuo_tui.services import Services

#: Narrower than this many columns, the sidebar collapses.
NARROW_BELOW = 100


def shown_message(row: Any) -> ShownMessage:
    """A stored message as the view shows it."""
    return ShownMessage(
        row.id, row.role, row.content, row.status, row.error,
        row.reasoning, row.usage, tuple(row.sources), tuple(row.follow_ups),
        version=getattr(row, "version", 1), versions=getattr(row, "versions", 1),
    )


class ChatScreen(StoreFaults, ReplyHosting, MessageActions, ChatActions, ChatSearch, TranscriptKeys, Screen):
    """Conversations in a sidebar, the open one in the middle, a prompt below."""

    BINDINGS = CHAT_BINDINGS
    #: The prompt has the focus in the very first frame (Textual would focus the search box,
    #: the first focusable widget, and the prompt only a frame later).
    AUTO_FOCUS = "PromptInput"
    #: Below 100 columns the sidebar is hidden (``-narrow``); Ctrl+B shows it over the conversation.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    web_search: reactive[bool] = reactive(False)

    def __init__(self, services: Services, store: Any, account: AccountHost) -> None:
        super().__init__(classes=breakpoint_classes(ChatScreen, self.app))
        self.services = services
        self.store = store
        self.account = account
        self.current_id: int | None = None
        self.replies: dict[int, ReplySession] = {}
        #: The question being edited (its id, its parent's id): sending makes a new version of it.
        self.editing: tuple[int, int | None] | None = None
        self._searching = False
        self._search_worker: Any = None
        self._search_wanted = self._search_done = 0
        self._open_lock = asyncio.Lock()
        #: Backend and model of a new conversation not saved yet (chosen with the model picker).
        self.draft: tuple[str, str | None] | None = None
        #: Backend and model of the open conversation (the header shows them).
        self.settings: tuple[str, str | None] = ("web", None)
        #: Set once the conversation shown at start has been loaded, or its load failed or was cancelled (the
        #: welcome screen waits for it; `loaded` reads it).
        self.first_opened = asyncio.Event()
        self._markdown_warm = False
        #: The web chat streams one answer per account at a time: answers on it take turns (see stream_gate).
        self._web_turn = asyncio.Lock()
        self._title: str | None = None
        #: Text typed but not sent, per conversation (None: the new one), while another is open.
        self.drafts: dict[int | None, str] = {}

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
        yield SteadyFooter()

    @property
    def loaded(self) -> bool:
        """Whether the conversation shown at start has been loaded (tests and benches wait for it)."""
        return self.first_opened.is_set()

    async def on_mount(self) -> None:
        self.web_search = self.services.config.web_search
        self.query_one(ChatView).fold_thinking = self.services.config.fold_thinking
        self.offer_examples()
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
        except StoreError as exc:
            self.store_problem(exc)
        finally:
            self.first_opened.set()
            self.account.start_up_done()

    # --- helpers --------------------------------------------------------------

    def key_for(self, binding_id: str) -> str:
        """The name of the (first) key bound to ``binding_id`` now, after the user's keymap: "Ctrl+R"."""
        return key_name(binding_id, self.account.user_keymap)

    def update_account(self) -> None:
        self.query_one(StatusBar).set_account(self.account.account_label())

    def _update_activity(self) -> None:
        count = len(self.replies)
        if not count:
            self.query_one(StatusBar).set_activity("web search on" if self.web_search else "")
            return
        sidebar = self.query_one(ConversationList)

        def named(label: str, ids: list[int]) -> str:
            names = [f"“{sidebar.title_of(cid) or 'New conversation'}”" for cid in ids]
            more = f" and {len(names) - 2} more" if len(names) > 2 else ""
            return f"{label}: {', '.join(names[:2])}{more}" if names else ""

        queued = [cid for cid, reply in self.replies.items() if reply.waiting]
        text = "; ".join(part for part in (
            named("answering", [cid for cid in self.replies if cid not in queued]),
            named("waiting (one answer at a time per account)", queued),
        ) if part)
        if self.web_search:
            text += " · web search on"
        self.query_one(StatusBar).set_activity(text)

    def _set_title(self, title: str | None) -> None:
        self._title = title
        title = " ".join(clean(title).split()) if title else ""  # server text: never escapes in the header
        title = title or ("New conversation" if self.current_id is not None else "")
        search = "web search on" if self.web_search and self.settings[0] == "web" else ""
        self.sub_title = " · ".join(part for part in (title, settings_label(*self.settings), search) if part)


    def _take_settings(self, row: Any) -> None:
        """Remember the open conversation's backend and model (a stored row, or None: the draft's)."""
        if row is not None:
            backend = row.backend or "web"
            # An API conversation without its own model uses the configured default: the header names it.
            self.settings = (backend, row.model or (self.services.config.default_model if backend == "api" else None))
        else:
            self.settings = self.draft or (self.services.default_backend, None)

    def _tell_widgets(self, message: Any) -> None:
        """Post a reply message to each widget that reacts to it (they never bubble)."""
        for widget in (self.query_one(ConversationList), self.query_one(PromptInput), self.query_one(StatusBar)):
            widget.post_message(message)

    async def open_conversation(self, conversation_id: int | None, *, focus_id: int | None = None) -> None:
        """Show a conversation (``None``: a new, not yet saved one); with ``focus_id``, at that message,
        the message cursor on it (a search hit, a switched version), instead of at the bottom."""
        async with self._open_lock:  # quick switching must not interleave two loads
            await self._open_conversation(conversation_id, focus_id)

    async def _open_conversation(self, conversation_id: int | None, focus_id: int | None = None) -> None:
        old = self.replies.get(self.current_id) if self.current_id is not None else None
        if old is not None:
            old.view = None  # keeps streaming into the store
        prompt = self.query_one(PromptInput)
        if self.editing is None:  # an edit of the last message is not a draft
            self.drafts[self.current_id] = prompt.text
        self.editing = None
        self.current_id = conversation_id
        self._restore_draft(prompt, self.drafts.pop(conversation_id, ""))
        view = self.query_one(ChatView)
        if conversation_id is None:
            await view.load([])
            self._take_settings(None)
            self._set_title(None)
            prompt.busy = False
            self._update_activity()
            return
        # Take the live reply before reading: one that ends during the read leaves a stale "streaming" row.
        reply = self.replies.get(conversation_id)
        rows, has_older = await self.read_for_opening(conversation_id, focus_id)
        shown = shown_reasoning = ""
        items = []
        for row in rows:
            message = shown_message(row)
            if reply is not None and row.id == reply.message_id:
                shown, shown_reasoning = reply.text, reply.reasoning
                message = ShownMessage(row.id, row.role, shown, MessageStatus.STREAMING, None, shown_reasoning,
                                       version=row.version, versions=row.versions)
            items.append(message)
        await view.load(items, has_older=has_older, focus_id=focus_id)
        if reply is not None:
            bubble = view.bubble_for(reply.message_id)
            if bubble is not None:
                await reply.catch_up(bubble, shown, shown_reasoning)
                if reply.waiting and bubble.extras is not None:
                    bubble.extras.set_waiting(True)
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

    @staticmethod
    def _restore_draft(prompt: PromptInput, text: str) -> None:
        if prompt.text != text:
            prompt.load_text(text)
            prompt.move_cursor(prompt.document.end)

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
        await self.send_text(event.text)

    async def send_text(self, text: str) -> None:
        """Send ``text`` in the open conversation (a new one if none is open), as Enter in the prompt does."""
        if self.current_id is not None and self.current_id in self.replies:
            unsaved = self.replies[self.current_id].unsaved
            self._restore_typed(text)
            if unsaved:
                self.notify(f"The last answer is not saved yet ({unsaved}); hailuo-tui keeps trying. "
                            "Your message stays in the box.", severity="warning", markup=False)
            else:
                self.notify(f"This conversation is still answering. Press {self.key_for('chat.stop')} to stop it.",
                            severity="warning")
            return
        try:
            await self._send(text)
        except StoreError as exc:  # deleting an edited turn or creating the conversation failed
            self._keep_typed(text, exc)

    async def _send(self, text: str) -> None:
        # Sending in the open conversation only adds two bubbles; reloading it all made each send O(length).
        # A new conversation's view is empty: the two bubbles go in place too (a reload would mount the
        # whole view again and hold the first frame of the answer back).
        in_place = self.editing is None
        new = self.current_id is None
        # An edit is a new version of the question, beside the old one (the same parent): nothing is
        # deleted. On the web backend the server's chat holds the old line; the store's line rule
        # (remote_leaf_id) starts a new server chat with the history folded.
        edited_parent = {} if self.editing is None else {"parent_id": self.editing[1]}
        self.editing = None
        if self.current_id is None:
            row = await self._create_conversation()
            self.current_id = row.id
        conversation_id = self.current_id
        if new:
            self._set_title(None)  # "New conversation" until the server's title arrives
        try:
            # Imported at the first send, not on the start's path: the session and its events (ten dataclasses)
            # are ~5.5 ms of module bodies before the first frame; the first send pays them once.
            from hailuo_tui.reply_session import ReplySession

            user, reply = await ReplySession.begin(self.store, conversation_id, text, **edited_parent)
        except StoreError as exc:
            self._keep_typed(text, exc)
            return
        self._start_reply(reply)
        if not (in_place and await self._show_new_turn(user, reply)):
            await self.open_conversation(conversation_id)
        await self._bump_in_sidebar(conversation_id)

    async def _create_conversation(self) -> Any:
        """A new conversation on the backend and model chosen for it, or the defaults (a backend that
        has a login: a user with only an API key starts API conversations)."""
        backend, model = self.draft or (self._default_backend(), None)
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

    def _default_backend(self) -> str:
        # Decided from what is known now: waiting here for the stored logins (read after the first
        # frame) would hold the Enter that sent the message; the backend asks for a login if needed.
        preferred = self.services.default_backend
        web, api = self.account.has_web_login(), self.account.has_api_key()
        if preferred == "web" and web is False and api:
            return "api"
        if preferred == "api" and not api and web:
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
            if reply.waiting and bubble.extras is not None:
                bubble.extras.set_waiting(True)
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

    async def stop_all(self) -> None:
        """Stop every answer and wait until each partial text is saved (before quitting)."""
        replies = list(self.replies.values())
        for reply in replies:
            reply.closing = True
            reply.wake()  # a final save waiting to retry tries its last times now
            if reply.worker is not None:
                reply.worker.cancel()
        for reply in replies:
            if reply.worker is not None:
                try:
                    await reply.worker.wait()
                except Exception:
                    pass  # cancelled or failed: the session has saved what there was
            if reply.finishing is not None:
                # The worker's cancel does not wait for a final save that is retrying (it is shielded).
                await asyncio.wait([reply.finishing], timeout=30)

    # --- sidebar, search, paging ----------------------------------------------------

    def watch_web_search(self) -> None:
        if self.is_mounted:
            self._update_activity()
            self._set_title(self._title)

    @on(ConversationList.Selected)
    async def conversation_chosen(self, event: ConversationList.Selected) -> None:
        await self.open_chosen(event.conversation_id)

    @on(ChatView.MessageCommandRequested)
    async def message_command(self, event: ChatView.MessageCommandRequested) -> None:
        await self.on_message_command(event.command, event.message_id)

    @on(ChatView.OlderRequested)
    def older_requested(self, event: ChatView.OlderRequested) -> None:
        # Read in a worker: awaited here, the read held the screen's queue, and with it the layout requests of
        # a page the view mounted meanwhile from the messages it holds; draw_when_laid_out gave up waiting
        # for them and that page waited for the next frame tick. Every tenth page of a long conversation (the
        # one that asks the store for more, ahead of need) took 5-19 ms longer (bench/app_scale.py
        # open-2000+top: 33 of 330 pages, the 11 slowest among them).
        # A store refusal in it is said on screen by the app's last net (AppGuards), as any worker's.
        self.run_worker(self.load_older(event), group="older", exit_on_error=True)

    async def load_older(self, event: ChatView.OlderRequested) -> None:
        """Give the chat view the page of stored messages before ``event.before_id`` (or say there is none)."""
        conversation_id = self.current_id
        if conversation_id is None:
            return
        rows = await self.store.messages(conversation_id, limit=Paging.READ, before_id=event.before_id)
        has_older = bool(rows) and bool(await self.store.messages(conversation_id, limit=1, before_id=rows[0].id))
        if self.current_id != conversation_id:  # another conversation opened during the read: not its page
            return
        # No rows: nothing older after all, which is said too (a message cursor going up waits for this answer).
        await self.query_one(ChatView).prepend(
            [shown_message(m) for m in rows], has_older=has_older, before_id=event.before_id
        )

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self._search_typed()

    @on(Input.Submitted, "#search")
    async def search_submitted(self) -> None:
        await self.open_first_match()
