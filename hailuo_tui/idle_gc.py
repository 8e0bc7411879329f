"""Keep Python's full garbage collections short; run the one long collection at quiet moments.

A full (generation 2) collection walks every object that is not frozen. With only the start-up heap
frozen (``HailuoApp.start_up_done``), everything a session makes afterwards is walked: after 100
answers a full collection took 57-72 ms (bench/soak.py: 37 collections over 5 ms), and Python starts
one whenever enough young objects have survived, so it landed inside key presses (the sidebar's ↓
reached the screen after 62 ms, against 4 ms typically).

So, while held:

* at the end of each of Python's own full collections (a ``gc.callbacks`` hook), what survived it
  is frozen: the next full collection walks only what survived the young collections since. Python
  starts a full collection after :data:`FULL_EVERY` young (generation 1) ones, not its default 10:
  the same objects are walked in all (each once, then frozen), in smaller pieces. Reading up a
  2,000-message conversation (bench/app_scale.py open-2000+top), full collections took 25 ms on
  average and 41 ms at worst when frozen at the next tick with Python's 10; frozen at once, 13 / 20 ms;
  and with 3, 4.4 / 7 ms (144 of them instead of 48, the same total), so the worst page of messages
  went from 0.09-0.1 s to 0.066 s;
* frozen objects are never walked, so cyclic garbage among them (a removed message's widgets)
  would stay; the *long* collection frees it: unfreeze everything, collect, freeze what is left.
  It runs at a quiet moment (no key, click or paste for :data:`QUIET` s, no answer streaming) at
  most every :data:`SPACING` s once anything was frozen since, or at once, busy or not, after
  :data:`CEILING` looks found a freeze since the last one (a session that is never quiet).

Before all that, the start: :func:`defer_collections` (called before the app's imports) turns Python's
automatic collections off until :meth:`IdleCollector.hold`, the start-up done. Start-up makes a few
hundred thousand objects that all live on, and Python walked them in a full collection that landed
just before the first frame (27.5 ms of it, collecting 375 objects; bench/floor.py's first frame, with the
deferral and without, is in the README). The little garbage the start leaves is frozen with the rest by
:meth:`IdleCollector.hold` and freed by the first long collection, at the first quiet moment.

No Textual here: the policy is tested with fakes; the app calls :meth:`IdleCollector.tick` every
:data:`CHECK_EVERY` seconds and :meth:`IdleCollector.activity` on input.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

FULL_EVERY = 3
"""Young (generation 1) collections between two of Python's full ones while held (Python's own: 10)."""
CHECK_EVERY = 1.0
"""Seconds between two looks (a timer tick: microseconds, nothing next to the idle figure)."""
QUIET = 1.0
"""Seconds without input or a streaming answer before the long collection may run."""
SPACING = 2.0
"""Least seconds between two long collections made at quiet moments."""
CEILING = 120
"""Looks (:data:`CHECK_EVERY`) that found a freeze since the last long collection, that make it run
even while busy (at most one a second: two minutes of a session that is never quiet). Since full
collections come after 3 young ones, nearly every look finds one while the app works: at 25, the
message cursor held on ↑ through 2,000 messages (bench/app_scale.py cursor-2000, a key every ~0.12 s
for 4 minutes) met a forced long collection every 25 s, one of them inside a key (0.43 s). Counted,
not measured: ``gc.get_freeze_count()`` walks the frozen heap, 11 ms a call after start-up."""


#: Set to 0 to turn idle_gc off (only the start-up heap is frozen, as before it; collections are not deferred
#: during the start either), for comparison.
IDLE_GC_ENV = "HAILUO_TUI_IDLE_GC"
#: Set to 0 to let Python collect during the start as it does by itself (:func:`defer_collections`), for comparison.
DEFER_ENV = "HAILUO_TUI_DEFER_GC"
#: Seconds after which collections come back even if the start never finished (a dialog about a damaged
#: database, say): a start takes well under one.
DEFER_AT_MOST = 10.0

_deferred = False


def defer_collections() -> None:
    """No automatic collection until :meth:`IdleCollector.hold` or :func:`resume_collections` (nothing if
    the collector is already off)."""
    global _deferred
    if gc.isenabled():
        gc.disable()
        _deferred = True


def resume_collections() -> bool:
    """Undo :func:`defer_collections`; returns whether it had deferred them."""
    global _deferred
    if not _deferred:
        return False
    _deferred = False
    gc.enable()
    return True


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
        callbacks: list[Callable[[str, dict], object]] | None = None,
        threshold: tuple[Callable[[], tuple[int, ...]], Callable[..., None]] = (gc.get_threshold, gc.set_threshold),
        resume: Callable[[], bool] = resume_collections,
    ) -> None:
        self._collect, self._freeze, self._unfreeze = collect, freeze, unfreeze
        self._full_collections = full_collections
        self._clock = clock
        self._callbacks = gc.callbacks if callbacks is None else callbacks
        self._get_threshold, self._set_threshold = threshold
        self._resume = resume
        self._saved_threshold: tuple[int, ...] | None = None
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
        """Freeze the heap as it is (the start-up heap) and take over from here; collections deferred for
        the start (:func:`defer_collections`) come back, and the garbage frozen with the heap is freed by
        the long collection at the first quiet moment."""
        if not self._held:
            self._held = True
            self._freeze()
            self._after_long()
            if self._resume():
                self._freezes = 1
            self._callbacks.append(self._collected)
            self._saved_threshold = tuple(self._get_threshold())
            young, middle, *_ = self._saved_threshold
            self._set_threshold(young, middle, FULL_EVERY)

    def release(self) -> None:
        """Unfreeze everything and give Python its own settings back (on exit: an app run inside a longer
        process, the tests, leaves nothing frozen)."""
        self._resume()
        if self._held:
            self._held = False
            if self._collected in self._callbacks:
                self._callbacks.remove(self._collected)
            if self._saved_threshold is not None:
                self._set_threshold(*self._saved_threshold)
                self._saved_threshold = None
            self._unfreeze()

    def _collected(self, phase: str, info: dict) -> None:
        """``gc.callbacks``: a full collection just ended; all it kept is in use, freeze it."""
        if phase == "stop" and info.get("generation") == 2 and self._held:
            self._freeze()

    def activity(self) -> None:
        """A key, a click or a paste just came: not a quiet moment."""
        self._last_activity = self._clock()

    def tick(self, busy: bool) -> str | None:
        """Count the full collections since the last look (each froze what it kept); run the long
        collection when it is time.

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
            self._freezes += 1
            return "freeze"
        return None

    def _after_long(self) -> None:
        self._last_long = self._clock()
        self._freezes = 0
        self._seen_full = self._full_collections()
