"""Keep the process's memory proportional to what it holds, not to how many big strings passed through it.

A Hailuo answer arrives as cumulative snapshots: every event carries the whole answer so far, so a
1.7 MB answer means thousands of short-lived strings of up to a few MB each. glibc's malloc raises its
mmap threshold to the largest block freed (up to 32 MB), after which such strings come from the heap,
interleaved with the app's small long-lived objects, and the freed space is rarely given back: RSS grew
with the number of events (59 -> 234 MB for 1.7 MB of text). A fixed threshold keeps big blocks in
their own mappings, returned to the system as soon as they are freed.
"""

from __future__ import annotations

import ctypes
import logging
import sys

#: Blocks at least this big get their own mapping (glibc's ``M_MMAP_THRESHOLD``); below the dynamic maximum.
MMAP_THRESHOLD = 256 * 1024
_M_MMAP_THRESHOLD = -3


def return_big_blocks() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` (nothing elsewhere). True if it was set."""
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
    done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    logging.getLogger(__name__).debug("mmap threshold %s", "set" if done else "not set")
    return done
