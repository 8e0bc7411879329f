"""The message tree: branches, versions and subtrees, as functions of a connection.

Each message names the message before it on its branch (``parent_id``; NULL for a
first message), so an edited question or a regenerated answer is a new sibling and
the old one stays. A conversation shows one branch: the path from a first message
to its ``leaf_id``. A parent is always older than its children (it exists when they
are written), which lets a walk up a branch stop at an id.

Branches are read with recursive CTEs that walk ``parent_id`` up from a message by
primary key, so reading the newest page of a long conversation costs one lookup per
message read, as reading it by id did. Writes stay in :class:`~.db.ChatStore`, which
calls these inside its transactions.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

from . import fts
from .rows import MSG_COLS, MessageRow, dump_follow_ups, dump_sources, dump_usage, message_row
from .sql import inserted_id

#: The message columns as the CTEs below select them.
_M_COLS = ", ".join("m." + column.strip() for column in MSG_COLS.split(","))
#: Where the parent column sits in a row selected with MSG_COLS (found, so a new column cannot move it).
_PARENT = [column.strip() for column in MSG_COLS.split(",")].index("parent_id")
#: Ids bound in one IN (...) list at most.
_CHUNK = 500


def _up(start_sql: str) -> str:
    """The rows of a message and its ancestors, nearest first, at most ``LIMIT ?`` of them (-1: all).

    ``start_sql`` is a WHERE clause on ``m`` that picks the first message (one ``?``).
    """
    return (
        f"WITH RECURSIVE up(depth, {MSG_COLS}) AS ("
        f"SELECT 0, {_M_COLS} FROM messages m WHERE {start_sql} "
        f"UNION ALL SELECT up.depth + 1, {_M_COLS} FROM up JOIN messages m ON m.id = up.parent_id "
        f"LIMIT ?) SELECT {MSG_COLS} FROM up ORDER BY depth DESC"
    )


_FROM_LEAF = _up("m.id = (SELECT leaf_id FROM conversations WHERE id = ?)")
_ABOVE = _up("m.id = (SELECT parent_id FROM messages WHERE id = ?)")
_FROM_MESSAGE = _up("m.id = ?")


def with_versions(conn: sqlite3.Connection, rows: Sequence[tuple]) -> list[MessageRow]:
    """Rows selected with MSG_COLS as :class:`MessageRow` values, each with its place among its siblings.

    One grouped query for the whole page: the children of every parent on it (and the
    first messages of the conversation, when a first message is on it).
    """
    if not rows:
        return []
    parents = sorted({row[_PARENT] for row in rows if row[_PARENT] is not None})
    roots = {row[1] for row in rows if row[_PARENT] is None}
    groups: dict[tuple[int, int | None], list[int]] = {}
    for start in range(0, max(len(parents), 1), _CHUNK):
        chunk = parents[start : start + _CHUNK]
        parts, args = [], []
        if chunk:
            parts.append(f"SELECT conversation_id, parent_id, id FROM messages WHERE parent_id IN "
                         f"({','.join('?' * len(chunk))})")
            args += chunk
        if start == 0:
            for cid in roots:
                parts.append("SELECT conversation_id, parent_id, id FROM messages "
                             "WHERE parent_id IS NULL AND conversation_id = ?")
                args.append(cid)
        if not parts:
            continue
        for cid, parent, mid in conn.execute(" UNION ALL ".join(parts), args):
            groups.setdefault((cid, parent), []).append(mid)
    out = []
    for row in rows:
        siblings = groups.get((row[1], row[_PARENT]))
        if siblings is None or len(siblings) < 2 or row[0] not in siblings:
            out.append(message_row(row))
        else:
            siblings.sort()
            out.append(message_row(row, siblings.index(row[0]) + 1, len(siblings)))
    return out


def branch(
    conn: sqlite3.Connection, conversation_id: int, limit: int | None = None, before_id: int | None = None
) -> list[MessageRow]:
    """The branch on screen, first message first: the last ``limit`` messages above ``before_id``."""
    n = -1 if limit is None else max(limit, 0)
    if n == 0:
        return []
    if before_id is None:
        rows = conn.execute(_FROM_LEAF, (conversation_id, n)).fetchall()
    else:
        rows = conn.execute(_ABOVE, (before_id, n)).fetchall()
    return with_versions(conn, rows)


def path_to(conn: sqlite3.Connection, message_id: int, limit: int | None = None) -> list[MessageRow]:
    """The first message of the branch through ``message_id`` down to it ([] if there is none)."""
    rows = conn.execute(_FROM_MESSAGE, (message_id, -1 if limit is None else limit)).fetchall()
    return with_versions(conn, rows)


_LAST = (
    f"WITH RECURSIVE up(depth, {MSG_COLS}) AS ("
    f"SELECT 0, {_M_COLS} FROM messages m WHERE m.id = (SELECT leaf_id FROM conversations WHERE id = :cid) "
    f"UNION ALL SELECT up.depth + 1, {_M_COLS} FROM up JOIN messages m ON m.id = up.parent_id "
    f"WHERE :role IS NOT NULL AND up.role != :role) "
    f"SELECT {MSG_COLS} FROM up WHERE :role IS NULL OR role = :role ORDER BY depth LIMIT 1"
)


def last_on_branch(conn: sqlite3.Connection, conversation_id: int, role: str | None) -> MessageRow | None:
    """The newest message of the branch on screen (of ``role``), reading up only until it is found."""
    row = conn.execute(_LAST, {"cid": conversation_id, "role": role}).fetchone()
    return with_versions(conn, [row])[0] if row else None


def leaf_of(conn: sqlite3.Connection, conversation_id: int) -> int | None:
    """The conversation's leaf; KeyError if there is no such conversation."""
    row = conn.execute("SELECT leaf_id FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    if row is None:
        raise KeyError(f"no conversation {conversation_id}")
    return row[0]


def message_place(conn: sqlite3.Connection, message_id: int) -> tuple[int, int | None]:
    """(conversation id, parent id) of a message; KeyError if there is none."""
    row = conn.execute("SELECT conversation_id, parent_id FROM messages WHERE id = ?", (message_id,)).fetchone()
    if row is None:
        raise KeyError(f"no message {message_id}")
    return row[0], row[1]


def sibling_ids(conn: sqlite3.Connection, conversation_id: int, parent_id: int | None) -> list[int]:
    """The messages that follow ``parent_id`` (the first messages, for None), oldest first."""
    if parent_id is None:
        rows = conn.execute(
            "SELECT id FROM messages WHERE parent_id IS NULL AND conversation_id = ? ORDER BY id", (conversation_id,)
        )
    else:
        rows = conn.execute("SELECT id FROM messages WHERE parent_id = ? ORDER BY id", (parent_id,))
    return [mid for (mid,) in rows]


_SUBTREE = "WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT m.id FROM messages m JOIN sub ON m.parent_id = sub.id) "


def newest_in_subtree(conn: sqlite3.Connection, message_id: int) -> int:
    """The newest message (highest id) among ``message_id`` and everything that follows it."""
    return conn.execute(_SUBTREE + "SELECT max(id) FROM sub", (message_id,)).fetchone()[0]


def subtree(conn: sqlite3.Connection, message_id: int) -> list[tuple[int, str, str, str, str]]:
    """(id, role, status, content, reasoning) of ``message_id`` and every message that follows it."""
    return conn.execute(
        _SUBTREE + "SELECT m.id, m.role, m.status, m.content, m.reasoning FROM sub JOIN messages m ON m.id = sub.id",
        (message_id,),
    ).fetchall()


def on_branch(conn: sqlite3.Connection, leaf_id: int | None, message_id: int) -> bool:
    """Whether ``message_id`` is on the branch that ends at ``leaf_id``."""
    if leaf_id is None or message_id > leaf_id:
        return False
    # A parent is older than its children: the walk stops below the message's id.
    row = conn.execute(
        "WITH RECURSIVE up(id, parent_id) AS (SELECT id, parent_id FROM messages WHERE id = ? "
        "UNION ALL SELECT m.id, m.parent_id FROM up JOIN messages m ON m.id = up.parent_id WHERE m.id >= ?) "
        "SELECT 1 FROM up WHERE id = ?",
        (leaf_id, message_id, message_id),
    ).fetchone()
    return row is not None


def set_leaf(conn: sqlite3.Connection, conversation_id: int, leaf_id: int | None) -> None:
    """Show the branch that ends at ``leaf_id``."""
    conn.execute("UPDATE conversations SET leaf_id = ? WHERE id = ?", (leaf_id, conversation_id))


def insert_message(
    conn: sqlite3.Connection, conversation_id: int, parent_id: int | None, fields: dict[str, Any]
) -> tuple[int, float]:
    """Write one message after ``parent_id``, index it, make it the leaf; (its id, the time).

    ``fields`` holds role, content, status, and optionally error, reasoning, usage, sources,
    follow_ups (already checked by the caller). The caller holds the write transaction.
    """
    now = time.time()
    role, status, content = fields["role"], fields["status"], fields["content"]
    reasoning = fields.get("reasoning") or ""
    cur = conn.execute(
        "INSERT INTO messages (conversation_id, role, content, status, error, created_at, updated_at, "
        "reasoning, usage, sources, follow_ups, parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (conversation_id, role, content, status, fields.get("error"), now, now, reasoning,
         dump_usage(fields.get("usage")), dump_sources(fields.get("sources")),
         dump_follow_ups(fields.get("follow_ups")), parent_id),
    )
    mid = inserted_id(cur)
    conn.execute(
        "UPDATE conversations SET updated_at = max(updated_at, ?), message_count = message_count + 1, "
        "leaf_id = ? WHERE id = ?",
        (now, mid, conversation_id),
    )
    fts.reindex_message(conn, mid, (None, None), fts.indexed_texts(role, status, content, reasoning))
    return mid, now


