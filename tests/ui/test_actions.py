"""The chat screen's and the app's actions through their keys (Pilot + the emulator over HTTP).

Copying (F4, F6 and its picker), web search (F9), the sidebar (Ctrl+B), reading older messages
up the screen, quitting mid-answer, the command palette, logging out and in, and demo mode.
"""

from __future__ import annotations

import asyncio
import time

from hailuo_tui.config import Config
from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.markdown.blocks import code_blocks
from hailuo_tui.screens.code_picker_screen import CodePickerScreen
from hailuo_tui.screens.login_screen import LoginScreen
from hailuo_tui.screens.rename_screen import RenameScreen
from hailuo_tui.store import ChatStore, StoreError
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.prompt_input import PromptInput
from hailuo_tui.widgets.reply_messages import ReplyFinished, ReplyStarted
from hailuo_tui.widgets.status_bar import StatusBar
from tests.helpers import click_shown
from tests.ui.conftest import (
    paste_token_on_login_screen,
    paths_under,
    ready,
    recording,
    scroll_to_oldest,
    send,
    wait_streaming,
    wait_until,
)

SIZE = (110, 36)
TWO_BLOCKS = (
    "Two ways.\n\nIn Python:\n\n```python\nprint('one')\nprint('more')\n```\n\n"
    "In the shell:\n\n```sh\necho two\n```\n\nThat is all."
)
LONG = " ".join(f"w{i:04d}" for i in range(2000))


def record_clipboard(app) -> list[str]:
    """Keep what the app hands to ``copy_to_clipboard`` (instead of writing OSC 52 to no terminal)."""
    copied: list[str] = []
    app.copy_to_clipboard = copied.append
    return copied


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


# --- copying ---------------------------------------------------------------------------


async def test_f6_picks_a_code_block_and_copies_exactly_its_code(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text=TWO_BLOCKS, chunk_chars=9)
    app = await make_app()
    copied = record_clipboard(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+l")  # out of the prompt: see test_f6_in_the_prompt_opens_the_code_picker
        await pilot.press("f6")
        await pilot.pause()
        assert app.screen is screen and not copied  # no conversation yet: nothing to pick
        await send(pilot, "show me code")
        await pilot.press("ctrl+l")
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, CodePickerScreen), what="the code picker")
        picker = app.screen
        options = picker.query_one("#blocks")
        assert options.option_count == 2
        assert "[python] print('one')" in str(options.get_option_at_index(0).prompt)
        assert "[sh] echo two" in str(options.get_option_at_index(1).prompt)
        assert options.highlighted == 1  # the last block is offered first
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="the picker to close")
        assert not copied  # cancelled: nothing copied

        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, CodePickerScreen), what="the code picker")
        await pilot.press("up", "enter")
        await wait_until(pilot, lambda: copied, what="the copy")
        assert copied == ["print('one')\nprint('more')"]
        assert app.screen is screen
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, CodePickerScreen), what="the code picker")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(copied) == 2, what="the second copy")
        assert copied[1] == "echo two" == code_blocks(TWO_BLOCKS)[1][1]
        assert "Copied the code block (OSC 52)." in notices(app)


async def test_f6_in_the_prompt_opens_the_code_picker(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text=TWO_BLOCKS)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "show me code")
        assert isinstance(screen.focused, PromptInput)
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, CodePickerScreen), 3, "the code picker")


async def test_f6_says_so_when_there_is_no_code(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text="Just words, no code.")
    app = await make_app()
    copied = record_clipboard(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "no code please")
        await pilot.press("ctrl+l", "f6")
        await wait_until(pilot, lambda: "No code blocks in this conversation." in notices(app), what="the notice")
        assert app.screen is screen and not copied


async def test_f4_copies_the_last_answer_as_stored(make_app, emu):
    app = await make_app()
    copied = record_clipboard(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: "There is no answer to copy yet." in notices(app), what="the warning")
        assert not copied
        await send(pilot, "first")
        await send(pilot, "second")
        await pilot.press("f4")
        await wait_until(pilot, lambda: copied, what="the copy")
        last = await app.store.last_message(screen.current_id, role="assistant")
        assert copied == [last.content] and "Turn 2" in last.content and "second" in last.content


async def test_f4_while_answering_copies_what_arrived_so_far(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text=LONG, chunk_chars=10, event_delay=0.03)
    app = await make_app()
    copied = record_clipboard(app)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "a long answer", wait=False)
        reply = await wait_streaming(pilot, 50)
        await pilot.press("f4")
        await wait_until(pilot, lambda: copied, what="the copy")
        assert len(copied[0]) > 50 and LONG.startswith(copied[0]) and len(copied[0]) < len(LONG)
        await pilot.press("escape")
        await wait_until(pilot, lambda: reply.final is not None, what="the stop")


# --- toggles ------------------------------------------------------------------------------


