"""The store's calls on the message tree: versions, branches, deleting and forking them.

:class:`Branches` is a part of :class:`~.db.ChatStore` (kept apart so each module stays
small); the queries themselves are in :mod:`.tree`.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from . import tree
from .rows import ConversationRow, MessageRow


class Branches:
    """The message-tree calls of :class:`~.db.ChatStore` (one connection, its read and write transactions)."""

    if TYPE_CHECKING:
        def _read(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def _write(self) -> AbstractContextManager[sqlite3.Connection]: ...
        def _require_conv(self, conn: sqlite3.Connection, id: int) -> ConversationRow: ...
        def create_conversation(
            self, title: str | None = None, *, backend: str = "web", model: str | None = None,
            system_prompt: str | None = None,
        ) -> ConversationRow: ...

    def path_to(self, message_id: int) -> list[MessageRow]:
        """The branch through ``message_id``, from its first message down to it ([] if there is none)."""
        with self._read() as conn:
            return tree.path_to(conn, message_id)

    def all_messages(self, conversation_id: int) -> list[MessageRow]:
        """Every message of every branch, oldest first (for :func:`hailuo_tui.history.export_tree_markdown`)."""
        with self._read() as conn:
            return tree.all_messages(conn, conversation_id)

    def switch_version(self, message_id: int, step: int) -> int | None:
        """Show the sibling ``step`` places from ``message_id`` (-1: the previous version, 1: the next).

        The branch on screen becomes the one that ends at the newest message after that sibling, so the
        rest of the conversation shows as it was on it. Returns the new leaf id, or None when there is
        no such sibling (no wrapping around). KeyError if there is no such message.
        """
        with self._write() as conn:
            return tree.switch_version(conn, message_id, step)

    def open_at(self, message_id: int) -> int:
        """Make ``message_id`` visible: off the branch on screen, show the newest branch through it.

        Returns the leaf id; KeyError if there is no such message.
        """
        with self._write() as conn:
            return tree.open_at(conn, message_id)

    def messages_around(
        self, conversation_id: int, message_id: int, before: int
    ) -> tuple[list[MessageRow], bool]:
        """The branch from ``before`` messages above ``message_id`` down to the leaf; whether older ones exist.

        A message off the branch on screen is opened first (:meth:`open_at`): this is how a search hit
        is shown.
        """
        with self._read() as conn:
            leaf = tree.leaf_of(conn, conversation_id)
            shown = tree.on_branch(conn, leaf, message_id)
        if not shown:
            self.open_at(message_id)
        with self._read() as conn:
            return tree.around(conn, conversation_id, message_id, before)

    def delete_branch(self, message_id: int) -> int | None:
        """Delete a message and everything that follows it (on every branch); the leaf id after.

        When the message was on the branch on screen, the branch shown becomes the newest one after
        its nearest sibling (the previous one, else the next), or ends at its parent when it had none.
        KeyError if there is no such message.
        """
        with self._write() as conn:
            return tree.delete_branch(conn, message_id)

    def fork_conversation(self, message_id: int, title: str) -> ConversationRow:
        """A new conversation holding copies of the branch up to ``message_id`` (one transaction).

        Same backend, model and system prompt; no server chat (the first question replays the history);
        ``title`` is provisional: a title the backend makes from the whole history replaces it (the
        API's; the web chat's title of a replayed history is not one, see ``apply_server_title``).
        KeyError if there is no such message.
        """
        with self._write() as conn:
            path = tree.path_to(conn, message_id)
            if not path:
                raise KeyError(f"no message {message_id}")
            source = self._require_conv(conn, path[0].conversation_id)
            forked = self.create_conversation(
                title, backend=source.backend, model=source.model, system_prompt=source.system_prompt
            )
            tree.copy_messages(conn, forked.id, path)
            conn.execute("UPDATE conversations SET title_provisional = 1 WHERE id = ?", (forked.id,))
            return self._require_conv(conn, forked.id)

    def set_remote_chat(
        self, id: int, chat_id: str | None, token_fp: str | None, leaf_id: int | None = None
    ) -> None:
        """Link a conversation to the server's chat id, the account's token fingerprint, and the last
        message that chat holds (``leaf_id``; None clears it, and the next question starts a new chat)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE conversations SET chat_id = ?, token_fp = ?, remote_leaf_id = ? WHERE id = ?",
                (chat_id, token_fp, leaf_id, id),
            )
