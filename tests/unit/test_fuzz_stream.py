"""Fuzzing the SSE decoder and the EventMapper with hypothesis.

* Any bytes, any JSON shapes, any split: nothing escapes but HailuoError subclasses.
* Cumulative snapshots of an answer (with U+FFFD cuts), split anywhere: the text
  deltas concatenate to the final text.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailuo_tui.provider.errors import HailuoError
from hailuo_tui.provider.models import Finished, TextDelta
from hailuo_tui.provider.sse import SSEDecoder, SSEEvent
from hailuo_tui.provider.stream import EventMapper

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EVENT_NAMES = st.sampled_from(
    ["send_result", "message_result", "close_chunk", "follow_up_question_result", "heartbeat", "message", "", "x\u00e9"]
)
TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), TEXT)
JSONISH = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


def _maybe(strategy):
    return st.one_of(st.just(None), strategy, JSONISH)


PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from([1, 2, 3, 4, 8, 42, -1]), JSONISH),
        "statusInfo": st.one_of(
            st.fixed_dictionaries({}, optional={"code": st.one_of(st.sampled_from([0, "0", 1, 1500001, "x"]), JSONISH),
                                                "message": _maybe(TEXT)}),
            JSONISH),
        "data": st.one_of(
            st.fixed_dictionaries({}, optional={
                "sendResult": _maybe(st.fixed_dictionaries({}, optional={
                    "chatID": _maybe(st.one_of(TEXT, st.integers())), "chatTitle": _maybe(TEXT),
                    "userMsgID": _maybe(TEXT), "systemMsgID": _maybe(TEXT)})),
                "messageResult": _maybe(st.fixed_dictionaries({}, optional={
                    "content": _maybe(TEXT), "isEnd": _maybe(st.sampled_from([0, 1, "0", "1", "x", 2.5])),
                    "chatID": _maybe(TEXT),
                    "extra": _maybe(st.fixed_dictionaries({}, optional={"netSearchStatus": _maybe(
                        st.fixed_dictionaries({}, optional={"linkDetail": _maybe(st.lists(_maybe(
                            st.fixed_dictionaries({}, optional={"url": _maybe(TEXT), "detail": _maybe(TEXT)})),
                            max_size=3))}))}))})),
                "followUpQuestions": _maybe(st.lists(JSONISH, max_size=3)),
                "extra": JSONISH,
            }),
            JSONISH),
    },
)
DATA_TEXT = st.one_of(PAYLOADS.map(lambda p: json.dumps(p, ensure_ascii=False)), JSONISH.map(json.dumps), TEXT)


def encode(events: list[tuple[str, str]], newline: str) -> bytes:
    out = []
    for name, data in events:
        if name:
            out.append(f"event: {name}{newline}")
        for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            out.append(f"data: {line}{newline}")
        out.append(newline)
    return "".join(out).encode("utf-8", "surrogatepass")


def split(blob: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(blob) + 1) for c in cuts})
    pieces, start = [], 0
    for p in points:
        pieces.append(blob[start:p])
        start = p
    pieces.append(blob[start:])
    return pieces


def run(pieces: list[bytes]) -> tuple[EventMapper, list]:
    decoder, mapper, out = SSEDecoder(), EventMapper(), []
    for piece in pieces:
        for sse in decoder.feed(piece):
            out += mapper.feed(sse)
    for sse in decoder.close():
        out += mapper.feed(sse)
    return mapper, out


@SETTINGS
@given(events=st.lists(st.tuples(EVENT_NAMES, DATA_TEXT), max_size=12), newline=st.sampled_from(["\n", "\r\n", "\r"]),
       cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_arbitrary_event_sequences_raise_only_hailuo_errors(events, newline, cuts):
    try:
        mapper, out = run(split(encode(events, newline), cuts))
    except HailuoError as exc:
        assert isinstance(exc.message, str) and exc.title
        return
    deltas = "".join(e.text for e in out if isinstance(e, TextDelta))
    assert deltas == mapper.text


@SETTINGS
@given(blob=st.binary(max_size=600), cuts=st.lists(st.integers(0, 1000), max_size=8))
def test_arbitrary_bytes_raise_only_hailuo_errors(blob, cuts):
    try:
        run(split(blob, cuts))
    except HailuoError:
        pass


@SETTINGS
@given(blob=st.binary(max_size=300), cuts=st.lists(st.integers(0, 1000), max_size=6))
def test_the_decoder_is_split_invariant(blob, cuts):
    whole = SSEDecoder()
    expected = whole.feed(blob) + whole.close()
    parts = SSEDecoder()
    got: list[SSEEvent] = []
    for piece in split(blob, cuts):
        got += parts.feed(piece)
    got += parts.close()
    assert got == expected


def snapshots(answer: str, ends: list[int], fffd: list[bool]) -> list[str]:
    """Cumulative contents as the server sends them; a cut before a non-ASCII char may end in U+FFFD."""
    out = []
    for end, cut in zip(sorted(set(e % (len(answer) + 1) for e in ends)), fffd):
        content = answer[:end]
        if cut and end < len(answer) and ord(answer[end]) > 0x7F:
            content += "\ufffd"
        out.append(content)
    return out


ANSWER_TEXT = st.text(alphabet=st.sampled_from(list("ab \n`*#|-茶é☕👍\U0001f3fd\u0301\ufffd\u200d")),
                      min_size=1, max_size=60)


@SETTINGS
@given(answer=ANSWER_TEXT, ends=st.lists(st.integers(0, 200), max_size=15), fffd=st.lists(st.booleans(), min_size=15,
       max_size=15), heartbeats=st.booleans(), junk=st.booleans(), newline=st.sampled_from(["\n", "\r\n"]),
       cuts=st.lists(st.integers(0, 10_000), max_size=10))
def test_deltas_concatenate_to_the_final_text(answer, ends, fffd, heartbeats, junk, newline, cuts):
    events: list[tuple[str, str]] = [("send_result", json.dumps(
        {"type": 1, "statusInfo": {"code": 0, "message": "Success"},
         "data": {"sendResult": {"chatID": "42", "chatTitle": "t"}}}))]
    for content in snapshots(answer, ends, fffd):
        events.append(("message_result", json.dumps(
            {"type": 2, "statusInfo": {"code": 0}, "data": {"messageResult": {"content": content, "isEnd": 1}}},
            ensure_ascii=False)))
        if heartbeats:
            events.append(("heartbeat", '{"type":3,"statusInfo":{"code":1,"message":"heartbeat"},"data":{}}'))
        if junk:
            events.append(("message_result", "<html>502</html>"))
            events.append(("", "not json"))
    events.append(("message_result", json.dumps(
        {"type": 2, "statusInfo": {"code": 0}, "data": {"messageResult": {"content": answer, "isEnd": 0}}},
        ensure_ascii=False)))
    events.append(("close_chunk", '{"type":8,"data":{}}'))
    mapper, out = run(split(encode(events, newline), cuts))
    deltas = "".join(e.text for e in out if isinstance(e, TextDelta))
    [finished] = [e for e in out if isinstance(e, Finished)]
    assert finished.text == answer
    assert deltas == answer == mapper.text
    assert mapper.closed and mapper.final
