"""The garbage-collection policy (hailuo_tui.idle_gc) with a fake clock and a fake gc."""

from __future__ import annotations

import gc

from hailuo_tui import idle_gc
from hailuo_tui.idle_gc import IdleCollector


class FakeGC:
    def __init__(self) -> None:
        self.now = 100.0
        self.full = 0
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
            self.full += 1

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")

    def set_threshold(self, *values: int) -> None:
        self.threshold = values

    def pythons_full_collection(self) -> None:
        """One of Python's own: the callbacks hear of it when it ends."""
        self.full += 1
        for callback in list(self.callbacks):
            callback("start", {"generation": 2})
            callback("stop", {"generation": 2, "collected": 0, "uncollectable": 0})

    def collector(self) -> IdleCollector:
        return IdleCollector(
            collect=self.collect, freeze=self.freeze, unfreeze=self.unfreeze, full_collections=lambda: self.full,
            clock=lambda: self.now, callbacks=self.callbacks, threshold=(lambda: self.threshold, self.set_threshold),
            resume=self.resume,
        )


def test_nothing_happens_until_held_and_after_release():
    fake = FakeGC()
    collector = fake.collector()
    fake.full += 1
    assert collector.tick(busy=False) is None and fake.calls == []
    collector.hold()
    assert collector.held and fake.calls == ["freeze"]
    assert fake.threshold == (700, 10, idle_gc.FULL_EVERY) and len(fake.callbacks) == 1
    collector.release()
    assert not collector.held and fake.calls == ["freeze", "unfreeze"]
    assert fake.threshold == (700, 10, 10) and fake.callbacks == []  # Python's own settings back
    fake.pythons_full_collection()
    fake.now += 60
    assert collector.tick(busy=False) is None and fake.calls == ["freeze", "unfreeze"]


def test_what_survives_pythons_full_collection_is_frozen_as_it_ends():
    fake = FakeGC()
    collector = fake.collector()
    collector.hold()
    fake.calls.clear()
    assert collector.tick(busy=True) is None  # no full collection since: nothing to do
    for callback in fake.callbacks:  # a young collection: nothing frozen
        callback("stop", {"generation": 1, "collected": 0, "uncollectable": 0})
    assert fake.calls == []
    fake.pythons_full_collection()
    assert fake.calls == ["freeze"]  # at its end, not at the next look
    assert collector.tick(busy=True) == "freeze"  # the look counts it (for the ceiling)
    assert fake.calls == ["freeze"]
    assert collector.tick(busy=True) is None  # once per full collection


def test_the_long_collection_waits_for_a_quiet_moment():
    fake = FakeGC()
    collector = fake.collector()
    collector.hold()
    fake.pythons_full_collection()
    collector.tick(busy=True)  # something frozen since the hold
    fake.calls.clear()
    fake.now += idle_gc.SPACING + 1
    assert collector.tick(busy=True) is None  # an answer streams
    collector.activity()
    fake.now += idle_gc.QUIET / 2
    assert collector.tick(busy=False) is None  # a key just came
    fake.now += idle_gc.QUIET
    assert collector.tick(busy=False) == "long"
    assert fake.calls == ["unfreeze", "collect2", "freeze"]
    assert collector.long_collections == 1
    fake.now += idle_gc.QUIET
    assert collector.tick(busy=False) is None  # nothing frozen since, and too soon


def test_a_session_that_is_never_quiet_still_gets_its_long_collection():
    fake = FakeGC()
    collector = fake.collector()
    collector.hold()
    fake.calls.clear()
    for _ in range(idle_gc.CEILING):  # Python's full collections, each followed by a freeze, never quiet
        collector.activity()
        fake.pythons_full_collection()
        assert collector.tick(busy=True) == "freeze"
    fake.calls.clear()
    assert collector.tick(busy=True) == "long"
    assert fake.calls == ["unfreeze", "collect2", "freeze"]
    fake.pythons_full_collection()
    assert collector.tick(busy=True) == "freeze"  # counted afresh


def test_the_real_gc_is_left_as_it_was():
    before = gc.get_freeze_count()
    threshold, callbacks = gc.get_threshold(), list(gc.callbacks)
    collector = IdleCollector()
    collector.hold()
    try:
        assert gc.get_freeze_count() >= before
        assert gc.get_threshold()[2] == idle_gc.FULL_EVERY
        kept = [[] for _ in range(1000)]  # made after the hold: not frozen yet
        frozen = gc.get_freeze_count()
        junk = [[] for _ in range(10)]
        for item in junk:
            item.append(item)  # cycles, made after the freeze
        del junk
        gc.collect()  # a full collection...
        assert gc.get_freeze_count() >= frozen + len(kept)  # ...froze what it kept as it ended
        assert collector.tick(busy=False) in ("freeze", "long")  # and the next look counts it
    finally:
        collector.release()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold and gc.callbacks == callbacks


def test_a_start_with_collections_deferred_gets_its_long_collection_at_the_first_quiet_moment():
    """The start's garbage is frozen with the start-up heap by the hold: the long collection frees it."""
    for deferred in (True, False):
        fake = FakeGC()
        fake.deferred = deferred
        collector = fake.collector()
        collector.hold()
        assert not fake.deferred  # collections are back
        fake.calls.clear()
        fake.now += idle_gc.SPACING + idle_gc.QUIET
        assert collector.tick(busy=False) == ("long" if deferred else None)


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
