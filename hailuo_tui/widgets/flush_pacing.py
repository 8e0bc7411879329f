"""How often a streaming bubble writes to its body: a CPU budget (measured in bench/, issue 5).

A mixin of MessageBubble. Each write re-renders the open Markdown block, so the interval
between writes starts at 1/15 s and is stretched (up to 1/4 s) while the process uses more
than `CPU_BUDGET` of a core over `CPU_WINDOW` seconds, and shortened again when it is idle.
"""

from __future__ import annotations

import time


class FlushPacing:
    """The write interval of a streaming bubble (``_interval``), kept near a CPU budget."""

    FLUSH_INTERVAL = 1 / 15
    """Least seconds between two writes to the body while streaming."""
    FLUSH_INTERVAL_MAX = 0.25
    """Most seconds between two writes."""
    CPU_BUDGET = 0.08
    """Share of a core the app may use while streaming before writes are spaced out."""
    CPU_WINDOW = 0.5
    """Seconds over which the app's CPU use is measured."""
    FLUSH_CHARS_PER_SECOND = 60_000
    """Growth of the interval with the open block's length (re-rendered per write)."""

    _interval: float
    _cpu_mark: tuple[float, float] | None

    def _adapt_interval(self) -> None:
        """Stretch or shorten the flush interval to keep the process near `CPU_BUDGET`."""
        wall, cpu = time.monotonic(), time.process_time()
        mark = self._cpu_mark
        if mark is None or wall - mark[0] > 5 * self.CPU_WINDOW:  # first write, or after a pause
            self._cpu_mark = (wall, cpu)
            return
        if wall - mark[0] < self.CPU_WINDOW:
            return
        share = (cpu - mark[1]) / (wall - mark[0])
        if share > self.CPU_BUDGET:
            self._interval = min(self.FLUSH_INTERVAL_MAX, self._interval * 1.25)
        elif share < self.CPU_BUDGET / 2:
            self._interval = max(self.FLUSH_INTERVAL, self._interval / 1.25)
        self._cpu_mark = (wall, cpu)
