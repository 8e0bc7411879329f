"""The store's calls on its file as a whole: whether it is still to be checked, checking it beside the store,
recording it sound when the store closes it, and moving a damaged one aside.

:class:`FileChecks` is a part of :class:`~.db.ChatStore` (kept apart so each module stays small); the checks
themselves are in :mod:`.connection`, the record of the last one in :mod:`.check_record`.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import check_record, connection
from .rows import StoreError


class FileChecks:
    """The file calls of :class:`~.db.ChatStore`."""

    path: str
    #: When the file was last found sound (:func:`.connection.open_checked`); None: yet to check.
    checked_at: float | None
    #: The file's device and inode when it was opened (None in memory).
    _opened: tuple[int, int] | None
    _closed: bool

    @staticmethod
    def backup_corrupt(path: Path | str) -> Path:
        """Move a damaged database (and its -wal/-shm files) aside; return the new path.

        Only called when the user agreed; the name is ``PATH.corrupt-<YYYYmmdd-HHMMSS>``.
        """
        return connection.backup_corrupt(path)

    @property
    def needs_check(self) -> bool:
        """Whether the file is yet to be checked: too big to check at open, and not recorded sound."""
        return self.checked_at is None and self._opened is not None

    def check_beside(self) -> StoreError | None:
        """Check the file on a connection of its own, in the calling thread (the store's stays free): the
        "corrupt" error when it is damaged, else None (and, found sound, it is recorded at close)."""
        started = time.time()
        result = connection.verify(self.path)
        if isinstance(result, StoreError):
            check_record.forget(self.path)
            return result
        if result:  # False: it could not be told now (locked): still to check
            self.checked_at = started
        return None

    def _record_on_close(self) -> None:
        """The connection just closed: record the file sound when it was found so, so that the next start
        need not check it (once)."""
        if not self._closed and self.checked_at is not None and self._opened is not None:
            check_record.write(self.path, self.checked_at, self._opened)
        self._closed = True
