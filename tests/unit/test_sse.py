"""The incremental SSE decoder: every split point, and generated streams."""

from hypothesis import given, settings
from hypothesis import strategies as st

from hailuo_tui.provider.sse import SSEDecoder, SSEEvent, SSELineTooLong

STREAM = (
    "event: send_result\r\n"
    'data: {"type":1,"data":{"sendResult":{"chatID":"248123456789012345","chatTitle":"你好 world"}}}\r\n'
    "\r\n"
    ": a comment\n"
    "event: message_result\n"
    'data: {"type":2,"content":"naïve 🙂 — 你好"}\n'
    "\n"
    "event:close_chunk\r"
    'data:{"type":8,"data":{}}\r'
    "\r"
).encode("utf-8")

EXPECTED = [
    SSEEvent("send_result", '{"type":1,"data":{"sendResult":{"chatID":"248123456789012345","chatTitle":"你好 world"}}}'),
    SSEEvent("message_result", '{"type":2,"content":"naïve 🙂 — 你好"}'),
    SSEEvent("close_chunk", '{"type":8,"data":{}}'),
]


def decode_in_pieces(data: bytes, cuts: list[int]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    last = 0
    for cut in sorted(cuts):
        events += decoder.feed(data[last:cut])
        last = cut
    events += decoder.feed(data[last:])
    return events + decoder.close()


def test_whole():
    assert decode_in_pieces(STREAM, []) == EXPECTED


def test_every_single_split_point():
    for i in range(len(STREAM) + 1):
        assert decode_in_pieces(STREAM, [i]) == EXPECTED, i


def test_every_pair_of_split_points_near_multibyte_chars():
    # the multi-byte characters and CR/LF pairs are where decoders break
    hot = [i for i, b in enumerate(STREAM) if b >= 0x80 or b in (0x0D, 0x0A)]
    for i in hot:
        for j in hot:
            assert decode_in_pieces(STREAM, [i, j + 1]) == EXPECTED, (i, j)


def test_byte_by_byte():
    decoder = SSEDecoder()
    events = []
    for i in range(len(STREAM)):
        events += decoder.feed(STREAM[i : i + 1])
    assert events + decoder.close() == EXPECTED


def test_unterminated_last_event_is_flushed_on_close():
    decoder = SSEDecoder()
    assert decoder.feed(b"event: x\ndata: 1") == []
    assert decoder.close() == [SSEEvent("x", "1")]


def test_multiline_data_and_default_name():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\ndata: b\n\n") == [SSEEvent("message", "a\nb")]


def test_oversized_line_is_refused():
    decoder = SSEDecoder(max_line=100)
    try:
        decoder.feed(b"data: " + b"x" * 200)
    except SSELineTooLong:
        pass
    else:
        raise AssertionError("expected SSELineTooLong")


def test_invalid_utf8_becomes_replacement_not_crash():
    decoder = SSEDecoder()
    events = decoder.feed(b"data: \xff\xfe ok\n\n")
    assert events == [SSEEvent("message", "\ufffd\ufffd ok")]


_names = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n:"), max_size=12)
_data = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), min_size=0, max_size=40)
_eol = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def streams(draw):
    events = draw(st.lists(st.tuples(_names, _data, _eol), min_size=1, max_size=8))
    text = ""
    expected = []
    for name, data, eol in events:
        if name:
            text += f"event: {name}{eol}"
        text += f"data: {data}{eol}{eol}"
        expected.append(SSEEvent(name or "message", data))
    raw = text.encode("utf-8")
    cuts = draw(st.lists(st.integers(0, len(raw)), max_size=10))
    return raw, cuts, expected


@settings(max_examples=300, deadline=None)
@given(streams())
def test_generated_streams_survive_any_split(case):
    raw, cuts, expected = case
    assert decode_in_pieces(raw, cuts) == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=6))
def test_arbitrary_bytes_never_crash(raw, cuts):
    decode_in_pieces(raw, [c for c in cuts if c <= len(raw)])
