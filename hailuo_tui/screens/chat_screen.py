"""The main screen: sidebar, message view, prompt; owns the reply workers."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Header, Input

from hailuo_tui.bindings import CHAT_BINDINGS
from hailuo_tui.history import export_markdown, export_path, provider_messages, server_conversation
from hailuo_tui.markdown_blocks import code_blocks
from hailuo_tui.provider import (
    AuthError,
    ChatStarted,
    Finished,
    HailuoError,
    SearchSources,
    StreamInterrupted,
    TextDelta,
    TitleGenerated,
)
from hailuo_tui.sanitize import clean
from hailuo_tui.screens.reply import Reply
from hailuo_tui.store import token_fingerprint
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.md_render import warm as warm_markdown
from hailuo_tui.widgets.conversation_list import ConversationList, SearchBox
from hailuo_tui.widgets.prompt_input import PromptInput
from hailuo_tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from hailuo_tui.app import HailuoApp

#: How often a streaming answer is written to the database (in the background: see Reply.tasks).
SAVE_INTERVAL = 0.5
#: A reply worker reading a backlog of events yields to the loop after this long, so frames get drawn.
TIME_SLICE = 0.008
#: A gap between two events longer than this means the worker waited (the loop ran meanwhile).
WAITED = 0.001
#: Messages mounted when a conversation opens (older ones load on scroll).
INITIAL_MESSAGES = 60
SIDEBAR_PAGE = 500


class ChatScreen(Screen):
    """Conversations in a sidebar, the open one in the middle, a prompt below."""

    BINDINGS = CHAT_BINDINGS
    #: The prompt has the focus in the very first frame (Textual would focus the search box,
    #: the first focusable widget, and the prompt only a frame later).
    AUTO_FOCUS = "PromptInput"
    web_search: reactive[bool] = reactive(False)

    def __init__(self) -> None:
        super().__init__()
        self.current_id: int | None = None
        self.replies: dict[int, Reply] = {}
        #: (user message id, assistant message id) being edited, if any.
        self.editing: tuple[int, int | None] | None = None
        self._searching = False
        self._search_wanted = self._search_done = 0
        self._open_lock = asyncio.Lock()
        #: True once the conversation shown at start has been loaded (tests wait for it).
        self.loaded = False
        self._markdown_warm = False

    @property
    def hailuo(self) -> "HailuoApp":
        return self.app  # type: ignore[return-value]

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
        self.web_search = self.hailuo.services.config.web_search
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
            self.hailuo.start_up_done()

    # --- helpers --------------------------------------------------------------

    @property
    def store(self):
        return self.hailuo.store

    def update_account(self) -> None:
        self.query_one(StatusBar).set_account(self.hailuo.account_label())

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
        self.sub_title = title or ("New conversation" if self.current_id is not None else "")

    async def refresh_sidebar(self) -> list[Any]:
        query = self.query_one("#search", Input).value.strip()
        rows = await (
            self.store.search(query, limit=SIDEBAR_PAGE, snippets=False)
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
            old.bubble = None  # keeps streaming into the store
        self.editing = None
        self.current_id = conversation_id
        view = self.query_one(ChatView)
        prompt = self.query_one(PromptInput)
        if conversation_id is None:
            await view.load([])
            self._set_title(None)
            prompt.busy = False
            self._update_activity()
            return
        # Take the live reply before reading: one that ends during the read leaves a stale "streaming" row.
        reply = self.replies.get(conversation_id)
        rows = await self.store.messages(conversation_id, limit=INITIAL_MESSAGES)
        shown = ""
        items = []
        for message in rows:
            content, status = message.content, message.status
            if reply is not None and message.id == reply.message_id:
                shown = content = reply.text
                status = "streaming"
            items.append((message.id, message.role, content, status, message.error))
        count = await self.store.count_messages(conversation_id)
        await view.load(items, has_older=count > len(rows))
        if reply is not None:
            bubble = view.bubble_for(reply.message_id)
            if bubble is not None:
                await self._catch_up(reply, bubble, shown)
        if self.current_id != conversation_id:
            return  # the user moved on while this one loaded
        # Read the title after loading: it may have arrived meanwhile.
        row = await self.store.get_conversation(conversation_id)
        self._set_title(row.title if row else None)
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
        text = event.text
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
            row = await self.store.create_conversation()
            self.current_id = row.id
        conversation_id = self.current_id
        if new:
            self._set_title(None)  # "New conversation" until the server's title arrives
        # Saved before it is sent: a crash or a network error never loses it.
        user = await self.store.add_message(conversation_id, "user", text)
        reply = await self._start_reply(conversation_id)
        if not (in_place and await self._show_new_turn(user, reply)):
            await self.open_conversation(conversation_id)
        await self._bump_in_sidebar(conversation_id)

    async def _catch_up(self, reply: Reply, bubble: Any, shown: str) -> None:
        """Bring a bubble that shows ``shown`` of a reply up to date.

        Text that arrived while the view was busy is appended; then the bubble either
        receives the live deltas, or (the reply ended meanwhile: a short answer, a quick
        error) shows the final status that _finish_reply saved.
        """
        missed = reply.text[len(shown):]
        if reply.final is None:
            reply.bubble = bubble
        if missed:
            await bubble.append(missed)
        if reply.final is not None:
            await bubble.finish(*reply.final)

    async def _bump_in_sidebar(self, conversation_id: int) -> None:
        """Show a conversation that just got a message: a row update, not a reload of the whole sidebar."""
        sidebar = self.query_one(ConversationList)
        ids = sidebar.item_ids()
        row = await self.store.get_conversation(conversation_id)
        if row is not None and ids and ids[0] == conversation_id and not self.query_one("#search", Input).value.strip():
            sidebar.update_item(row)  # already the newest: refresh its time in place
        else:
            await self.refresh_sidebar()  # it moves to the top, is new, or a search is on

    async def _show_new_turn(self, user: Any, reply: Reply) -> bool:
        """Mount the new question and its answer's bubble in the open view. False: reload the view instead."""
        async with self._open_lock:
            if self.current_id != reply.conversation_id:
                return False
            view = self.query_one(ChatView)
            await view.add_message("user", user.content, "complete", user.id)
            bubble = await view.add_message("assistant", "", "streaming", reply.message_id)
            if self.current_id != reply.conversation_id:
                return False  # the user moved on: a reload shows the final state
            if reply.final is None and self.replies.get(reply.conversation_id) is not reply:
                return False
            await self._catch_up(reply, bubble, "")
            if reply.final is not None:
                return True
            self.query_one(PromptInput).busy = True
            self._update_activity()
            return True

    async def _start_reply(self, conversation_id: int) -> Reply:
        assistant = await self.store.add_message(conversation_id, "assistant", "", status="streaming")
        reply = Reply(conversation_id, assistant.id)
        self.replies[conversation_id] = reply
        reply.worker = self.run_worker(
            self._stream_reply(reply, self.web_search),
            group=f"reply-{conversation_id}",
            exclusive=True,
            exit_on_error=False,
            name=f"reply {conversation_id}",
        )
        self.query_one(ConversationList).set_busy(conversation_id, True)
        return reply

    async def _stream_reply(self, reply: Reply, web_search: bool) -> None:
        """The reply worker: stream one answer into the store and, when visible, the view."""
        store = self.store
        status, error = "complete", None
        last_save = time.monotonic()
        try:
            for attempt in range(2):
                auth = await self.hailuo.get_auth()
                if auth is None:
                    status, error = "failed", "Not logged in."
                    return
                row = await store.get_conversation(reply.conversation_id)
                history = provider_messages(
                    m for m in await store.messages(reply.conversation_id) if m.id != reply.message_id
                )
                conversation = server_conversation(row, auth, token_fingerprint(auth.token))
                try:
                    # Only the text is handled inline; store writes and sidebar updates run beside the
                    # stream (reply.tasks), so no database round trip holds the first words back.
                    busy_since = idle_at = time.monotonic()
                    async for event in self.hailuo.services.chat(history, auth, conversation, web_search=web_search):
                        now = time.monotonic()
                        if now - idle_at > WAITED:
                            busy_since = now  # the stream waited for the network: the app had its turn
                        if isinstance(event, TextDelta):
                            reply.text += event.text
                            if reply.bubble is not None:
                                await reply.bubble.append(event.text)
                            if now - last_save >= SAVE_INTERVAL and (reply.saving is None or reply.saving.done()):
                                last_save = now
                                reply.saving = reply.in_background(
                                    store.update_message(reply.message_id, content=reply.text)
                                )
                        elif isinstance(event, ChatStarted):
                            reply.in_background(
                                store.set_remote_chat(reply.conversation_id, event.chat_id, token_fingerprint(auth.token))
                            )
                        elif isinstance(event, TitleGenerated):
                            reply.in_background(self._apply_title(reply.conversation_id, event.title))
                        elif isinstance(event, SearchSources):
                            reply.sources = list(event.links)
                        elif isinstance(event, Finished):
                            if event.text and event.text != reply.text and event.text.startswith(reply.text):
                                rest = event.text[len(reply.text):]
                                reply.text = event.text
                                if reply.bubble is not None:
                                    await reply.bubble.append(rest)
                        idle_at = time.monotonic()
                        if idle_at - busy_since >= TIME_SLICE:
                            # A backlog (a burst, or the app was busy) is read without waiting: let the
                            # screen draw between slices, or it shows nothing until the backlog is gone.
                            await asyncio.sleep(0)
                            busy_since = idle_at = time.monotonic()
                    return
                except AuthError as exc:
                    if attempt or reply.text:
                        raise
                    await self._show_error(exc)
                    if not await self.hailuo.request_login(exc.message):
                        raise
                    # logged in again: retry the same message once
        except asyncio.CancelledError:
            status, error = "interrupted", "Stopped." if reply.stopped else "Cancelled."
            raise
        except StreamInterrupted as exc:
            status, error = "interrupted", exc.message
            await self._show_error(exc)
        except HailuoError as exc:
            status, error = ("interrupted" if reply.text else "failed"), exc.message
            await self._show_error(exc)
        except Exception as exc:  # a bug: keep the text, say so, keep the app up
            self.log.error(f"reply worker crashed: {exc!r}")
            status, error = ("interrupted" if reply.text else "failed"), f"Internal error: {type(exc).__name__}"
            self.query_one(StatusBar).set_error("Internal error", f"{type(exc).__name__}: {exc}", "Ctrl+R retries")
        finally:
            await asyncio.shield(self._finish_reply(reply, status, error))

    async def _finish_reply(self, reply: Reply, status: str, error: str | None) -> None:
        if reply.closing:
            error = "Stopped when hailuo-tui was closed."
        # The chat id, the title and any periodic save first: the final save comes after them.
        for exc in await reply.settle():
            self.log.error(f"reply {reply.message_id}: background store work failed: {exc!r}")
        reply.final = (status, error)
        try:
            await self.store.update_message(reply.message_id, content=reply.text, status=status, error=error)
        except Exception as exc:  # the store closed under us (app shutting down): the last batch stands
            self.log.error(f"could not save the final answer: {exc!r}")
        if reply.bubble is not None and reply.bubble.is_attached:
            await reply.bubble.finish(status, error)
        if not self.is_attached:
            return
        if self.replies.get(reply.conversation_id) is reply:
            del self.replies[reply.conversation_id]
        self.query_one(ConversationList).set_busy(reply.conversation_id, False)
        if reply.conversation_id == self.current_id:
            self.query_one(PromptInput).busy = False
        if status == "complete":
            self.query_one(StatusBar).clear_error()
        self._update_activity()

    async def _apply_title(self, conversation_id: int, title: str) -> None:
        title = " ".join(clean(title).split())  # untrusted: no escapes or controls in the store, sidebar, exports
        if not title:
            return
        if await self.store.apply_server_title(conversation_id, title):
            row = await self.store.get_conversation(conversation_id)
            if row is not None:
                self.query_one(ConversationList).update_item(row)
                if conversation_id == self.current_id:
                    self._set_title(row.title)
                if conversation_id in self.replies:
                    self._update_activity()

    async def _show_error(self, exc: HailuoError) -> None:
        hint = "Ctrl+R retries" if exc.retryable and not isinstance(exc, AuthError) else ""
        self.query_one(StatusBar).set_error(exc.title, exc.message, hint)

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
                    pass  # cancelled or failed: _finish_reply has saved what there was

    # --- actions --------------------------------------------------------------

    def action_stop(self) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search and search.value:
            search.value = ""
            return
        reply = self.replies.get(self.current_id) if self.current_id is not None else None
        if reply is not None and reply.worker is not None:
            reply.stopped = True
            reply.worker.cancel()
        elif self.editing is not None:
            self.editing = None
            self.query_one(PromptInput).clear()
        elif self.focused is search:
            self.query_one(PromptInput).focus()

    async def action_new_conversation(self) -> None:
        await self.open_conversation(None)
        self.query_one(PromptInput).focus()

    async def _step_conversation(self, step: int) -> None:
        ids = self.query_one(ConversationList).item_ids()
        if not ids:
            return
        if self.current_id in ids:
            index = (ids.index(self.current_id) + step) % len(ids)
        else:
            index = 0 if step > 0 else len(ids) - 1
        await self.open_conversation(ids[index])

    async def action_previous_conversation(self) -> None:
        await self._step_conversation(-1)

    async def action_next_conversation(self) -> None:
        await self._step_conversation(1)

    def action_focus_sidebar(self) -> None:
        self.query_one(ConversationList).focus()

    def action_focus_input(self) -> None:
        self.query_one(PromptInput).focus()

    def action_search(self) -> None:
        self.query_one("#sidebar").display = True
        self.query_one("#search", Input).focus()

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        sidebar.display = not sidebar.display
        if not sidebar.display:
            self.query_one(PromptInput).focus()

    def action_toggle_web_search(self) -> None:
        self.web_search = not self.web_search
        self.notify(f"Web search {'on' if self.web_search else 'off'} for the next messages.")

    def watch_web_search(self) -> None:
        if self.is_mounted:
            self._update_activity()

    @on(ConversationList.Selected)
    async def conversation_chosen(self, event: ConversationList.Selected) -> None:
        if event.conversation_id != self.current_id:
            await self.open_conversation(event.conversation_id)

    @on(ChatView.OlderRequested)
    async def load_older(self, event: ChatView.OlderRequested) -> None:
        if self.current_id is None:
            return
        rows = await self.store.messages(self.current_id, limit=INITIAL_MESSAGES, before_id=event.before_id)
        if rows:
            oldest = rows[0].id
            has_older = bool(await self.store.messages(self.current_id, limit=1, before_id=oldest))
            await self.query_one(ChatView).prepend(
                [(m.id, m.role, m.content, m.status, m.error) for m in rows], has_older=has_older
            )

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

    def _idle_conversation(self) -> int | None:
        """The open conversation, unless there is none or it is still answering (then say so)."""
        if self.current_id is not None and self.current_id in self.replies:
            self.notify("Still answering. Press Esc to stop first.", severity="warning")
            return None
        return self.current_id

    async def action_regenerate(self) -> None:
        conversation_id = self._idle_conversation()
        if conversation_id is None:
            return
        last = await self.store.last_message(conversation_id)
        if last is None:
            return
        if last.role == "assistant":
            await self.store.delete_message(last.id)
        await self._start_reply(conversation_id)
        await self.open_conversation(conversation_id)

    async def action_edit_last(self) -> None:
        conversation_id = self._idle_conversation()
        if conversation_id is None:
            return
        user = await self.store.last_message(conversation_id, role="user")
        if user is None:
            return
        last = await self.store.last_message(conversation_id)
        assistant_id = last.id if last is not None and last.role == "assistant" and last.id > user.id else None
        self.editing = (user.id, assistant_id)
        prompt = self.query_one(PromptInput)
        prompt.load_text(user.content)
        prompt.focus()
        self.notify("Editing your last message: Enter resends it as a new chat, Esc cancels.")

    async def _last_answer(self) -> str | None:
        if self.current_id is None:
            return None
        reply = self.replies.get(self.current_id)
        if reply is not None:
            return reply.text
        last = await self.store.last_message(self.current_id, role="assistant")
        return last.content if last is not None else None

    async def action_copy_answer(self) -> None:
        text = await self._last_answer()
        if not text:
            self.notify("There is no answer to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(
            "Copied the last answer (via the terminal's OSC 52). "
            "If your terminal does not support it, export the conversation with Ctrl+S."
        )

    async def action_copy_code(self) -> None:
        from hailuo_tui.screens.code_picker_screen import CodePickerScreen

        if self.current_id is None:
            return
        messages = await self.store.messages(self.current_id)
        blocks = [b for m in messages if m.role == "assistant" for b in code_blocks(m.content)]
        reply = self.replies.get(self.current_id)
        if reply is not None:
            blocks += code_blocks(reply.text)
        if not blocks:
            self.notify("No code blocks in this conversation.", severity="warning")
            return

        def copy(index: int | None) -> None:
            if index is not None:
                self.app.copy_to_clipboard(blocks[index][1])
                self.notify("Copied the code block (OSC 52).")

        self.app.push_screen(CodePickerScreen(blocks), copy)

    async def action_export(self) -> None:
        if self.current_id is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        row = await self.store.get_conversation(self.current_id)
        text = export_markdown(row.title if row else None, await self.store.messages(self.current_id))
        directory = Path.cwd() if os.access(Path.cwd(), os.W_OK) else Path.home()
        path = export_path(row.title if row else None, directory)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            self.query_one(StatusBar).set_error("Export failed", f"{path}: {exc.strerror}", "")
            return
        self.notify(f"Exported to {path}")

    async def action_rename(self) -> None:
        from hailuo_tui.screens.rename_screen import RenameScreen

        if self.current_id is None:
            self.notify("Send a message first; then the conversation can be renamed.", severity="warning")
            return
        conversation_id = self.current_id
        row = await self.store.get_conversation(conversation_id)

        async def rename(title: str | None) -> None:
            if title:
                renamed = await self.store.rename(conversation_id, title)
                self.query_one(ConversationList).update_item(renamed)
                if conversation_id == self.current_id:
                    self._set_title(renamed.title)

        self.app.push_screen(RenameScreen(row.title if row else ""), rename)

    async def action_delete(self) -> None:
        from hailuo_tui.screens.confirm_screen import ConfirmScreen

        if self.current_id is None:
            return
        conversation_id = self.current_id
        row = await self.store.get_conversation(conversation_id)
        title = (row.title if row else None) or "this conversation"

        async def delete(confirmed: bool | None) -> None:
            if not confirmed:
                return
            reply = self.replies.pop(conversation_id, None)
            if reply is not None and reply.worker is not None:
                reply.worker.cancel()
            ids = self.query_one(ConversationList).item_ids()
            await self.store.delete_conversation(conversation_id)
            self.hailuo.delete_remote_chat(row)
            rows = await self.refresh_sidebar()
            remaining = [r.id for r in rows]
            following = None
            if conversation_id in ids:
                after = [i for i in ids[ids.index(conversation_id) + 1 :] if i in remaining]
                before = [i for i in ids[: ids.index(conversation_id)] if i in remaining]
                following = (after or before[-1:] or [None])[0]
            await self.open_conversation(following)
            self.notify(f"Deleted “{title}”.")

        self.app.push_screen(ConfirmScreen(f"Delete “{title}” and all its messages?", confirm="Delete"), delete)
