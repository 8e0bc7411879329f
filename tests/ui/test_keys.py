"""Keys and focus: what is typed is what is sent, and every binding works from the message box."""

from __future__ import annotations

import time

import pytest
from textual import events

from hailuo_tui.textual_compat import XTermParser
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.prompt_input import PromptInput
from tests.ui.conftest import wait_until
from tests.ui.test_app import SIZE, ready, wait_idle


async def burst(pilot, data: str) -> None:
    """Deliver terminal input as one read: every key is queued before the first is handled."""
    keys = [event for event in XTermParser().feed(data) if isinstance(event, events.Key)]
    for key in keys:
        key.set_sender(pilot.app)
        pilot.app._driver.send_message(key)
    await pilot.pause()


async def stored_user_texts(app) -> list[str]:
    [row] = await app.store.list_conversations()
    return [m.content for m in await app.store.messages(row.id) if m.role == "user"]


async def test_enter_after_a_burst_sends_exactly_what_was_typed(make_app, emu):
    """Keys queued before Enter (or Ctrl+J) are in the message, in order: the bindings wait for them."""
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await burst(pilot, "Show me a markdown table\r")
        await wait_idle(pilot)
        assert emu.requests[-1].form["msgContent"] == "Show me a markdown table"
        await burst(pilot, "继续：请再给我一个列表…\r")
        await wait_idle(pilot)
        await burst(pilot, "line one\nline two\r")
        await wait_idle(pilot)
        assert await stored_user_texts(app) == [
            "Show me a markdown table", "继续：请再给我一个列表…", "line one\nline two",
        ]
        assert pilot.app.screen.query_one(PromptInput).text == ""


def _app_keys():
    from hailuo_tui.bindings import APP_BINDINGS, CHAT_BINDINGS, prompt_bindings

    owners = {**{b.id: "app" for b in APP_BINDINGS}, **{b.id: "screen" for b in CHAT_BINDINGS},
              **{b.id: "prompt" for b in prompt_bindings()}}
    # The demo's example prompts (chat.example_*) are bound only in --demo, on an empty conversation:
    # tests/ui/test_comfort.py presses them there, from the message box.
    return [(b.id, key.strip(), b.action, owners[b.id])
            for b in [*APP_BINDINGS, *CHAT_BINDINGS, *prompt_bindings()] for key in b.key.split(",")
            if not b.id.startswith("chat.example_")]


@pytest.mark.parametrize(("binding_id", "key", "action", "owner"), _app_keys(),
                         ids=[f"{k[0]}:{k[1]}" for k in _app_keys()])
async def test_every_binding_works_from_the_message_box(make_app, binding_id, key, action, owner):
    """Each app and screen binding reaches its action while the message box has focus
    (the TextArea binds F6, F7, Ctrl+C, PageUp, Home… for itself)."""
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt = screen.query_one(PromptInput)
        prompt.focus()
        prompt.insert("some text")
        await pilot.pause()
        calls: list[str] = []
        name = action.split("(")[0]
        target = {"app": app, "screen": screen, "prompt": prompt}[owner]
        setattr(target, f"action_{name}", lambda *args: calls.append(name))
        await pilot.press(key)
        await pilot.pause()
        assert calls == [name], f"{key} ({binding_id}) did not reach {owner}.action_{name}"


def _long_conversation(tmp_path, count: int) -> None:
    """A stored conversation of `count` question/answer pairs (the app opens it at start)."""
    from hailuo_tui.store import ChatStore
    from tests.ui.conftest import paths_under

    store = ChatStore(paths_under(tmp_path).db_path)
    conversation = store.create_conversation("long")
    for i in range(count):
        store.add_message(conversation.id, "user", f"question {i}")
        store.add_message(conversation.id, "assistant", f"answer {i}\n\n" + "more words here " * 12)
    store.close()