async def test_f9_turns_web_search_on_for_the_next_request_and_off_again(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        bar = screen.query_one(StatusBar)
        await send(pilot, "without search")
        assert emu.requests[-1].form["searchMode"] == "0"
        await pilot.press("f9")
        await wait_until(pilot, lambda: screen.web_search, what="web search on")
        assert "web search on" in bar.activity_text
        assert "Web search on for the next messages (saved as the default)." in notices(app)
        await send(pilot, "with search")
        record = emu.requests[-1]
        assert record.form["msgContent"] == "with search" and record.form["searchMode"] == "1"
        await pilot.press("f9")
        await wait_until(pilot, lambda: not screen.web_search, what="web search off")
        assert "web search" not in bar.activity_text
        await send(pilot, "without again")
        assert emu.requests[-1].form["searchMode"] == "0"


async def test_ctrl_b_hides_and_shows_the_sidebar(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        sidebar = screen.query_one("#sidebar")
        view = screen.query_one(ChatView)
        width = view.size.width
        assert sidebar.display and sidebar.size.width > 0
        await pilot.press("ctrl+l")  # the focus in the sidebar: hiding it moves the focus to the prompt
        await pilot.pause()
        assert isinstance(screen.focused, ConversationList)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: view.size.width > width, what="the view to take the sidebar's room")
        assert not sidebar.display and isinstance(screen.focused, PromptInput)
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: view.size.width == width, what="the sidebar back")
        assert sidebar.display and sidebar.size.width > 0


# --- reading older messages ---------------------------------------------------------------


async def test_scrolling_to_the_top_loads_older_messages_from_the_store(make_app, emu, tmp_path):
    db = paths_under(tmp_path).db_path
    db.parent.mkdir(parents=True, mode=0o700)
    seed = ChatStore(db)
    conversation = seed.create_conversation("A long one")
    ids = [seed.add_message(conversation.id, "user" if i % 2 == 0 else "assistant", f"message number {i}").id
           for i in range(200)]
    seed.close()
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.current_id == conversation.id
        view = screen.query_one(ChatView)
        assert view.bubbles[-1].message_id == ids[-1] and len(view.bubbles) < 200
        seen = {bubble.message_id for bubble in view.bubbles}
        for shown in await scroll_to_oldest(pilot, view, ids[0]):
            assert len(shown) <= ChatView.MOUNTED_MAX
            assert shown == ids[ids.index(shown[0]): ids.index(shown[0]) + len(shown)]  # contiguous, in order
            seen.update(shown)
        assert view.bubbles[0].text == "message number 0"
        assert seen == set(ids)
        requests = app.posted.of(ChatView.OlderRequested)
        assert len(requests) >= 2  # 200 messages: read 60 at a time from the store, on request
        assert [r.before_id for r in requests] == sorted({r.before_id for r in requests}, reverse=True)


def _long_and_short(tmp_path) -> tuple[int, list[int], int]:
    """A store with a conversation of 200 messages (opened at start: the newest) and an older short one."""
    db = paths_under(tmp_path).db_path
    db.parent.mkdir(parents=True, mode=0o700)
    seed = ChatStore(db)
    short = seed.create_conversation("A short one")
    seed.add_message(short.id, "user", "the short one's only message")
    long = seed.create_conversation("A long one")
    ids = [seed.add_message(long.id, "user" if i % 2 == 0 else "assistant", f"message number {i}").id
           for i in range(200)]
    seed.close()
    return long.id, ids, short.id


def _gate_older_reads(monkeypatch, store, conversation_id: int) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold the store's reads of older messages (``before_id``) of ``conversation_id`` until the returned gate
    is set; ``started`` is set when one is waiting. The store is the app's real one; only the answer waits."""
    gate, started = asyncio.Event(), asyncio.Event()
    read = store.messages

    async def held(*args, **kwargs):
        if args[0] == conversation_id and kwargs.get("before_id") is not None:
            started.set()
            await gate.wait()
        return await read(*args, **kwargs)

    monkeypatch.setattr(store, "messages", held)
    return gate, started


async def _read_up_until_the_store_is_asked(pilot, view, started: asyncio.Event, timeout: float = 15.0) -> None:
    """Scroll to the top again and again (pages of what the view holds) until it asks the store for more."""
    deadline = time.monotonic() + timeout
    while not started.is_set():
        assert time.monotonic() < deadline, "the view never asked the store for older messages"
        view.scroll_home(animate=False, immediate=True)
        await pilot.pause(0.02)