def check_parent(conn: sqlite3.Connection, conversation_id: int, parent_id: int | None) -> None:
    """ValueError unless ``parent_id`` is None or a message of the conversation."""
    if parent_id is None:
        return
    row = conn.execute("SELECT conversation_id FROM messages WHERE id = ?", (parent_id,)).fetchone()
    if row is None or row[0] != conversation_id:
        raise ValueError(f"message {parent_id} is not in conversation {conversation_id}")


def delete_rows(conn: sqlite3.Connection, conversation_id: int, rows: Iterable[tuple[int, str, str, str, str]]) -> int:
    """Delete messages (id, role, status, content, reasoning) and their index entries; how many."""
    ids = []
    for mid, role, status, content, reasoning in rows:
        fts.reindex_message(conn, mid, fts.indexed_texts(role, status, content, reasoning), (None, None))
        ids.append(mid)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.execute(f"DELETE FROM messages WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    conn.execute(
        "UPDATE conversations SET message_count = max(message_count - ?, 0) WHERE id = ?", (len(ids), conversation_id)
    )
    # The server chat holds a message that is gone: the next question starts a new one.
    remote = conn.execute("SELECT remote_leaf_id FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    if remote is not None and remote[0] in ids:
        conn.execute("UPDATE conversations SET remote_leaf_id = NULL WHERE id = ?", (conversation_id,))
    return len(ids)


def around(
    conn: sqlite3.Connection, conversation_id: int, message_id: int, before: int
) -> tuple[list[MessageRow], bool]:
    """The branch on screen from ``before`` messages above ``message_id`` to the leaf; whether more are above.

    ``message_id`` is on the branch (the caller made sure).
    """
    below = conn.execute(
        f"WITH RECURSIVE up(depth, {MSG_COLS}) AS ("
        f"SELECT 0, {_M_COLS} FROM messages m WHERE m.id = (SELECT leaf_id FROM conversations WHERE id = ?) "
        f"UNION ALL SELECT up.depth + 1, {_M_COLS} FROM up JOIN messages m ON m.id = up.parent_id "
        f"WHERE m.id >= ?) SELECT {MSG_COLS} FROM up ORDER BY depth DESC",
        (conversation_id, message_id),
    ).fetchall()
    above = conn.execute(_ABOVE, (message_id, max(before, 0) + 1)).fetchall() if below else []
    older = len(above) > before
    above = above[len(above) - before :] if before > 0 else []
    return with_versions(conn, above + below), older


def copy_messages(conn: sqlite3.Connection, conversation_id: int, path: Sequence[MessageRow]) -> None:
    """Append copies of ``path`` (a branch, first message first) to a conversation, as one branch."""
    parent = None
    for m in path:
        # A copy is never written to again: an answer still streaming is copied as interrupted.
        status = "interrupted" if (m.role, m.status) in (("assistant", "streaming"), ("assistant", "pending")) \
            else m.status
        fields = {"role": m.role, "status": status, "content": m.content, "error": m.error,
                  "reasoning": m.reasoning, "usage": m.usage, "sources": m.sources, "follow_ups": m.follow_ups}
        parent, _now = insert_message(conn, conversation_id, parent, fields)


def all_messages(conn: sqlite3.Connection, conversation_id: int) -> list[MessageRow]:
    """Every message of the conversation, on every branch, oldest first."""
    rows = conn.execute(
        f"SELECT {MSG_COLS} FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,)
    ).fetchall()
    return with_versions(conn, rows)


def switch_version(conn: sqlite3.Connection, message_id: int, step: int) -> int | None:
    """Show the sibling ``step`` places away (see ``ChatStore.switch_version``); the new leaf or None."""
    cid, parent = message_place(conn, message_id)
    siblings = sibling_ids(conn, cid, parent)
    at = siblings.index(message_id) + step
    if step == 0 or not 0 <= at < len(siblings):
        return None
    leaf = newest_in_subtree(conn, siblings[at])
    set_leaf(conn, cid, leaf)
    return leaf


def open_at(conn: sqlite3.Connection, message_id: int) -> int:
    """Show a branch through ``message_id`` (see ``ChatStore.open_at``); the leaf."""
    cid, _parent = message_place(conn, message_id)
    leaf = leaf_of(conn, cid)
    if leaf is None or not on_branch(conn, leaf, message_id):
        leaf = newest_in_subtree(conn, message_id)
        set_leaf(conn, cid, leaf)
    return leaf


def delete_branch(conn: sqlite3.Connection, message_id: int) -> int | None:
    """Delete a message and what follows it (see ``ChatStore.delete_branch``); the leaf after."""
    cid, parent = message_place(conn, message_id)
    leaf = leaf_of(conn, cid)
    shown = on_branch(conn, leaf, message_id)
    siblings = sibling_ids(conn, cid, parent)
    delete_rows(conn, cid, subtree(conn, message_id))
    if not shown:
        return leaf
    at = siblings.index(message_id)
    nearest = siblings[at - 1] if at > 0 else (siblings[at + 1] if at + 1 < len(siblings) else None)
    leaf = parent if nearest is None else newest_in_subtree(conn, nearest)
    set_leaf(conn, cid, leaf)
    return leaf
