"""The garbage-collection policy (hailuo_tui.idle_gc) with a fake clock and a fake gc."""

from __future__ import annotations

import gc
import weakref

from hailuo_tui import idle_gc
from hailuo_tui.idle_gc import IdleCollector


class FakeGC:
    def __init__(self) -> None:
        self.now = 100.0
        #: Young collections since the last full one (gc.get_count()[2]).
        self.waiting = 0
        self.calls: list[str] = []
        self.callbacks: list = []
        self.threshold = (700, 10, 10)
        #: Collections were deferred for the start (idle_gc.defer_collections).
        self.deferred = False

    def resume(self) -> bool:
        was, self.deferred = self.deferred, False
        return was

    def collect(self, generation: int) -> None:
        self.calls.append(f"collect{generation}")
        if generation == 2:
            self.waiting = 0

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")

    def set_threshold(self, *values: int) -> None:
        self.threshold = values

    def pythons_full_collection(self) -> None:
        """One of Python's own: the callbacks hear of it when it ends."""
        self.waiting = 0
        for callback in list(self.callbacks):
            callback("start", {"generation": 2})
            callback("stop", {"generation": 2, "collected": 0, "uncollectable": 0})

    def collector(self) -> IdleCollector:
        return IdleCollector(
            collect=self.collect, freeze=self.freeze, unfreeze=self.unfreeze, waiting=lambda: self.waiting,
            clock=lambda: self.now, callbacks=self.callbacks, threshold=(lambda: self.threshold, self.set_threshold),
            resume=self.resume,
        )

    def held_after_first_deep(self) -> IdleCollector:
        """A collector held, with the first deep collection (the start's garbage) done."""
        collector = self.collector()
        collector.hold()
        collector.activity()
        self.now += idle_gc.SPACING
        assert collector.tick(busy=False) == "deep"
        self.calls.clear()
        return collector


DEEP = ["unfreeze", "collect2", "freeze"]


def test_nothing_happens_until_held_and_after_release():
    fake = FakeGC()
    collector = fake.collector()
    fake.waiting = 5
    fake.now += 60
    assert collector.tick(busy=False) is None and fake.calls == []
    collector.hold()
    assert collector.held and fake.calls == ["freeze"]
    assert fake.threshold == (700, 10, idle_gc.NEVER)  # Python starts no full collection itself
    assert len(fake.callbacks) == 1
    collector.release()
    assert not collector.held and fake.calls == ["freeze", "unfreeze"]
    assert fake.threshold == (700, 10, 10) and fake.callbacks == []  # Python's own settings back
    fake.now += 60
    assert collector.tick(busy=False) is None and fake.calls == ["freeze", "unfreeze"]


def test_held_without_taking_over_it_only_freezes():
    """HAILUO_TUI_IDLE_GC=0: the start-up heap frozen, Python's full collections left to Python."""
    fake = FakeGC()
    fake.deferred = True
    collector = fake.collector()
    collector.hold(take_over=False)
    assert fake.calls == ["freeze"] and fake.threshold == (700, 10, 10) and not fake.deferred
    assert fake.callbacks == []
    collector.release()
    assert fake.calls == ["freeze", "unfreeze"] and fake.threshold == (700, 10, 10)


def test_the_starts_garbage_waits_for_the_first_deep_collection_the_session_makes_due():
    """Frozen with the start-up heap by the hold, it is freed by the deep collection that input or an
    answer makes due, at the first quiet moment after it: an app left alone never walks its heap again."""
    fake = FakeGC()
    collector = fake.collector()
    collector.hold()
    fake.calls.clear()
    for _ in range(3):
        fake.now += idle_gc.DEEP_QUIET * 2
        assert collector.tick(busy=False) is None  # left alone: nothing waits, nothing died
    assert fake.calls == [] and collector.deep_collections == 0
    collector.activity()  # a key
    fake.now += idle_gc.QUIET / 2
    assert collector.tick(busy=False) is None  # not quiet yet
    fake.now += idle_gc.QUIET / 2
    assert collector.tick(busy=False) == "deep"  # the first does not wait for DEEP_QUIET
    assert fake.calls == DEEP and collector.deep_collections == 1
    collector.activity()
    fake.now += idle_gc.QUIET + idle_gc.SPACING
    assert collector.tick(busy=False) is None  # the next ones do


