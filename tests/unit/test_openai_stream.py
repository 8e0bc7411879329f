"""The chunk mapper and the error mapping of the MiniMax API (pure: no server)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hailuo_tui.provider import (
    AuthError,
    BadRequest,
    ContentFiltered,
    ContextTooLong,
    Finished,
    InsufficientBalance,
    RateLimited,
    ReasoningDelta,
    ServerError,
    StreamInterrupted,
    TextDelta,
    Usage,
)
from hailuo_tui.provider.openai_stream import ChunkMapper, api_error, error_info, parse_usage
from hailuo_tui.provider.sse import SSEDecoder

FLAGS = ('"input_sensitive":false,"output_sensitive":false,"input_sensitive_type":0,'
         '"output_sensitive_type":0,"output_sensitive_int":0')
HEAD = '"id":"07008f4a9c","created":1790008394,"model":"MiniMax-M2.7","object":"chat.completion.chunk"'
DELTA = '"role":"assistant","name":"MiniMax AI","audio_content":""'


def details(text: str) -> str:
    return ('"reasoning_details":[{"type":"reasoning.text","id":"reasoning-text-1","format":"MiniMax-response-v1",'
            f'"index":0,"text":{json.dumps(text, ensure_ascii=False)}}}]')


def chunk(delta: str, finish: str = "") -> str:
    fin = f'"finish_reason":"{finish}",' if finish else ""
    return (f'data: {{{HEAD},"choices":[{{{fin}"index":0,"delta":{{{delta}}}}}],"usage":null,{FLAGS}}}\n\n')


#: The shape of the §6 capture (MiniMax-M2.7, reasoning_split), with CJK so a cut can fall inside a character.
CAPTURE = (
    chunk(f'{DELTA},"reasoning_content":"The",{details("The")}')
    + chunk(f'"content":"",{DELTA},"reasoning_content":" user wants a proof，证明…",{details(" user wants a proof，证明…")}')
    + chunk(f'"content":"**偶数**",{DELTA}')
    + chunk(f'"content":" = 2(a + b + 1)$$\\n\\nResult divisible by 2. Even. ∎",{DELTA}', "stop")
    + f'data: {{{HEAD[:HEAD.index(",")]},"choices":[],"created":1790008394,"model":"MiniMax-M2.7",'
    '"object":"chat.completion.chunk","usage":{"total_tokens":885,"total_characters":0,"prompt_tokens":769,'
    '"completion_tokens":116,"completion_tokens_details":{"reasoning_tokens":37},'
    '"prompt_tokens_details":{"cached_tokens":443}},"base_resp":{"status_code":0,"status_msg":""}}\n\n'
    "data: [DONE]\n\n"
).encode("utf-8")

REASONING = "The user wants a proof，证明…"
ANSWER = "**偶数** = 2(a + b + 1)$$\n\nResult divisible by 2. Even. ∎"
USAGE = Usage("MiniMax-M2.7", 769, 116, reasoning_tokens=37, cached_tokens=443)


def map_bytes(data: bytes, cuts: list[int], model: str = "MiniMax-M2.7") -> list:
    decoder, mapper, events = SSEDecoder(), ChunkMapper(model), []
    last = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts) + [len(data)]:
        for sse in decoder.feed(data[last:cut]):
            events += mapper.feed(sse)
        last = cut
    for sse in decoder.close():
        events += mapper.feed(sse)
    return events + mapper.close()


def summary(events: list) -> tuple:
    return ("".join(e.text for e in events if isinstance(e, ReasoningDelta)),
            "".join(e.text for e in events if isinstance(e, TextDelta)),
            [e for e in events if isinstance(e, (Usage, Finished))])


WHOLE = (REASONING, ANSWER, [USAGE, Finished(ANSWER, finish_reason="stop")])


def test_the_capture_whole():
    assert summary(map_bytes(CAPTURE, [])) == WHOLE


def test_every_single_offset():
    for i in range(len(CAPTURE) + 1):
        assert summary(map_bytes(CAPTURE, [i])) == WHOLE, i


@given(st.lists(st.integers(min_value=0), max_size=40))
@settings(max_examples=300, deadline=None)
def test_any_cut_of_the_capture(cuts):
    assert summary(map_bytes(CAPTURE, cuts)) == WHOLE


def test_cut_inside_a_cjk_character():
    at = CAPTURE.index("偶".encode()) + 1
    assert summary(map_bytes(CAPTURE, [at, at + 1])) == WHOLE


def test_eof_after_finish_reason_without_done_is_complete():
    data = CAPTURE[: CAPTURE.index(b"data: [DONE]")]
    assert summary(map_bytes(data, [])) == WHOLE
    no_usage = CAPTURE[: CAPTURE.index(b'data: {"id":"07008f4a9c","choices":[]')]
    assert summary(map_bytes(no_usage, [])) == (REASONING, ANSWER, [Finished(ANSWER, finish_reason="stop")])


def test_eof_before_finish_reason_is_interrupted_with_the_partial_answer():
    data = CAPTURE[: CAPTURE.index(b"Result")]
    with pytest.raises(StreamInterrupted) as caught:
        map_bytes(data, [])
    assert caught.value.partial == "**偶数**"


def test_zero_usage_on_normal_chunks_is_ignored():
    mapper = ChunkMapper("MiniMax-M3")
    zero = {"choices": [{"index": 0, "delta": {"content": "a", "role": ""}}],
            "usage": {"total_tokens": 0, "total_characters": 0}}
    early = {"choices": [{"index": 0, "delta": {"content": "b"}}],
             "usage": {"total_tokens": 3, "prompt_tokens": 1, "completion_tokens": 2}}
    assert mapper.feed_payload(zero) == [TextDelta("a")]
    assert mapper.feed_payload(early) == [TextDelta("b")]  # not final yet: no usage
    assert mapper.usage is None


def test_in_stream_filter_frame_keeps_the_partial_answer():
    frame = ('data: {"type":"error","error":{"type":"unprocessable_entity_error","message":"output new_sensitive '
             '(1027)","http_code":"422"},"request_id":"0640ba8"}\n\n').encode()
    data = CAPTURE[: CAPTURE.index(b"data: {", CAPTURE.index(b"**"))] + frame
    with pytest.raises(ContentFiltered) as caught:
        map_bytes(data, [])
    assert caught.value.partial == "**偶数**" and caught.value.code == 1027 and not caught.value.retryable


def test_base_resp_in_stream_is_an_error():
    mapper = ChunkMapper()
    with pytest.raises(InsufficientBalance):
        mapper.feed_payload({"base_resp": {"status_code": 1008, "status_msg": "insufficient balance"}})


def test_non_streamed_completion_is_one_delta():
    mapper = ChunkMapper("MiniMax-M2.7-highspeed")
    body = {"choices": [{"finish_reason": "stop", "index": 0,
                         "message": {"content": "<think>\nanswer \"56\".\n</think>\n\n56", "role": "assistant"}}],
            "usage": {"total_tokens": 116, "prompt_tokens": 55, "completion_tokens": 61,
                      "completion_tokens_details": {"reasoning_tokens": 60}},
            "base_resp": {"status_code": 0, "status_msg": ""}}
    events = mapper.feed_payload(body) + mapper.close()
    assert summary(events) == ('answer "56".', "56", [Usage("MiniMax-M2.7-highspeed", 55, 61, 60),
                                                      Finished("56", finish_reason="stop")])


def test_done_without_finish_reason_is_complete_and_later_data_ignored():
    mapper = ChunkMapper()
    decoder = SSEDecoder()
    events = []
    for sse in decoder.feed(b'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'
                            b'data: {"choices":[{"delta":{"content":"late"}}]}\n\n'):
        events += mapper.feed(sse)
    assert mapper.done and summary(events + mapper.close())[1] == "hi"


# --- errors --------------------------------------------------------------------------------------


def body(message: str, http: int, kind: str = "bad_request_error") -> dict:
    return {"type": "error", "error": {"type": kind, "message": message, "http_code": str(http)},
            "request_id": "0640ba838096cbdbe96fe03bc1654ebe"}


AUTH = "login fail: Please carry the API secret key in the 'Authorization' field of the request header (1004)"


@pytest.mark.parametrize(
    ("status", "payload", "cls", "retryable"),
    [
        (401, body(AUTH, 401, "authorized_error"), AuthError, False),
        (401, None, AuthError, False),
        (402, body("insufficient balance (1008)", 402, "insufficient_balance_error"), InsufficientBalance, False),
        (200, {"base_resp": {"status_code": 1008, "status_msg": "insufficient balance"}}, InsufficientBalance, False),
        (500, body("insufficient balance (1008)", 500), InsufficientBalance, False),
        (429, body("rate limit (1002)", 429, "rate_limit_error"), RateLimited, True),
        (429, body("usage limit exceeded, 5-hour usage limit reached (2056)", 429), RateLimited, True),
        (529, body("cluster overloaded", 529, "overloaded_error"), ServerError, True),
        (500, body("unknown error, 999 (1000)", 500, "api_error"), ServerError, True),
        (502, None, ServerError, True),
        (400, body("invalid params, invalid chat setting (2013)", 400), BadRequest, False),
        (400, body("invalid params, context window exceeds limit (2013)", 400), ContextTooLong, False),
        (422, body("input new_sensitive (1026)", 422, "unprocessable_entity_error"), ContentFiltered, False),
        (404, body("not found", 404, "not_found_error"), BadRequest, False),
    ],
)
def test_error_bodies(status, payload, cls, retryable):
    err = api_error(status, payload, partial="so far")
    assert type(err) is cls
    assert err.retryable is retryable and err.partial == "so far"
    assert err.title and err.message and err.exit_code


def test_wording_of_the_main_errors():
    assert "wrong key or wrong region" in api_error(401, body(AUTH, 401)).message
    bad = api_error(400, body("invalid params, unknown model 'X' (2013)", 400))
    assert "unknown model 'X'" in bad.message and type(bad) is BadRequest
    assert "too long" in api_error(400, body("invalid params, context window exceeds limit (2013)", 400)).message
    assert "overloaded" in api_error(529, body("cluster overloaded", 529)).message


def test_server_text_is_cleaned_and_the_secret_removed():
    err = api_error(400, body("invalid params, \x1b]52;c;AAAA\x07key sk-api-SECRET leaked (2013)", 400),
                    secret="sk-api-SECRET")
    assert "\x1b" not in err.message and "sk-api-SECRET" not in err.message + (err.detail or "")


def test_error_info_shapes():
    assert error_info(body(AUTH, 401)) == (1004, AUTH, 401)
    assert error_info({"base_resp": {"status_code": 0, "status_msg": ""}}) is None
    assert error_info({"choices": []}) is None
    assert error_info({"error": "plain text"}) == (None, "plain text", None)


def test_parse_usage():
    assert parse_usage({"total_tokens": 0, "total_characters": 0}, "m") is None
    assert parse_usage(None, "m") is None
    assert parse_usage({"prompt_tokens": 5, "completion_tokens": 7}, "m") == Usage("m", 5, 7)
