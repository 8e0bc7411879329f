"""The sidebar search and an idle app stay cheap: what they redraw, lay out and time."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from hailuo_tui.widgets.conversation_list import BUSY_MARKER, ConversationList, SearchBox, fit_row
from hailuo_tui.widgets.prompt_input import PromptInput
from tests.ui.conftest import Host, Spy, answers_finished, ready, settled, wait_answered, wait_until


@dataclass(frozen=True)
class Row:
    id: int
    title: str | None
    updated_at: float


# -- the prompt's cursor rests -----------------------------------------------------------


class WidgetClock:
    """The clock the resting cursor reads (``prompt_input.time``), moved on only by the test.

    A cursor rests once `BLINK_REST` seconds have passed on this clock since the last input,
    at the first timer after that. Timers fire late on a CPU-starved machine, never early: with
    the widgets' time in the test's hands, how late they fire changes nothing the tests assert.
    """

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def __getattr__(self, name: str):
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch) -> WidgetClock:
    from hailuo_tui.widgets import prompt_input

    widget_clock = WidgetClock()
    monkeypatch.setattr(prompt_input, "time", widget_clock)
    return widget_clock


async def test_prompt_cursor_stops_blinking_when_idle_and_blinks_again_on_input(clock):
    prompt = PromptInput()
    prompt.BLINK_REST = rest = 0.3
    app = Host(prompt)
    async with app.run_test(size=(60, 10)) as pilot:
        prompt.focus()
        await pilot.pause(2 * rest)  # the rest timer fires (and waits on): no quiet time has passed yet
        assert prompt.cursor_blink and not prompt.cursor_resting
        clock.advance(rest)
        await wait_until(pilot, lambda: prompt.cursor_resting, 5, "the cursor to rest")
        assert not prompt.cursor_blink and prompt._cursor_visible  # steady, and shown
        spy = Spy(app.screen)
        await pilot.pause(1.2)
        assert spy.frames == 0  # resting: nothing is redrawn at all
        await pilot.press("h")
        assert prompt.cursor_blink and not prompt.cursor_resting and prompt.text == "h"
        clock.advance(rest / 2)
        await pilot.press("i")
        clock.advance(rest * 2 / 3)  # past the rest after "h", not after "i"
        await pilot.pause(2 * rest)
        assert not prompt.cursor_resting  # the quiet time restarts with each key
        clock.advance(rest / 3)
        await wait_until(pilot, lambda: prompt.cursor_resting, 5, "the cursor to rest again")
        prompt.blur()
        await pilot.pause()
        prompt.focus()
        await pilot.pause()
        assert prompt.cursor_blink and not prompt.cursor_resting  # focus wakes it too


async def test_prompt_cursor_blink_turned_off_elsewhere_stays_off(clock):
    prompt = PromptInput()
    prompt.BLINK_REST = rest = 0.2
    app = Host(prompt)
    async with app.run_test(size=(60, 10)) as pilot:
        prompt.focus()
        await pilot.pause()
        assert prompt.cursor_blink and not prompt.cursor_resting
        prompt.cursor_blink = False  # e.g. a screenshot freezing cursors
        await pilot.press("x")
        assert not prompt.cursor_blink and not prompt.cursor_resting
        clock.advance(rest)
        await pilot.pause(2 * rest)  # the rest timer set at focus fires on a cursor that does not blink
        await pilot.press("y")
        assert not prompt.cursor_blink and not prompt.cursor_resting


async def test_search_box_cursor_rests_too(clock):
    box = SearchBox()
    box.BLINK_REST = rest = 0.2
    app = Host(box)
    async with app.run_test(size=(40, 5)) as pilot:
        box.focus()
        await pilot.pause()
        clock.advance(rest)
        await wait_until(pilot, lambda: box.cursor_resting, 5, "the cursor to rest")
        assert not box.cursor_blink
        await pilot.press("a")
        assert box.cursor_blink and box.value == "a"
        await pilot.pause(2 * rest)
        assert box.cursor_blink and not box.cursor_resting  # no quiet time since "a" on the widgets' clock


# -- the sidebar ---------------------------------------------------------------------------


def rows(ids, now: float) -> list[Row]:
    return [Row(i, f"Conversation {i}", now - i * 600) for i in ids]


async def test_typing_in_the_search_box_and_new_matches_do_not_lay_out_the_screen():
    box = SearchBox()
    sidebar = ConversationList()
    app = Host(box, sidebar)
    now = time.time()
    async with app.run_test(size=(40, 20)) as pilot:
        sidebar.set_items(rows(range(1, 101), now))
        box.focus()
        await pilot.pause()
        spy = Spy(app.screen)
        await pilot.press(*"conversation 1")
        await pilot.pause()
        assert box.value == "conversation 1"
        for count in (80, 40, 60, 30):  # more matches than rows on screen: no scrollbar change
            sidebar.set_items(rows(range(1, count + 1), now), label="Matches")
            await pilot.pause()
            assert sidebar.border_title == f"Matches ({count})"
            assert sidebar.item_ids() == list(range(1, count + 1))
        assert spy.layouts == 0 and spy.frames > 0
        sidebar.set_items(rows(range(1, 4), now), label="Matches")  # the scrollbar goes: that needs a layout
        await pilot.pause()
        assert spy.layouts == 1 and sidebar.item_ids() == [1, 2, 3]


async def test_setting_the_same_rows_again_redraws_nothing_and_keeps_the_place():
    sidebar = ConversationList()
    app = Host(sidebar)
    now = time.time()
    async with app.run_test(size=(40, 12)) as pilot:
        sidebar.set_items(rows(range(1, 51), now), label="Matches")
        sidebar.select_id(30)
        await pilot.pause()
        await settled(pilot, app.screen)  # a loaded machine drew the scroll to row 30 after one pause once
        scroll = sidebar.scroll_y
        assert scroll > 0
        spy = Spy(app.screen)
        sidebar.set_items(rows(range(1, 51), now), label="Matches")
        await pilot.pause()
        assert spy.frames == 0
        assert sidebar.highlighted_id == 30 and sidebar.scroll_y == scroll
        sidebar.set_items(rows(range(1, 51), now), label="Conversations", total=50)
        await pilot.pause()
        assert sidebar.border_title == "Conversations (50)" and spy.frames == 1
        changed = rows(range(1, 51), now)
        changed[3] = Row(4, "Renamed", now)
        sidebar.set_items(changed, label="Conversations", total=50)
        await pilot.pause()
        assert sidebar.title_of(4) == "Renamed" and sidebar.highlighted_id == 30


async def test_rows_render_as_fit_row_lays_them_out():
    sidebar = ConversationList()
    app = Host(sidebar)
    now = time.time()
    titles = ["Short", "A title much too long for the sidebar width", "关于西安旅行的详细计划和预算", None, "x" * 3]
    data = [Row(i, t, now - i * 7000) for i, t in enumerate(titles, 1)]
    async with app.run_test(size=(34, 12)) as pilot:
        sidebar.set_items(data)
        sidebar.set_busy(2, True)
        await pilot.pause()
        width = sidebar.scrollable_content_region.width
        for y, row in enumerate(data):
            visual = sidebar.get_option_at_index(y).prompt
            strip = sidebar.render_line(y)
            assert strip.cell_length == width
            expected = fit_row(visual.title, visual.when, width - (2 if row.id == 2 else 0)).plain
            if row.id == 2:
                expected = BUSY_MARKER + expected
            assert strip.text == expected
        assert "New conversation…" in sidebar.render_line(3).text


async def test_relative_times_refresh_only_the_rows_that_changed(monkeypatch):
    from hailuo_tui.widgets import conversation_list

    sidebar = ConversationList()
    app = Host(sidebar)
    now = time.time()
    async with app.run_test(size=(34, 8)) as pilot:
        sidebar.set_items([Row(1, "fresh", now - 30), Row(2, "old", now - 40 * 86400)] +
                          rows(range(3, 60), now - 86400 * 30))
        await pilot.pause()
        assert sidebar.render_line(0).text.rstrip().endswith("now")
        before = [sidebar.get_option_at_index(i).prompt for i in range(59)]

        class Later:
            @staticmethod
            def time() -> float:
                return now + 120

        monkeypatch.setattr(conversation_list, "time", Later)
        sidebar.refresh_times()
        await pilot.pause()
        after = [sidebar.get_option_at_index(i).prompt for i in range(59)]
        assert sidebar.render_line(0).text.rstrip().endswith("2m")
        assert after[0] is not before[0]
        assert all(a is b for a, b in zip(after[1:], before[1:]))  # dates did not change


# -- the whole app: the first frame does not wait for the login ---------------------------


async def test_chat_screen_shows_before_the_login_is_read_and_sending_waits_for_it(make_app, emu):
    from hailuo_tui.widgets.status_bar import StatusBar

    app = await make_app()
    vault = app.services.vault
    release = asyncio.Event()
    load = vault.load

    async def slow_load():
        await release.wait()
        return await load()

    vault.load = slow_load
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await ready(pilot)
        assert app.auth is None and app.auth_loading
        assert isinstance(screen.focused, PromptInput)
        assert "checking" in screen.query_one(StatusBar).query_one("#status-account").render().plain
        before = answers_finished(app)
        await pilot.press(*"hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.replies, what="the answer to start")
        await pilot.pause(0.3)  # time enough to send, had it not waited
        assert not any(r.path.startswith("/v4") for r in emu.requests)  # waits for the login
        release.set()
        await wait_answered(pilot, before)
        assert not app.auth_loading
        assert app.auth is not None
        assert "logged in" in screen.query_one(StatusBar).query_one("#status-account").render().plain
        [row] = await app.store.list_conversations()
        assert [m.status for m in await app.store.messages(row.id)] == ["complete", "complete"]
