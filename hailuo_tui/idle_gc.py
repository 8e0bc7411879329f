"""Keep Python's full garbage collections short; run the one long collection at quiet moments.

A full (generation 2) collection walks every object that is not frozen. With only the start-up heap
frozen (``HailuoApp.start_up_done``), everything a session makes afterwards is walked: after 100
answers a full collection took 57-72 ms (bench/soak.py: 37 collections over 5 ms), and Python starts
one whenever enough young objects have survived, so it landed inside key presses (the sidebar's ↓
reached the screen after 62 ms, against 4 ms typically).

So, while held:

* after each of Python's own full collections, what survived it is frozen (at the next
  :meth:`IdleCollector.tick`): the next full collection walks only what was made since;
* frozen objects are never walked, so cyclic garbage among them (a removed message's widgets)
  would stay; the *long* collection frees it: unfreeze everything, collect, freeze what is left.
  It runs at a quiet moment (no key, click or paste for :data:`QUIET` s, no answer streaming) at
  most every :data:`SPACING` s once anything was frozen since, or at once, busy or not, after
  :data:`CEILING` freezes since the last one (a session that is never quiet).

No Textual here: the policy is tested with fakes; the app calls :meth:`IdleCollector.tick` every
:data:`CHECK_EVERY` seconds and :meth:`IdleCollector.activity` on input.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

CHECK_EVERY = 1.0
"""Seconds between two looks (a timer tick: microseconds, nothing next to the idle figure)."""
QUIET = 1.0
"""Seconds without input or a streaming answer before the long collection may run."""
SPACING = 2.0
"""Least seconds between two long collections made at quiet moments."""
CEILING = 25
"""Freezes since the last long collection that make it run even while busy (one follows each of
Python's full collections: about one every 3-4 answers in bench/soak.py). Counted, not measured:
``gc.get_freeze_count()`` walks the frozen heap, 11 ms a call after start-up."""


def _full_collections() -> int:
    return gc.get_stats()[2]["collections"]


class IdleCollector:
    """When to freeze and when to run the long collection (see the module's docstring)."""

    def __init__(
        self,
        *,
        collect: Callable[[int], object] = gc.collect,
        freeze: Callable[[], None] = gc.freeze,
        unfreeze: Callable[[], None] = gc.unfreeze,
        full_collections: Callable[[], int] = _full_collections,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._collect, self._freeze, self._unfreeze = collect, freeze, unfreeze
        self._full_collections = full_collections
        self._clock = clock
        self._held = False
        self._last_activity = self._last_long = clock()
        self._seen_full = full_collections()
        #: Freezes since the last long collection.
        self._freezes = 0
        #: Long collections run, and looks taken (for the log and the tests).
        self.long_collections = self.ticks = 0

    @property
    def held(self) -> bool:
        """Between `hold` and `release`."""
        return self._held

    def hold(self) -> None:
        """Freeze the heap as it is (the start-up heap) and take over from here."""
        if not self._held:
            self._held = True
            self._freeze()
            self._after_long()

    def release(self) -> None:
        """Unfreeze everything (on exit: an app run inside a longer process, the tests, leaves nothing frozen)."""
        if self._held:
            self._held = False
            self._unfreeze()

    def activity(self) -> None:
        """A key, a click or a paste just came: not a quiet moment."""
        self._last_activity = self._clock()

    def tick(self, busy: bool) -> str | None:
        """Freeze after Python's full collection; run the long collection when it is time.

        Args:
            busy: An answer is streaming.

        Returns:
            "long", "freeze" or None: what was done.
        """
        if not self._held:
            return None
        self.ticks += 1
        now = self._clock()
        quiet = not busy and now - self._last_activity >= QUIET and now - self._last_long >= SPACING
        if self._freezes >= CEILING or (self._freezes and quiet):
            self._unfreeze()
            self._collect(2)
            self._freeze()
            self._after_long()
            self.long_collections += 1
            return "long"
        full = self._full_collections()
        if full != self._seen_full:
            self._seen_full = full
            # Young cyclic garbage goes first (a few ms); what is left survived Python's last full
            # collection or is in use now, and is not walked again until the long collection.
            self._collect(1)
            self._freeze()
            self._freezes += 1
            return "freeze"
        return None

    def _after_long(self) -> None:
        self._last_long = self._clock()
        self._freezes = 0
        self._seen_full = self._full_collections()