async def test_the_screen_goes_on_while_older_messages_are_read(make_app, emu, tmp_path, monkeypatch):
    """The read of older messages runs in a worker: awaited in the screen's handler, it held every message to
    the screen (the layout requests of a page mounted meanwhile among them) until the store answered."""
    long_id, ids, _ = _long_and_short(tmp_path)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        assert screen.current_id == long_id and view.bubbles[0].message_id > ids[0]
        gate, started = _gate_older_reads(monkeypatch, screen.store, long_id)
        await _read_up_until_the_store_is_asked(pilot, view, started)
        handled = asyncio.Event()
        screen.call_later(handled.set)  # a message to the screen, behind the request
        oldest = view.bubbles[0].message_id
        try:  # not Pilot's pause, which waits for the screen's queue to empty, and would time out there
            await asyncio.wait_for(handled.wait(), timeout=5)
        except TimeoutError:
            raise AssertionError("the screen handled nothing more until the store answered") from None
        finally:  # failing, leave nothing waiting (the screen itself, before the change) or the app never ends
            gate.set()
        await scroll_to_oldest(pilot, view, ids[0])
        assert view.bubbles[0].message_id < oldest


async def test_older_messages_read_for_one_conversation_never_reach_another(make_app, emu, tmp_path, monkeypatch):
    long_id, ids, short_id = _long_and_short(tmp_path)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        gate, started = _gate_older_reads(monkeypatch, screen.store, long_id)
        await _read_up_until_the_store_is_asked(pilot, view, started)
        try:
            await screen.open_chosen(short_id)  # while the long one's read waits
            assert [bubble.text for bubble in view.bubbles] == ["the short one's only message"]
        finally:
            gate.set()
        await pilot.pause(0.3)
        assert screen.current_id == short_id
        assert [bubble.text for bubble in view.bubbles] == ["the short one's only message"]


async def test_a_store_refusal_while_older_messages_are_read_is_said_and_the_app_goes_on(make_app, emu, tmp_path,
                                                                                       monkeypatch):
    """The read runs in a worker, whose exception Textual hands on wrapped (WorkerFailed): the app's last net
    still says a store refusal on screen rather than ending with a traceback."""
    long_id, ids, _ = _long_and_short(tmp_path)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        read, refused = screen.store.messages, asyncio.Event()

        async def refusing(*args, **kwargs):
            if args[0] == long_id and kwargs.get("before_id") is not None:
                refused.set()
                raise StoreError(str(tmp_path), "the disk said no [b]now[/b]", kind="io")
            return await read(*args, **kwargs)

        monkeypatch.setattr(screen.store, "messages", refusing)
        await _read_up_until_the_store_is_asked(pilot, view, refused)
        await wait_until(pilot, lambda: any("the disk said no [b]now[/b]" == str(n.message)
                                            for n in app._notifications), what="the refusal said")
        assert app.is_running and app.screen is screen


# --- quitting mid-answer ------------------------------------------------------------------


async def test_stop_all_saves_each_partial_answer_as_interrupted(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text=LONG, chunk_chars=10, event_delay=0.03)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "first, long", wait=False)
        await wait_until(pilot, lambda: len(screen.replies) == 1, what="the first answer")
        await pilot.press("ctrl+n")
        await send(pilot, "second, long", wait=False)
        # The web chat streams one answer per account: the second waits for its turn (and is stopped too).
        await wait_until(pilot, lambda: len(screen.replies) == 2 and any(r.text for r in screen.replies.values()),
                         what="one answer streaming, one waiting")
        replies = list(screen.replies.values())
        await screen.stop_all()
        for reply in replies:
            row = (await app.store.messages(reply.conversation_id))[-1]
            assert row.id == reply.message_id
            assert (row.status, row.error) == ("interrupted", "Stopped when hailuo-tui was closed.")
            assert row.content == reply.text and LONG.startswith(row.content) and len(row.content) < len(LONG)
        assert sum(bool(reply.text) for reply in replies) == 1
        await wait_until(pilot, lambda: not screen.replies, what="the sessions to be gone")
        assert app.is_running  # stop_all only stops; quitting is the caller's


async def test_ctrl_q_while_answering_quits_and_keeps_the_partial_answer(make_app, emu, tmp_path):
    emu.config = EmulatorConfig(seed=3, answer_text=LONG, chunk_chars=10, event_delay=0.03)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "a long answer please", wait=False)
        reply = await wait_streaming(pilot, 50)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: app.return_code is not None, what="the app to quit")
    assert app.return_code == 0
    store = ChatStore(paths_under(tmp_path).db_path)
    try:
        user, answer = store.messages(reply.conversation_id)
    finally:
        store.close()
    assert user.content == "a long answer please"
    assert (answer.status, answer.error) == ("interrupted", "Stopped when hailuo-tui was closed.")
    assert answer.content == reply.text and LONG.startswith(answer.content) and 50 < len(answer.content) < len(LONG)


# --- the command palette -------------------------------------------------------------------


