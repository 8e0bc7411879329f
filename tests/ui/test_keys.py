"""Keys and focus: what is typed is what is sent, and every binding works from the message box."""

from __future__ import annotations

from textual import events

from hailuo_tui.textual_compat import XTermParser
from hailuo_tui.widgets.prompt_input import PromptInput
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
