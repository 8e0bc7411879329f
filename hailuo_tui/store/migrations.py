"""Schema of the conversation database, versioned with ``PRAGMA user_version``.

Each entry of :data:`MIGRATIONS` takes the database from version ``i`` to
``i + 1``. Append new steps; never edit a released one.

Schema (version 1):

- ``conversations``: one row per chat. ``message_count`` is kept by the store so
  the sidebar never aggregates; ``token_fp`` is a fingerprint, never the token.
- ``messages``: ordered by ``id`` inside a conversation.
- ``messages_fts``: contentless FTS5 index of message text (rowid = message id).
  Assistant messages enter it only when they stop streaming, so streaming
  updates never touch the index. CJK characters are indexed one per token
  (see ``db.fts_text``), so any CJK substring is a phrase query.
- ``titles_fts``: FTS5 index of titles (rowid = conversation id).

Version 2: ``messages_fts`` gets prefix indexes of 1, 2 and 3 characters (it had
only 1), like ``titles_fts``. A search runs as the user types, so its first
queries are 2-3 character prefixes; without a prefix index FTS5 merges the
doclists of every term that starts with them (tens of milliseconds over
200,000 messages). The table is rebuilt from ``messages`` with exactly the text
the store indexes (``db.fts_text`` of the content, messages that are not
streaming), so later deletes from the contentless index still match.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

_V1 = """
CREATE TABLE conversations (
    id            INTEGER PRIMARY KEY,
    title         TEXT,
    title_locked  INTEGER NOT NULL DEFAULT 0,
    chat_id       TEXT,
    token_fp      TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL,
    message_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_recent ON conversations (updated_at DESC, id DESC);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN
                        ('pending', 'streaming', 'complete', 'interrupted', 'failed')),
    error           TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
CREATE INDEX messages_in_flight ON messages (status)
    WHERE status IN ('pending', 'streaming');

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body, content='', tokenize='unicode61', prefix='1'
);
CREATE VIRTUAL TABLE titles_fts USING fts5 (
    title, tokenize='unicode61', prefix='1 2 3'
);
"""


def _v1(conn: sqlite3.Connection) -> None:
    for statement in _V1.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v2(conn: sqlite3.Connection) -> None:
    from .db import fts_text  # db imports this module: import when the step runs

    conn.execute(
        "CREATE VIRTUAL TABLE messages_fts_v2 USING fts5 ("
        "body, content='', tokenize='unicode61', prefix='1 2 3')"
    )
    rows = conn.execute(
        "SELECT id, content FROM messages "
        "WHERE NOT (role = 'assistant' AND status IN ('pending', 'streaming')) ORDER BY id"
    )
    conn.executemany(
        "INSERT INTO messages_fts_v2 (rowid, body) VALUES (?, ?)",
        ((mid, fts_text(content)) for mid, content in rows),
    )
    conn.execute("DROP TABLE messages_fts")
    conn.execute("ALTER TABLE messages_fts_v2 RENAME TO messages_fts")


#: Step ``i`` upgrades a database at ``user_version == i`` to ``i + 1``.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2]

#: The schema version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn`` up to :data:`SCHEMA_VERSION` inside one write transaction.

    The version is read again under the write lock, so two processes that start
    together migrate once. Returns the version found before migrating.

    The caller has already refused databases newer than this code.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = conn.execute("PRAGMA user_version").fetchone()[0]
        for step in MIGRATIONS[found:]:
            step(conn)
        if found < SCHEMA_VERSION:
            # PRAGMA does not take parameters; the value is our own int.
            conn.execute(f"PRAGMA user_version = {int(SCHEMA_VERSION)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
