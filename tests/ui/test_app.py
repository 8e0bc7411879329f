"""The whole app with Pilot against the emulator over real HTTP."""

from __future__ import annotations

import asyncio

from hailuo_tui.screens.login_screen import LoginScreen
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.prompt_input import PromptInput
from hailuo_tui.widgets.status_bar import StatusBar
from tests.ui.conftest import (
    answers_finished,
    chat,
    paste_token_on_login_screen,
    ready,
    send,
    wait_answered,
    wait_idle,
    wait_streaming,
    wait_until,
)

SIZE = (110, 36)


async def test_the_chat_screens_first_frame_is_drawn_after_the_mount_batch_and_before_the_deferred_work(make_app):
    """Textual drops every frame drawn while the app's Mount is handled (batch_update). The chat screen's first
    frame must be drawn after it, so that it reaches the terminal; what waits for that frame (the first
    conversation, the login) must start after it (app.py, on_mount)."""
    from hailuo_tui.screens.chat_screen import ChatScreen

    app = await make_app()
    seen: list[tuple[int, bool, bool]] = []
    display = app._display

    def recorded(screen, renderable):
        if isinstance(screen, ChatScreen) and renderable is not None:
            seen.append((app._batch_count, screen.loaded, app._auth_loaded.is_set()))
        return display(screen, renderable)

    app._display = recorded
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await wait_until(pilot, lambda: app._auth_loaded.is_set(), what="the login read")
    assert seen and seen[0] == (0, False, False), seen[:3]


async def test_send_streams_the_answer_and_the_title_names_the_conversation(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        before = answers_finished(app)
        await pilot.press(*"show me code")  # typed key by key, as a terminal sends it
        await pilot.press("enter")
        await wait_answered(pilot, before)
        store = app.store
        [row] = await store.list_conversations()
        assert row.title == emu.chats[row.chat_id].title == "show me code"
        messages = await store.messages(row.id)
        assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        assert bubble.text == messages[1].content and "```python" in bubble.text
        assert screen.sub_title == "show me code · Hailuo web"  # the title, then the backend
        assert screen.query_one(ConversationList).item_ids() == [row.id]
        assert emu.requests[-1].form["msgContent"] == "show me code"


async def test_new_conversation_shows_a_placeholder_until_the_title_arrives(make_app, emu):
    emu.config.headers_delay = 1.0
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "tell me about tea", wait=False)
        sidebar = screen.query_one(ConversationList)
        await wait_until(pilot, lambda: sidebar.option_count == 1, what="the new row")
        assert sidebar.get_option_at_index(0).prompt.title.startswith("New conversation")
        row = (await app.store.list_conversations())[0]
        assert row.title is None
        await wait_idle(pilot)
        row = (await app.store.list_conversations())[0]
        assert row.title == "tell me about tea"
        assert sidebar.get_option_at_index(0).prompt.title == "tell me about tea"


async def test_restart_reloads_and_continues_the_server_chat(make_app, emu, tmp_path):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "My name is Ada")
        [row] = await app.store.list_conversations()
        chat_id = row.chat_id
    app2 = await make_app()
    async with app2.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.current_id == row.id  # the newest conversation opens
        assert len(screen.query_one(ChatView).bubbles) == 2
        await send(pilot, "What is my name?")
        record = emu.requests[-1]
        assert record.form["chatID"] == chat_id
        assert record.form["msgContent"] == "What is my name?"
        answer = (await app2.store.last_message(row.id, role="assistant")).content
        assert "My name is Ada" in answer  # the server remembered the first turn


async def test_a_new_token_replays_the_history_as_a_new_chat(make_app, emu, tmp_path):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "first question")
    app2 = await make_app()
    other = emu.issue_token("Someone else")
    from hailuo_tui.provider.login import token_login

    await app2.services.vault.save(await token_login(other, emu.url))
    async with app2.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "second question")
        record = emu.requests[-1]
        assert record.form["chatID"] == "0"
        assert record.form["msgContent"].startswith("User: first question\nAssistant: ")
        assert record.form["msgContent"].endswith("User: second question\nAssistant:")


