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


def reference(raw: bytes) -> list[SSEEvent]:
    """The event stream as the spec reads it, from the whole input decoded first (what decoding each line on
    its own must equal)."""
    text = raw.decode("utf-8", "replace")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    events, name, data = [], "", []
    for line in lines + [""]:  # the end of the input ends the last line and the last event
        if not line:
            if data:
                events.append(SSEEvent(name or "message", "\n".join(data)))
            name, data = "", []
            continue
        if line[0] == ":":
            continue
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
    return events


# bytes where decoders differ: line ends, "data:" and "event:", and multi-byte characters cut or broken
_pieces = st.sampled_from([b"\n", b"\r", b"\r\n", b"data:", b"data: ", b"event: ", b":", b" ", b"x", b"ok",
                           "é".encode(), "你".encode(), "🙂".encode(), b"\xe4\xbd", b"\xf0\x9f", b"\xc3", b"\xff",
                           b"\x80", b"\xed\xa0\x80"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_pieces, max_size=40).map(b"".join), st.lists(st.integers(0, 400), max_size=8))
def test_decoding_each_line_alone_equals_decoding_the_whole_stream_first(raw, cuts):
    assert decode_in_pieces(raw, [c for c in cuts if c <= len(raw)]) == reference(raw)


def test_a_line_of_many_reads_is_refused_by_its_bytes():
    decoder = SSEDecoder(max_line=100)
    decoder.feed(b"data: " + "你".encode() * 20)  # 66 bytes: kept
    try:
        decoder.feed("你".encode() * 20)  # 126 bytes, 42 characters
    except SSELineTooLong as exc:
        assert "100 bytes" in str(exc)
    else:
        raise AssertionError("expected SSELineTooLong")
    assert decoder.feed(b"\ndata: ok\n\n") == [SSEEvent("message", "ok")]  # the rest of the line is dropped

