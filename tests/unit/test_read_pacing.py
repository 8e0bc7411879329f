"""provider.read_pacing: a slow stream is read a few events at a time; a burst never waits."""

from __future__ import annotations

import asyncio

import pytest

import hailuo_tui.provider.minimax as minimax
from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.provider import TextDelta
from hailuo_tui.provider.read_pacing import ENV, READ_BATCH, STREAK, ReadPacer, read_batch
from tests.helpers import api_answer


class Transport:
    """An asyncio read transport's pause/resume, recorded."""

    def __init__(self, reading: bool = True) -> None:
        self.reading, self.closing, self.calls = reading, False, []

    def is_reading(self) -> bool:
        return self.reading

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.calls.append("pause")
        self.reading = False

    def resume_reading(self) -> None:
        self.calls.append("resume")
        self.reading = True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def reads_of(clock: Clock, chunks: list[tuple[float, bytes]], transport: Transport | None = None):
    """``reading`` callables: each takes ``wait`` seconds (on the fake clock) and returns its chunk; as a
    socket read does, it waits while the pacer holds ``transport`` paused (at most 2 s)."""
    for wait, chunk in chunks:
        async def reading(wait=wait, chunk=chunk) -> bytes:
            for _ in range(2000):
                if transport is None or transport.reading:
                    break
                await asyncio.sleep(0.001)
            else:
                raise AssertionError("the rest never ended: the transport stayed paused")
            clock.now += wait
            return chunk
        yield reading


async def test_a_slow_stream_rests_after_a_streak_and_resumes_what_it_paused():
    transport, clock = Transport(), Clock()
    pacer = ReadPacer(transport, seconds=0.001, clock=clock)
    for reading in reads_of(clock, [(0.005, b"x" * 300)] * 8, transport):
        assert await pacer.read(reading)
    assert pacer.rests == 8 - STREAK and pacer.reads == 8
    assert transport.calls == ["pause", "resume"] * pacer.rests and transport.reading


async def test_a_read_that_ends_during_a_rest_resumes_the_transport_at_once():
    """The loop ends a rest by itself (call_later); a read cancelled, failed or served from the client's buffer
    before that must not leave the socket unwatched until then, nor have it resumed later behind the next
    user's back."""
    transport, clock = Transport(), Clock()
    pacer = ReadPacer(transport, seconds=30.0, clock=clock)
    for reading in reads_of(clock, [(0.005, b"x" * 300)] * STREAK, transport):
        await pacer.read(reading)
    [socket_read] = reads_of(clock, [(0.0, b"x")], transport)
    entered = []

    async def reading() -> bytes:
        entered.append(transport.reading)
        return await socket_read()
    task = asyncio.ensure_future(pacer.read(reading))
    await asyncio.sleep(0.01)
    assert transport.calls == ["pause"] and not task.done()  # resting: 30 s
    # The read already waits on the paused socket (no sleep in the task: one wake-up per rest).
    assert entered == [False]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert transport.calls == ["pause", "resume"] and transport.reading
    assert pacer._resume_at is None  # nothing left to resume it again later

    async def failing() -> bytes:
        raise TimeoutError
    with pytest.raises(TimeoutError):
        await pacer.read(failing)
    assert transport.calls == ["pause", "resume"] * 2 and transport.reading

    async def held_already() -> bytes:  # served from what the client had buffered before the pause
        return b"x" * 300
    assert await pacer.read(held_already)
    assert transport.calls == ["pause", "resume"] * 3 and transport.reading and pacer._resume_at is None


async def test_a_burst_never_rests_nor_does_an_ending_stream_or_a_paused_transport():
    clock = Clock()
    burst = ReadPacer(Transport(), seconds=0.001, clock=clock)
    for reading in reads_of(clock, [(0.004, b"x" * 200)] + [(0.0, b"x" * 65536)] * 10):
        await burst.read(reading)
    assert burst.rests == 0  # its reads find data waiting, and big

    ending = ReadPacer(Transport(), seconds=0.001, clock=clock)
    for reading in reads_of(clock, [(0.005, b"x")] * 6):
        await ending.read(reading, ending=True)
    assert ending.rests == 0

    held = Transport(reading=False)  # the client's own flow control paused it: not ours to resume
    paused = ReadPacer(held, seconds=0.001, clock=clock)
    for reading in reads_of(clock, [(0.005, b"x")] * 6):
        await paused.read(reading)
    assert paused.rests == 0 and held.calls == []

    off = ReadPacer(Transport(), seconds=0, clock=clock)
    for reading in reads_of(clock, [(0.005, b"x")] * 6):
        await off.read(reading)
    assert off.rests == 0


def test_the_rest_comes_from_the_environment_within_bounds(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert read_batch() == READ_BATCH
    monkeypatch.setenv(ENV, "0")
    assert read_batch() == 0
    monkeypatch.setenv(ENV, "5")
    assert read_batch() == 0.25
    monkeypatch.setenv(ENV, "soon")
    assert read_batch() == READ_BATCH


@pytest.mark.parametrize("delay", [0.0, 0.004])
async def test_over_real_http_a_paced_stream_takes_fewer_reads_than_events_and_the_same_text(monkeypatch, delay):
    pacers: list[ReadPacer] = []

    class Recorded(ReadPacer):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            pacers.append(self)

    monkeypatch.setattr(minimax, "ReadPacer", Recorded)
    monkeypatch.delenv(ENV, raising=False)
    answer = "word " * 300
    config = EmulatorConfig(seed=7, api_answer_text=answer, api_chunk_chars=5, api_chunk_delay=delay)
    events = await api_answer(config)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == answer
    [pacer] = pacers
    if delay:
        assert pacer.rests > 20 and pacer.reads < 200  # ~300 events 4 ms apart, read ~3 at a time
    else:
        assert pacer.rests == 0  # all at once: never held back
