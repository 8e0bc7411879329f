"""Database files as an older store wrote them, for the upgrade tests.

Today's store writes today's columns, so an old file is made the way the old
store made it: the schema steps up to that version, then the rows and index
entries that store wrote (a message's content in ``messages_fts`` unless it is
an answer still being written; a title in ``titles_fts``), in WAL mode.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from hailuo_tui.store import migrations
from hailuo_tui.store.fts import fts_text

#: (title, [(role, text) or (role, text, status), ...]) per conversation, oldest first.
History = list[tuple[str | None, list[tuple[str, ...]]]]


def write_old_database(path: Path, version: int, history: History,
                       then: list[tuple[int, str, str, str]] = ()) -> list[int]:
    """Write ``history`` into a new file at schema ``version`` (1 to 4); return the conversation ids.

    ``then`` holds messages added afterwards: (index into history, role, text, status).
    """
    assert version in (1, 2, 3, 4)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    conn = sqlite3.connect(path, isolation_level=None)
    clock = iter(range(1_700_000_000, 1_800_000_000))
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        for step in migrations.MIGRATIONS[:version]:
            step(conn)
        conn.execute(f"PRAGMA user_version = {version}")
        ids = []
        for title, messages in history:
            now = float(next(clock))
            cid = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)", (title, now, now)
            ).lastrowid
            if title:
                conn.execute("INSERT INTO titles_fts (rowid, title) VALUES (?, ?)", (cid, fts_text(title)))
            ids.append(cid)
            for role, text, *status in messages:
                _add(conn, cid, role, text, status[0] if status else "complete", float(next(clock)))
        for index, role, text, status in then:
            _add(conn, ids[index], role, text, status, float(next(clock)))
        conn.execute("COMMIT")
    finally:
        conn.close()
    return ids


def _add(conn: sqlite3.Connection, cid: int, role: str, text: str, status: str, now: float) -> None:
    error = "boom" if status == "failed" else None
    mid = conn.execute(
        "INSERT INTO messages (conversation_id, role, content, status, error, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (cid, role, text, status, error, now, now),
    ).lastrowid
    conn.execute(
        "UPDATE conversations SET updated_at = max(updated_at, ?), message_count = message_count + 1 WHERE id = ?",
        (now, cid),
    )
    if not (role == "assistant" and status in ("pending", "streaming")):
        conn.execute("INSERT INTO messages_fts (rowid, body) VALUES (?, ?)", (mid, fts_text(text)))


def upgrade_fails_leaving_the_file_as_it_was(path: Path, version: int, monkeypatch: Any) -> None:
    """Open a version-``version`` file with the next migration step failing at its very end (the
    disk, after the step's work); assert the file and its folder are byte for byte as before."""
    import pytest

    from hailuo_tui.store import ChatStore, StoreError

    before = path.read_bytes()
    files_before = sorted(p.name for p in path.parent.iterdir())
    step, ran = migrations.MIGRATIONS[version], []

    def broken(conn: sqlite3.Connection) -> None:
        step(conn)  # the whole step runs, then the disk fails
        ran.append(True)
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS[:version], broken])
        with pytest.raises(StoreError):
            ChatStore(path)
    assert ran == [True]
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == files_before
