"""The MiniMax API backend in the real app (Pilot) against the emulator's API routes over HTTP."""

from __future__ import annotations

import pytest

from hailuo_tui.screens.model_picker_screen import ModelPickerScreen
from hailuo_tui.screens.system_prompt_screen import SystemPromptScreen
from hailuo_tui.widgets import ChatView
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.reply_messages import ReplyFinished, ReplyStarted
from tests.ui.conftest import type_text, wait_until

SIZE = (120, 40)


@pytest.fixture
def api_app(make_app, emu, monkeypatch):
    """An app whose new conversations use the API backend (the emulator's demo key from the environment)."""
    monkeypatch.setenv("MINIMAX_API_KEY", emu.demo_api_key)

    async def factory(**config):
        config.setdefault("default_backend", "api")
        return await make_app(api_base_url=emu.api_base_url, **config)

    return factory


def chat_requests(emu):
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


async def ready(pilot):
    screen = pilot.app.chat_screen
    await wait_until(pilot, lambda: screen is not None and screen.loaded and not pilot.app.auth_loading, what="start")
    return pilot.app.chat_screen


async def send(pilot, text: str) -> None:
    screen = pilot.app.chat_screen
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.current_id is not None, what="the conversation")
    conversation_id = screen.current_id
    await wait_until(pilot, lambda: conversation_id not in screen.replies, 30, "the answer")
    await pilot.pause()


async def test_two_turns_with_thinking_usage_and_a_live_title(api_app, emu):
    app = await api_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "Say hello in one line")
        [row] = await app.store.list_conversations()
        assert (row.backend, row.model) == ("api", "MiniMax-M3")
        first = (await app.store.messages(row.id))[-1]
        assert first.status == "complete" and first.reasoning and first.usage["completion_tokens"] > 0
        assert "<think>" not in first.content
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        assert bubble.text == first.content
        assert bubble.thinking is not None and bubble.thinking.folded  # folded once the answer started
        assert "MiniMax-M3" in bubble.usage_text and "tokens" in bubble.usage_text
        # The title arrives from a second, small request and renames the conversation live.
        await wait_until(pilot, lambda: screen.query_one(ConversationList).title_of(row.id) not in (None, ""),
                         what="the title")
        titled = await app.store.get_conversation(row.id)
        assert titled.title and screen.sub_title == f"{titled.title} · MiniMax API · MiniMax-M3"
        await send(pilot, "And what did I ask first?")
        body = chat_requests(emu)[-1].json
        assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
        assert body["messages"][1]["content"] == first.content and "<think>" not in body["messages"][1]["content"]
        second = (await app.store.messages(row.id))[-1]
        assert "Say hello in one line" in second.content  # the fake model quotes what it saw


async def test_the_thinking_section_streams_then_folds_and_opens_again(api_app, emu):
    # The stream holds after three of the reasoning's ~35 pieces until the open section was checked: paced
    # reasoning alone (0.35 s, then 0.9 s) let the answer reach the screen with the first words on a loaded
    # machine (a CI run of the whole suite). A short question keeps the answer short (~110 pieces).
    emu.config.api_chunk_chars = 6
    emu.config.api_events_per_second = 100
    emu.config.api_stall_after_chunks = 3
    emu.config.api_stall_seconds = 50  # ended by end_stalls() below, well before the app's read timeout
    app = await api_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_text(pilot, "Think about it")
        await pilot.press("enter")
        view = screen.query_one(ChatView)
        await wait_until(pilot, lambda: (b := view.last_bubble("assistant")) is not None and b.thinking is not None
                         and b.thinking.text, what="reasoning on screen")
        bubble = view.last_bubble("assistant")
        assert not bubble.thinking.folded and not bubble.text  # open while it thinks, no answer yet
        emu.end_stalls()
        await wait_until(pilot, lambda: bubble.text, 30, "the answer")
        await wait_until(pilot, lambda: bubble.thinking.folded, what="the section to fold")
        await wait_until(pilot, lambda: not screen.replies, 60, "the end")
        await pilot.pause()
        bubble = view.last_bubble("assistant")  # the newest answer's bubble now (the view may have been reloaded)
        assert bubble.thinking.folded
        await pilot.press("ctrl+o")
        assert not bubble.thinking.folded
        await pilot.press("ctrl+o")
        assert bubble.thinking.folded


async def test_the_model_picker_moves_a_web_conversation_to_the_api(api_app, emu):
    app = await api_app(default_backend="web")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "hello web")
        [row] = await app.store.list_conversations()
        assert row.backend == "web" and not chat_requests(emu)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), what="the picker")
        picker = app.screen
        index = picker._choices.index(("api", "MiniMax-M2.7"))
        picker.query_one("#models").highlighted = index
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.settings == ("api", "MiniMax-M2.7"), what="the new model")
        assert screen.sub_title.endswith("MiniMax API · MiniMax-M2.7")
        await send(pilot, "and now the API")
        body = chat_requests(emu)[-1].json
        assert body["model"] == "MiniMax-M2.7"
        assert [m["content"] for m in body["messages"] if m["role"] == "user"] == ["hello web", "and now the API"]


