"""MiniMaxAPI against the emulator's MiniMax API routes over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys

import pytest
from aiohttp import web

from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.provider import (
    AuthError,
    BadRequest,
    ContentFiltered,
    ContextTooLong,
    Finished,
    HailuoError,
    HistoryTrimmed,
    InsufficientBalance,
    MiniMaxAPI,
    NetworkError,
    RateLimited,
    ReasoningDelta,
    ServerError,
    StreamInterrupted,
    TextDelta,
    Usage,
)
from hailuo_tui.provider.backend import Backend, ChatRequest
from hailuo_tui.provider.minimax import (
    API_HOSTS,
    CONTEXT_WINDOWS,
    DEFAULT_API_MODEL,
    DEFAULT_CONTEXT_WINDOW,
    DOCUMENTED_MODELS,
    clean_title,
    context_window,
    estimate_tokens,
    fit_history,
)
from tests.helpers import serve

TIMEOUT = 30


@pytest.fixture
async def emu():
    async with Emulator(EmulatorConfig(seed=7)) as emulator:
        yield emulator


@pytest.fixture
def api(emu) -> MiniMaxAPI:
    return MiniMaxAPI(emu.demo_api_key, base_url=emu.url + "/v1", read_timeout=10, connect_timeout=5)


def ask(text: str = "Explain SSE please", **kw) -> ChatRequest:
    return ChatRequest([{"role": "user", "content": text}], **kw)


async def collect(api: MiniMaxAPI, request: ChatRequest) -> list:
    async def run():
        return [event async for event in api.stream(request)]

    return await asyncio.wait_for(run(), TIMEOUT)


def texts(events: list, kind: type) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


def chat_records(emu):
    return [r for r in emu.requests if r.path == "/v1/chat/completions"]


# --- the contract ---------------------------------------------------------------------------------


def test_class_attributes_and_constants():
    assert (MiniMaxAPI.id, MiniMaxAPI.label, MiniMaxAPI.login_kind) == ("api", "MiniMax API", "api_key")
    assert MiniMaxAPI.default_model == DEFAULT_API_MODEL == "MiniMax-M3" and MiniMaxAPI.supports_system is True
    assert API_HOSTS == {"international": "https://api.minimax.io/v1", "china": "https://api.minimaxi.com/v1"}
    assert "MiniMax-M3" in DOCUMENTED_MODELS and "MiniMax-M2.7" in DOCUMENTED_MODELS
    assert context_window("MiniMax-M3") == 1_000_000 == CONTEXT_WINDOWS["MiniMax-M3"]
    assert context_window("MiniMax-M2.7-highspeed") == 204_800
    assert context_window("some-gateway-model") == DEFAULT_CONTEXT_WINDOW < 204_800
    api = MiniMaxAPI("sk-api-secret")
    assert isinstance(api, Backend) and "sk-api-secret" not in repr(api)


def loaded_after(modules: str) -> set[str]:
    code = f"import sys, {modules}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_the_api_modules_stay_in_their_layer():
    pure = loaded_after("hailuo_tui.provider, hailuo_tui.provider.reasoning, hailuo_tui.provider.openai_stream")
    assert not pure & {"aiohttp", "textual", "rich"}  # aiohttp only once MiniMaxAPI is asked for
    client = loaded_after("hailuo_tui.provider.minimax")
    assert "aiohttp" in client and not client & {"textual", "rich"}


async def test_stream_sends_the_documented_request_and_yields_typed_events(emu, api):
    events = await collect(api, ask())
    assert isinstance(events[-1], Finished) and events[-1].finish_reason == "stop"
    answer, reasoning = texts(events, TextDelta), texts(events, ReasoningDelta)
    assert events[-1].text == answer and "Explain SSE please" in answer and reasoning
    kinds = [type(e) for e in events]
    assert kinds.index(ReasoningDelta) < kinds.index(TextDelta)  # thinking streams before the answer
    usage = [e for e in events if isinstance(e, Usage)]
    assert len(usage) == 1 and usage[0].model == "MiniMax-M3" and usage[0].completion_tokens > 0
    assert usage[0].reasoning_tokens > 0
    [record] = chat_records(emu)
    assert record.api_key == "demo" and record.status == 200
    body = record.json
    assert body["model"] == "MiniMax-M3" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True} and body["reasoning_split"] is True
    assert body["max_completion_tokens"] == 8192 and "thinking" not in body
    assert body["messages"] == [{"role": "user", "content": "Explain SSE please"}]


async def test_system_prompt_goes_first_and_assistant_turns_as_their_visible_text(emu, api):
    history = [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "First answer", "reasoning": "secret thoughts"},
        {"role": "user", "content": "Second question"},
    ]
    events = await collect(api, ChatRequest(history, system="Answer like a pirate."))
    sent = chat_records(emu)[-1].json["messages"]
    assert sent == [{"role": "system", "content": "Answer like a pirate."},
                    {"role": "user", "content": "First question"},
                    {"role": "assistant", "content": "First answer"},
                    {"role": "user", "content": "Second question"}]
    assert "pirate" in events[-1].text


async def test_two_turns_carry_the_whole_history(emu, api):
    first = await collect(api, ask("Tell me about tea"))
    history = [{"role": "user", "content": "Tell me about tea"},
               {"role": "assistant", "content": first[-1].text},
               {"role": "user", "content": "And coffee?"}]
    second = await collect(api, ChatRequest(history))
    sent = chat_records(emu)[-1].json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == first[-1].text
    answer = second[-1].text
    assert "You asked me 2 things so far" in answer and "Tell me about tea" in answer


@pytest.mark.parametrize(
    ("model", "thinking_sent"),
    [("MiniMax-M3", {"type": "disabled"}), ("MiniMax-M2.7", None), ("MiniMax-M3.1-Flash-Preview", None)],
)
async def test_thinking_off_only_where_the_model_allows_it(emu, api, model, thinking_sent):
    events = await collect(api, ask(model=model, thinking=False))
    assert isinstance(events[-1], Finished)
    assert chat_records(emu)[-1].json.get("thinking") == thinking_sent
    if thinking_sent:
        assert not texts(events, ReasoningDelta)


async def test_the_reasoning_shapes_give_the_same_events(emu, api):
    emu.config.api_reasoning = "split"
    reference = await collect(api, ask())
    for shape in ("inline", "details_cumulative", "split_with_stray_tag"):
        emu.config.api_reasoning = shape
        events = await collect(api, ask())
        assert texts(events, ReasoningDelta) == texts(reference, ReasoningDelta), shape
        assert events[-1] == reference[-1], shape
        assert "<think>" not in events[-1].text and "</think>" not in texts(events, ReasoningDelta)


# --- the end of a stream, faults and retry --------------------------------------------------------


async def test_no_done_after_finish_reason_is_complete(emu, api):
    emu.config.api_done = False
    events = await collect(api, ask())
    assert isinstance(events[-1], Finished) and any(isinstance(e, Usage) for e in events)


async def test_a_cut_stream_keeps_its_partial_answer_and_retry_works(emu, api):
    emu.config.api_cut_after = 14
    with pytest.raises(StreamInterrupted) as caught:
        await collect(api, ask())
    assert caught.value.partial and caught.value.retryable
    emu.config.api_cut_after = None
    events = await collect(api, ask())
    assert events[-1].text.startswith(caught.value.partial)


async def test_in_stream_filter_keeps_the_partial_answer_and_retry_works(emu, api):
    emu.config.api_filter_after = 14
    seen = []
    with pytest.raises(ContentFiltered) as caught:
        async for event in api.stream(ask()):
            seen.append(event)
    assert caught.value.partial == texts(seen, TextDelta) != ""
    assert caught.value.code == 1027 and "moderation" in caught.value.message
    emu.config.api_filter_after = None
    assert isinstance((await collect(api, ask()))[-1], Finished)


@pytest.mark.parametrize(
    ("name", "cls", "retryable"),
    [
        ("auth_1004", AuthError, False),
        ("balance_1008_http", InsufficientBalance, False),
        ("balance_1008_200", InsufficientBalance, False),
        ("rate_1002", RateLimited, True),
        ("usage_2056", RateLimited, True),
        ("overload_529", ServerError, True),
        ("server_1000", ServerError, True),
        ("gateway_502", ServerError, True),
        ("bad_request_2013", BadRequest, False),
        ("context_2013", ContextTooLong, False),
        ("input_1026", ContentFiltered, False),
        ("not_found_404", BadRequest, False),
    ],
)
async def test_every_error_body_and_retry(emu, api, name, cls, retryable):
    emu.config.api_fail_next = [name]
    with pytest.raises(HailuoError) as caught:
        await collect(api, ask())
    assert type(caught.value) is cls and caught.value.retryable is retryable
    assert caught.value.message and caught.value.partial == ""
    assert isinstance((await collect(api, ask()))[-1], Finished)  # the next request goes through


async def test_error_wording(emu, api):
    emu.config.api_fail_next = ["bad_request_2013", "overload_529"]
    with pytest.raises(BadRequest, match="invalid chat setting"):
        await collect(api, ask())
    with pytest.raises(ServerError, match="overloaded"):
        await collect(api, ask())


async def test_a_wrong_key_is_refused_in_plain_words(emu):
    api = MiniMaxAPI("sk-api-wrong", base_url=emu.url + "/v1")
    with pytest.raises(AuthError, match="wrong key or wrong region") as caught:
        await collect(api, ask())
    assert not caught.value.retryable
    with pytest.raises(AuthError):
        await asyncio.wait_for(api.check(), TIMEOUT)
    with pytest.raises(AuthError):
        await collect(MiniMaxAPI("", base_url=emu.url + "/v1"), ask())


async def test_connection_refused_is_a_network_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens there
    api = MiniMaxAPI("sk-api-x", base_url=f"http://127.0.0.1:{port}/v1", connect_timeout=5)
    with pytest.raises(NetworkError):
        await collect(api, ask())
    assert await asyncio.wait_for(api.title(ask(), "answer"), TIMEOUT) is None


async def test_slow_chunks_within_the_timeout_are_fine_and_a_stall_interrupts(emu):
    emu.config.api_chunk_delay = 0.02
    api = MiniMaxAPI(emu.demo_api_key, base_url=emu.url + "/v1", read_timeout=2)
    assert isinstance((await collect(api, ask()))[-1], Finished)
    emu.config.api_chunk_delay = 0.0
    emu.config.api_first_chunk_delay = 3.0
    slow = MiniMaxAPI(emu.demo_api_key, base_url=emu.url + "/v1", read_timeout=0.5)
    with pytest.raises(StreamInterrupted) as caught:
        await collect(slow, ask())
    assert caught.value.partial == ""


# --- history, titles, models ----------------------------------------------------------------------


async def test_history_too_long_for_the_window_is_trimmed_oldest_first(emu, api):
    history = []
    for i in range(6):
        history += [{"role": "user", "content": f"Question {i} " + "x" * 300},
                    {"role": "assistant", "content": f"Answer {i} " + "y" * 300}]
    history.append({"role": "user", "content": "The last question"})
    window = api.max_tokens + 500
    events = await collect(api, ChatRequest(history, options={"context_window": window}))
    assert isinstance(events[0], HistoryTrimmed) and events[0].dropped > 0
    sent = chat_records(emu)[-1].json["messages"]
    assert sent[0]["role"] == "user" and sent[-1] == {"role": "user", "content": "The last question"}
    assert len(sent) == len(history) - events[0].dropped
    assert sent == history[events[0].dropped:]
    assert isinstance(events[-1], Finished)


async def test_no_trimming_when_the_history_fits(emu, api):
    events = await collect(api, ChatRequest([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                             {"role": "user", "content": "c"}]))
    assert not any(isinstance(e, HistoryTrimmed) for e in events)


async def test_the_servers_context_check_is_context_too_long(emu, api):
    emu.config.api_context_limit = 10
    with pytest.raises(ContextTooLong, match="too long"):
        await collect(api, ask("a question that is well over ten tokens long, surely, by any count"))


def test_fit_history_rules():
    msgs = [{"role": "user", "content": "u" * 300}, {"role": "assistant", "content": "a" * 300},
            {"role": "user", "content": "last " * 100}]
    assert fit_history(msgs, 10**6) == 0
    assert fit_history(msgs, 200) == 2  # never starts with an assistant turn
    assert fit_history(msgs, 1) == 2  # the last user message stays even when it does not fit
    assert estimate_tokens("abc") == 1 and estimate_tokens("你好") == 2


async def test_title_is_a_small_non_streamed_request(emu, api):
    title = await asyncio.wait_for(api.title(ask("Explain server-sent events to me"), "Sure."), TIMEOUT)
    assert title == "Explain server-sent events to me"
    body = chat_records(emu)[-1].json
    assert body["stream"] is False and body["thinking"] == {"type": "disabled"}
    assert body["max_completion_tokens"] == 64 and body["messages"][0]["role"] == "system"


async def test_title_on_an_always_thinking_model_leaves_room_for_reasoning(emu, api):
    title = await asyncio.wait_for(api.title(ask("你好，请介绍一下上海", model="MiniMax-M2.7"), "好的"), TIMEOUT)
    assert title and "<think>" not in title
    body = chat_records(emu)[-1].json
    assert "thinking" not in body and body["max_completion_tokens"] > 1000


async def test_title_is_none_on_failure(emu, api):
    emu.config.api_fail_next = ["server_1000"]
    assert await asyncio.wait_for(api.title(ask(), "answer"), TIMEOUT) is None


def test_clean_title():
    assert clean_title('<think>\nhmm\n</think>\n\n"Tea and Coffee."') == "Tea and Coffee"
    assert clean_title("Title: **上海介绍**。") == "上海介绍"
    assert clean_title("\x1b[31mRed\x1b[0m title!\nsecond line") == "Red title"
    assert clean_title("   ") is None
    long = clean_title("word " * 40)
    assert long and len(long) <= 60 and not long.endswith(" ")


async def test_models_lists_the_server_and_falls_back(emu, api):
    assert await asyncio.wait_for(api.list_models(), TIMEOUT) == [
        "MiniMax-M3.1-Flash-Preview", "MiniMax-M3", "MiniMax-M2.7", "MiniMax-M2.7-highspeed", "MiniMax-M2.5",
        "MiniMax-M2.5-highspeed", "MiniMax-M2.1", "MiniMax-M2.1-highspeed", "MiniMax-M2"]
    emu.config.api_models_fail = "server_1000"
    with pytest.raises(ServerError):
        await asyncio.wait_for(api.list_models(), TIMEOUT)
    assert await asyncio.wait_for(api.models(), TIMEOUT) == list(DOCUMENTED_MODELS)
    emu.config.api_models_fail = None
    assert "MiniMax-M3" in await asyncio.wait_for(api.models(), TIMEOUT)
    await asyncio.wait_for(api.check(), TIMEOUT)


async def test_check_passes_on_a_host_without_a_models_route(emu, api):
    emu.config.api_models_fail = "not_found_404"
    await asyncio.wait_for(api.check(), TIMEOUT)


# --- the key stays secret -------------------------------------------------------------------------


def error_texts(exc: HailuoError) -> str:
    return " ".join([str(exc), repr(exc), exc.message, exc.detail or "", exc.partial, getattr(exc, "sample", "")])


async def test_the_key_never_appears_in_errors_or_logs(emu, caplog):
    caplog.set_level(logging.DEBUG)
    key = emu.issue_api_key()
    api = MiniMaxAPI(key, base_url=emu.url + "/v1", read_timeout=5)
    failures: list[HailuoError] = []
    for name in ("auth_1004", "balance_1008_200", "rate_1002", "context_2013", "gateway_502", "not_found_404"):
        emu.config.api_fail_next = [name]
        with pytest.raises(HailuoError) as caught:
            await collect(api, ask())
        failures.append(caught.value)
    emu.config.api_cut_after = 3
    with pytest.raises(StreamInterrupted) as caught:
        await collect(api, ask())
    failures.append(caught.value)
    emu.config.api_cut_after = None
    await collect(api, ask())
    await asyncio.wait_for(api.title(ask(), "x"), TIMEOUT)
    await asyncio.wait_for(api.models(), TIMEOUT)
    emu.revoke_api_key(key)
    with pytest.raises(AuthError) as caught:
        await collect(api, ask())
    failures.append(caught.value)
    assert len(failures) == 8
    for failure in failures:
        assert key not in error_texts(failure)
    assert caplog.records, "the provider logs at debug level"
    for record in caplog.records:
        assert key not in record.getMessage()


async def test_a_server_that_echoes_the_key_does_not_leak_it(caplog):
    caplog.set_level(logging.DEBUG)

    async def echo(request: web.Request) -> web.Response:
        said = f"bad key {request.headers.get('Authorization', '')} (1004)"
        return web.json_response({"type": "error", "error": {"type": "authorized_error", "message": said,
                                                            "http_code": "401"}}, status=401)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", echo)
    app.router.add_get("/v1/models", echo)
    key = "sk-api-echo-0123456789"
    async with serve(app) as url:
        api = MiniMaxAPI(key, base_url=url + "/v1")
        with pytest.raises(AuthError) as caught:
            await collect(api, ask())
        assert key not in error_texts(caught.value)
        assert await asyncio.wait_for(api.models(), TIMEOUT) == list(DOCUMENTED_MODELS)
    assert caplog.records and all(key not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("content_type", ["text/event-stream", "application/json"])
async def test_a_200_with_only_base_resp_is_an_error_whatever_its_type(content_type):
    async def balance(request: web.Request) -> web.Response:
        return web.Response(text='{"base_resp":{"status_code":1008,"status_msg":"insufficient balance"}}',
                            content_type=content_type)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", balance)
    async with serve(app) as url:
        with pytest.raises(InsufficientBalance):
            await collect(MiniMaxAPI("sk-api-x", base_url=url + "/v1"), ask())


async def test_a_whole_completion_instead_of_a_stream_is_read():
    async def whole(request: web.Request) -> web.Response:
        return web.json_response({
            "choices": [{"finish_reason": "stop", "index": 0,
                         "message": {"content": "<think>\nanswer 56\n</think>\n\n56", "role": "assistant"}}],
            "usage": {"total_tokens": 116, "prompt_tokens": 55, "completion_tokens": 61},
            "base_resp": {"status_code": 0, "status_msg": ""}})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", whole)
    async with serve(app) as url:
        events = await collect(MiniMaxAPI("sk-api-x", base_url=url + "/v1", read_timeout=5), ask())
    assert events == [ReasoningDelta("answer 56"), TextDelta("56"), Usage("MiniMax-M3", 55, 61),
                      Finished("56", finish_reason="stop")]


async def test_stopping_mid_answer_closes_cleanly_and_the_next_request_works(emu, api):
    emu.config.api_chunk_delay = 0.01
    stream = api.stream(ask())
    seen = [await asyncio.wait_for(stream.__anext__(), TIMEOUT) for _ in range(3)]
    await asyncio.wait_for(stream.aclose(), TIMEOUT)
    assert len(seen) == 3
    emu.config.api_chunk_delay = 0.0
    assert isinstance((await collect(api, ask()))[-1], Finished)