def test_what_the_starts_tail_made_is_frozen_when_it_is_done_unless_busy_or_not_taken_over():
    fake = FakeGC()
    collector = fake.collector()
    collector.absorb()
    assert fake.calls == [] and collector.absorbed == 0  # not held yet
    collector.hold()
    fake.calls.clear()
    collector.absorb()
    assert fake.calls == ["freeze"] and collector.absorbed == 1
    fake.waiting = idle_gc.BUSY_YOUNG
    collector.activity()
    assert collector.tick(busy=True) == "busy"
    fake.calls.clear()
    collector.absorb()
    assert fake.calls == [] and collector.absorbed == 1  # freezing as it goes already
    other = FakeGC()
    off = other.collector()
    off.hold(take_over=False)  # HAILUO_TUI_IDLE_GC=0
    other.calls.clear()
    off.absorb()
    assert other.calls == [] and off.absorbed == 0


def test_the_quick_collection_walks_what_waits_without_unfreezing():
    fake = FakeGC()
    collector = fake.held_after_first_deep()
    fake.now += idle_gc.SPACING
    assert collector.tick(busy=False) is None  # nothing has reached the oldest generation since
    fake.waiting = 1
    assert collector.tick(busy=True) is None  # an answer streams
    collector.activity()
    fake.now += idle_gc.QUIET
    assert collector.tick(busy=False) == "quick"
    assert fake.calls == ["collect2"] and collector.quick_collections == 1
    fake.waiting = 3
    fake.now += idle_gc.SPACING / 2
    assert collector.tick(busy=False) is None  # too soon after the last one
    fake.now += idle_gc.SPACING / 2
    assert collector.tick(busy=False) == "quick"


def test_the_deep_collection_comes_after_a_long_quiet_once_the_session_did_something():
    fake = FakeGC()
    collector = fake.held_after_first_deep()
    fake.now += idle_gc.DEEP_QUIET * 3
    fake.waiting = 1  # an idle app's timers still make young survivors
    assert collector.tick(busy=False) == "quick"  # ...but nothing frozen died: no deep collection
    collector.activity()  # a key
    fake.now += idle_gc.QUIET
    assert collector.tick(busy=False) is None  # nothing waits, and not quiet long enough for a deep one
    fake.now += idle_gc.DEEP_QUIET - idle_gc.QUIET - 0.5
    assert collector.tick(busy=False) is None
    fake.now += 0.5
    assert collector.tick(busy=False) == "deep"
    assert fake.calls == ["collect2", *DEEP]
    fake.now += idle_gc.DEEP_QUIET
    assert collector.tick(busy=False) is None  # once
    assert collector.tick(busy=True) is None  # an answer streaming makes the next one due
    fake.now += idle_gc.DEEP_QUIET
    assert collector.tick(busy=False) == "deep"


def test_a_quiet_moment_gets_the_quick_collection_however_much_waits():
    fake = FakeGC()
    collector = fake.held_after_first_deep()
    fake.waiting = idle_gc.BUSY_YOUNG * 2
    fake.now += idle_gc.SPACING
    assert collector.tick(busy=False) == "quick" and not collector.busy


def test_a_busy_stretch_freezes_as_it_goes_until_the_next_quiet_moment():
    fake = FakeGC()
    collector = fake.held_after_first_deep()
    fake.waiting = idle_gc.BUSY_YOUNG - 1
    fake.now += idle_gc.SPACING
    collector.activity()  # keys held down: no quiet moment
    assert collector.tick(busy=False) is None  # not yet too much for one quick collection
    fake.waiting = idle_gc.BUSY_YOUNG
    assert collector.tick(busy=False) == "busy" and collector.busy
    assert fake.calls == ["freeze"]  # what waits is frozen
    assert fake.threshold == (700, 10, idle_gc.FULL_EVERY)  # Python's own full collections, small ones
    fake.pythons_full_collection()
    assert fake.calls == ["freeze", "freeze"]  # what it kept, frozen as it ended
    collector.activity()
    fake.now += idle_gc.QUIET / 2
    assert collector.tick(busy=False) is None
    fake.now += idle_gc.QUIET
    assert collector.tick(busy=False) == "deep"  # frozen garbage: no waiting for DEEP_QUIET
    assert fake.calls == ["freeze", "freeze", *DEEP]
    assert not collector.busy and fake.threshold == (700, 10, idle_gc.NEVER)
    fake.pythons_full_collection()  # (only a collect() call could make one now)
    assert fake.calls == ["freeze", "freeze", *DEEP]  # calm again: nothing frozen


