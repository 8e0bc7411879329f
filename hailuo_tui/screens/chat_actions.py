"""The chat screen's actions on conversations and answers: each one a binding with a stable id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Input

from hailuo_tui.bindings import binding, key_label, keys_of
from hailuo_tui.domain import Role
from hailuo_tui.provider.backend import settings_label
from hailuo_tui.provider.errors import HailuoError
from hailuo_tui.history import write_export
from hailuo_tui.markdown.blocks import code_blocks
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.clipboard import copy_with_note
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.prompt_input import PromptInput
from hailuo_tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from hailuo_tui.reply_session import ReplySession


#: What the demo's empty conversation offers to send (keys: the bindings ``chat.example_1`` … ``_4``).
EXAMPLE_PROMPTS = (
    "Show me some Python code and a table",
    "Write a long essay about the sea, with code",
    "Give me a short list of Markdown features",
    "用中文介绍一下斐波那契数列，附上代码和表格",
)


class ChatActions:
    """The chat screen's ``action_*`` methods: a mixin of ``ChatScreen`` (a Screen), kept apart for size.

    It uses the screen's state and helpers declared below.
    """

    store: Any
    account: Any
    services: Any
    settings: tuple[str, str | None]
    draft: tuple[str, str | None] | None
    key_for: Any
    current_id: int | None
    replies: dict[int, ReplySession]
    editing: tuple[int, int | None] | None
    drafts: dict[int | None, str]

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
        elif self.focused is search or self.query_one("#sidebar").has_class("-overlay"):
            self.query_one("#sidebar").remove_class("-overlay")
            self.query_one(PromptInput).focus()

    def offer_examples(self) -> None:
        """In the demo, the empty state lists the example prompts with the keys that send them."""
        if not self.services.demo:
            return
        keymap = self.account.user_keymap
        keys = [key_label(keys_of(binding(f"chat.example_{n}"), keymap)) for n in range(1, len(EXAMPLE_PROMPTS) + 1)]
        self.query_one(ChatView).set_examples(list(zip(keys, EXAMPLE_PROMPTS)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send_example" and not self.services.demo:
            return False  # the key is free for the widgets outside the demo
        return super().check_action(action, parameters)  # type: ignore[misc]

    def action_send_example(self, number: int) -> None:
        """Send example prompt ``number`` (1-based), from the demo's empty conversation only."""
        if not 1 <= number <= len(EXAMPLE_PROMPTS) or not self.query_one(ChatView).is_empty:
            return
        prompt = self.query_one(PromptInput)
        prompt.post_message(PromptInput.Submitted(prompt, EXAMPLE_PROMPTS[number - 1]))

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
        self._show_sidebar(True)  # a narrow screen shows it over the conversation
        self.query_one(ConversationList).focus()

    def action_focus_input(self) -> None:
        self.query_one(PromptInput).focus()

    def action_search(self) -> None:
        self._show_sidebar(True)
        self.query_one("#search", Input).focus()

    def _show_sidebar(self, shown: bool) -> None:
        """Show or hide the sidebar: in place when the screen is wide, over the conversation when narrow."""
        sidebar = self.query_one("#sidebar")
        if self.has_class("-narrow"):
            sidebar.set_class(shown, "-overlay")
        else:
            sidebar.set_class(not shown, "-hidden")

    def _sidebar_shown(self) -> bool:
        sidebar = self.query_one("#sidebar")
        return sidebar.has_class("-overlay") if self.has_class("-narrow") else not sidebar.has_class("-hidden")

    def action_toggle_sidebar(self) -> None:
        shown = not self._sidebar_shown()
        self._show_sidebar(shown)
        if not shown:
            self.query_one(PromptInput).focus()
        elif self.has_class("-narrow"):
            self.query_one(ConversationList).focus()  # the overlay covers the message box

    def action_toggle_web_search(self) -> None:
        self.web_search = not self.web_search
        # The choice is the default from now on, in this run and the next ones.
        self.services.config.web_search = self.web_search
        saved = self.account.save_setting("web_search", self.web_search)
        where = " (saved as the default)" if saved else ""
        self.notify(f"Web search {'on' if self.web_search else 'off'} for the next messages{where}.")

    def _idle_conversation(self) -> int | None:
        """The open conversation, unless there is none or it is still answering (then say so)."""
        if self.current_id is not None and self.current_id in self.replies:
            self.notify(f"Still answering. Press {self.key_for('chat.stop')} to stop first.", severity="warning")
            return None
        return self.current_id

    async def action_follow_up(self, number: int) -> None:
        """Send the ``number``-th follow-up question suggested under the last answer."""
        conversation_id = self._idle_conversation()
        if conversation_id is None:
            return
        last = await self.store.last_message(conversation_id)
        questions = last.follow_ups if last is not None and last.role == Role.ASSISTANT else ()
        if not 0 < number <= len(questions):
            self.notify(f"There is no suggestion {number} under the last answer.", severity="warning")
            return
        await self.send_text(questions[number - 1])

    async def _last_answer(self) -> str | None:
        if self.current_id is None:
            return None
        reply = self.replies.get(self.current_id)
        if reply is not None:
            return reply.text
        last = await self.store.last_message(self.current_id, role=Role.ASSISTANT)
        return last.content if last is not None else None

    async def action_copy_answer(self) -> None:
        text = await self._last_answer()
        if not text:
            self.notify("There is no answer to copy yet.", severity="warning")
            return
        copy_with_note(self.app, text, "Copied the last answer", self.account.user_keymap)

    async def action_copy_code(self) -> None:
        from hailuo_tui.screens.code_picker_screen import CodePickerScreen

        if self.current_id is None:
            return
        messages = await self.store.messages(self.current_id)
        blocks = [b for m in messages if m.role == Role.ASSISTANT for b in code_blocks(m.content)]
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

    async def action_export_branches(self) -> None:
        await self.action_export(every_branch=True)

    async def action_export(self, every_branch: bool = False) -> None:
        """Write the branch on screen (or, ``every_branch``, every version of every message) to Markdown."""
        if self.current_id is None:
            self.notify("Nothing to export yet.", severity="warning")
            return
        row = await self.store.get_conversation(self.current_id)
        if every_branch:
            messages = await self.store.all_messages(self.current_id)
        else:
            messages = await self.store.messages(self.current_id)
        try:
            path = write_export(row.title if row else None, messages, every_branch=every_branch)
        except OSError as exc:
            self.query_one(StatusBar).set_error("Export failed", f"{exc.filename}: {exc.strerror}", "")
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
            self.account.delete_remote_chat(row)
            rows = await self.refresh_sidebar()
            remaining = [r.id for r in rows]
            following = None
            if conversation_id in ids:
                after = [i for i in ids[ids.index(conversation_id) + 1 :] if i in remaining]
                before = [i for i in ids[: ids.index(conversation_id)] if i in remaining]
                following = (after or before[-1:] or [None])[0]
            await self.open_conversation(following)
            self.drafts.pop(conversation_id, None)
            self.notify(f"Deleted “{title}”.")

        self.app.push_screen(ConfirmScreen(f"Delete “{title}” and all its messages?", confirm="Delete"), delete)

    # --- backend, model, system prompt -------------------------------------------------

    def action_toggle_thinking(self) -> None:
        """Open or fold the Thinking section of the newest answer that has one."""
        self.query_one(ChatView).action_toggle_thinking()

    async def action_pick_model(self) -> None:
        """Choose the backend and model the open conversation answers with, from its next message."""
        self.run_worker(self._pick_model(), group="model-picker", exclusive=True, exit_on_error=False)

    async def _pick_model(self) -> None:
        from hailuo_tui.provider.minimax import DOCUMENTED_MODELS
        from hailuo_tui.provider.web_backend import WEB_MODEL
        from hailuo_tui.screens.model_picker_screen import ModelPickerScreen

        key = await self.services.api_key()
        note = ""
        if key:
            try:
                listing = await self.services.api_models(key)
                models, note = list(listing.models), listing.note or ""
            except HailuoError as exc:
                models, note = list(DOCUMENTED_MODELS), f"{exc.title}: {exc.message}"
        else:
            models = list(DOCUMENTED_MODELS)
            note = "No MiniMax API key yet: choosing an API model asks for one."
        backend, model = self.settings
        current = (backend, model or (WEB_MODEL if backend == "web" else self.services.config.default_model))
        choices = [("web", WEB_MODEL)] + [("api", m) for m in models]
        chosen = await self.app.push_screen_wait(ModelPickerScreen(choices, current, note))
        if chosen is None or chosen == current:
            return
        backend, model = chosen
        if self.current_id is None:
            self.draft = (backend, model if backend == "api" else None)
        else:
            settings: dict[str, Any] = {"backend": backend, "model": model if backend == "api" else None}
            row = await self.store.get_conversation(self.current_id)
            if backend == "api" and row is not None and row.system_prompt is None and self.services.config.system_prompt:
                settings["system_prompt"] = self.services.config.system_prompt
            await self.store.set_conversation_settings(self.current_id, **settings)
        self.settings = (backend, model if backend == "api" else None)
        row = await self.store.get_conversation(self.current_id) if self.current_id is not None else None
        self._set_title(row.title if row else None)
        self.notify(f"The next message goes to {settings_label(*self.settings)}.")

    async def action_edit_system_prompt(self) -> None:
        from hailuo_tui.screens.system_prompt_screen import SystemPromptScreen

        if self.settings[0] != "api":
            self.notify(
                "The Hailuo web chat has no system prompt, so one would not reach the model. "
                f"Choose a MiniMax API model first ({self.key_for('conversation.model')}).",
                severity="warning",
            )
            return
        if self.current_id is None:
            self.notify(f"Send a message first, or pick a model ({self.key_for('conversation.model')}); then the "
                        "prompt can be set.", severity="warning")
            return
        conversation_id = self.current_id
        row = await self.store.get_conversation(conversation_id)
        text = (row.system_prompt if row else None) or ""
        note = "Sent first with every message of this conversation. Empty: no system prompt."

        async def save(value: str | None) -> None:
            if value is not None:
                await self.store.set_conversation_settings(conversation_id, system_prompt=value or None)
                self.notify("System prompt saved: it applies from the next message.")

        self.app.push_screen(SystemPromptScreen(text, note), save)
