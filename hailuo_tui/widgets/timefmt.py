"""Short relative times for the sidebar ("now", "5m", "3h", "2d", "Mar 4")."""

from __future__ import annotations

import time
from datetime import datetime, timezone


def to_epoch(when: float | int | str | datetime | None) -> float | None:
    """Convert a timestamp in one of the usual shapes to Unix seconds.

    Args:
        when: Unix seconds, Unix milliseconds, an ISO-8601 string or a datetime.

    Returns:
        Seconds since the epoch, or None when `when` is empty or unreadable.
    """
    if when is None or when == "":
        return None
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    if isinstance(when, str):
        try:
            return to_epoch(float(when))
        except ValueError:
            try:
                return to_epoch(datetime.fromisoformat(when.replace("Z", "+00:00")))
            except ValueError:
                return None
    value = float(when)
    return value / 1000.0 if value > 1e11 else value


def relative_time(when: float | int | str | datetime | None, now: float | None = None) -> str:
    """Format `when` relative to `now` in at most six cells.

    Args:
        when: The moment (see `to_epoch` for accepted shapes).
        now: The current Unix time (defaults to the clock).

    Returns:
        "now", "5m", "3h", "2d", a "Mar 4" date this year, or "2023-03-04".
    """
    epoch = to_epoch(when)
    if epoch is None:
        return ""
    now = time.time() if now is None else now
    delta = max(0.0, now - epoch)
    if delta < 60:
        return "now"
    if delta < 3600:
        return f"{int(delta // 60)}m"
    if delta < 86400:
        return f"{int(delta // 3600)}h"
    if delta < 7 * 86400:
        return f"{int(delta // 86400)}d"
    moment = datetime.fromtimestamp(epoch)
    if moment.year == datetime.fromtimestamp(now).year:
        return f"{moment:%b} {moment.day}"
    return f"{moment:%Y-%m-%d}"