def test_a_busy_stretch_that_never_ends_gets_its_deep_collection():
    fake = FakeGC()
    collector = fake.held_after_first_deep()
    fake.waiting = idle_gc.BUSY_YOUNG
    collector.activity()
    assert collector.tick(busy=True) == "busy"
    fake.calls.clear()
    for _ in range(idle_gc.CEILING - 1):
        collector.activity()
        fake.now += idle_gc.CHECK_EVERY
        assert collector.tick(busy=True) is None
    assert collector.tick(busy=True) == "deep" and fake.calls == DEEP
    assert not collector.busy


class Node:
    """A cycle the collector must find: it points at itself."""

    def __init__(self) -> None:
        self.me = self


def test_with_the_real_gc_quick_frees_new_garbage_and_deep_frees_frozen_garbage():
    now = [0.0]
    before = gc.get_freeze_count()
    threshold = gc.get_threshold()
    frozen = Node()  # made before the hold: frozen with the start-up heap
    frozen_ref = weakref.ref(frozen)
    collector = IdleCollector(clock=lambda: now[0])
    collector.hold()
    try:
        assert gc.get_freeze_count() > before
        assert gc.get_threshold()[2] == idle_gc.NEVER
        now[0] += idle_gc.SPACING
        assert collector.tick(busy=False) is None  # left alone: the start's garbage waits, frozen
        collector.activity()
        now[0] += idle_gc.SPACING
        assert collector.tick(busy=False) == "deep"  # input came: at the first quiet moment
        assert frozen_ref() is not None  # still in use: frozen again
        young = Node()
        young_ref = weakref.ref(young)
        gc.collect(1)  # a young collection: the cycle, alive, goes to the oldest generation
        assert gc.get_count()[2] > 0
        full = gc.get_stats()[2]["collections"]
        survivors = [[] for _ in range(200_000)]  # enough young collections that Python would start a full one
        assert gc.get_stats()[2]["collections"] == full  # ...but it does not, while held
        del young, frozen, survivors
        collector.activity()
        now[0] += idle_gc.QUIET + idle_gc.SPACING
        assert collector.tick(busy=False) == "quick"
        assert young_ref() is None  # made since the last deep collection: freed
        assert frozen_ref() is not None  # frozen: waits for the deep one
        now[0] += idle_gc.DEEP_QUIET
        assert collector.tick(busy=False) == "deep"
        assert frozen_ref() is None  # frozen garbage: freed by a deep collection
        for _ in range(idle_gc.BUSY_YOUNG):
            gc.collect(1)  # a busy stretch's young collections
        assert collector.tick(busy=True) == "busy" and gc.get_threshold()[2] == idle_gc.FULL_EVERY
        kept = [[] for _ in range(1000)]  # made after the freeze
        frozen_count = gc.get_freeze_count()
        gc.collect()  # a full collection...
        assert gc.get_freeze_count() >= frozen_count + len(kept)  # ...froze what it kept as it ended
    finally:
        collector.release()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold


def test_deferring_collections_turns_the_collector_off_until_resumed():
    assert gc.isenabled()
    idle_gc.defer_collections()
    try:
        assert not gc.isenabled()
        IdleCollector().release()  # an app that ends before its start did: collections come back
        assert gc.isenabled()
        assert idle_gc.resume_collections() is False  # once
    finally:
        idle_gc.resume_collections()
        gc.enable()
    gc.disable()  # someone turned the collector off: deferring and resuming leave it so
    try:
        idle_gc.defer_collections()
        assert idle_gc.resume_collections() is False and not gc.isenabled()
    finally:
        gc.enable()


def test_the_app_command_defers_collections_until_its_start_is_done(monkeypatch):
    """`hailuo-tui` turns the collector off before its imports (HAILUO_TUI_DEFER_GC=0 or
    HAILUO_TUI_IDLE_GC=0: not)."""
    import hailuo_tui.app
    from hailuo_tui import cli

    seen: list[bool] = []
    monkeypatch.setenv("HAILUO_TUI_EARLY_STORE", "0")  # no database opened here (services.start_opening_store)
    monkeypatch.setattr(hailuo_tui.app, "run", lambda options, pending=None: seen.append(gc.isenabled()) or 0)
    try:
        for env, value, enabled in ((idle_gc.DEFER_ENV, "1", False), (idle_gc.DEFER_ENV, "0", True),
                                    ("HAILUO_TUI_IDLE_GC", "0", True)):
            monkeypatch.delenv(idle_gc.DEFER_ENV, raising=False)
            monkeypatch.setenv(env, value)
            cli.run_app(None)
            assert seen[-1] is enabled, (env, value)
            idle_gc.resume_collections()
            monkeypatch.delenv(env)
    finally:
        idle_gc.resume_collections()
        gc.enable()
