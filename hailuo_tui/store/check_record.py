"""The record that lets a start skip checking a database no one but hailuo-tui has touched since its last check.

``PRAGMA quick_check`` reads every page: ~0.13 CPU-s for the bench's 130 MB history with the file in the page
cache (0.24 s cold), ~0.5 s for 221 MB, on a thread of its own just after the first frame; a file up to
:data:`~hailuo_tui.store.connection.CHECK_AT_OPEN_BYTES` is checked before it (opening a 6.4 MB one, median of
9: 8.3-9.9 ms with the check, 1.1 ms without). That was paid at every start.

A session that checked the file (or found it recorded), and closes it as the last connection, writes
``<database>.checked``: when the file was last found sound, and the file's identity (device, inode,
size, modification time) as the session left it. The next start skips the check when the file is still that
one, has no write-ahead log left with pages in it (a session that ended without closing), and the check is
less than :data:`RECHECK_AFTER` old. Anything else writing the file (another program, a copy put in its
place, a session that crashed after writing) changes its identity, and the next start checks it.

Damage that changes nothing of that (a failing disk) is found by the check a week later, or by the first
read of a damaged page, which reports it as the check would. ``HAILUO_TUI_CHECK_EVERY_START=1`` checks at
every start, as before this record.
"""

from __future__ import annotations

import json
import os
import time

#: Seconds after which a recorded check is made again although only hailuo-tui wrote the file since.
RECHECK_AFTER = 7 * 24 * 3600.0
#: ``1``: ignore the record; every start checks the file (the previous behaviour, for comparison).
EVERY_START_ENV = "HAILUO_TUI_CHECK_EVERY_START"
SUFFIX = ".checked"
_VERSION = 1


def record_path(path: str) -> str:
    """The record kept beside the database ``path``."""
    return path + SUFFIX


def file_id(path: str) -> tuple[int, int] | None:
    """The file's device and inode (None when it cannot be read): whether it is still the file opened."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _identity(path: str) -> list[int] | None:
    """The file as a closed session left it, or None when a write-ahead log with pages in it is left over
    (its writer did not close: what it wrote is not in the file yet) or the file cannot be read."""
    try:
        if os.path.getsize(path + "-wal") > 0:
            return None
    except OSError:
        pass  # no log: every write is in the file
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def checked_at(path: str, now: float | None = None) -> float | None:
    """When the file was last found sound, if nothing but closed hailuo-tui sessions wrote it since and that
    is less than :data:`RECHECK_AFTER` ago; None when it is to be checked."""
    if os.environ.get(EVERY_START_ENV) == "1":
        return None
    try:
        with open(record_path(path), encoding="utf-8") as f:
            record = json.load(f)
        when = float(record["checked_at"])
        if record.get("version") != _VERSION or record["file"] != _identity(path):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # none, unreadable or from another version: check
    now = time.time() if now is None else now
    return when if 0 <= now - when < RECHECK_AFTER else None


def write(path: str, when: float, opened: tuple[int, int] | None) -> bool:
    """Record that the file was sound at ``when`` and that a session closed it just now; True if written.

    Not written when the file is no longer the one the session opened (``opened``: its :func:`file_id`), or
    when a write-ahead log is left (another session still has it open: the last one to close records it).
    Failing to write is not an error (the next start checks the file, nothing else).
    """
    identity = _identity(path)
    if identity is None or opened is None or identity[:2] != list(opened):
        return False
    target = record_path(path)
    tmp = f"{target}.tmp-{os.getpid()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": _VERSION, "checked_at": when, "file": identity}, f)
        os.replace(tmp, target)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    return True


def forget(path: str) -> None:
    """Remove the record (the file was found damaged, or moved aside)."""
    try:
        os.unlink(record_path(path))
    except OSError:
        pass
