"""Conversations and messages in one SQLite file.

:class:`ChatStore` is synchronous and holds one connection; :class:`AsyncChatStore`
runs the same calls on one dedicated worker thread, so the UI loop never
blocks and calls stay in order. The token is never written here: a
conversation keeps only :func:`token_fingerprint` of the account it belongs to.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .migrations import SCHEMA_VERSION, migrate

T = TypeVar("T")

ROLES = frozenset({"user", "assistant"})
STATUSES = frozenset({"pending", "streaming", "complete", "interrupted", "failed"})
#: Assistant statuses that mean "still being written": not in the search index yet.
IN_FLIGHT = ("pending", "streaming")
#: How many index hits a search reads at most before it settles for what it has.
SEARCH_SCAN_LIMIT = 5_000

_UNSET: Any = object()


def token_fingerprint(token: str) -> str:
    """Return a short, stable, one-way fingerprint of ``token`` (sha256 hex, 16 chars)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ConversationRow:
    id: int
    title: str | None
    title_locked: bool
    chat_id: str | None
    token_fp: str | None
    created_at: float
    updated_at: float
    message_count: int
    #: For search results: the matched message text around the first hit.
    snippet: str | None = None


@dataclass(frozen=True)
class MessageRow:
    id: int
    conversation_id: int
    role: str
    content: str
    status: str
    error: str | None
    created_at: float
    updated_at: float


class StoreError(Exception):
    """The database cannot be used; ``title`` and ``message`` are for the user."""

    def __init__(self, path: str, message: str, *, title: str = "Conversation database", kind: str = "io"):
        super().__init__(message)
        self.path = path
        self.title = title
        self.message = message
        #: "corrupt", "newer" or "io": lets the app offer the right way out.
        self.kind = kind

    def __str__(self) -> str:
        return self.message


# --- full-text helpers -----------------------------------------------------------

# Scripts written without spaces. unicode61 would make a whole run one token, so
# each character becomes its own token and a CJK substring is a phrase query.
_CJK = re.compile(
    "([\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f])"
)


def fts_text(text: str) -> str:
    """Return ``text`` as it goes into the index (CJK characters spaced apart)."""
    return _CJK.sub(r" \1 ", text)


def fts_query(query: str) -> str | None:
    """Turn free user input into a safe FTS5 query, or None when nothing is searchable.

    Each whitespace-separated term becomes a quoted prefix phrase, so operators,
    quotes and stars the user types are plain text. Terms are ANDed.
    """
    phrases = []
    for term in query.replace("\x00", " ").split():
        if not any(ch.isalnum() for ch in term):
            continue
        phrases.append('"' + fts_text(term).replace('"', '""') + '"*')
    return " ".join(phrases) or None