async def test_a_system_prompt_goes_first_and_the_web_chat_says_it_has_none(api_app, emu):
    app = await api_app(default_backend="web")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "hello web")
        await pilot.press("f7")
        await pilot.pause()
        assert not isinstance(app.screen, SystemPromptScreen)
        assert any("no system prompt" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+n")
        app.chat_screen.draft = ("api", "MiniMax-M3")
        await send(pilot, "first API message")
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, SystemPromptScreen), what="the editor")
        await pilot.press(*"Answer like a pirate.")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen, what="the editor to close")
        await send(pilot, "second API message")
        messages = chat_requests(emu)[-1].json["messages"]
        assert messages[0] == {"role": "system", "content": "Answer like a pirate."}
        assert sum(m["role"] == "system" for m in messages) == 1


async def test_a_web_and_an_api_conversation_stream_at_the_same_time(api_app, emu):
    # The web answer streams for ~3 s at 12 events/s, so the API one starts while it does. Both overlapping is read
    # from the order of what the replies posted: polling for two replies at once missed the short API answer
    # (started and finished between two looks) in 1 of 3 runs here, with the previous round's code too.
    emu.config.events_per_second = 12
    emu.config.api_events_per_second = 40
    app = await api_app(default_backend="web")
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await type_text(pilot, "give me a list")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.replies, what="the web answer to start")
        await pilot.press("ctrl+n")
        screen.draft = ("api", "MiniMax-M3")
        await type_text(pilot, "and an API list")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.replies, 60, "both answers")
        replies = [type(m) for m in app.posted.messages if isinstance(m, (ReplyStarted, ReplyFinished))]
        assert replies == [ReplyStarted, ReplyStarted, ReplyFinished, ReplyFinished]  # the second began before either ended
        rows = {r.backend: r for r in await app.store.list_conversations()}
        for backend in ("web", "api"):
            last = (await app.store.messages(rows[backend].id))[-1]
            assert last.status == "complete" and last.content


async def test_reasoning_is_searched_only_when_asked(api_app, emu):
    app = await api_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "Say hello in one line")
        [row] = await app.store.list_conversations()
        answer = (await app.store.messages(row.id))[-1]
        assert "concise" in answer.reasoning and "concise" not in answer.content.lower()
        sidebar = screen.query_one(ConversationList)
        await pilot.press("ctrl+f")
        await pilot.press(*"concise")
        await wait_until(pilot, lambda: sidebar.item_ids() == [], what="no match in the answers")
        screen.query_one("#search").value = "thinking: concise"
        await wait_until(pilot, lambda: sidebar.item_ids() == [row.id], what="the match in the reasoning")


async def test_a_history_past_the_context_window_says_what_was_not_sent(api_app, emu, monkeypatch):
    from hailuo_tui.provider import minimax

    app = await api_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "first question " + "words " * 40)
        monkeypatch.setitem(minimax.CONTEXT_WINDOWS, "MiniMax-M3", 60)  # now the first turn no longer fits
        await send(pilot, "second question")
        body = chat_requests(emu)[-1].json
        assert [m["content"] for m in body["messages"]] == ["second question"]
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        assert "2 oldest messages not sent" in bubble.usage_text
        [row] = await app.store.list_conversations()
        assert (await app.store.messages(row.id))[-1].usage["left_out"] == 2


async def test_fold_thinking_false_keeps_the_section_open(api_app, emu):
    app = await api_app(fold_thinking=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "Say hello")
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        assert bubble.text and bubble.thinking is not None and not bubble.thinking.folded


async def test_coming_back_while_it_thinks_shows_all_the_reasoning(api_app, emu):
    emu.config.api_chunk_chars = 6
    emu.config.api_events_per_second = 60
    app = await api_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "first conversation")
        await pilot.press("ctrl+n")
        # Held after three reasoning pieces while the test goes away and back (paced alone, 2.4 s of answer
        # once ended before the test saw its reasoning, in a full-suite run).
        emu.config.api_stall_after_chunks = 3
        emu.config.api_stall_seconds = 50
        await type_text(pilot, "Think about it")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.replies and next(iter(screen.replies.values())).reasoning,
                         what="reasoning")
        reply = next(iter(screen.replies.values()))
        await pilot.press("alt+down")  # away, to the older conversation
        await wait_until(pilot, lambda: screen.current_id != reply.conversation_id, what="the switch")
        held = len(reply.reasoning)
        emu.end_stalls()  # the reasoning goes on while the conversation is not shown
        await wait_until(pilot, lambda: len(reply.reasoning) > held, what="reasoning while away")
        await pilot.press("alt+up")  # and back (while it still streams, unless the machine is very slow)
        await wait_until(pilot, lambda: screen.current_id == reply.conversation_id, what="the way back")
        await wait_until(pilot, lambda: not screen.replies, 60, "the end")
        await pilot.pause()
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        saved = (await app.store.messages(reply.conversation_id))[-1]
        assert bubble.reasoning == saved.reasoning and bubble.text == saved.content
        assert bubble.usage_text
