"""Reading a slowly streamed answer a few events at a time: fewer wake-ups for the same text.

A model streams an answer as small events a few milliseconds apart. Read as they come, every event
wakes the event loop (often twice: the chunk header and its data arrive apart: 8,477 turns of the loop
for 4,000 deltas) and goes alone through asyncio, aiohttp's parser and the read path up to the reply.
The screen shows new text only a few times a second (`FlushPacing`), so reading each event at once
buys nothing. `ReadPacer` therefore lets a stream that has shown itself slow (its
last reads each waited on the network and brought little) rest between reads: it stops watching the
socket for `READ_BATCH` seconds (``transport.pause_reading()``, public asyncio) and then takes what
arrived in one read. A burst, whose reads find data waiting, is never held back.

Measured with ``bench/api_stream.py --only paced`` (4,000 deltas at 200 a second), one run each,
interleaved: the app's CPU for the answer was 2.18 / 2.36 / 2.55 CPU-s reading each event and 2.08 / 2.17 /
2.20 resting 12 ms (20 ms: 2.04 against 2.37). The last event can wait one rest, so the lag after it grows
by up to `READ_BATCH` (0.018 s -> 0.031 s in bench/run.py --only anchors). ``HAILUO_TUI_READ_BATCH`` (seconds; 0 turns resting
off) overrides it. No aiohttp here: the transport is any asyncio read transport.

A rest is ended by the event loop (``loop.call_later`` resumes the transport) while the reading task
already waits on its read, not by the task sleeping and then reading: one wake-up of the task per rest
instead of two, and no sleep's future. On this VM a wake-up is not free: a bare ``asyncio.sleep(0.012)``
loop costs ~130-160 µs of CPU per wake (an ``epoll.poll`` loop alone ~40-60 µs), so what a slow stream
costs is mostly how often it wakes the loop. ``hailuo-tui ask --backend api`` on the paced stream (3 runs each,
alternated): 0.88-1.02 -> 0.76-0.82 CPU-s; in the app (a throwaway copy of bench/frame_log.py counting the
loop's callbacks) the reading task's wake-ups 3,029 -> 1,532 and the loop's turns 7,000 -> 5,541 per answer.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

READ_BATCH = 0.012
"""Seconds a slow stream rests between reads (the lag after its last event grows by at most this)."""
ENV = "HAILUO_TUI_READ_BATCH"
"""Overrides :data:`READ_BATCH` (seconds; 0: read every event as it comes)."""
WAITED = 0.001
"""A read that took this long waited on the network: the reader is ahead of the stream."""
SMALL = 16 * 1024
"""A read that brought less than this is part of a slow stream (a burst's reads bring 64 KiB or more)."""
STREAK = 3
"""Slow reads in a row before the stream rests: a burst's first read (which waits for the first
bytes) does not count as a slow stream."""


def read_batch() -> float:
    """:data:`READ_BATCH`, or the seconds ``HAILUO_TUI_READ_BATCH`` says (a bad value: the default)."""
    value = os.environ.get(ENV)
    if value is None:
        return READ_BATCH
    try:
        return max(0.0, min(float(value), 0.25))
    except ValueError:
        return READ_BATCH


def transport_of(response: Any) -> Any:
    """The asyncio transport an aiohttp ``ClientResponse`` reads from (its public ``connection``), or None."""
    return getattr(getattr(response, "connection", None), "transport", None)


class ReadPacer:
    """The reads of one streamed response; rests between them once the stream has shown itself slow.

    Args:
        transport: The connection's asyncio transport (``None``: never rests; see `transport_of`).
        seconds: The rest; ``None``: :func:`read_batch`.
        clock: Monotonic seconds (tests).
    """

    def __init__(self, transport: Any, seconds: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = read_batch() if seconds is None else seconds
        self._transport = transport
        self._clock = clock
        self._streak = 0
        self._rested = False
        #: The pending end of the current rest (the loop's call to resume the transport), or None.
        self._resume_at: asyncio.TimerHandle | None = None
        #: Rests taken (for tests and the log).
        self.rests = 0
        #: Reads made.
        self.reads = 0

    async def read(self, reading: Callable[[], Awaitable[bytes]], *, ending: bool = False) -> bytes:
        """Rest if the stream is slow, then ``await reading()`` (the read with its own timeouts).

        ``ending``: the answer said it is over (a finish reason): what is left comes at once, unheld.
        """
        if self._streak >= STREAK and self.seconds > 0 and not ending:
            self._pause()
        started = self._clock()
        try:
            chunk = await reading()
        finally:
            # Never left paused behind a read: one that failed, timed out or was cancelled during the rest, or
            # that aiohttp served from what it already held (the stream may end here).
            self._resume_now()
        self.reads += 1
        slow = (self._rested or self._clock() - started >= WAITED) and len(chunk) < SMALL
        self._streak = self._streak + 1 if slow and chunk else 0
        self._rested = False
        return chunk

    def _pause(self) -> None:
        """Stop watching the socket and watch it again in :attr:`seconds`: the read that follows waits for
        that. The loop resumes the transport itself (``call_later``), so a rest wakes the event loop once and
        the reading task once, where sleeping in the task woke it twice (the sleep, then the data)."""
        transport = self._transport
        if transport is None or transport.is_closing() or not transport.is_reading():
            return  # gone, or paused (by the client's own flow control, or still by us): leave it alone
        transport.pause_reading()
        self._resume_at = asyncio.get_running_loop().call_later(self.seconds, self._resume)
        self._rested = True
        self.rests += 1

    def _resume(self) -> None:
        self._resume_at = None
        if not self._transport.is_closing():
            self._transport.resume_reading()

    def _resume_now(self) -> None:
        if self._resume_at is not None:
            self._resume_at.cancel()
            self._resume()


__all__ = ["ENV", "READ_BATCH", "ReadPacer", "read_batch", "transport_of"]
