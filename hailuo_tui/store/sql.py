"""Two small helpers the store's queries share."""

from __future__ import annotations

import sqlite3
from typing import Any


def inserted_id(cur: sqlite3.Cursor) -> int:
    """The rowid an INSERT just made (sqlite3 types it as optional)."""
    assert cur.lastrowid is not None
    return cur.lastrowid


def set_clause(changes: dict[str, Any]) -> tuple[str, list[Any]]:
    """``"a = ?, b = ?"`` and its values; the column names are the store's own, never input."""
    return ", ".join(f"{column} = ?" for column in changes), list(changes.values())
