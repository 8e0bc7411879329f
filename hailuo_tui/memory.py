"""Keep the process's memory proportional to what it holds, not to how many big strings passed through it.

A Hailuo answer arrives as cumulative snapshots: every event carries the whole answer so far, so a
1.7 MB answer means thousands of short-lived strings of up to a few MB each. glibc's malloc raises its
mmap threshold to the largest block freed (up to 32 MB), after which such strings come from the heap,
interleaved with the app's small long-lived objects, and the freed space is rarely given back: RSS grew
with the number of events (59 -> 234 MB for 1.7 MB of text). A fixed threshold keeps big blocks in
their own mappings, returned to the system as soon as they are freed.

Fixing the mmap threshold also turns off glibc's sliding trim threshold, which then stays at its
128 KiB default: whenever the free space at the top of the heap passed 128 KiB it was handed back,
and the next few events' strings (tens of KB each) faulted the same pages in again. A 2 MiB trim
threshold keeps up to 2 MiB of free heap top mapped instead. ``python bench/web_burst.py`` (the web
backend taking a burst of 4,000 cumulative snapshots, 43 MB, off the socket; no app): page faults per
answer 47,000 -> 27,000 (the first of a process) and 11,000 (later ones), CPU 0.18 -> 0.14 / 0.12 s,
nearly all of it system time; peak RSS of the app unchanged (79 MB, bench/terminal_stream.py). Since the
SSE decoder decodes line by line (no string per network read): 8,000 -> 1,000 faults (the first answer)
and 8,000 -> ~0 (later ones).

The threshold sits above 256 KiB: asyncio reads a socket into a fresh 256 KiB bytes object (its transports'
read size; with the object's header just over 256 KiB) and shrinks it to what came. At a threshold of
exactly 256 KiB every read got a mapping of its own: mmap, mremap to shrink it, munmap once it was freed,
and two page faults, paid at every read of a paced answer (~1,550 for the API backend's 4,000 deltas at
200 a second, ~3,000 for the web backend's snapshots). ``python bench/socket_reads.py`` (a socketpair read
by an ``asyncio.Protocol``, 1,000-byte writes a millisecond apart): 41.9 -> 19.5 µs of CPU per read, 2 -> 0
page faults; 20,000-byte writes 50.8 -> 28.4 µs, 6 -> 0. Blocks of a few hundred KB and more (the
snapshots of a long answer) still get mappings of their own.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

#: Blocks at least this big get their own mapping (glibc's ``M_MMAP_THRESHOLD``); below the dynamic maximum,
#: above the 256 KiB buffer asyncio allocates for every read of a socket (see the module's notes).
MMAP_THRESHOLD = 320 * 1024
#: Overrides :data:`MMAP_THRESHOLD` (bytes; ``262144``, the previous setting, maps every read's buffer).
MMAP_ENV = "HAILUO_TUI_MMAP_THRESHOLD"
#: Free space at the heap's top kept mapped rather than handed back (glibc's ``M_TRIM_THRESHOLD``).
TRIM_THRESHOLD = 2 * 1024 * 1024
#: Overrides :data:`TRIM_THRESHOLD` (bytes; ``0`` leaves glibc's 128 KiB, to compare).
TRIM_ENV = "HAILUO_TUI_TRIM_THRESHOLD"
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def mmap_threshold() -> int:
    """:data:`MMAP_THRESHOLD`, or the bytes ``HAILUO_TUI_MMAP_THRESHOLD`` says (within 64 KiB-32 MiB, glibc's
    own range; a bad value: the default)."""
    value = os.environ.get(MMAP_ENV)
    if value is None:
        return MMAP_THRESHOLD
    try:
        return max(64 * 1024, min(int(value), 32 * 1024 * 1024))
    except ValueError:
        return MMAP_THRESHOLD


def trim_threshold() -> int:
    """:data:`TRIM_THRESHOLD`, or the bytes ``HAILUO_TUI_TRIM_THRESHOLD`` says (a bad value: the default)."""
    value = os.environ.get(TRIM_ENV)
    if value is None:
        return TRIM_THRESHOLD
    try:
        return max(0, min(int(value), 256 * 1024 * 1024))
    except ValueError:
        return TRIM_THRESHOLD


def return_big_blocks() -> bool:
    """Fix glibc's mmap threshold at :func:`mmap_threshold` and its trim threshold at :func:`trim_threshold`
    (nothing elsewhere). True if the mmap threshold was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The process's own symbols, libc's among them: ctypes.util.find_library ran `ldconfig -p` in a
        # subprocess, half of this function's 4-5 ms at every start.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt)
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold()))
    trim = trim_threshold()
    trimmed = bool(trim and mallopt(_M_TRIM_THRESHOLD, trim))
    logging.getLogger(__name__).debug("mmap threshold %s, trim threshold %s",
                                      "set" if done else "not set", trim if trimmed else "glibc's")
    return done
