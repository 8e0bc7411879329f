"""Opening the conversation database file safely, and naming what went wrong.

A damaged file, or one written by a newer hailuo-tui, is detected before
anything writes to it, so it stays exactly as it was for the user to keep.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path

from . import check_record, migrations
from .rows import StoreError


def is_memory(path: str) -> bool:
    """Whether ``path`` names an in-memory database rather than a file."""
    return path == ":memory:" or path.startswith("file::memory:")


#: How long a write waits for another program's lock before it is reported as "locked" (seconds).
#: Read when a database is opened, so a test can make it short.
BUSY_TIMEOUT = 5.0
#: Files up to this size are checked (``PRAGMA quick_check``) before they are opened; a bigger
#: one is checked after the first frame (:func:`verify`): the check reads every page, about
#: 0.5 s for 200,000 messages (221 MB) and 0.1 s for 32 MB, too long to hold the start (8 MB: ~25 ms).
CHECK_AT_OPEN_BYTES = 8 << 20
#: A disk with less free space than this is called full when SQLite reports a bare I/O error
#: (it does so, not "disk full", when it cannot grow its shared-memory file).
FULL_BELOW = 1 << 20


def open_database(path: str, *, check: bool = True) -> sqlite3.Connection:
    """Open ``path`` (creating it 0600 in a 0700 directory), check it, and migrate it.

    The connection is in autocommit mode (``isolation_level=None``) and may be
    used from any thread; the caller serialises access. Before anything is written,
    the file is checked (``PRAGMA quick_check``) and must be empty or a hailuo-tui
    database: a damaged file, another program's database or one from a newer
    hailuo-tui is left exactly as it is. ``check=False``: the file is known sound
    (:mod:`.check_record`); it is not read through.

    Raises:
        StoreError: the file cannot be created or opened (``kind`` "readonly", "full",
            "locked" or "io"), is damaged ("corrupt"), another program's ("foreign"),
            or newer ("newer").
    """
    memory = is_memory(path)
    created = False if memory else _prepare_file(Path(path))
    if not (memory or created):
        _require_writable(Path(path))
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT)
    except sqlite3.Error as exc:
        raise at_open(path, exc) from exc
    try:
        _check_and_migrate(conn, path, check)
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
        kind = _errno_kind(exc)
        raise StoreError(
            str(path),
            f"Could not create the conversation database at {path}: {exc.strerror}.{_WAY_OUT.get(kind, '')}",
            kind=kind,
        ) from exc
    os.close(fd)
    return True


def _require_writable(path: Path) -> None:
    """Refuse, before SQLite touches it, a file (or folder: the journal goes there) that cannot be written.

    SQLite would open it read-only and fail at the first write (the user's message): said at
    start instead. Checked with access(2), which sees read-only mounts and, for users other
    than root, the permissions.
    """
    for target in (path, path.parent):
        if not os.access(target, os.W_OK):
            why = "its disk is mounted read-only" if _disk_state(str(path)) == "readonly" else f"{target} is read-only"
            raise StoreError(
                str(path),
                f"The conversation database at {path} cannot be written: {why}.{_WAY_OUT['readonly']}",
                title="Read-only conversation database",
                kind="readonly",
            )


def _errno_kind(exc: OSError) -> str:
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "readonly"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "full"
    return "io"


def os_error(path: str, exc: OSError, what: str = "prepare the data directory for") -> StoreError:
    """A :class:`StoreError` for an operating-system error around the database (its directory, say)."""
    kind = _errno_kind(exc)
    where = exc.filename or path
    if kind == "readonly":
        what = "write to the folder of"
    return StoreError(
        path,
        f"Could not {what} the conversation database at {path} ({where}: {exc.strerror}).{_WAY_OUT.get(kind, '')}",
        kind=kind,
    )


#: What the user can do, said when the app cannot start on the database.
_WAY_OUT = {
    "readonly": " hailuo-tui needs to write there: check the permissions of the file and its folder, "
    "or remount the disk read-write, then start again. Nothing was changed.",
    "full": " Free some space on that disk, then start again. Nothing was lost.",
    "locked": " Close the other program (or wait for it), then start again.",
}


def _check_and_migrate(conn: sqlite3.Connection, path: str, check_file: bool) -> None:
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
        # Read before anything writes, so a damaged, foreign or newer file stays untouched.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise at_open(path, exc) from exc
    # Read through the module so a test can stand in an older schema.
    known = migrations.SCHEMA_VERSION
    if names and (version == 0 or (version <= known and "conversations" not in names)):
        # hailuo-tui never leaves tables at version 0 (its migrations are one transaction);
        # a newer one may have renamed its tables, so that case is left to the "newer" check.
        raise StoreError(
            path,
            f"The file at {path} is an SQLite database of another program, not a hailuo-tui one. "
            "It was left exactly as it is; move it away (or set another data directory) and start again.",
            title="Not a hailuo-tui database",
            kind="foreign",
        )
    if version > known:
        raise StoreError(
            path,
            f"The conversation database at {path} was written by a newer hailuo-tui "
            f"(schema {version}; this one knows {known}); upgrade, or move it away.",
            title="Database from a newer version",
            kind="newer",
        )
    if check_file and names and not is_memory(path) and os.path.getsize(path) <= CHECK_AT_OPEN_BYTES:
        check(conn, path)
    try:
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if version < known:
            migrations.migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise at_open(path, exc) from exc


def check(conn: sqlite3.Connection, path: str) -> None:
    """Raise a "corrupt" :class:`StoreError` unless ``PRAGMA quick_check`` finds the file sound.

    A file damaged in the middle (its header intact) opens and reads its first pages
    fine, and fails later, on whichever conversation lives on the bad page: checked
    here, it is offered to be kept aside at once. quick_check reads every page but
    skips the index-content comparison of integrity_check; its cost is at
    :data:`CHECK_AT_OPEN_BYTES`.
    """
    try:
        rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    except sqlite3.DatabaseError as exc:
        raise at_open(path, exc) from exc
    if rows != [("ok",)]:
        raise corrupt(path, "; ".join(str(r[0]) for r in rows))


def too_big_to_check_at_open(path: str) -> bool:
    """Whether the file is too big to be checked at open (:data:`CHECK_AT_OPEN_BYTES`): it is checked beside the
    store instead (:meth:`.file_checks.FileChecks.check_beside`), unless recorded sound."""
    try:
        return not is_memory(path) and os.path.getsize(path) > CHECK_AT_OPEN_BYTES
    except OSError:
        return False


def open_checked(path: str) -> tuple[sqlite3.Connection, float | None, tuple[int, int] | None]:
    """:func:`open_database`, not reading through a file recorded sound (:mod:`.check_record`).

    Returns the connection; when the file was last found sound (recorded, or checked at this open: a new or
    small file), None for a big one yet to check (:func:`verify`, beside the store); and its :func:`check_record.file_id`
    (None in memory).
    """
    if is_memory(path):
        return open_database(path), None, None
    started = time.time()
    recorded = check_record.checked_at(path)
    try:
        new = os.path.getsize(path) == 0
    except OSError:
        new = True
    conn = open_database(path, check=recorded is None)
    checked = recorded if recorded is not None else started if new or not too_big_to_check_at_open(path) else None
    return conn, checked, check_record.file_id(path)


def verify(path: str) -> StoreError | bool:
    """Check the file on a connection of its own (read-only; may run in any thread beside the store).

    Returns True when it is sound, the "corrupt" error when it is damaged, and False when it cannot be
    told now (locked, say: the reads that follow will say what is wrong, if anything).
    """
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
    except sqlite3.Error:
        return False
    try:
        check(conn, path)
    except StoreError as exc:
        return exc if exc.kind == "corrupt" else False
    finally:
        conn.close()
    return True


def at_open(path: str, exc: sqlite3.Error) -> StoreError:
    """The error for the user when the database cannot be opened: what happened and what to do."""
    error = translate(path, exc)
    tail = _WAY_OUT.get(error.kind)
    if tail:
        error.message += tail
        error.args = (error.message,)
    return error


def corrupt(path: str, exc: Exception | str) -> StoreError:
    """The error for a damaged file: it is kept, and the user may move it aside."""
    return StoreError(
        path,
        f"The conversation database at {path} is damaged ({exc}). It was left as it is; "
        f"hailuo-tui can keep it as {path}.corrupt-<time> and start a new one.",
        title="Damaged conversation database",
        kind="corrupt",
    )


def _disk_state(path: str) -> str | None:
    """"readonly" or "full" when the disk holding ``path`` is; None when it looks fine or is unknown."""
    if is_memory(path):
        return None
    try:
        st = os.statvfs(Path(path).parent)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY:
        return "readonly"
    if st.f_bavail * st.f_frsize < FULL_BELOW:
        return "full"
    return None


def kind_of(path: str, exc: sqlite3.Error) -> str:
    """What an SQLite error means for the user: "locked", "full", "readonly", "corrupt" or "io"."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in text or "not a database" in text:
        return "corrupt"
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text or "busy" in text:
        return "locked"
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return "full"
    if code == sqlite3.SQLITE_READONLY or "readonly" in text:
        return "readonly"
    if code in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN) or "I/O error" in text or "unable to open" in text:
        state = _disk_state(path)
        if state is not None:
            return state
        if code == sqlite3.SQLITE_CANTOPEN and not is_memory(path) and not os.access(path, os.W_OK):
            return "readonly"
    return "io"


def translate(path: str, exc: sqlite3.Error) -> StoreError:
    """A :class:`StoreError` for the user from an SQLite error; its ``kind`` says why (see :func:`kind_of`)."""
    kind = kind_of(path, exc)
    text = str(exc)
    if kind == "corrupt":
        return corrupt(path, exc)
    if kind == "locked":
        message = (f"The conversation database at {path} is locked by another program "
                   f"(it stayed busy for {BUSY_TIMEOUT:g} s: {text}).")
    elif kind == "full":
        message = f"The disk holding the conversation database at {path} is full ({text})."
    elif kind == "readonly":
        message = f"The conversation database at {path} is read-only: the file or its disk cannot be written ({text})."
    else:
        message = f"The conversation database at {path} could not be used: {text}."
    return StoreError(path, message, kind=kind)


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
    check_record.forget(str(path))
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target
