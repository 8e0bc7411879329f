"""Limits on one answer, shared by both backends: an overall deadline and a size cap. No aiohttp here.

A hostile or broken server can keep an answer going forever: trickling a byte every half
second never trips a read timeout, and an answer that never ends grows without bound.
:class:`Deadline` bounds each wait on the network by what is left of the answer's time;
:func:`line_limit` sizes the SSE decoder's longest line to the answer cap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from hailuo_tui.provider.errors import HailuoError
from hailuo_tui.provider.models import ReasoningDelta, TextDelta
from hailuo_tui.provider.sse import DEFAULT_MAX_LINE, SSEDecoder, SSELineTooLong

T = TypeVar("T")

#: Defaults of the config's ``answer_timeout`` (seconds) and ``max_answer_chars``.
DEFAULT_ANSWER_TIMEOUT = 600.0
DEFAULT_MAX_ANSWER_CHARS = 2_000_000


class DeadlinePassed(Exception):
    """The answer's overall time ran out while waiting on the network."""


class Deadline:
    """The time left for one answer; ``seconds`` of ``None`` (or 0) means no limit."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds or None
        self._at = time.monotonic() + seconds if seconds else None

    def left(self) -> float | None:
        """Seconds left (``None``: unlimited)."""
        return None if self._at is None else self._at - time.monotonic()

    async def run(self, awaitable: Awaitable[T], idle: float | None = None) -> T:
        """Await ``awaitable`` within the time left, and within ``idle`` seconds if given.

        ``idle`` backs up aiohttp's own read timeout, which it drops when its C parser meets a
        malformed chunked body: the read would then wait forever on a closed connection.

        Raises:
            DeadlinePassed: the time ran out (``awaitable`` is cancelled).
            TimeoutError: ``idle`` seconds passed first, or ``awaitable`` raised it (a read timeout).
        """
        left = self.left()
        if left is not None and left <= 0:
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()  # a coroutine never awaited would warn
            raise DeadlinePassed
        limits = [t for t in (left, idle) if t is not None]
        if not limits:
            return await awaitable
        scope = asyncio.timeout(min(limits))
        try:
            async with scope:
                return await awaitable
        except TimeoutError:
            if scope.expired() and left is not None and (idle is None or left <= idle):
                raise DeadlinePassed from None
            raise


def line_limit(max_chars: int | None) -> int:
    """The longest SSE line, in bytes, worth buffering for answers of at most ``max_chars`` characters.

    A snapshot line holds the answer JSON-escaped (at most 6 bytes per character: ``\\uXXXX``, or at most
    4 as raw UTF-8) plus the rest of the event; anything longer cannot be an answer within the cap.
    """
    if not max_chars:
        return DEFAULT_MAX_LINE
    return min(DEFAULT_MAX_LINE, 6 * max_chars + 1024 * 1024)


def flush_pending(decoder: SSEDecoder, mapper: Any) -> list[Any]:
    """The events of what ``decoder`` still holds, once the stream broke: an event whose blank line never
    came (a broken chunked body, a stall) carries text that did arrive. Never raises."""
    try:
        return [event for sse in decoder.close() for event in mapper.feed(sse)]
    except (HailuoError, SSELineTooLong):
        return []


def coalesce(events: list[Any]) -> list[Any]:
    """``events`` with each run of :class:`TextDelta` (and of :class:`ReasoningDelta`) joined into one.

    Everything else keeps its place, and so does every character: only neighbours of one kind merge.
    """
    if len(events) < 2:
        return events
    out: list[Any] = []
    run: list[str] = []  # the texts of the run of deltas at the end of `out`
    for event in events:
        kind = type(event)
        if run and kind is type(out[-1]):
            run.append(event.text)
            continue
        if len(run) > 1:
            out[-1] = type(out[-1])("".join(run))
        run = [event.text] if kind in (TextDelta, ReasoningDelta) else []
        out.append(event)
    if len(run) > 1:
        out[-1] = type(out[-1])("".join(run))
    return out


def read_chunk(
    decoder: SSEDecoder, feed: Callable[[Any], list[Any]], chunk: bytes, after_each: Callable[[], bool]
) -> tuple[list[Any], Exception | None, bool]:
    """The events of one network read, each run of deltas joined (:func:`coalesce`).

    A burst brings over a thousand SSE events in one read; handed up one at a time, each went the whole
    way to the screen through two async generators, the reply's bookkeeping and the bubble's sanitizer.
    ``after_each`` runs after each SSE event: it may raise (a size cap) or return True to stop reading.

    Returns:
        ``(events, error, stop)``: the events to hand up first; then ``error`` to raise (what the decoder,
        ``feed`` or ``after_each`` raised: the events before it still count, as when they went one by
        one); ``stop``: ``after_each`` said the stream is over.
    """
    events: list[Any] = []
    try:
        for sse in decoder.feed(chunk):
            events += feed(sse)
            if after_each():
                return coalesce(events), None, True
    except Exception as exc:
        return coalesce(events), exc, False
    return coalesce(events), None, False