async def test_page_keys_scroll_the_transcript_from_the_message_box(make_app, tmp_path):
    _long_conversation(tmp_path, 120)  # 240 messages: four pages of the store beyond the first read
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view, prompt = screen.query_one(ChatView), screen.query_one(PromptInput)
        await wait_until(pilot, lambda: view.is_vertical_scroll_end and view.max_scroll_y > 0, what="the newest message")
        prompt.focus()
        prompt.insert("draft\nsecond line")
        await pilot.pause()
        cursor = prompt.cursor_location
        bottom = view.scroll_y
        await pilot.press("pageup")
        await wait_until(pilot, lambda: view.scroll_y < bottom, what="PageUp to scroll the transcript")
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: view.scroll_y == bottom, what="PageDown to scroll back")
        await pilot.press("home")  # one press: the very first message, older pages loaded on the way
        await wait_until(pilot, lambda: view.bubbles[0].text == "question 0" and view.scroll_y == 0,
                         what="Home to reach the first message")
        await pilot.pause(0.2)
        assert (view.scroll_y, view.has_older, view.held_count, view.bubbles[0].text) == (0, False, 0, "question 0")
        await pilot.press("end")
        await wait_until(pilot, lambda: view.last_bubble().text.startswith("answer 119") and view.is_vertical_scroll_end,
                         what="End to reach the newest message")
        assert prompt.text == "draft\nsecond line" and prompt.cursor_location == cursor and app.focused is prompt


async def test_focus_keys_and_the_marked_pane(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await burst(pilot, "first\r")
        await wait_idle(pilot)
        await pilot.press("ctrl+n")
        await burst(pilot, "second\r")
        await wait_idle(pilot)
        view = screen.query_one(ChatView)
        assert view.styles.outline_left[0] == ""  # not marked while the message box has the keys
        await pilot.press("f5")
        assert app.focused is view
        await pilot.pause()
        assert view.styles.outline_left[0] != ""
        # Picking a conversation in the sidebar: the keys typed next go to the message box.
        await pilot.press("ctrl+l")
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: screen.sub_title.startswith("first"), what="the first conversation")
        assert app.focused is screen.query_one(PromptInput)
        await pilot.press(*"hello")
        assert screen.query_one(PromptInput).text == "hello"


async def test_ctrl_c_stops_a_streaming_answer_and_copies_otherwise(make_app, emu):
    emu.config.event_delay = 0.05
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await burst(pilot, "long answer please\r")
        await wait_until(pilot, lambda: screen.replies and len(next(iter(screen.replies.values())).text) > 20,
                         what="the answer to stream")
        await pilot.press("ctrl+c")
        await wait_idle(pilot)
        last = await app.store.last_message(screen.current_id)
        assert last.status == "interrupted" and last.error == "Stopped."
        prompt = screen.query_one(PromptInput)
        prompt.insert("copy me")
        prompt.select_all()
        await pilot.press("ctrl+c")  # nothing streams: the message box's own copy
        await pilot.pause()
        assert app.clipboard == "copy me" and prompt.text == "copy me"


def test_alt_enter_as_terminals_send_it_is_one_key():
    """tmux and xterm (meta sends escape) send ESC CR, xterm's eight-bit meta U+008D: both are alt+enter.
    Escape and Enter typed by hand arrive in two reads and stay two keys."""
    from hailuo_tui.widgets.kitty_parser import KittyParser

    def keys(*reads: str) -> list[str]:
        parser = KittyParser()
        found = []
        for data in reads:  # reads a hand's time apart: the parser's escape delay passes between them
            found += [e.key for e in parser.feed(data) if isinstance(e, events.Key)]
            time.sleep(0.15)
            found += [e.key for e in parser.tick() if isinstance(e, events.Key)]
        return found

    assert keys("a\x1b\rb") == ["a", "alt+enter", "b"]
    assert keys("\x8d") == ["alt+enter"]
    assert keys("\x1b", "\r") == ["escape", "enter"]
