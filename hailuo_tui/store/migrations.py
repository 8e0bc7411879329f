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

Version 3 (the MiniMax API backend):

- ``conversations`` gains ``backend`` ("web" or "api", existing chats are
  "web"), ``model`` (NULL: the backend's default) and ``system_prompt`` (NULL:
  the config's).
- ``messages`` gains ``reasoning`` (the model's thinking before the answer, ""
  when none) and ``usage`` (JSON: model, prompt_tokens, completion_tokens,
  reasoning_tokens, seconds; NULL when unknown).
- ``reasoning_fts``: contentless FTS5 index of reasoning, by the same rules as
  ``messages_fts`` (``fts.indexed_texts``), searched only when asked for. It is
  kept apart so that the long thinking text never crowds out answers in an
  ordinary search. Created empty: no version-2 message has reasoning.

Version 4 (what the Hailuo page shows under an answer):

- ``messages`` gains ``sources`` (JSON list of ``[title, url]`` web-search links)
  and ``follow_ups`` (JSON list of suggested questions); NULL when none. Neither
  is searchable: they are the server's, not the conversation's words.

Version 5 (a message tree: edits and regenerated answers keep the older versions):

- ``messages`` gains ``parent_id``: the message before it on its branch (NULL
  for a first message), indexed by ``messages_by_parent (parent_id,
  conversation_id)`` (the conversation too, so the first messages of one
  conversation are found without reading every conversation's). Messages with
  the same parent are versions of each other, oldest id first.
- ``conversations`` gains ``leaf_id`` (the last message of the branch on
  screen; NULL when empty) and ``remote_leaf_id`` (the last message the server
  chat ``chat_id`` holds: a question asked after any other message starts a new
  server chat) and ``title_provisional`` (1: a title given until the conversation
  gets its own, "<title> (fork)"; a title the backend generates may replace it).
- Every existing conversation becomes one branch showing what it showed: each
  message's parent is the previous message by id, the leaf the newest message,
  and the server chat (if any) holds that leaf. The search indexes and
  ``message_count`` are unchanged.

The rules of what is indexed and how live in :mod:`.fts`, which both the store
and these steps use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from . import fts

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


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # Statement by statement: executescript() would commit the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1(conn: sqlite3.Connection) -> None:
    _run_script(conn, _V1)


def _v2(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE VIRTUAL TABLE messages_fts_v2 USING fts5 ("
        "body, content='', tokenize='unicode61', prefix='1 2 3')"
    )
    fts.fill_content_index(conn, "messages_fts_v2")
    conn.execute("DROP TABLE messages_fts")
    conn.execute("ALTER TABLE messages_fts_v2 RENAME TO messages_fts")


_V3 = """
ALTER TABLE conversations ADD COLUMN backend TEXT NOT NULL DEFAULT 'web';
ALTER TABLE conversations ADD COLUMN model TEXT;
ALTER TABLE conversations ADD COLUMN system_prompt TEXT;
ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN usage TEXT;
CREATE VIRTUAL TABLE reasoning_fts USING fts5 (
    body, content='', tokenize='unicode61', prefix='1 2 3'
);
"""


def _v3(conn: sqlite3.Connection) -> None:
    # No CHECK on backend: a later backend must not need a table rebuild; the store validates.
    _run_script(conn, _V3)


_V4 = """
ALTER TABLE messages ADD COLUMN sources TEXT;
ALTER TABLE messages ADD COLUMN follow_ups TEXT;
"""


def _v4(conn: sqlite3.Connection) -> None:
    _run_script(conn, _V4)


_V5 = """
ALTER TABLE messages ADD COLUMN parent_id INTEGER;
ALTER TABLE conversations ADD COLUMN leaf_id INTEGER;
ALTER TABLE conversations ADD COLUMN remote_leaf_id INTEGER;
ALTER TABLE conversations ADD COLUMN title_provisional INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET parent_id = (
    SELECT p.id FROM messages p
    WHERE p.conversation_id = messages.conversation_id AND p.id < messages.id
    ORDER BY p.id DESC LIMIT 1
);
CREATE INDEX messages_by_parent ON messages (parent_id, conversation_id);
UPDATE conversations SET leaf_id = (
    SELECT max(m.id) FROM messages m WHERE m.conversation_id = conversations.id
);
UPDATE conversations SET remote_leaf_id = leaf_id WHERE chat_id IS NOT NULL
"""


def _v5(conn: sqlite3.Connection) -> None:
    # The parents are filled before their index exists: one index build instead of a write per row.
    _run_script(conn, _V5)


#: Step ``i`` upgrades a database at ``user_version == i`` to ``i + 1``.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _v5]

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
        # SQLite rolls back by itself on some errors (a full disk): a second ROLLBACK would
        # raise "no transaction is active" and hide the error that says what happened.
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        raise
    return found
