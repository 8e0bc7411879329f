"""The full-text rules, written once for the store and its migrations.

- What is indexed: a message enters ``messages_fts`` (its content) and
  ``reasoning_fts`` (its reasoning, when there is any) once it is searchable,
  which for an assistant answer means it stopped streaming (:func:`is_indexed`).
  Streaming updates therefore never touch an index.
- How text is indexed: :func:`fts_text` (CJK characters one per token).
- How a search reads the indexes: :func:`fts_query` turns user input into a safe
  query, :func:`search` finds conversations, :func:`snippet` shows the hit.

Both message indexes are contentless (``content=''``): removing a row must repeat
the indexed text exactly, which is why every write goes through this module.
"""

from __future__ import annotations

import functools
import re
import sqlite3

from hailuo_tui.domain import MessageStatus, Role

from .rows import CONV_COLS, ConversationRow, conversation_row

#: Assistant statuses that mean "still being written": not in the search indexes yet.
IN_FLIGHT = (MessageStatus.PENDING, MessageStatus.STREAMING)
#: SQL for "this message is in flight"; the exact text of the ``messages_in_flight`` partial index.
IN_FLIGHT_SQL = f"role = '{Role.ASSISTANT.value}' AND status IN ({', '.join(repr(s.value) for s in IN_FLIGHT)})"
#: How many index hits a search reads at most before it settles for what it has.
SEARCH_SCAN_LIMIT = 5_000

# Scripts written without spaces. unicode61 would make a whole run one token, so
# each character becomes its own token and a CJK substring is a phrase query.
_CJK_PATTERN = (
    "([\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f])"
)


@functools.cache
def _cjk() -> re.Pattern[str]:
    """The CJK pattern, compiled at its first use (on the store's thread, when a message is indexed or a search
    made): compiling it walks its ~40,000 BMP code points one by one in Python (re's charset optimiser), 2.4-3.8
    ms that were most of this module's import, on the start's path before the first frame."""
    return re.compile(_CJK_PATTERN)


def fts_text(text: str) -> str:
    """Return ``text`` as it goes into the index (CJK characters spaced apart)."""
    return _cjk().sub(r" \1 ", text)


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


def snippet(text: str, query: str, width: int = 80) -> str:
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


# --- what is indexed ----------------------------------------------------------------


def is_indexed(role: str, status: str) -> bool:
    """Whether a message with this role and status is in the search indexes."""
    return not (role == Role.ASSISTANT and status in IN_FLIGHT)


#: What the two indexes hold for one message: (content, reasoning); None where absent.
Indexed = tuple[str | None, str | None]


def indexed_texts(role: str, status: str, content: str, reasoning: str) -> Indexed:
    """The text each index holds for a message (empty reasoning is not indexed)."""
    if not is_indexed(role, status):
        return None, None
    return content, (reasoning or None)


def _add(conn: sqlite3.Connection, table: str, rowid: int, text: str) -> None:
    conn.execute(f"INSERT INTO {table} (rowid, body) VALUES (?, ?)", (rowid, fts_text(text)))


def _remove(conn: sqlite3.Connection, table: str, rowid: int, text: str) -> None:
    # Contentless table: a delete must repeat the indexed text exactly.
    conn.execute(f"INSERT INTO {table} ({table}, rowid, body) VALUES ('delete', ?, ?)", (rowid, fts_text(text)))


def reindex_message(conn: sqlite3.Connection, message_id: int, before: Indexed, after: Indexed) -> None:
    """Move a message's index entries from ``before`` to ``after`` (see :func:`indexed_texts`)."""
    for table, old, new in (
        ("messages_fts", before[0], after[0]),
        ("reasoning_fts", before[1], after[1]),
    ):
        if old == new:
            continue
        if old is not None:
            _remove(conn, table, message_id, old)
        if new is not None:
            _add(conn, table, message_id, new)


def fill_content_index(conn: sqlite3.Connection, table: str) -> None:
    """Index the content of every searchable message into ``table`` (a migration rebuilds with it)."""
    rows = conn.execute("SELECT id, role, status, content FROM messages ORDER BY id")
    conn.executemany(
        f"INSERT INTO {table} (rowid, body) VALUES (?, ?)",
        ((mid, fts_text(content)) for mid, role, status, content in rows if is_indexed(role, status)),
    )