async def test_switching_conversations_while_one_is_answering(make_app, emu):
    # The second message must be typed and sent while the first answer streams: the first holds after 20
    # events until the test has seen both (a paced answer alone, 4.7 s then 9 s, once ended too early).
    emu.config.event_delay = 0.02
    emu.config.stall_after_events = 20
    emu.config.stall_seconds = 50  # ended below, well before the app's read timeout
    emu.config.chunk_chars = 10
    emu.config.answer_text = "\n\n".join(f"Paragraph {i}: " + "some words " * 20 for i in range(10))
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "first conversation", wait=False)
        await wait_streaming(pilot)
        first_id = screen.current_id
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert screen.current_id is None
        await send(pilot, "second conversation", wait=False)
        await wait_until(pilot, lambda: len(screen.replies) == 2, what="two answers at once")
        # The web chat answers one message per account at a time: the second waits its turn, and says so.
        await wait_until(pilot, lambda: "waiting" in screen.query_one(StatusBar).activity_text,
                         what="the status bar to name the waiting conversation")
        assert "answering: “first conversation”" in screen.query_one(StatusBar).activity_text
        await pilot.press("alt+down")  # back to the first (older) conversation
        await wait_until(pilot, lambda: screen.current_id == first_id, what="switch back")
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        assert bubble.text  # what streamed while we were away is shown
        emu.config.stall_after_events = None  # the second answer streams straight through
        emu.end_stalls()
        await wait_idle(pilot, 60)
        for row in await app.store.list_conversations():
            last = await app.store.last_message(row.id)
            assert last.role == "assistant" and last.status == "complete" and last.content
        assert screen.query_one(ChatView).last_bubble("assistant").text == (await app.store.last_message(first_id)).content


async def test_a_slow_store_never_holds_the_answer_back(make_app, emu):
    """The chat id, the title and the periodic saves are written beside the stream, not in its way; all of them
    are done before the final save. (A new conversation's first turn is mounted in place: no reload.)"""
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        store = app.store
        release = asyncio.Event()
        saving = store.set_remote_chat

        async def slow_set_remote_chat(*args):
            await release.wait()
            return await saving(*args)

        store.set_remote_chat = slow_set_remote_chat
        await send(pilot, "tell me about tea", wait=False)
        view = screen.query_one(ChatView)
        await wait_until(pilot, lambda: len(getattr(view.last_bubble("assistant"), "text", "")) > 20,
                         what="text while the chat id is still being saved")
        bubble = view.last_bubble("assistant")
        [row] = await store.list_conversations()
        assert row.chat_id is None and screen.replies
        release.set()
        await wait_idle(pilot)
        [row] = await store.list_conversations()
        assert row.chat_id in emu.chats and row.title == emu.chats[row.chat_id].title
        last = await store.last_message(row.id)
        assert last.status == "complete" and last.content == bubble.text == view.last_bubble("assistant").text


async def test_escape_stops_and_keeps_the_partial_answer(make_app, emu):
    emu.config.event_delay = 0.05
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "long answer please", wait=False)
        await wait_streaming(pilot, 20)
        await pilot.press("escape")
        await wait_idle(pilot)
        last = await app.store.last_message(screen.current_id)
        assert last.status == "interrupted" and last.error == "Stopped."
        assert 20 < len(last.content) < 20000
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        assert bubble.text == last.content and bubble.has_class("-interrupted")
        assert not screen.query_one(PromptInput).busy


async def test_rename_is_kept_over_server_titles(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "hello")
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press(*"My title", "enter")
        await pilot.pause()
        row = (await app.store.list_conversations())[0]
        assert row.title == "My title" and row.title_locked
        assert screen.sub_title == "My title · Hailuo web"
        await send(pilot, "again")
        assert (await app.store.get_conversation(row.id)).title == "My title"


async def test_delete_after_confirmation(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "one")
        await pilot.press("ctrl+n")
        await send(pilot, "two")
        doomed = screen.current_id
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press("n")  # cancelled: nothing happens
        await pilot.pause()
        assert await app.store.get_conversation(doomed) is not None
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.current_id != doomed, what="the next conversation")
        assert await app.store.get_conversation(doomed) is None
        assert screen.query_one(ConversationList).item_ids() == [screen.current_id]
        await wait_until(pilot, lambda: not any(c for c in emu.chats.values() if c.title == "two"), what="server delete")


