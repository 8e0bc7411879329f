"""The API's model list, kept for a day so ``hailuo-tui models`` and the model picker answer at once.

The list is not secret, but it may differ per key (MINIMAX_API.md §2), so each
entry is filed under a one-way fingerprint of the host and the key: the cache
file never holds the key itself. Nothing here imports aiohttp, textual or rich.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: How long a listed model list is used before asking the server again (seconds).
DAY = 24 * 60 * 60
_VERSION = 1


@dataclass(frozen=True)
class ModelList:
    """Model ids and where they came from."""

    models: list[str]
    #: ``"server"`` (just listed), ``"cache"`` (listed less than a day ago) or ``"documented"`` (the fallback).
    source: str
    #: Why the documented list is shown (the listing's error, in plain words), else ``None``.
    note: str | None = None


def fingerprint(base_url: str, api_key: str) -> str:
    """A one-way id for (host, key): 16 hex digits of a SHA-256, never the key."""
    digest = hashlib.sha256(f"hailuo-tui models\0{base_url.rstrip('/')}\0{api_key}".encode())
    return digest.hexdigest()[:16]


class ModelCache:
    """One JSON file (mode 0600) of model lists by host-and-key fingerprint."""

    def __init__(self, path: Path, *, ttl: float = DAY, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.ttl = ttl
        self._clock = clock

    def _read(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != _VERSION or not isinstance(data.get("entries"), dict):
            return {}
        return data["entries"]

    def load(self, base_url: str, api_key: str) -> list[str] | None:
        """The models listed for this host and key less than ``ttl`` ago, else ``None``."""
        entry = self._read().get(fingerprint(base_url, api_key))
        if not isinstance(entry, dict):
            return None
        fetched, models = entry.get("fetched_at"), entry.get("models")
        if not isinstance(fetched, (int, float)) or not isinstance(models, list) or not models:
            return None
        age = self._clock() - fetched
        if age < 0 or age >= self.ttl:
            return None
        return [m for m in models if isinstance(m, str)] or None

    def save(self, base_url: str, api_key: str, models: Sequence[str]) -> None:
        """Keep ``models`` for this host and key (best effort: a cache that cannot be written is skipped)."""
        now = self._clock()
        entries = {
            key: entry for key, entry in self._read().items()
            if isinstance(entry, dict) and isinstance(entry.get("fetched_at"), (int, float))
            and now - entry["fetched_at"] < self.ttl
        }
        entries[fingerprint(base_url, api_key)] = {
            "base_url": base_url.rstrip("/"), "fetched_at": now, "models": list(models),
        }
        with contextlib.suppress(OSError):
            self._write({"version": _VERSION, "entries": entries})

    def _write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # write beside the file and rename, so a reader never sees half a file
        fd, tmp = tempfile.mkstemp(prefix=".models-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def clear(self) -> None:
        """Forget every list (after a logout)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
