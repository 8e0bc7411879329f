"""Keep Python's full garbage collections out of the way: short ones at quiet moments, small ones while busy.

A full (generation 2) collection walks every object that is not frozen. Left to itself, Python starts one
whenever enough young objects have survived, so after 100 answers one took 57-72 ms (bench/soak.py) and
landed inside key presses. While held (:meth:`IdleCollector.hold`, the start done):

* the start-up heap is frozen (never walked again) and Python never starts a full collection itself (its
  threshold is set out of reach); young collections go on as usual, and what survives them waits in the
  oldest generation;
* at a quiet moment (no key, click or paste for :data:`QUIET` s, no answer streaming, at most every
  :data:`SPACING` s) the *quick* collection walks that generation: what the session made since the last
  deep collection, not the start-up heap. It frees the widgets of removed messages (cyclic garbage), which
  is what most of its time goes to;
* the *deep* collection (unfreeze everything, collect, freeze what is left) frees what was frozen and died
  since: the start's own garbage, at the first quiet moment once input came or an answer streamed (an app
  left alone never runs it), and later the messages that were on screen at the last deep collection and were
  removed since. After the first, it waits for :data:`DEEP_QUIET` s without input, once input came or an
  answer streamed since the last one. What it freezes is walked by no quick collection after it;
* a session that makes a lot between two quiet moments (:data:`BUSY_YOUNG` young collections: the message
  cursor held on ↑ through a long conversation, pages of it mounted and dropped) would leave the quick
  collection too much to walk in one go. It turns *busy*: what waits is frozen, Python runs its own full
  collections after :data:`FULL_EVERY` young ones and what each keeps is frozen as it ends (a
  ``gc.callbacks`` hook), so each walks only what survived since the last, in small pieces. The next quiet
  moment runs the deep collection, which frees what was frozen meanwhile and ends the busy stretch; after
  :data:`CEILING` looks without one, it runs anyway.

So the memory that waits is bounded: frozen garbage by the heap at the last deep collection (an object
dies once) or by a busy stretch's length, the rest by what the next quick collection frees.

The start's garbage waits until the session does something: 9,070 objects, ~1 MB (counted with
``gc.DEBUG_SAVEALL`` in a start on the bench's 10,000 conversations: lists, tuples, drawn segments and lines,
caches, the styles of 80 DOM nodes Textual made and dropped; no file, socket or finaliser among them), whose
freeing left RSS where it was (68,024 kB before and after). Freed at the first quiet moment after the start
whatever happened, as before, it cost a walk of the whole start-up heap, 47-73 ms of one core two seconds after
the first frame: most of an untouched app's CPU in its first ten seconds (``bench/app_scale.py idle-cpu-10s``).
Once the session has done something, the first deep collection still comes at the first quiet moment: it also
freezes what the session's first minutes made, which the quick collections then no longer walk
(``bench/app_scale.py soak-500``, one run each: longest collection 0.187 s with it, 0.223 s without).

Measured (``bench/soak.py --answers 60 --read-every 1 --read-pause 1.6``: a reader's pause after every
answer; this policy and the previous one run beside each other, one core each, both with the removed
messages' drawn lines freed at once, textual_compat.forget_drawn_lines): the previous policy (busy all the
time, and the deep collection at every quiet moment) paused 96-210 ms at every quiet moment, median 129 ms:
it walked the whole heap each time (119-186 ms with nothing to free, after 100 answers). This one: quick
collections 4-81 ms, median 28 ms, and the first deep collection (0.1-0.3 s). RSS at the end 89.9 -> 94.7 MB:
garbage waits for the quiet moment instead of going in the busy collections' small pieces. With 25 answers
between two pauses (``bench/app_scale.py soak-500``) the longest collection took 0.48 s before this round and
0.35 s after it (one run each). The message cursor through 2,000 messages (cursor-2000, never quiet) turns
busy, as before: the deep collection its ceiling forces after two minutes took 1.1-1.3 s with either policy.

Before all that, the start: :func:`defer_collections` (called before the app's imports) turns Python's
automatic collections off until :meth:`IdleCollector.hold`. Start-up makes a few hundred thousand objects
that all live on, and Python walked them in a full collection that landed just before the first frame
(27.5 ms of it, collecting 375 objects; bench/floor.py's first frame, with the deferral and without, is in
the README).

No Textual here: the policy is tested with fakes; the app calls :meth:`IdleCollector.tick` every
:data:`CHECK_EVERY` seconds and :meth:`IdleCollector.activity` on input.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

NEVER = 1 << 30
"""Python's threshold for its own full collections while held and calm: young collections it never reaches."""
FULL_EVERY = 3
"""While busy: young (generation 1) collections between two of Python's own full ones (Python's default:
10). Each walks only what survived since the last (frozen as it ends), so the same objects are walked in
smaller pieces: reading up a 2,000-message conversation, 4.4 ms on average and 7 ms at worst with 3,
13 / 20 ms with 10 (bench/app_scale.py open-2000+top)."""
BUSY_YOUNG = 100
"""Young collections since the last full one, seen at a look that is not a quiet moment, that make the
collector busy. Their survivors wait for the quick collection, which walks them all: a session that makes
more than that between two quiet moments (the message cursor held on ↑ through 2,000 messages,
bench/app_scale.py cursor-2000: a quick collection after two minutes of it took 1.8 s, inside a key) is
better served by freezing as it goes. A 20,000-character answer takes about 30 (bench/soak.py's 25
answers between two pauses, about 75)."""
CHECK_EVERY = 1.0
"""Seconds between two looks (a timer tick: microseconds, nothing next to the idle figure)."""
QUIET = 1.0
"""Seconds without input or a streaming answer before a collection may run."""
SPACING = 2.0
"""Least seconds between two collections made at quiet moments."""
DEEP_QUIET = 10.0
"""Seconds without input before the deep collection, unless it must come sooner (the first, and the one
after a busy stretch, wait only for :data:`QUIET`): it walks the whole heap (0.1-0.2 s after a long
session), so it waits for a reader who has looked away, where a key landing in it is unlikely."""
CEILING = 120
"""Looks (:data:`CHECK_EVERY`) while busy that make the deep collection run even without a quiet moment:
two minutes of a session that is never quiet (what is frozen meanwhile, garbage included, waits for it)."""


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