async def test_search_filters_the_sidebar(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "pancakes recipe")
        await pilot.press("ctrl+n")
        await send(pilot, "quantum physics")
        sidebar = screen.query_one(ConversationList)
        assert sidebar.option_count == 2
        await pilot.press("ctrl+f", *"pancak")
        await wait_until(pilot, lambda: sidebar.option_count == 1, what="the filter")
        [only] = sidebar.item_ids()
        assert (await app.store.get_conversation(only)).title == "pancakes recipe"
        await pilot.press("escape")  # clears the search
        await wait_until(pilot, lambda: sidebar.option_count == 2, what="the full list again")


async def test_export_writes_markdown_without_secrets(make_app, emu, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "export me")
        await pilot.press("ctrl+s")
        await pilot.pause()
    [path] = list(tmp_path.glob("hailuo-*.md"))
    text = path.read_text()
    assert "export me" in text and "Turn 1" in text
    assert emu.demo_token not in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"


async def test_regenerate_replaces_the_last_answer(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "hello")
        before = len(emu.requests)
        first = await app.store.last_message(screen.current_id)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(emu.requests) > before, what="the new request")
        await wait_idle(pilot)
        messages = await app.store.messages(screen.current_id)
        assert [m.role for m in messages] == ["user", "assistant"]
        # An answer to the same question: a new server chat (not a second turn of the old one).
        assert messages[1].status == "complete" and "Turn 1" in messages[1].content and "Turn 1" in first.content
        assert "Turn 2" not in messages[1].content
        assert emu.requests[-1].form["msgContent"] == "hello" and emu.requests[-1].form["chatID"] == "0"
        assert len(screen.query_one(ChatView).bubbles) == 2


async def test_regenerate_on_a_later_turn_replays_the_history_up_to_the_question(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "hello there, first turn")
        await send(pilot, "second question")
        title = (await app.store.get_conversation(screen.current_id)).title
        before = len(emu.requests)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(emu.requests) > before, what="the new request")
        await wait_idle(pilot)
        record = emu.requests[-1]
        assert record.form["chatID"] == "0"
        assert record.form["msgContent"].startswith("User: hello there, first turn\nAssistant: ")
        assert record.form["msgContent"].endswith("User: second question\nAssistant:")
        messages = await app.store.messages(screen.current_id)
        assert [m.role for m in messages] == ["user", "assistant"] * 2 and messages[-1].status == "complete"
        row = await app.store.get_conversation(screen.current_id)
        assert row.title == title == "hello there, first t"  # the replayed chat's "User: …" title is not taken
        assert row.chat_id in emu.chats and emu.chats[row.chat_id].title.startswith("User:")  # the server named it so


async def test_edit_and_resend_the_last_message(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "what is 2+2")
        await send(pilot, "and times tree")
        await pilot.press("ctrl+up")
        await pilot.pause()
        prompt = screen.query_one(PromptInput)
        assert prompt.text == "and times tree"
        prompt.clear()
        prompt.insert("and times three")
        before = answers_finished(app)
        await pilot.press("enter")
        await wait_answered(pilot, before)
        messages = await app.store.messages(screen.current_id)
        assert [m.content for m in messages if m.role == "user"] == ["what is 2+2", "and times three"]
        record = emu.requests[-1]
        assert record.form["chatID"] == "0"  # a new server chat with the edited history
        assert record.form["msgContent"].endswith("User: and times three\nAssistant:")


