"""Conversations and messages in one SQLite file: the synchronous store.

:class:`ChatStore` holds one connection and writes every query once;
:class:`~hailuo_tui.store.async_store.AsyncChatStore` runs the same calls on one
worker thread. The token is never written here: a conversation keeps only
:func:`~hailuo_tui.store.rows.token_fingerprint` of the account it belongs to.
What is searchable, and how, is decided in :mod:`.fts`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hailuo_tui.domain import MessageStatus

from . import connection, fts, tree
from .branches import Branches
from .file_checks import FileChecks
from .sql import inserted_id, set_clause
from .rows import (
    CONV_COLS,
    ConversationRow,
    MessageRow,
    check_backend,
    check_role,
    check_status,
    conversation_row,
    dump_follow_ups,
    dump_sources,
    dump_usage,
)

#: Stands for "keyword not given", so that None can be stored.
_UNSET: Any = object()


class ChatStore(Branches, FileChecks):
    """Synchronous access to the conversation database (one connection).

    Safe to share between threads (calls are serialised by a lock), and two
    processes may open the same file (WAL, busy timeout 5 s).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        #: True inside a write transaction (a nested write joins it).
        self._writing = False
        self._conn, self.checked_at, self._opened = connection.open_checked(self.path)
        self._closed = False

    def close(self) -> None:
        """Close the connection (idempotent); the file is recorded sound if it was found so (:mod:`.check_record`)."""
        with self._lock:
            self._conn.close()
            self._record_on_close()

    # -- plumbing

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise connection.translate(self.path, exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: takes the write lock up front, so no upgrade deadlock."""
        with self._lock:
            conn = self._conn
            if self._writing:
                # A write inside another one (add_turn): it commits or rolls back with it.
                yield conn
                return
            if conn.in_transaction:  # left open by a failed COMMIT and ROLLBACK (a full disk)
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise connection.translate(self.path, exc) from exc
            self._writing = True
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise connection.translate(self.path, exc) from exc
                raise
            finally:
                self._writing = False

    @staticmethod
    def _get_conv(conn: sqlite3.Connection, id: int) -> ConversationRow | None:
        row = conn.execute(f"SELECT {CONV_COLS} FROM conversations WHERE id = ?", (id,)).fetchone()
        return conversation_row(row) if row else None

    def _require_conv(self, conn: sqlite3.Connection, id: int) -> ConversationRow:
        conv = self._get_conv(conn, id)
        if conv is None:
            raise KeyError(f"no conversation {id}")
        return conv

    # -- conversations

    def create_conversation(
        self, title: str | None = None, *, backend: str = "web", model: str | None = None,
        system_prompt: str | None = None,
    ) -> ConversationRow:
        """Start a conversation on ``backend`` ("web" or "api").

        ``model`` None means the backend's default model, ``system_prompt`` None the config's.
        """
        check_backend(backend)
        now = time.time()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at, backend, model, system_prompt) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (title, now, now, backend, model, system_prompt),
            )
            cid = inserted_id(cur)
            fts.set_title_index(conn, cid, title)
            return self._require_conv(conn, cid)

    def get_conversation(self, id: int) -> ConversationRow | None:
        """The conversation, or None if there is none with this id."""
        with self._read() as conn:
            return self._get_conv(conn, id)

    def list_conversations(self, limit: int = 200, offset: int = 0) -> list[ConversationRow]:
        """Newest activity first (``updated_at`` desc, then ``id`` desc)."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {CONV_COLS} FROM conversations ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [conversation_row(r) for r in rows]

    def count_conversations(self) -> int:
        """How many conversations there are."""
        with self._read() as conn:
            return conn.execute("SELECT count(*) FROM conversations").fetchone()[0]

    def search(
        self, query: str, limit: int = 200, *, snippets: bool | int = True, include_reasoning: bool = False
    ) -> list[ConversationRow]:
        """Conversations whose title, or one of whose messages, holds every term (as a prefix).

        Any input is accepted; results come newest activity first. Message hits are read newest first
        and reading stops once ``limit`` conversations are found; ``hit_message_id`` is the oldest hit
        read in that conversation (its first match, unless the query matched more than was read).
        ``snippets=False`` skips reading the matched text; a number reads it for the first that many rows
        (the ones a sidebar has in view). ``include_reasoning`` also searches the reasoning; the snippet
        is from the newest message's answer or reasoning."""
        with self._read() as conn:
            return fts.search(conn, query, limit, snippets=snippets, include_reasoning=include_reasoning)

    def rename(self, id: int, title: str) -> ConversationRow:
        """Set a title chosen by the user; the server may no longer change it."""
        with self._write() as conn:
            self._require_conv(conn, id)
            conn.execute("UPDATE conversations SET title = ?, title_locked = 1, title_provisional = 0 WHERE id = ?", (title, id))
            fts.set_title_index(conn, id, title)
            return self._require_conv(conn, id)

    def apply_server_title(self, id: int, title: str, *, over_provisional: bool = False) -> bool:
        """Take the title the server generated, if the conversation still shows its placeholder.

        An existing title is kept: the user's, and the server's first one too (a chat started
        again from the local history would otherwise be named after its replayed prompt,
        "User: …"). ``over_provisional``: also replace a provisional title (a fork's), which
        a title made from the whole history may. True if applied.
        """
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE conversations SET title = ?, title_provisional = 0 WHERE id = ? AND title_locked = 0 "
                "AND (title IS NULL OR trim(title) = '' OR (? AND title_provisional = 1))",
                (title, id, int(over_provisional)),
            )
            if cur.rowcount:
                fts.set_title_index(conn, id, title)
            return cur.rowcount > 0

    def set_conversation_settings(
        self, id: int, *, backend: str = _UNSET, model: str | None = _UNSET, system_prompt: str | None = _UNSET
    ) -> ConversationRow:
        """Change how a conversation is answered; only the keywords given change.

        ``model=None`` and ``system_prompt=None`` store "use the default". Returns the
        updated row; KeyError if there is no such conversation.
        """
        if backend is not _UNSET:
            check_backend(backend)
        given = {"backend": backend, "model": model, "system_prompt": system_prompt}
        changes = {column: value for column, value in given.items() if value is not _UNSET}
        with self._write() as conn:
            self._require_conv(conn, id)
            if changes:
                clause, args = set_clause(changes)
                conn.execute(f"UPDATE conversations SET {clause} WHERE id = ?", (*args, id))
            return self._require_conv(conn, id)

    def delete_conversation(self, id: int) -> None:
        """Delete a conversation and its messages."""
        with self._write() as conn:
            for mid, role, status, content, reasoning in conn.execute(
                "SELECT id, role, status, content, reasoning FROM messages WHERE conversation_id = ?", (id,)
            ).fetchall():
                fts.reindex_message(conn, mid, fts.indexed_texts(role, status, content, reasoning), (None, None))
            conn.execute("DELETE FROM titles_fts WHERE rowid = ?", (id,))
            conn.execute("DELETE FROM messages WHERE conversation_id = ?", (id,))
            conn.execute("DELETE FROM conversations WHERE id = ?", (id,))

    # -- messages

    def add_message(
        self, conversation_id: int, role: str, content: str, status: str = MessageStatus.COMPLETE,
        error: str | None = None, *, reasoning: str = "", usage: dict[str, Any] | None = None,
        parent_id: int | None = _UNSET,
    ) -> MessageRow:
        """Add a message after ``parent_id`` (default: the conversation's leaf; None: a first message).

        The new message becomes the conversation's leaf, and its ``updated_at`` is bumped.

        Raises:
            ValueError: ``role`` or ``status`` is not one the store knows, or ``parent_id`` is not
                a message of the conversation.
            KeyError: there is no such conversation.
        """
        role, status = check_role(role), check_status(status)
        with self._write() as conn:
            leaf = tree.leaf_of(conn, conversation_id)  # KeyError for no such conversation
            parent = leaf if parent_id is _UNSET else parent_id
            tree.check_parent(conn, conversation_id, parent)
            fields = {"role": role, "status": status, "content": content, "error": error,
                      "reasoning": reasoning, "usage": usage}
            mid, now = tree.insert_message(conn, conversation_id, parent, fields)
            versions = len(tree.sibling_ids(conn, conversation_id, parent))
        return MessageRow(mid, conversation_id, role, content, status, error, now, now, reasoning, usage,
                          parent_id=parent, version=versions, versions=versions)

    def add_turn(
        self, conversation_id: int, user_text: str | None, *, parent_id: int | None = _UNSET
    ) -> tuple[MessageRow | None, MessageRow]:
        """Save the user's message (unless ``None``) and the answer's ``streaming`` row in one transaction.

        The question follows ``parent_id`` (default: the conversation's leaf), the answer follows the
        question; without ``user_text`` (a regenerated answer) the answer follows ``parent_id``, which
        is then the question. An edited question or a regenerated answer is a new sibling: nothing is
        deleted. Either both are on disk or neither is: a failed save leaves no half turn behind, and
        the caller still holds the text (the app puts it back in the message box).
        """
        with self._write() as conn:  # the nested writes below join this transaction (the lock is re-entrant)
            parent = tree.leaf_of(conn, conversation_id) if parent_id is _UNSET else parent_id
            user = None
            if user_text is not None:
                user = self.add_message(conversation_id, "user", user_text, parent_id=parent)
                parent = user.id
            answer = self.add_message(
                conversation_id, "assistant", "", status=MessageStatus.STREAMING, parent_id=parent
            )
        return user, answer

    def update_message(
        self, message_id: int, *, content: str | None = None, status: str | None = None, error: Any = _UNSET,
        reasoning: str | None = None, usage: dict[str, Any] | None = None,
        sources: Any = None, follow_ups: Any = None,
    ) -> None:
        """Change a message's text, status, error, reasoning, usage, sources or follow-up questions.

        ``None`` (the default) leaves a field as it is, except ``error=None``, which
        clears the error. ``usage``, ``sources`` ((title, url) pairs) and
        ``follow_ups`` (questions) are stored as JSON. Cheap while an assistant
        message is streaming: the search indexes are only written when the message
        is (or becomes) searchable, and then for both its content and its reasoning.
        """
        if status is not None:
            status = check_status(status)
        with self._write() as conn:
            row = conn.execute("SELECT role, status FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise KeyError(f"no message {message_id}")
            role, old_status = row
            new_status = status if status is not None else old_status
            was, will = fts.is_indexed(role, old_status), fts.is_indexed(role, new_status)
            # Only read the old texts when an index may change: a streaming update stays one UPDATE.
            touch = (was or will) and (content is not None or reasoning is not None or was != will)
            old = conn.execute(
                "SELECT content, reasoning FROM messages WHERE id = ?", (message_id,)
            ).fetchone() if touch else None
            given: dict[str, Any] = {
                "content": content, "status": status, "reasoning": reasoning, "usage": dump_usage(usage),
                "sources": dump_sources(sources), "follow_ups": dump_follow_ups(follow_ups),
            }
            changes = {column: value for column, value in given.items() if value is not None}
            changes["updated_at"] = time.time()
            if error is not _UNSET:
                changes["error"] = error
            clause, args = set_clause(changes)
            conn.execute(f"UPDATE messages SET {clause} WHERE id = ?", (*args, message_id))
            if old is not None:
                new_content = content if content is not None else old[0]
                new_reasoning = reasoning if reasoning is not None else old[1]
                fts.reindex_message(
                    conn, message_id,
                    fts.indexed_texts(role, old_status, old[0], old[1]),
                    fts.indexed_texts(role, new_status, new_content, new_reasoning),
                )

    def delete_message(self, message_id: int) -> None:
        """Delete one message (nothing if there is none); what followed it follows its parent now.

        If it was the leaf, its parent becomes the leaf.
        """
        with self._write() as conn:
            row = conn.execute(
                "SELECT conversation_id, role, status, content, reasoning, parent_id FROM messages WHERE id = ?",
                (message_id,),
            ).fetchone()
            if row is None:
                return
            cid, parent = row[0], row[5]
            conn.execute("UPDATE messages SET parent_id = ? WHERE parent_id = ?", (parent, message_id))
            tree.delete_rows(conn, cid, [(message_id, *row[1:5])])
            conn.execute("UPDATE conversations SET leaf_id = ? WHERE id = ? AND leaf_id = ?", (parent, cid, message_id))

    def messages(
        self, conversation_id: int, *, limit: int | None = None, before_id: int | None = None
    ) -> list[MessageRow]:
        """The branch on screen in order (first message to the leaf), each with its ``version``.

        With ``limit``, the last ``limit`` messages above ``before_id`` (a message on the branch);
        without ``before_id``, the last ones of the branch.
        """
        with self._read() as conn:
            return tree.branch(conn, conversation_id, limit, before_id)

    def count_messages(self, conversation_id: int) -> int:
        """How many messages the conversation holds, on every branch."""
        with self._read() as conn:
            return conn.execute(
                "SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]

    def last_message(self, conversation_id: int, role: str | None = None) -> MessageRow | None:
        """The newest message of the branch on screen (of ``role``, if given), or None."""
        with self._read() as conn:
            return tree.last_on_branch(conn, conversation_id, role)

    def recover_interrupted(self) -> int:
        """Mark assistant messages left streaming or pending by a crash as interrupted.

        Call once at start-up. Returns how many messages were recovered.
        """
        now = time.time()
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT id, role, status, content, reasoning FROM messages WHERE {fts.IN_FLIGHT_SQL}"
            ).fetchall()
            for mid, role, status, content, reasoning in rows:
                conn.execute(
                    "UPDATE messages SET status = ?, updated_at = ? WHERE id = ?",
                    (MessageStatus.INTERRUPTED, now, mid),
                )
                fts.reindex_message(
                    conn, mid,
                    fts.indexed_texts(role, status, content, reasoning),
                    fts.indexed_texts(role, MessageStatus.INTERRUPTED, content, reasoning),
                )
        return len(rows)
