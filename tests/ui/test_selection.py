"""Mouse selection of message text (issue 13): drag across messages, copy with Ctrl+C.

What is copied is the text as shown: a wrapped paragraph as one line, code without the block's
padding, CJK whole. The copy goes through ``App.copy_to_clipboard`` (OSC 52); the tests read
``app.clipboard``, which it sets.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual.geometry import Region

from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.message_bubble import MessageBubble
from tests.ui.conftest import ready, send, wait_streaming, wait_until

SIZE = (100, 40)

ANSWER = (
    "Here is the plan 我们今天去西安，看兵马俑和城墙 for the day.\n\n"
    "```python\ndef greet(name):\n    return f'hello {name}'\n```\n\n"
    "The end."
)


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def drag(pilot, start_widget, start, end_widget, end) -> None:
    """Press at `start` in one widget, move to `end` in another (offsets in the widgets' regions), release."""
    await pilot.mouse_down(start_widget, offset=start)
    await pilot.hover(end_widget, offset=end)
    await pilot.mouse_up(end_widget, offset=end)
    await pilot.pause()


def bodies(app) -> tuple:
    bubbles = list(app.screen.query_one(ChatView).query(MessageBubble))
    return bubbles[-2].body, bubbles[-1].body


async def test_a_drag_across_two_messages_copies_their_text_as_shown(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text=ANSWER)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "plan my day")
        question, answer = bodies(app)
        # From the second character of the question to past the last line of the answer.
        # Each body has one cell of padding on its left: offset 2 is its second character.
        await drag(pilot, question, (2, 0), answer, (20, answer.size.height - 1))
        selected = app.screen.get_selected_text()
        assert selected == (
            "lan my day\n\n"
            "Here is the plan 我们今天去西安，看兵马俑和城墙 for the day.\n\n"
            "def greet(name):\n    return f'hello {name}'\n\n"
            "The end."
        )
        await pilot.press("ctrl+c")
        assert app.clipboard == selected
        assert any("Copied the selection" in notice and "OSC 52" in notice for notice in notices(app))


async def test_a_selection_inside_a_code_block_has_no_padding_and_cjk_stays_whole(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text=ANSWER)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "plan my day")
        _question, answer = bodies(app)
        texts = answer.lines_text()
        code_row = next(y for y, text in enumerate(texts) if "def greet" in text)
        # From the block's left edge (its padding) to the end of its second code line.
        await drag(pilot, answer, (1, code_row), answer, (60, code_row + 1))
        assert app.screen.get_selected_text() == "def greet(name):\n    return f'hello {name}'"
        # Drawn marked, and still readable: the selected characters keep a colour of their own.
        line = answer.render_lines(Region(0, code_row, answer.size.width, 1))[0]
        unselected = answer.render_lines(Region(0, code_row + 2, answer.size.width, 1))[0]  # the block's last line
        backgrounds = {seg.style.bgcolor for seg in unselected}
        marked = [seg for seg in line if seg.style.bgcolor not in backgrounds]
        assert "def greet(name):" in "".join(seg.text for seg in marked)
        assert all(seg.style.color is None or seg.style.color != seg.style.bgcolor for seg in marked)
        # A double-width character is one character, never half of one: from the first cell of 西 to the
        # first cell of 看 (cells 0 and 6 of "西安，看"), and from the second cell of 西 to the second of 看.
        cjk_row = next(y for y, text in enumerate(texts) if "西安" in text)
        cells = 1 + cell_len(texts[cjk_row][: texts[cjk_row].index("西")])  # 1: the body's padding
        await drag(pilot, answer, (cells, cjk_row), answer, (cells + 6, cjk_row))
        assert app.screen.get_selected_text() == "西安，看"
        await drag(pilot, answer, (cells + 1, cjk_row), answer, (cells + 7, cjk_row))
        assert app.screen.get_selected_text() == "安，看兵"