async def test_the_palette_runs_rename(make_app, emu):
    from textual.command import CommandList, CommandPalette

    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "name me")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the command palette")
        await pilot.press(*"Rename")
        results = app.screen.query_one(CommandList)

        def rename_highlighted() -> bool:
            index = results.highlighted
            return index is not None and "Rename conversation" in str(results.get_option_at_index(index).prompt)

        await wait_until(pilot, rename_highlighted, what="Rename among the palette's matches")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen), what="the rename dialog")
        await pilot.press("ctrl+a", *"Named by palette", "enter")  # ctrl+a: to the start, typing goes before
        await wait_until(pilot, lambda: app.screen is screen, what="the dialog to close")
        row = await app.store.get_conversation(screen.current_id)
        await wait_until(pilot, lambda: screen.sub_title == f"{row.title} · Hailuo web", what="the new title")
        assert row.title.startswith("Named by palette") and row.title_locked


# --- logging out and in ----------------------------------------------------------------------


async def test_logout_forgets_the_login_and_shows_the_welcome_screen(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.auth is not None and await app.services.vault.load() is not None
        await app.run_action("logout")
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the welcome screen")
        assert "Welcome" in str(app.screen.query_one("#login-title").render())
        assert app.auth is None and await app.services.vault.load() is None
        assert "Logged out. The stored login was removed from the keyring." in notices(app)
        await paste_token_on_login_screen(pilot, emu.demo_token)
        screen = await ready(pilot)
        assert app.auth is not None and app.auth.token == emu.demo_token
        assert "logged in" in screen.query_one(StatusBar).query_one("#status-account").render().plain
        await send(pilot, "back again")
        assert (await app.store.last_message(screen.current_id)).status == "complete"


async def test_login_action_opens_the_login_screen_and_cancel_keeps_the_login(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        auth = app.auth
        await app.run_action("login")
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen")
        assert "Log in to Hailuo" in str(app.screen.query_one("#login-title").render())
        assert "Log in again." in str(app.screen.query_one("#login-reason").render())
        await click_shown(pilot, "#cancel")
        await wait_until(pilot, lambda: app.screen is screen, what="back to the chat")
        assert app.auth is auth and app.is_running
        other = emu.issue_token("Someone else")
        await app.run_action("login")
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen again")
        await paste_token_on_login_screen(pilot, other)
        await wait_until(pilot, lambda: app.auth is not auth, what="the new login")
        assert app.auth.token == other and "Logged in." in notices(app)


# --- demo mode -------------------------------------------------------------------------------


async def test_demo_mode_starts_logged_in_to_the_emulator_and_answers(tmp_path, monkeypatch):
    from hailuo_tui.app import HailuoApp
    from hailuo_tui.services import Options

    for name, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                      ("XDG_CACHE_HOME", "cache")):
        monkeypatch.setenv(name, str(tmp_path / sub))
    monkeypatch.delenv("HAILUO_TOKEN", raising=False)
    monkeypatch.delenv("HAILUO_TUI_CONFIG", raising=False)
    app = recording(HailuoApp(Options(demo=True), config=Config()))  # the services come from Services.start
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        services = app.services
        emulator = services.emulator
        assert services.demo and emulator is not None and emulator.url.startswith("http://127.0.0.1:")
        assert services.paths.db_path == tmp_path / "data" / "hailuo-tui" / "demo" / "demo.sqlite3"
        await wait_until(pilot, lambda: app.auth is not None, what="the demo login")
        assert app.auth.token == emulator.demo_token
        assert "demo account" in screen.query_one(StatusBar).query_one("#status-account").render().plain
        await send(pilot, "hello demo")
        [started] = app.posted.of(ReplyStarted)
        [finished] = app.posted.of(ReplyFinished)
        assert started.conversation_id == finished.conversation_id == screen.current_id and started.shown
        assert (finished.status, finished.error) == ("complete", None)
        answer = await app.store.last_message(screen.current_id)
        assert answer.status == "complete" and "hello demo" in answer.content
        assert emulator.requests[-1].form["msgContent"] == "hello demo"
    assert services.emulator is None  # stopped with the app
    assert not list((tmp_path / "data" / "hailuo-tui").glob("*.sqlite3"))  # demo data kept apart



# --- the keymap ------------------------------------------------------------------------------


async def test_remapped_keys_run_their_actions_and_the_old_keys_do_not(make_app, emu):
    app = await make_app(keymap={"chat.copy_answer": "f11", "app.toggle_sidebar": "ctrl+o"})
    copied = record_clipboard(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        sidebar = screen.query_one("#sidebar")
        await send(pilot, "copy me")
        await pilot.press("f4", "ctrl+b")
        await pilot.pause()
        assert not copied and sidebar.display  # the default keys are free now
        await pilot.press("f11")
        await wait_until(pilot, lambda: copied, what="the copy by the new key")
        assert copied == [(await app.store.last_message(screen.current_id)).content]
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: not sidebar.display, what="the sidebar hidden by the new key")