def _young_collections_since_full() -> int:
    """Young (generation 1) collections since the last full one: each moved its survivors to the oldest
    generation, which only a full collection walks."""
    return gc.get_count()[2]


class IdleCollector:
    """When to run the quick and the deep collections, and when to freeze as it goes (see the module's
    docstring)."""

    def __init__(
        self,
        *,
        collect: Callable[[int], object] = gc.collect,
        freeze: Callable[[], None] = gc.freeze,
        unfreeze: Callable[[], None] = gc.unfreeze,
        waiting: Callable[[], int] = _young_collections_since_full,
        clock: Callable[[], float] = time.monotonic,
        callbacks: list[Callable[[str, dict], object]] | None = None,
        threshold: tuple[Callable[[], tuple[int, ...]], Callable[..., None]] = (gc.get_threshold, gc.set_threshold),
        resume: Callable[[], bool] = resume_collections,
    ) -> None:
        self._collect, self._freeze, self._unfreeze = collect, freeze, unfreeze
        self._waiting = waiting
        self._clock = clock
        self._callbacks = gc.callbacks if callbacks is None else callbacks
        self._get_threshold, self._set_threshold = threshold
        self._resume = resume
        self._saved_threshold: tuple[int, ...] | None = None
        self._held = False
        self._last_activity = self._last_collection = clock()
        #: Input came or an answer streamed since the last deep collection: something frozen may have died.
        self._deep_due = False
        #: The next deep collection need not wait for `DEEP_QUIET` (the first; the one after a busy stretch).
        self._deep_soon = True
        #: Busy: Python runs its own full collections and what each keeps is frozen (`BUSY_YOUNG`).
        self._busy = False
        #: Looks while busy (for the ceiling).
        self._busy_looks = 0
        #: Collections run, busy stretches, and looks taken (for the log, the tests and the benchmarks).
        self.quick_collections = self.deep_collections = self.busy_stretches = self.ticks = 0
        #: Times :meth:`absorb` froze the start's tail.
        self.absorbed = 0

    @property
    def held(self) -> bool:
        """Between `hold` and `release`."""
        return self._held

    @property
    def busy(self) -> bool:
        """Freezing as it goes until the next quiet moment (see `BUSY_YOUNG`)."""
        return self._busy

    def hold(self, take_over: bool = True) -> None:
        """Freeze the heap as it is (the start-up heap) and take over from here; collections deferred for
        the start (:func:`defer_collections`) come back, and the garbage frozen with the heap is freed by
        the first deep collection (at the first quiet moment after input or an answer).

        Args:
            take_over: False: only freeze, and let Python start its full collections as it does by
                itself (``HAILUO_TUI_IDLE_GC=0``: no looks will come).
        """
        if not self._held:
            self._held = True
            self._freeze()
            self._last_collection = self._clock()
            # The start's garbage, frozen with the heap, waits until input or an answer makes the first deep
            # collection due (the module's docstring): an app left alone does not walk its heap for it.
            self._deep_due, self._deep_soon = False, True
            self._resume()
            if not take_over:
                return
            self._saved_threshold = tuple(self._get_threshold())
            self._callbacks.append(self._collected)
            self._full_every(NEVER)

    def release(self) -> None:
        """Unfreeze everything and give Python its own settings back (on exit: an app run inside a longer
        process, the tests, leaves nothing frozen)."""
        self._resume()
        if self._held:
            self._held = self._busy = False
            if self._collected in self._callbacks:
                self._callbacks.remove(self._collected)
            if self._saved_threshold is not None:
                self._set_threshold(*self._saved_threshold)
                self._saved_threshold = None
            self._unfreeze()

    def absorb(self) -> None:
        """Freeze what the start's tail made: the backends' modules and the code highlighters, imported in a
        thread after the first frame (Services.preload_backends), all long-lived. Left unfrozen, every quick
        collection walked them again until the first deep collection. Their garbage waits for that deep
        collection, as the start's does. Nothing while busy (freezing as it goes already) or not taken over."""
        if self._held and not self._busy and self._saved_threshold is not None:
            self._freeze()
            self.absorbed += 1

    def _full_every(self, young: int) -> None:
        assert self._saved_threshold is not None
        first, middle, *_ = self._saved_threshold
        self._set_threshold(first, middle, young)

    def _collected(self, phase: str, info: dict) -> None:
        """``gc.callbacks``: one of Python's own full collections just ended while busy; all it kept is in
        use, freeze it."""
        if phase == "stop" and info.get("generation") == 2 and self._busy:
            self._freeze()

    def activity(self) -> None:
        """A key, a click or a paste just came: not a quiet moment."""
        self._last_activity = self._clock()
        self._deep_due = True

    def tick(self, busy: bool) -> str | None:
        """Run the quick or the deep collection when it is time, or start freezing as it goes.

        Args:
            busy: An answer is streaming.

        Returns:
            "quick", "deep", "busy" (freezing as it goes from now) or None: what was done.
        """
        if not self._held:
            return None
        self.ticks += 1
        now = self._clock()
        if busy:
            self._deep_due = True
        still = now - self._last_activity
        quiet = not busy and still >= QUIET and now - self._last_collection >= SPACING
        if self._busy:
            self._busy_looks += 1
        if (quiet and self._deep_due and (self._deep_soon or still >= DEEP_QUIET)) or self._busy_looks >= CEILING:
            self._unfreeze()
            self._collect(2)
            self._freeze()
            self._deep_due = self._deep_soon = False
            if self._busy:
                self._busy, self._busy_looks = False, 0
                self._full_every(NEVER)
            self.deep_collections += 1
            self._last_collection = now
            return "deep"
        if self._busy:
            return None
        waiting = self._waiting()
        if waiting and quiet:
            self._collect(2)
            self.quick_collections += 1
            self._last_collection = now
            return "quick"
        if waiting >= BUSY_YOUNG:
            self._freeze()  # what waits: never walked until the deep collection
            self._busy, self._busy_looks = True, 0
            self._deep_soon = True  # garbage may wait frozen: the deep collection at the next quiet moment
            self._full_every(FULL_EVERY)
            self.busy_stretches += 1
            return "busy"
        return None