def set_title_index(conn: sqlite3.Connection, conversation_id: int, title: str | None) -> None:
    """Make ``titles_fts`` hold ``title`` for the conversation (nothing for no title)."""
    conn.execute("DELETE FROM titles_fts WHERE rowid = ?", (conversation_id,))
    if title:
        conn.execute("INSERT INTO titles_fts (rowid, title) VALUES (?, ?)", (conversation_id, fts_text(title)))


# --- how a search reads them ----------------------------------------------------------


def search(
    conn: sqlite3.Connection, query: str, limit: int, *, snippets: bool | int, include_reasoning: bool
) -> list[ConversationRow]:
    """Conversations matching ``query``, newest activity first (see ``ChatStore.search``)."""
    match = fts_query(query)
    if match is None or limit <= 0:
        return []
    try:
        return _search_fts(conn, match, query, limit, snippets, include_reasoning)
    except sqlite3.Error:
        like = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = conn.execute(
            f"SELECT {CONV_COLS} FROM conversations WHERE title LIKE ? ESCAPE '\\' "
            "ORDER BY updated_at DESC, id DESC LIMIT ?",
            (like, limit),
        ).fetchall()
        return [conversation_row(r) for r in rows]


def _newest_hits(
    conn: sqlite3.Connection, table: str, match: str, limit: int, oldest: dict[int, int]
) -> dict[int, int]:
    """Conversation id -> newest matching message id, reading hits newest first.

    ``oldest`` receives, per conversation, the oldest matching message among the hits read:
    all of them unless the query matches more than the search reads (see ``ChatStore.search``).
    """
    hits: dict[int, int] = {}
    cur = conn.execute(
        f"SELECT m.conversation_id, m.id FROM {table} f JOIN messages m ON m.id = f.rowid "
        f"WHERE {table} MATCH ? ORDER BY f.rowid DESC LIMIT ?",
        (match, SEARCH_SCAN_LIMIT),
    )
    for cid, mid in cur:
        oldest[cid] = mid  # read newest first: the last one read is the oldest
        if cid not in hits:
            hits[cid] = mid
            if len(hits) >= limit:
                break
    cur.close()
    return hits


def _search_fts(
    conn: sqlite3.Connection, match: str, query: str, limit: int, snippets: bool | int, include_reasoning: bool
) -> list[ConversationRow]:
    # conversation id -> (newest matching message id, the column it matched in), None for a title hit
    found: dict[int, tuple[int, str] | None] = {}
    for (cid,) in conn.execute(
        "SELECT c.id FROM titles_fts t JOIN conversations c ON c.id = t.rowid "
        "WHERE titles_fts MATCH ? ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
        (match, limit),
    ):
        found[cid] = None
    oldest: dict[int, int] = {}
    hits = {cid: (mid, "content") for cid, mid in _newest_hits(conn, "messages_fts", match, limit, oldest).items()}
    if include_reasoning:
        in_reasoning: dict[int, int] = {}
        for cid, mid in _newest_hits(conn, "reasoning_fts", match, limit, in_reasoning).items():
            if cid not in hits or hits[cid][0] < mid:
                hits[cid] = (mid, "reasoning")
        for cid, mid in in_reasoning.items():
            oldest[cid] = min(mid, oldest.get(cid, mid))
    found.update(hits)
    if not found:
        return []
    ids = list(found)
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT {CONV_COLS} FROM conversations WHERE id IN ({marks}) "
        "ORDER BY updated_at DESC, id DESC LIMIT ?",
        (*ids, limit),
    ).fetchall()
    # True: every row; False: none; a number: the first rows only (the ones a sidebar shows).
    snippet_rows = limit if snippets is True else int(snippets)
    result = []
    for index, row in enumerate(rows):
        hit = found[row[0]]
        text = None
        if hit is not None and index < snippet_rows:
            mid, column = hit
            # column is one of two names chosen above, never user input
            cell = conn.execute(f"SELECT {column} FROM messages WHERE id = ?", (mid,)).fetchone()
            text = snippet(cell[0], query) if cell else None
        result.append(conversation_row(row, text, oldest.get(row[0]) if hit is not None else None))
    return result
