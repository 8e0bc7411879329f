"""limits.read_chunk and coalesce: the deltas of one network read go up as one event of each kind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.provider import ServiceError, TextDelta, Usage
from hailuo_tui.provider.limits import coalesce, read_chunk
from hailuo_tui.provider.models import ReasoningDelta, TitleGenerated
from hailuo_tui.provider.sse import SSEDecoder
from tests.helpers import api_answer


def test_runs_of_the_same_delta_merge_and_nothing_moves():
    usage = Usage(model="m", prompt_tokens=1, completion_tokens=2)
    events = [ReasoningDelta("th"), ReasoningDelta("ink"), TextDelta("a"), TextDelta("b"),
              TitleGenerated("t"), TextDelta("c"), usage]
    assert coalesce(events) == [ReasoningDelta("think"), TextDelta("ab"), TitleGenerated("t"), TextDelta("c"), usage]
    assert coalesce([TextDelta("x")]) == [TextDelta("x")] and coalesce([]) == []


_EVENTS = st.lists(st.one_of(
    st.builds(TextDelta, st.text(max_size=3)),
    st.builds(ReasoningDelta, st.text(max_size=3)),
    st.builds(TitleGenerated, st.text(max_size=3)),
), max_size=30)


@given(_EVENTS)
def test_joining_keeps_every_character_and_the_order_of_everything(events):
    joined = coalesce(list(events))
    assert all(type(a) is not type(b) or type(a) is TitleGenerated for a, b in zip(joined, joined[1:]))

    def shape(seq):  # every character in order, tagged with its kind; the other events where they were
        out = []
        for event in seq:
            out += [event] if isinstance(event, TitleGenerated) else [(type(event).__name__, c) for c in event.text]
        return out

    assert shape(joined) == shape(events)


def _feed(sse):
    if sse.data == "boom":
        raise ServiceError("the server said no", partial="")
    return [TextDelta(sse.data)]


def test_what_came_before_an_error_in_the_same_read_is_kept():
    chunk = b"data: one\n\ndata: two\n\ndata: boom\n\ndata: never\n\n"
    events, error, stop = read_chunk(SSEDecoder(), _feed, chunk, lambda: False)
    assert events == [TextDelta("onetwo")] and isinstance(error, ServiceError) and not stop


def test_a_check_after_each_event_may_stop_or_raise():
    seen: list[str] = []

    def stop_after_two() -> bool:
        seen.append("x")
        return len(seen) == 2

    events, error, stop = read_chunk(SSEDecoder(), _feed, b"data: a\n\ndata: b\n\ndata: c\n\n", stop_after_two)
    assert events == [TextDelta("ab")] and error is None and stop

    def too_long() -> bool:
        raise ValueError("cap")

    events, error, stop = read_chunk(SSEDecoder(), _feed, b"data: a\n\ndata: b\n\n", too_long)
    assert events == [TextDelta("a")] and isinstance(error, ValueError) and not stop


@pytest.mark.parametrize("delay", [0.0, 0.02])
async def test_a_burst_goes_up_in_few_events_and_a_paced_stream_in_many(monkeypatch, delay):
    monkeypatch.setenv("HAILUO_TUI_READ_BATCH", "0")  # one read per event when paced
    answer = "word " * 400
    config = EmulatorConfig(seed=7, api_answer_text=answer, api_chunk_chars=4, api_chunk_delay=delay)
    events = await api_answer(config)
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == answer  # the same text either way
    if delay:
        assert len(deltas) >= 100  # one read per event: nothing to join
    else:
        assert len(deltas) < 40  # ~500 events sent at once: joined per read
