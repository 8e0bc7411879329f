"""Opening the conversation database file safely, and naming what went wrong.

A damaged file, or one written by a newer hailuo-tui, is detected before
anything writes to it, so it stays exactly as it was for the user to keep.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from . import migrations
from .rows import StoreError


def is_memory(path: str) -> bool:
    """Whether ``path`` names an in-memory database rather than a file."""
    return path == ":memory:" or path.startswith("file::memory:")


def open_database(path: str) -> sqlite3.Connection:
    """Open ``path`` (creating it 0600 in a 0700 directory), check it, and migrate it.

    The connection is in autocommit mode (``isolation_level=None``) and may be
    used from any thread; the caller serialises access.

    Raises:
        StoreError: the file cannot be created or opened, is damaged, busy, or newer.
    """
    memory = is_memory(path)
    created = False if memory else _prepare_file(Path(path))
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
    except sqlite3.Error as exc:
        raise StoreError(path, f"Could not open the conversation database at {path}: {exc}.") from exc
    try:
        _check_and_migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    if not (created or memory):
        try:
            if os.stat(path).st_mode & 0o077:
                os.chmod(path, 0o600)
        except OSError:
            pass
    return conn


def _prepare_file(path: Path) -> bool:
    """Create the parent directory (0700) and an empty file (0600) if missing; True if created."""
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


def _check_and_migrate(conn: sqlite3.Connection, path: str) -> None:
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        # Read before anything writes, so a damaged or newer file stays untouched.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            raise StoreError(path, f"The conversation database at {path} is busy in another program; try again.") from exc
        raise corrupt(path, exc) from exc
    # Read through the module so a test can stand in an older schema.
    known = migrations.SCHEMA_VERSION
    if version > known:
        raise StoreError(
            path,
            f"The conversation database at {path} was written by a newer hailuo-tui "
            f"(schema {version}; this one knows {known}); upgrade, or move it away.",
            title="Database from a newer version",
            kind="newer",
        )
    try:
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if version < known:
            migrations.migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise translate(path, exc) from exc


def corrupt(path: str, exc: Exception) -> StoreError:
    """The error for a damaged file: it is kept, and the user may move it aside."""
    return StoreError(
        path,
        f"The conversation database at {path} is damaged ({exc}). It was left as it is; "
        f"hailuo-tui can keep it as {path}.corrupt-<time> and start a new one.",
        title="Damaged conversation database",
        kind="corrupt",
    )


def translate(path: str, exc: sqlite3.Error) -> StoreError:
    """A :class:`StoreError` for the user from an SQLite error."""
    text = str(exc)
    if "malformed" in text or "not a database" in text:
        return corrupt(path, exc)
    if "locked" in text or "busy" in text:
        return StoreError(path, f"The conversation database at {path} stayed busy in another program ({text}).")
    return StoreError(path, f"The conversation database at {path} could not be used: {text}.")


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
