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

    def collect(self, generation: int) -> None:
        self.calls.append(f"collect{generation}")
        if generation == 2:
            self.full += 1

    def freeze(self) -> None:
        self.calls.append("freeze")

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")

    def collector(self) -> IdleCollector:
        return IdleCollector(
            collect=self.collect, freeze=self.freeze, unfreeze=self.unfreeze, full_collections=lambda: self.full, clock=lambda: self.now,
        )


def test_nothing_happens_until_held_and_after_release():
    fake = FakeGC()
    collector = fake.collector()
    fake.full += 1
    assert collector.tick(busy=False) is None and fake.calls == []
    collector.hold()
    assert collector.held and fake.calls == ["freeze"]
    collector.release()
    assert not collector.held and fake.calls == ["freeze", "unfreeze"]
    fake.full += 1
    fake.now += 60
    assert collector.tick(busy=False) is None


def test_what_survives_pythons_full_collection_is_frozen_after_the_young_garbage_goes():
    fake = FakeGC()
    collector = fake.collector()
    collector.hold()
    fake.calls.clear()
    assert collector.tick(busy=True) is None  # no full collection since: nothing to do
    fake.full += 1  # Python ran one of its own
    assert collector.tick(busy=True) == "freeze"
    assert fake.calls == ["collect1", "freeze"]
    assert collector.tick(busy=True) is None  # once per full collection


def test_the_long_collection_waits_for_a_quiet_moment():
    fake = FakeGC()
    collector = fake.collector()
    collector.hold()
    fake.full += 1
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
        fake.full += 1
        assert collector.tick(busy=True) == "freeze"
    fake.calls.clear()
    assert collector.tick(busy=True) == "long"
    assert fake.calls == ["unfreeze", "collect2", "freeze"]
    fake.full += 1
    assert collector.tick(busy=True) == "freeze"  # counted afresh


def test_the_real_gc_is_left_as_it_was():
    before = gc.get_freeze_count()
    collector = IdleCollector()
    collector.hold()
    try:
        assert gc.get_freeze_count() >= before
        junk = [[] for _ in range(10)]
        for item in junk:
            item.append(item)  # cycles, made after the freeze
        del junk
        gc.collect()  # a full collection of Python's own...
        assert collector.tick(busy=False) in ("freeze", "long")  # ...is followed by a freeze
    finally:
        collector.release()
    assert gc.get_freeze_count() == 0
