"""What a reader does to one message of the conversation: edit it, answer it again, delete, fork, versions.

A mixin of ``ChatScreen``. The store keeps a tree (``store/branches.py``): an edited question or a
regenerated answer is a new version beside the old one, never a replacement, and ``switch_version``
shows the conversation as it was on another branch. Which message is meant comes from the chat
view's message cursor (``ChatView.MessageCommandRequested``) or, for the keys that act on the end
of the conversation (Ctrl+R, Ctrl+↑), from the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hailuo_tui.domain import MessageCommand, Paging, Role
from hailuo_tui.screens.confirm_screen import ConfirmScreen
from hailuo_tui.store import StoreError
from hailuo_tui.widgets.prompt_input import PromptInput

if TYPE_CHECKING:
    from hailuo_tui.reply_session import ReplySession

#: How many messages above a search hit are mounted with it (the ones below it all are).
HIT_CONTEXT = 6


class MessageActions:
    """Edit, regenerate, delete, fork and switch versions of any message, for ``ChatScreen``."""

    store: Any
    current_id: int | None
    replies: dict[int, ReplySession]
    editing: tuple[int, int | None] | None
    key_for: Any

    # -- the two keys that act on the end of the conversation ---------------------------------

    async def action_regenerate(self) -> None:
        """Ctrl+R: a new version of the last answer (or an answer to a last question left without one)."""
        conversation_id = self._idle_conversation()
        if conversation_id is None:
            return
        last = await self.store.last_message(conversation_id)
        if last is None:
            return
        await self.regenerate(last)

    async def action_edit_last(self) -> None:
        """Ctrl+↑: edit the last question of the branch on screen."""
        conversation_id = self._idle_conversation()
        if conversation_id is None:
            return
        user = await self.store.last_message(conversation_id, role=Role.USER)
        if user is not None:
            self.edit(user)

    # -- any message ---------------------------------------------------------------------------

    async def regenerate(self, message: Any) -> None:
        """Ask again: a new version of ``message`` (an answer), or a first answer to ``message`` (a question).

        The old answer stays as a version beside the new one. On the web backend the server's chat
        holds the old answer, so the store's line rule (``remote_leaf_id``) starts a new server chat
        with the history folded up to the question.
        """
        conversation_id = self.current_id
        if conversation_id is None:
            return
        question = message.parent_id if message.role == Role.ASSISTANT else message.id
        from hailuo_tui.reply_session import ReplySession  # not on the start's path (ChatScreen's send)

        _, reply = await ReplySession.begin(self.store, conversation_id, None, parent_id=question)
        self._start_reply(reply)
        await self.open_conversation(conversation_id)

    def edit(self, message: Any) -> None:
        """Put a question in the message box; sending it makes a new version (a new branch) of it."""
        self.editing = (message.id, message.parent_id)
        prompt = self.query_one(PromptInput)
        prompt.load_text(message.content)
        prompt.move_cursor(prompt.document.end)  # ready to add to it, as in any editor
        prompt.focus()
        self.notify(f"Editing a message: {self.key_for('chat.send')} sends it as a new version "
                    f"(the old one is kept), {self.key_for('chat.stop')} cancels.")

    async def switch_version(self, message_id: int, step: int) -> None:
        """Show the previous (``step=-1``) or next version of a message, and the branch below it."""
        conversation_id = self._idle_conversation()  # None: none open, or still answering (it says so)
        if conversation_id is None:
            return
        before = await self.store.path_to(message_id)
        leaf = await self.store.switch_version(message_id, step)
        if leaf is None:
            return  # no version that way: the first or the last one is shown
        # The cursor stays in the same place of the conversation: on the version now shown there.
        after = await self.store.path_to(leaf)
        depth = len(before) - 1
        shown = after[depth].id if 0 <= depth < len(after) else None
        await self.open_conversation(conversation_id, focus_id=shown)

    async def delete_branch(self, message: Any) -> None:
        """Delete a message and everything after it on its branch, after confirmation."""
        conversation_id = self._idle_conversation()  # None: none open, or still answering (it says so)
        if conversation_id is None:
            return
        what = "this question" if message.role == Role.USER else "this answer"

        async def delete(confirmed: bool | None) -> None:
            if not confirmed:
                return
            try:
                await self.store.delete_branch(message.id)
            except StoreError as exc:
                self.store_problem(exc)
                return
            await self.open_conversation(conversation_id)
            await self.refresh_sidebar()

        self.app.push_screen(
            ConfirmScreen(f"Delete {what} and everything after it on this branch? Other versions stay."),
            delete,
        )

    async def fork(self, message: Any) -> None:
        """A new conversation holding the branch up to ``message``, opened at once."""
        conversation_id = self.current_id
        if conversation_id is None:
            return
        row = await self.store.get_conversation(conversation_id)
        title = (row.title if row is not None and row.title else "Conversation")
        try:
            forked = await self.store.fork_conversation(message.id, f"{title} (fork)")
        except StoreError as exc:  # said on screen (screens/store_faults.py); nothing half made: one transaction
            self.store_problem(exc)
            return
        await self.refresh_sidebar()
        await self.open_conversation(forked.id)
        self.query_one(PromptInput).focus()
        self.notify(f"Forked into a new conversation: {forked.title}", markup=False)

    async def on_message_command(self, command: MessageCommand, message_id: int) -> None:
        """Do what the message cursor asked for, on the message it names."""
        if command in (MessageCommand.VERSION_PREVIOUS, MessageCommand.VERSION_NEXT):
            await self.switch_version(message_id, -1 if command == MessageCommand.VERSION_PREVIOUS else 1)
            return
        if command != MessageCommand.FORK and self._idle_conversation() is None:
            return
        rows = await self.store.path_to(message_id)
        if not rows:
            return
        message = rows[-1]
        if command == MessageCommand.EDIT:
            if message.role != Role.USER:
                self.notify("Only your own messages can be edited; regenerate an answer instead "
                            f"({self.key_for('message.regenerate')}).", severity="warning")
                return
            self.edit(message)
        elif command == MessageCommand.REGENERATE:
            await self.regenerate(message)
        elif command == MessageCommand.DELETE:
            await self.delete_branch(message)
        elif command == MessageCommand.FORK:
            await self.fork(message)

    async def read_for_opening(self, conversation_id: int, focus_id: int | None) -> tuple[list[Any], bool]:
        """The rows to show when a conversation opens, and whether older ones exist.

        With ``focus_id`` (a search hit): from a few messages above it down to the newest, on its
        branch; otherwise the newest page of the branch on screen.
        """
        if focus_id is not None:
            try:
                return await self.store.messages_around(conversation_id, focus_id, HIT_CONTEXT)
            except KeyError:
                pass  # deleted meanwhile: open as usual
        rows = await self.store.messages(conversation_id, limit=Paging.READ)
        # Counted on the branch: count_messages counts every branch's messages.
        has_older = bool(rows) and bool(await self.store.messages(conversation_id, limit=1, before_id=rows[0].id))
        return rows, has_older