async def test_expired_login_asks_to_log_in_and_retries(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        emu.config.fail_next = [401]
        await send(pilot, "are you there", wait=False)
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen")
        await paste_token_on_login_screen(pilot, emu.demo_token)
        await wait_idle(pilot)
        screen = chat(app)
        last = await app.store.last_message(screen.current_id)
        assert last.status == "complete" and "Turn 1" in last.content
        assert [r.status for r in emu.requests if r.path.startswith("/v4")][-2:] == [401, 200]


async def test_server_error_is_shown_in_plain_words_and_retry_works(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        emu.config.fail_next = [503]
        await send(pilot, "hello")
        bar = screen.query_one(StatusBar)
        assert "Server error" in bar.error_text and "503" in bar.error_text
        last = await app.store.last_message(screen.current_id)
        assert last.status == "failed" and "503" in last.error
        before = answers_finished(app)
        await pilot.press("ctrl+r")
        await wait_answered(pilot, before)
        last = await app.store.last_message(screen.current_id)
        assert last.status == "complete"
        assert [m.role for m in await app.store.messages(screen.current_id)] == ["user", "assistant"]


async def test_no_login_shows_the_welcome_screen(make_app, emu):
    app = await make_app(logged_in=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the welcome screen")
        await wait_until(pilot, lambda: app.screen.query("#login-title"), what="the welcome screen's title")
        assert "Welcome" in str(app.screen.query_one("#login-title").render())
        await paste_token_on_login_screen(pilot, emu.demo_token)
        assert app.auth is not None and app.auth.token == emu.demo_token


async def test_the_welcome_screen_waits_for_the_first_conversation_to_be_mounted(make_app, monkeypatch):
    """The welcome screen comes over the chat screen once the first conversation is mounted (app._load_auth),
    not while it is: the order the start had inside Textual's Mount batch."""
    from hailuo_tui.screens.chat_screen import ChatScreen

    held = asyncio.Event()
    opening = ChatScreen.open_conversation

    async def held_open(self, *args, **kwargs):
        await asyncio.wait_for(held.wait(), 20)
        return await opening(self, *args, **kwargs)

    monkeypatch.setattr(ChatScreen, "open_conversation", held_open)
    app = await make_app(logged_in=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app._auth_loaded is not None and app._auth_loaded.is_set(), what="the login read")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ChatScreen) and not app.screen.loaded
        held.set()
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the welcome screen")
        assert app.chat_screen.loaded


async def test_collections_deferred_for_the_start_come_back_once_it_is_done(make_app):
    """`hailuo-tui` starts with the collector off (idle_gc.defer_collections); the start done, it is on, and
    the start's frozen garbage waits for the first deep collection input or an answer makes due: an app left
    alone does not walk its heap at its first quiet moments."""
    import gc

    from hailuo_tui import idle_gc

    app = await make_app()
    idle_gc.defer_collections()
    try:
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await wait_until(pilot, lambda: app._idle_gc.held, what="the start done")
            assert gc.isenabled()
            looks = 2 + int((idle_gc.SPACING + idle_gc.QUIET) / idle_gc.CHECK_EVERY)  # past the first quiet moment
            await wait_until(pilot, lambda: app._idle_gc.ticks >= looks,
                             timeout=looks * idle_gc.CHECK_EVERY + 5, what="the collector's looks")
            assert app._idle_gc.deep_collections == 0
            # What the preload thread imported after the first frame is frozen once it is done.
            await wait_until(pilot, lambda: app._idle_gc.absorbed == 1, timeout=30, what="the preload's end")
    finally:
        idle_gc.resume_collections()
    assert gc.isenabled()


async def test_drawn_lines_make_their_caches_when_used_and_can_be_turned_off(make_app, monkeypatch):
    """The app's lines (Textual's Strip) make their seven caches when first used; HAILUO_TUI_LAZY_LINES=0
    leaves them making all seven as they are made (benchmarks compare the two)."""
    import gc

    from textual.cache import FIFOCache
    from textual.strip import Strip

    from hailuo_tui.app import LAZY_LINES_ENV

    def caches_of_a_new_line() -> int:
        return sum(isinstance(o, FIFOCache) for o in gc.get_referents(Strip([])))

    for setting, caches in (("0", 7), ("1", 0)):  # "1" last: the default stays for the tests after
        monkeypatch.setenv(LAZY_LINES_ENV, setting)
        app = await make_app()
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            assert caches_of_a_new_line() == caches, setting


async def test_idle_gc_looks_every_second_and_can_be_turned_off(make_app, monkeypatch):
    """HAILUO_TUI_IDLE_GC=0 leaves only the start-up freeze (benchmarks compare the two)."""
    import gc

    from hailuo_tui import idle_gc
    from hailuo_tui.app import IDLE_GC_ENV

    for setting, looks in (("1", True), ("0", False)):
        monkeypatch.setenv(IDLE_GC_ENV, setting)
        app = await make_app()
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await pilot.pause(0.2)
            assert app._idle_gc.held and gc.get_freeze_count() > 0
            assert (gc.get_threshold()[2] == idle_gc.NEVER) is looks  # off: Python starts its full collections
            await asyncio.sleep(1.3)
            assert (app._idle_gc.ticks > 0) is looks, (setting, app._idle_gc.ticks)
        assert gc.get_freeze_count() == 0  # unfrozen on exit either way
