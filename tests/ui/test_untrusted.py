"""Untrusted and extreme input through the app (Pilot + emulator): big pastes, huge answers, wide text.

Terminal-level checks of escape sequences (the bytes the terminal receives) are in
tests/e2e/test_terminal.py; here: markup shown literally, size limits, wrapping.
"""

from __future__ import annotations

import time

import pytest

from rich.cells import cell_len
from textual import events

from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.prompt_input import PromptInput
from tests.helpers import UnstarvedTimer
from tests.ui.conftest import answers_finished, ready, send, wait_answered, wait_until

SIZE = (100, 34)


def rendered_lines(bubble, width: int) -> list[str]:
    """The text lines the bubble's body draws (each checked to fit its width): Markdown, or the user's as typed."""
    body = bubble.body
    lines: list[str] = []
    for y in range(body.line_count):
        strip = body.render_line(y)
        assert strip.cell_length <= body.size.width, (strip.text, body.size.width)
        lines.append(strip.text)
    return lines


async def test_markup_in_server_text_is_shown_literally(make_app, emu):
    text = "[bold red]x[/] and [@click=app.quit]y[/] and [link=file:///etc/passwd]z[/link] \\[escaped]"
    emu.config = EmulatorConfig(seed=3, answer_text=text, chunk_chars=5)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "[b]user markup[/b]", timeout=60)
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        shown = " ".join(rendered_lines(bubble, 90))
        assert "[bold red]x[/]" in shown and "[@click=app.quit]y[/]" in shown
        user = screen.query_one(ChatView).last_bubble("user")
        assert "[b]user markup[/b]" in " ".join(rendered_lines(user, 90))
        await pilot.click(ChatView)  # clicking the text does not run actions
        await pilot.pause()
        assert app.is_running


async def responds_to_a_key(pilot, screen, within: float = 1.0) -> float:
    """Press ctrl+n (new chat) and return how long the app took to process it (on an idle machine: see
    UnstarvedTimer)."""
    timer = UnstarvedTimer()
    await pilot.press("ctrl+n")
    await wait_until(pilot, lambda: screen.current_id is None, 300, "the key press")  # a hang guard: see `within`
    took = timer.elapsed()
    assert took < within, f"a key press took {took:.2f} s"
    return took


def shown_rows(body) -> list[str]:
    """Every row a PlainBody draws (not only the visible ones)."""
    return [body.render_line(y).text for y in range(body.line_count)]


@pytest.mark.timeout(900)  # a hang guard for a CPU-starved run; the budgets are asserted inside
async def test_a_one_megabyte_paste_is_sent_without_freezing(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text="Got it.")
    big = ("粘贴 paste ✂️ " * 8 + "\n") * 11_000  # ~1 MB of UTF-8
    assert len(big.encode()) > 1_000_000
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt = screen.query_one(PromptInput)
        prompt.focus()
        await pilot.pause()
        timer = UnstarvedTimer()
        app.post_message(events.Paste(big))  # as the driver delivers a bracketed paste
        await wait_until(pilot, lambda: len(prompt.text) >= len(big) - 1, 300, "the paste")  # hang guards: the budgets are below
        assert prompt.text == big
        pasted = timer.elapsed()
        before = answers_finished(app)
        await pilot.press("enter")
        await wait_answered(pilot, before, 300)
        total = timer.elapsed()
        user, answer = await app.store.messages(screen.current_id)
        assert user.content.strip() == big.strip() and answer.content == "Got it."
        assert emu.requests[-1].form["msgContent"].strip() == big.strip()
        view = screen.query_one(ChatView)
        bubble = view.last_bubble("user")
        assert bubble.is_plain and bubble.body.source.strip() == big.strip()
        header = str(bubble.query_one("#header").render())
        assert f"shown as plain text: {len(big.encode()) / 1e6:.1f} MB" in header, header
        width = bubble.body.size.width
        rows = shown_rows(bubble.body)
        assert all(cell_len(row.rstrip()) <= width for row in rows)
        assert "".join("".join(rows).split()) == "".join(big.split())  # nothing lost at a wrap
        assert not view.last_bubble("assistant").is_plain
        key = await responds_to_a_key(pilot, screen)
        assert pasted < 10 and total < 15, (pasted, total)
        print(f"1 MB paste: inserted in {pasted:.1f} s, sent and answered in {total:.1f} s, key {key:.2f} s")


@pytest.mark.timeout(900)  # a hang guard for a CPU-starved run; the budgets are asserted inside
async def test_a_100000_line_answer_streams_in_bounded_time(make_app, emu):
    answer = "\n".join(f"line {i}" for i in range(100_000))
    emu.config = EmulatorConfig(seed=3, answer_text=answer, num_events=200, record_events=False)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        # The work it took: the CPU time of every thread (the app, the emulator, the store's). The emulator
        # sends at once, so on an idle machine that is about the wall time; on a starved one the wall time
        # also holds the store thread's wait for a CPU, which UnstarvedTimer cannot take out.
        cpu = time.process_time()
        await send(pilot, "a very long list", timeout=600)  # a hang guard: the budget is the one on `took`
        took = time.process_time() - cpu
        last = await app.store.last_message(screen.current_id)
        assert last.status == "complete" and last.content == answer
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        assert bubble.text == answer and bubble.is_plain  # switched to plain text while streaming
        assert bubble.body.source == answer
        assert bubble.body.line_count == 100_000
        assert "shown as plain text" in str(bubble.query_one("#header").render())
        key = await responds_to_a_key(pilot, screen)  # the app still responds, at once
        print(f"100,000-line answer ({len(answer):,} characters): {took:.1f} s, key {key:.2f} s")
        assert took < 15, took


async def test_cjk_emoji_and_combining_text_wraps_inside_the_bubble(make_app, emu):
    cjk = "这是一个很长的中文句子，用来测试换行是否正确。" * 6
    emoji = "👍🏽 👨‍👩‍👧‍👦 🇯🇵 " * 12
    combining = "e\u0301 a\u0308 n\u0303 " * 20
    text = f"{cjk}\n\n{emoji}\n\n{combining}"
    emu.config = EmulatorConfig(seed=3, answer_text=text, chunk_chars=3, fffd_splits=True)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "宽字符", timeout=60)
        last = await app.store.last_message(screen.current_id)
        assert last.content == text and "\ufffd" not in last.content
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        assert bubble.text == text
        lines = rendered_lines(bubble, SIZE[0])
        width = bubble.body.size.width
        assert lines and all(cell_len(line) <= width for line in lines)
        flat = "".join("".join(lines).split())
        assert "".join(cjk.split()) in flat  # every CJK character, in order, none lost at a wrap
        assert "👍🏽" in flat and "e\u0301" in flat
        assert sum(1 for line in lines if "这" in line or "中" in line) > 1  # it really wrapped