async def test_ctrl_c_with_a_selection_copies_while_streaming_and_the_answer_goes_on(make_app, emu):
    long = "\n\n".join(f"Paragraph {n} of a long answer that keeps streaming for a while." for n in range(60))
    # The answer holds after 10 events (50 characters) while the drag is made and copied: on a loaded machine a
    # drag over a view that is still growing (and, far enough, following the end) once selected other text.
    emu.config = EmulatorConfig(seed=3, answer_text=long, chunk_chars=5, event_delay=0.05, stall_after_events=10,
                                stall_seconds=50)
    app = await make_app()
    async with app.run_test(size=(100, 60)) as pilot:  # tall: the question stays put while the answer grows
        screen = await ready(pilot)
        await send(pilot, "first question", wait=False)
        reply = await wait_streaming(pilot, 40)
        # The held text drawn and laid out before the drag: on a busy machine the bubbles were still moving
        # when the drag began, and it selected from another place.
        view = screen.query_one(ChatView)
        await wait_until(pilot, lambda: (b := view.last_bubble("assistant")) is not None and b.text == reply.text,
                         what="the held text in the bubble")
        await pilot.pause(0.2)
        question, _answer = bodies(app)
        await drag(pilot, question, (1, 0), question, (5, 0))
        assert screen.get_selected_text() == "first"
        await pilot.press("ctrl+c")
        assert app.clipboard == "first"
        held = len(reply.text)
        emu.end_stalls()
        await wait_until(pilot, lambda: len(reply.text) > held + 20, what="the answer to go on")
        assert reply.final is None and screen.replies, "Ctrl+C with a selection must not stop the answer"
        # Without a selection, Ctrl+C stops it as before.
        screen.clear_selection()
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: reply.final is not None, what="the stop")
        assert app.clipboard == "first"


async def test_a_drag_from_the_thinking_text_into_a_table_copies_both_as_shown():
    from textual.app import App, ComposeResult

    answer = "Result:\n\n| city | 天数 |\n|---|---|\n| 西安 | 2 |\n"

    class One(App):
        def compose(self) -> ComposeResult:
            yield MessageBubble("assistant", answer, reasoning="First I count the days.", id="bubble")

    app = One()
    async with app.run_test(size=(60, 24)) as pilot:
        bubble = app.query_one(MessageBubble)
        bubble.toggle_thinking()  # a stored answer's thinking starts folded
        await pilot.pause()
        thinking, body = bubble.thinking.body, bubble.body
        last = body.lines_text()
        end_row = max(y for y, text in enumerate(last) if "西安" in text)
        # The thinking text has 3 cells of padding on its left, the answer 1.
        await drag(pilot, thinking, (3 + 8, 0), body, (1 + cell_len(last[end_row].rstrip()), end_row))
        assert app.screen.get_selected_text() == (
            "count the days.\n\nResult:\n\n"
            "┌──────┬──────┐\n│ city │ 天数 │\n├──────┼──────┤\n│ 西安 │ 2    │"
        )
        # The header ("Hailuo") and the thinking summary line are not part of a selection.
        assert set(app.screen.selections) == {thinking, body}


async def test_textuals_own_copy_key_copies_the_selection_too(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text=ANSWER)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "plan my day")
        question, _answer = bodies(app)
        await drag(pilot, question, (1, 0), question, (4, 0))
        await pilot.press("super+c")
        assert app.clipboard == "plan"


async def test_a_user_message_with_pasted_code_copies_as_typed():
    from textual.app import App, ComposeResult
    from textual.containers import VerticalScroll

    question = "Why does this stop?\n\n```python\nfor i in range(3):\n    break\n```\nThanks 谢谢"

    class Two(App):
        def compose(self) -> ComposeResult:
            with VerticalScroll():
                yield MessageBubble("user", question)
                yield MessageBubble("assistant", "Because of `break`.")

    app = Two()
    async with app.run_test(size=(60, 24)) as pilot:
        user, answer = (bubble.body for bubble in app.query(MessageBubble))
        await pilot.pause()
        await drag(pilot, user.query_one("UserText"), (1, 0), answer, (1 + len("Because of break."), 0))
        assert app.screen.get_selected_text() == question + "\n\nBecause of break."