def _snippet(text: str, query: str, width: int = 80) -> str:
    """Return about ``width`` characters of ``text`` around the first query term found."""
    flat = " ".join(text.split())
    low = flat.casefold()
    at = -1
    for term in query.split():
        at = low.find(term.casefold())
        if at >= 0:
            break
    start = max(0, at - width // 4) if at >= 0 else 0
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


# --- the store ----------------------------------------------------------------------

_CONV_COLS = "id, title, title_locked, chat_id, token_fp, created_at, updated_at, message_count"
_MSG_COLS = "id, conversation_id, role, content, status, error, created_at, updated_at"


def _conv(row: tuple, snippet: str | None = None) -> ConversationRow:
    return ConversationRow(row[0], row[1], bool(row[2]), row[3], row[4], row[5], row[6], row[7], snippet)


def _msg(row: tuple) -> MessageRow:
    return MessageRow(*row)


def _indexed(role: str, status: str) -> bool:
    return not (role == "assistant" and status in IN_FLIGHT)


class ChatStore:
    """Synchronous access to the conversation database (one connection).

    Safe to share between threads (calls are serialised by a lock), and two
    processes may open the same file (WAL, busy timeout 5 s).
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        memory = self.path == ":memory:" or self.path.startswith("file::memory:")
        created = False
        if not memory:
            created = self._prepare_file(Path(self.path))
        try:
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=5.0
            )
        except sqlite3.Error as exc:
            raise StoreError(self.path, f"Could not open the conversation database at {self.path}: {exc}.") from exc
        try:
            self._open(created or memory)
        except BaseException:
            self._conn.close()
            raise

    # -- opening

    @staticmethod
    def _prepare_file(path: Path) -> bool:
        """Create the parent directory (0700) and an empty file (0600) if missing."""
        try:
            if not path.parent.exists():
                path.parent.mkdir(parents=True, mode=0o700)
                os.chmod(path.parent, 0o700)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        except OSError as exc:
            raise StoreError(str(path), f"Could not create the conversation database at {path}: {exc.strerror}.") from exc
        os.close(fd)
        return True

    def _open(self, fresh: bool) -> None:
        conn = self._conn
        try:
            conn.execute("PRAGMA busy_timeout = 5000")
            # Read before anything writes, so a damaged or newer file stays untouched.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StoreError(self.path, f"The conversation database at {self.path} is busy in another program; try again.") from exc
            raise self._corrupt(exc) from exc
        if version > SCHEMA_VERSION:
            raise StoreError(
                self.path,
                f"The conversation database at {self.path} was written by a newer hailuo-tui "
                f"(schema {version}; this one knows {SCHEMA_VERSION}); upgrade, or move it away.",
                title="Database from a newer version",
                kind="newer",
            )
        try:
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            if version < SCHEMA_VERSION:
                migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc) from exc
        if not fresh and self.path != ":memory:":
            try:
                if os.stat(self.path).st_mode & 0o077:
                    os.chmod(self.path, 0o600)
            except OSError:
                pass

    def _corrupt(self, exc: Exception) -> StoreError:
        return StoreError(
            self.path,
            f"The conversation database at {self.path} is damaged ({exc}). It was left as it is; "
            f"hailuo-tui can keep it as {self.path}.corrupt-<time> and start a new one.",
            title="Damaged conversation database",
            kind="corrupt",
        )

    def _translate(self, exc: sqlite3.Error) -> StoreError:
        text = str(exc)
        if "malformed" in text or "not a database" in text:
            return self._corrupt(exc)
        if "locked" in text or "busy" in text:
            return StoreError(self.path, f"The conversation database at {self.path} stayed busy in another program ({text}).")
        return StoreError(self.path, f"The conversation database at {self.path} could not be used: {text}.")

    @staticmethod
    def backup_corrupt(path: Path | str) -> Path:
        """Move a damaged database (and its -wal/-shm files) aside; return the new path.

        Only called when the user agreed; the name is ``PATH.corrupt-<YYYYmmdd-HHMMSS>``.
        """
        path = Path(path)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        os.replace(path, target)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        return target

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()

    # -- plumbing

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: takes the write lock up front, so no upgrade deadlock."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._translate(exc) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise self._translate(exc) from exc
                raise

    def _get_conv(self, conn: sqlite3.Connection, id: int) -> ConversationRow | None:
        row = conn.execute(f"SELECT {_CONV_COLS} FROM conversations WHERE id = ?", (id,)).fetchone()
        return _conv(row) if row else None

    def _require_conv(self, conn: sqlite3.Connection, id: int) -> ConversationRow:
        conv = self._get_conv(conn, id)
        if conv is None:
            raise KeyError(f"no conversation {id}")
        return conv

    @staticmethod
    def _index_message(conn: sqlite3.Connection, id: int, content: str) -> None:
        conn.execute("INSERT INTO messages_fts (rowid, body) VALUES (?, ?)", (id, fts_text(content)))

    @staticmethod
    def _unindex_message(conn: sqlite3.Connection, id: int, content: str) -> None:
        # Contentless table: a delete must repeat the indexed text exactly.
        conn.execute(
            "INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', ?, ?)",
            (id, fts_text(content)),
        )

    @staticmethod
    def _set_title_index(conn: sqlite3.Connection, id: int, title: str | None) -> None:
        conn.execute("DELETE FROM titles_fts WHERE rowid = ?", (id,))
        if title:
            conn.execute("INSERT INTO titles_fts (rowid, title) VALUES (?, ?)", (id, fts_text(title)))

    # -- conversations

    def create_conversation(self, title: str | None = None) -> ConversationRow:
        now = time.time()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)", (title, now, now)
            )
            self._set_title_index(conn, cur.lastrowid, title)
            return self._require_conv(conn, cur.lastrowid)

    def get_conversation(self, id: int) -> ConversationRow | None:
        with self._read() as conn:
            return self._get_conv(conn, id)

    def list_conversations(self, limit: int = 200, offset: int = 0) -> list[ConversationRow]:
        """Newest activity first (``updated_at`` desc, then ``id`` desc)."""
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {_CONV_COLS} FROM conversations ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [_conv(r) for r in rows]

    def count_conversations(self) -> int:
        with self._read() as conn:
            return conn.execute("SELECT count(*) FROM conversations").fetchone()[0]

    def search(self, query: str, limit: int = 200, *, snippets: bool = True) -> list[ConversationRow]:
        """Conversations whose title, or one of whose messages, holds every term (as a prefix).

        Any input is accepted; results come newest activity first. Message hits are
        read newest first and reading stops once ``limit`` conversations are found.
        ``snippets=False`` skips reading the matched text (the sidebar shows none).
        """
        match = fts_query(query)
        if match is None or limit <= 0:
            return []
        with self._read() as conn:
            try:
                return self._search_fts(conn, match, query, limit, snippets)
            except sqlite3.Error:
                like = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                rows = conn.execute(
                    f"SELECT {_CONV_COLS} FROM conversations WHERE title LIKE ? ESCAPE '\\' "
                    "ORDER BY updated_at DESC, id DESC LIMIT ?",
                    (like, limit),
                ).fetchall()
                return [_conv(r) for r in rows]

    def _search_fts(
        self, conn: sqlite3.Connection, match: str, query: str, limit: int, snippets: bool = True
    ) -> list[ConversationRow]:
        found: dict[int, int | None] = {}  # conversation id -> newest matching message id
        for (cid,) in conn.execute(
            "SELECT c.id FROM titles_fts t JOIN conversations c ON c.id = t.rowid "
            "WHERE titles_fts MATCH ? ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
            (match, limit),
        ):
            found[cid] = None
        from_messages: dict[int, int] = {}
        cur = conn.execute(
            "SELECT m.conversation_id, m.id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
            "WHERE messages_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?",
            (match, SEARCH_SCAN_LIMIT),
        )
        for cid, mid in cur:
            if cid not in from_messages:
                from_messages[cid] = mid
                if len(from_messages) >= limit:
                    break
        cur.close()
        for cid, mid in from_messages.items():
            found[cid] = mid
        if not found:
            return []
        ids = list(found)
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            f"SELECT {_CONV_COLS} FROM conversations WHERE id IN ({marks}) "
            "ORDER BY updated_at DESC, id DESC LIMIT ?",
            (*ids, limit),
        ).fetchall()
        result = []
        for row in rows:
            mid = found[row[0]]
            snippet = None
            if mid is not None and snippets:
                text = conn.execute("SELECT content FROM messages WHERE id = ?", (mid,)).fetchone()
                snippet = _snippet(text[0], query) if text else None
            result.append(_conv(row, snippet))
        return result

    def rename(self, id: int, title: str) -> ConversationRow:
        """Set a title chosen by the user; the server may no longer change it."""
        with self._write() as conn:
            self._require_conv(conn, id)
            conn.execute("UPDATE conversations SET title = ?, title_locked = 1 WHERE id = ?", (title, id))
            self._set_title_index(conn, id, title)
            return self._require_conv(conn, id)

    def apply_server_title(self, id: int, title: str) -> bool:
        """Take the title the server generated, unless the user chose one. True if applied."""
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND title_locked = 0", (title, id)
            )
            if cur.rowcount:
                self._set_title_index(conn, id, title)
            return cur.rowcount > 0

    def set_remote_chat(self, id: int, chat_id: str | None, token_fp: str | None) -> None:
        """Link a conversation to the server's chat id and the account's token fingerprint."""
        with self._write() as conn:
            conn.execute("UPDATE conversations SET chat_id = ?, token_fp = ? WHERE id = ?", (chat_id, token_fp, id))

    def delete_conversation(self, id: int) -> None:
        """Delete a conversation and its messages."""
        with self._write() as conn:
            for mid, role, status, content in conn.execute(
                "SELECT id, role, status, content FROM messages WHERE conversation_id = ?", (id,)
            ).fetchall():
                if _indexed(role, status):
                    self._unindex_message(conn, mid, content)
            conn.execute("DELETE FROM titles_fts WHERE rowid = ?", (id,))
            conn.execute("DELETE FROM messages WHERE conversation_id = ?", (id,))
            conn.execute("DELETE FROM conversations WHERE id = ?", (id,))

    # -- messages

    def add_message(
        self, conversation_id: int, role: str, content: str, status: str = "complete", error: str | None = None
    ) -> MessageRow:
        """Append a message and bump the conversation's ``updated_at``."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {sorted(ROLES)}, not {role!r}")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}, not {status!r}")
        now = time.time()
        with self._write() as conn:
            self._require_conv(conn, conversation_id)
            cur = conn.execute(
                "INSERT INTO messages (conversation_id, role, content, status, error, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, status, error, now, now),
            )
            mid = cur.lastrowid
            conn.execute(
                "UPDATE conversations SET updated_at = max(updated_at, ?), message_count = message_count + 1 "
                "WHERE id = ?",
                (now, conversation_id),
            )
            if _indexed(role, status):
                self._index_message(conn, mid, content)
        return MessageRow(mid, conversation_id, role, content, status, error, now, now)

    def update_message(
        self, message_id: int, *, content: str | None = None, status: str | None = None, error: Any = _UNSET
    ) -> None:
        """Change a message's text, status or error (``error=None`` clears it).

        Cheap while an assistant message is streaming: the search index is only
        written when the message is (or becomes) searchable.
        """
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}, not {status!r}")
        with self._write() as conn:
            row = conn.execute("SELECT role, status FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise KeyError(f"no message {message_id}")
            role, old_status = row
            new_status = status if status is not None else old_status
            was, will = _indexed(role, old_status), _indexed(role, new_status)
            reindex = (was or will) and (content is not None or was != will)
            if reindex and was:
                old = conn.execute("SELECT content FROM messages WHERE id = ?", (message_id,)).fetchone()[0]
                self._unindex_message(conn, message_id, old)
            sets, args = ["updated_at = ?"], [time.time()]
            if content is not None:
                sets.append("content = ?")
                args.append(content)
            if status is not None:
                sets.append("status = ?")
                args.append(status)
            if error is not _UNSET:
                sets.append("error = ?")
                args.append(error)
            conn.execute(f"UPDATE messages SET {', '.join(sets)} WHERE id = ?", (*args, message_id))
            if reindex and will:
                new = content
                if new is None:
                    new = conn.execute("SELECT content FROM messages WHERE id = ?", (message_id,)).fetchone()[0]
                self._index_message(conn, message_id, new)

    def delete_message(self, message_id: int) -> None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT conversation_id, role, status, content FROM messages WHERE id = ?", (message_id,)
            ).fetchone()
            if row is None:
                return
            cid, role, status, content = row
            if _indexed(role, status):
                self._unindex_message(conn, message_id, content)
            conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))
            conn.execute(
                "UPDATE conversations SET message_count = max(message_count - 1, 0) WHERE id = ?", (cid,)
            )

    def messages(
        self, conversation_id: int, *, limit: int | None = None, before_id: int | None = None
    ) -> list[MessageRow]:
        """Messages in order; with ``limit``, the last ``limit`` ones before ``before_id``."""
        where, args = "conversation_id = ?", [conversation_id]
        if before_id is not None:
            where += " AND id < ?"
            args.append(before_id)
        with self._read() as conn:
            if limit is None:
                rows = conn.execute(f"SELECT {_MSG_COLS} FROM messages WHERE {where} ORDER BY id", args).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT {_MSG_COLS} FROM messages WHERE {where} ORDER BY id DESC LIMIT ?", (*args, limit)
                ).fetchall()
                rows.reverse()
        return [_msg(r) for r in rows]

    def count_messages(self, conversation_id: int) -> int:
        with self._read() as conn:
            return conn.execute(
                "SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]

    def last_message(self, conversation_id: int, role: str | None = None) -> MessageRow | None:
        sql = f"SELECT {_MSG_COLS} FROM messages WHERE conversation_id = ?"
        args: list[Any] = [conversation_id]
        if role is not None:
            sql += " AND role = ?"
            args.append(role)
        with self._read() as conn:
            row = conn.execute(sql + " ORDER BY id DESC LIMIT 1", args).fetchone()
        return _msg(row) if row else None

    def recover_interrupted(self) -> int:
        """Mark assistant messages left streaming or pending by a crash as interrupted.

        Call once at start-up. Returns how many messages were recovered.
        """
        now = time.time()
        with self._write() as conn:
            rows = conn.execute(
                "SELECT id, content FROM messages WHERE status IN ('pending', 'streaming') AND role = 'assistant'"
            ).fetchall()
            for mid, content in rows:
                conn.execute(
                    "UPDATE messages SET status = 'interrupted', updated_at = ? WHERE id = ?", (now, mid)
                )
                self._index_message(conn, mid, content)
        return len(rows)

    def export_markdown(self, conversation_id: int) -> str:
        """Return the conversation as Markdown: a title, then "## You" / "## Hailuo" sections."""
        conv = self.get_conversation(conversation_id)
        if conv is None:
            raise KeyError(f"no conversation {conversation_id}")
        # The text came from the server: an export must not act on the terminal it is printed in.
        from hailuo_tui.sanitize import clean

        title = " ".join(clean(conv.title or "").split())
        parts = [f"# {title or 'Untitled conversation'}", ""]
        for m in self.messages(conversation_id):
            parts += ["## You" if m.role == "user" else "## Hailuo", ""]
            if m.content:
                parts += [clean(m.content).rstrip("\n"), ""]
            if m.status != "complete":
                note = f"_({m.status}"
                note += f": {clean(m.error)})_" if m.error else ")_"
                parts += [note, ""]
        return "\n".join(parts).rstrip("\n") + "\n"


class AsyncChatStore:
    """The :class:`ChatStore` calls as coroutines, run on one dedicated thread in call order."""

    def __init__(self, store: ChatStore, executor: ThreadPoolExecutor) -> None:
        self._store = store
        self._executor = executor
        self._closed = False

    @classmethod
    async def open(cls, path: Path | str) -> AsyncChatStore:
        """Open (and migrate) the database on the worker thread."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hailuo-store")
        try:
            store = await asyncio.get_running_loop().run_in_executor(executor, ChatStore, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(store, executor)

    @property
    def sync(self) -> ChatStore:
        """The underlying synchronous store (for tests and start-up code)."""
        return self._store

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def close(self) -> None:
        """Close the database, then stop the worker thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        await self._call(self._store.close)
        self._executor.shutdown(wait=True)

    async def create_conversation(self, title: str | None = None) -> ConversationRow:
        return await self._call(self._store.create_conversation, title)

    async def get_conversation(self, id: int) -> ConversationRow | None:
        return await self._call(self._store.get_conversation, id)

    async def list_conversations(self, limit: int = 200, offset: int = 0) -> list[ConversationRow]:
        return await self._call(self._store.list_conversations, limit, offset)

    async def count_conversations(self) -> int:
        return await self._call(self._store.count_conversations)

    async def search(self, query: str, limit: int = 200, *, snippets: bool = True) -> list[ConversationRow]:
        return await self._call(self._store.search, query, limit, snippets=snippets)

    async def rename(self, id: int, title: str) -> ConversationRow:
        return await self._call(self._store.rename, id, title)

    async def apply_server_title(self, id: int, title: str) -> bool:
        return await self._call(self._store.apply_server_title, id, title)

    async def set_remote_chat(self, id: int, chat_id: str | None, token_fp: str | None) -> None:
        return await self._call(self._store.set_remote_chat, id, chat_id, token_fp)

    async def delete_conversation(self, id: int) -> None:
        return await self._call(self._store.delete_conversation, id)

    async def add_message(
        self, conversation_id: int, role: str, content: str, status: str = "complete", error: str | None = None
    ) -> MessageRow:
        return await self._call(self._store.add_message, conversation_id, role, content, status, error)

    async def update_message(
        self, message_id: int, *, content: str | None = None, status: str | None = None, error: Any = _UNSET
    ) -> None:
        return await self._call(self._store.update_message, message_id, content=content, status=status, error=error)

    async def delete_message(self, message_id: int) -> None:
        return await self._call(self._store.delete_message, message_id)

    async def messages(
        self, conversation_id: int, *, limit: int | None = None, before_id: int | None = None
    ) -> list[MessageRow]:
        return await self._call(self._store.messages, conversation_id, limit=limit, before_id=before_id)

    async def count_messages(self, conversation_id: int) -> int:
        return await self._call(self._store.count_messages, conversation_id)

    async def last_message(self, conversation_id: int, role: str | None = None) -> MessageRow | None:
        return await self._call(self._store.last_message, conversation_id, role)

    async def recover_interrupted(self) -> int:
        return await self._call(self._store.recover_interrupted)

    async def export_markdown(self, conversation_id: int) -> str:
        return await self._call(self._store.export_markdown, conversation_id)
