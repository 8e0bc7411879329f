"""HailuoAI against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.provider import (
    AuthError,
    AuthResult,
    BadRequest,
    ChatStarted,
    Conversation,
    Finished,
    FollowUps,
    HailuoAI,
    ProtocolChanged,
    RateLimited,
    SearchSources,
    ServerError,
    ServiceError,
    StreamInterrupted,
    TextDelta,
    TitleGenerated,
)
from hailuo_tui.provider.login import token_login
from tests.helpers import serve


@pytest.fixture
async def emu():
    async with Emulator(EmulatorConfig(seed=7)) as emulator:
        yield emulator


@pytest.fixture
async def auth(emu) -> AuthResult:
    return await token_login(emu.demo_token, emu.url)


async def collect(messages, auth, **kwargs):
    events = []
    async for event in HailuoAI.create_authed("MiniMax", messages, auth, **kwargs):
        events.append(event)
    return events


def text_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_class_attributes():
    assert HailuoAI.label == "Hailuo AI"
    assert HailuoAI.url == "https://www.hailuo.ai"
    assert HailuoAI.working is True and HailuoAI.use_nodriver is True and HailuoAI.supports_stream is True
    assert HailuoAI.default_model == "MiniMax"


async def test_new_chat_streams_title_conversation_and_text(emu, auth):
    emu.config.event_delay = 0.01  # a read per event: the deltas of one read are joined (limits.read_chunk)
    events = await collect([{"role": "user", "content": "Show me some code please"}], auth, return_conversation=True)
    kinds = [type(e) for e in events]
    assert kinds[0] is ChatStarted
    assert TitleGenerated in kinds and Conversation in kinds
    assert kinds.index(Conversation) < kinds.index(TextDelta)
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert text_of(events) == finished.text
    assert "```" in finished.text
    conversation = next(e for e in events if isinstance(e, Conversation))
    assert conversation.token == auth.token and len(conversation.chatID) == 18
    title = next(e for e in events if isinstance(e, TitleGenerated)).title
    assert title == emu.chats[conversation.chatID].title
    record = emu.requests[-1]
    assert record.yy_ok and record.form["chatID"] == "0" and record.form["msgContent"] == "Show me some code please"
    assert sum(isinstance(e, TextDelta) for e in events) > 3  # it really streamed


async def test_continued_chat_sends_only_the_last_message_and_server_remembers(emu, auth):
    first = await collect([{"role": "user", "content": "My name is Ada"}], auth, return_conversation=True)
    conversation = next(e for e in first if isinstance(e, Conversation))
    history = [
        {"role": "user", "content": "My name is Ada"},
        {"role": "assistant", "content": first[-1].text},
        {"role": "user", "content": "What did I say first?"},
    ]
    second = await collect(history, auth, conversation=conversation, return_conversation=True)
    record = emu.requests[-1]
    assert record.form["chatID"] == conversation.chatID
    assert record.form["msgContent"] == "What did I say first?"
    chat = emu.chats[conversation.chatID]
    assert len(chat.turns) == 2
    assert "My name is Ada" in second[-1].text  # the fake model quotes the chat's first message


async def test_new_chat_folds_the_history(emu, auth):
    history = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    await collect(history, auth)
    assert emu.requests[-1].form["msgContent"] == "User: a\nAssistant: b\nUser: c\nAssistant:"
    assert emu.requests[-1].form["chatID"] == "0"


async def test_conversation_of_another_token_starts_a_new_chat(emu, auth):
    stale = Conversation(token="another-token", chatID="248123456789012345")
    await collect([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}, {"role": "user", "content": "again"}],
                  auth, conversation=stale)
    assert emu.requests[-1].form["chatID"] == "0"


async def test_unknown_chat_is_a_service_error(emu, auth):
    bogus = Conversation(token=auth.token, chatID="248123456789012345")
    with pytest.raises(ServiceError):
        await collect([{"role": "user", "content": "hi"}], auth, conversation=bogus)


@pytest.mark.parametrize(
    "status,error",
    [(400, BadRequest), (401, AuthError), (403, AuthError), (429, RateLimited), (500, ServerError),
     (502, ServerError), (503, ServerError)],
)
async def test_http_failures_map_to_errors(emu, auth, status, error):
    emu.config.fail_next = [status]
    with pytest.raises(error) as info:
        await collect([{"role": "user", "content": "hi"}], auth)
    assert str(status) in info.value.message
    assert auth.token not in info.value.message
    if status == 429:
        assert info.value.retry_after == emu.config.retry_after


async def test_revoked_token_is_auth_error(emu, auth):
    emu.revoke_token(auth.token)
    with pytest.raises(AuthError):
        await collect([{"role": "user", "content": "hi"}], auth)


async def test_in_stream_error_keeps_partial_text(emu, auth):
    emu.config.stream_error = 3
    emu.config.chunk_chars = 4
    with pytest.raises(ServiceError) as info:
        await collect([{"role": "user", "content": "tell me a long story"}], auth)
    assert "hiccup" in info.value.message
    assert info.value.partial  # three events of text were received


async def test_heartbeats_with_nonzero_codes_are_ignored(emu, auth):
    emu.config.heartbeats = True
    events = await collect([{"role": "user", "content": "hello"}], auth)
    assert isinstance(events[-1], Finished)


@pytest.mark.parametrize("point", ["send_result", "after_send_result", "mid_answer"])
async def test_disconnects_before_the_end_are_interrupted_with_partial(emu, auth, point):
    emu.config.drop_before = point
    with pytest.raises(StreamInterrupted) as info:
        await collect([{"role": "user", "content": "write a list for me"}], auth)
    if point == "mid_answer":
        assert info.value.partial


async def test_disconnect_before_close_chunk_still_completes(emu, auth):
    emu.config.drop_before = "close_chunk"
    events = await collect([{"role": "user", "content": "hello"}], auth)
    assert isinstance(events[-1], Finished)


async def test_disconnect_after_bytes_keeps_partial(emu, auth):
    emu.config.disconnect_after_bytes = 1500
    emu.config.chunk_chars = 3
    with pytest.raises(StreamInterrupted) as info:
        await collect([{"role": "user", "content": "write a table"}], auth)
    assert info.value.partial


async def test_stream_without_final_message_is_interrupted(emu, auth):
    emu.config.no_final = True
    with pytest.raises(StreamInterrupted) as info:
        await collect([{"role": "user", "content": "hello there"}], auth)
    assert info.value.partial


async def test_stall_longer_than_read_timeout_is_interrupted(emu, auth):
    emu.config.stall_after_events = 2
    emu.config.stall_seconds = 3
    with pytest.raises(StreamInterrupted) as info:
        await collect([{"role": "user", "content": "hello there"}], auth, read_timeout=0.5)
    assert "stopped sending" in info.value.message


async def test_slow_stream_within_read_timeout_completes(emu, auth):
    emu.config.event_delay = 0.05
    events = await collect([{"role": "user", "content": "hi"}], auth, read_timeout=1.0)
    assert isinstance(events[-1], Finished)


async def test_malformed_lines_and_unknown_events_are_skipped(emu, auth):
    emu.config.malformed_lines = True
    emu.config.unknown_event = True
    emu.config.compact_fields = True
    events = await collect([{"role": "user", "content": "hello"}], auth)
    assert isinstance(events[-1], Finished)
    assert text_of(events) == events[-1].text


async def test_oversized_line_is_survived(emu, auth):
    emu.config.oversized_line = 2_000_000
    events = await collect([{"role": "user", "content": "hello"}], auth)
    assert isinstance(events[-1], Finished)


async def test_fffd_splits_never_reach_the_text(emu, auth):
    emu.config.fffd_splits = True
    emu.config.chunk_chars = 1
    events = await collect([{"role": "user", "content": "你好，请介绍一下你自己"}], auth)
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert all("\ufffd" not in d for d in deltas)
    assert "".join(deltas) == events[-1].text


async def test_search_links_and_follow_ups(emu, auth):
    emu.config.search_links = True
    emu.config.follow_ups = True
    events = await collect([{"role": "user", "content": "news today"}], auth, web_search=True)
    assert emu.requests[-1].form["searchMode"] == "1"
    assert any(isinstance(e, SearchSources) and e.links for e in events)
    assert any(isinstance(e, FollowUps) for e in events)


async def test_second_concurrent_stream_is_refused(emu, auth):
    emu.config.one_stream_per_token = True
    emu.config.event_delay = 0.02

    async def ask():
        return await collect([{"role": "user", "content": "hello"}], auth)

    results = await asyncio.gather(ask(), ask(), return_exceptions=True)
    assert sum(isinstance(r, list) for r in results) == 1
    refused = next(r for r in results if not isinstance(r, list))
    assert isinstance(refused, RateLimited)


async def test_unreachable_server_is_a_network_error(auth):
    from hailuo_tui.provider import NetworkError

    dead = AuthResult(auth.token, auth.path_and_query, auth.timestamp, base_url="http://127.0.0.1:9")
    with pytest.raises(NetworkError):
        await collect([{"role": "user", "content": "hi"}], dead)


async def test_user_info_and_delete_chat(emu, auth):
    info = await HailuoAI.user_info(auth)
    assert info and auth.token not in str(info)
    events = await collect([{"role": "user", "content": "hi"}], auth, return_conversation=True)
    conversation = next(e for e in events if isinstance(e, Conversation))
    await HailuoAI.delete_chat(auth, conversation.chatID)
    assert conversation.chatID not in emu.chats
    with pytest.raises(ServiceError):
        await collect([{"role": "user", "content": "again"}], auth, conversation=conversation)


async def test_non_stream_answer_is_protocol_changed():
    from aiohttp import web

    async def handler(request):
        return web.Response(text="<html>maintenance</html>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/v4/api/chat/msg", handler)
    async with serve(app) as url:
        auth = AuthResult("t", "/v4/api/chat/msg?unix=1", 1, base_url=url)
        with pytest.raises(ProtocolChanged) as info:
            await collect([{"role": "user", "content": "hi"}], auth)
        assert "maintenance" in info.value.sample
