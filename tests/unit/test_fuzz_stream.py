"""Fuzzing the SSE decoder and the EventMapper with hypothesis.

* Any bytes, any JSON shapes, any split: nothing escapes but HailuoError subclasses.
* Cumulative snapshots of an answer (with U+FFFD cuts), split anywhere: the text
  deltas concatenate to the final text.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
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


def _outcome(mapper: EventMapper, events: list[SSEEvent]) -> list:
    out: list = []
    for event in events:
        try:
            out.append(mapper.feed(event))
        except HailuoError as exc:
            out.append((type(exc).__name__, exc.message, exc.partial))
    return out + [mapper.text, mapper.final, mapper.skipped]


FIELDS = st.sampled_from(["content-last", "content-first", "content-middle"])
EXTRA = st.one_of(st.none(), st.fixed_dictionaries({"content": ANSWER_TEXT, "note": st.just('"content":"x"')}))


@SETTINGS
@example(answer="ab👍cd", ends=[3, 5], fffd=[False] * 15, ascii_=True, spaced=False, order="content-last", extra=None,
         changes=[], bad=[], error_at=None, utf16=True)  # a pair cut in two: "\ud83d" ends a snapshot
@given(answer=ANSWER_TEXT, ends=st.lists(st.integers(0, 200), max_size=15), fffd=st.lists(st.booleans(), min_size=15,
       max_size=15), ascii_=st.booleans(), spaced=st.booleans(), order=FIELDS, extra=EXTRA,
       changes=st.lists(st.integers(0, 20), max_size=3), bad=st.lists(st.integers(0, 20), max_size=2),
       error_at=st.one_of(st.none(), st.integers(0, 20)), utf16=st.booleans())
def test_the_cumulative_fast_path_decodes_as_json_loads(answer, ends, fffd, ascii_, spaced, order, extra, changes,
                                                         bad, error_at, utf16):
    """EventMapper's fast path (only the new escapes of a snapshot that extends the last one are decoded) gives
    exactly what a full ``json.loads`` of every snapshot gives: same events, errors, text."""
    separators = (", ", ": ") if spaced else (",", ":")
    if utf16:  # a server slicing UTF-16 (JavaScript) may cut a surrogate pair: "\ud83d" now, "\udc4d" next
        answer = "".join(chr(0xD800 + ((ord(c) - 0x10000) >> 10)) + chr(0xDC00 + ((ord(c) - 0x10000) & 0x3FF))
                         if ord(c) > 0xFFFF else c for c in answer)
    contents = snapshots(answer, ends, fffd) + [answer]
    events = []
    for i, content in enumerate(contents):
        final = i == len(contents) - 1
        fields: list[tuple[str, object]] = [("chatID", "7"), ("isEnd", 0 if final else 1)]
        if i in changes:
            fields.append(("msgID", f"m{i}"))  # a field before the content that changes: the full parse
        if extra is not None:
            fields.append(("extra", extra))
        at = {"content-last": len(fields), "content-first": 0, "content-middle": 1}[order]
        fields.insert(at, ("content", content))
        status = {"code": 1500001, "message": "busy"} if error_at == i else {"code": 0, "message": "Success"}
        data = json.dumps({"type": 2, "statusInfo": status, "data": {"messageResult": dict(fields)}},
                          ensure_ascii=ascii_, separators=separators)
        if i in bad:
            data = data[:-3]  # cut short: not JSON
        events.append(SSEEvent("message_result", data))
    slow = EventMapper()
    slow.fast = False
    assert _outcome(EventMapper(), events) == _outcome(slow, events)


def test_the_fast_path_reads_each_snapshot_only_past_the_last_one(monkeypatch):
    """Snapshots of a 20,000-character answer are megabytes of JSON; what is parsed stays O(answer)."""
    import hailuo_tui.provider.stream as stream

    parsed = []
    real_loads = json.loads
    monkeypatch.setattr(stream.json, "loads", lambda s, *a, **k: parsed.append(len(s)) or real_loads(s, *a, **k))
    answer = "".join(f'line {i}: "quoted" \\ back\\slash, 茶 and 👍\n' for i in range(500))
    mapper = EventMapper()
    sent = 0
    for end in range(40, len(answer) + 40, 40):
        data = json.dumps({"type": 2, "statusInfo": {"code": 0, "message": "Success"},
                           "data": {"messageResult": {"chatID": "1", "isEnd": 1, "content": answer[:end]}}})
        sent += len(data)
        mapper.feed(SSEEvent("message_result", data))
    assert mapper.text == answer and mapper.fast
    assert sum(parsed) < 2 * len(answer) + 200 * len(parsed)  # one full parse, then the small heads
    assert sum(parsed) < sent / 20
