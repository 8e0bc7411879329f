"""The user's own messages are shown as typed: no Markdown, every line break and indent kept."""

from __future__ import annotations

from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.prompt_input import PromptInput
from hailuo_tui.widgets.user_body import CodePart, UserBody, UserText, split_fences
from tests.ui.test_app import SIZE, ready, wait_idle

VERBATIM = (
    "* not a bullet\n"
    "2*3*4 and _under_ and **stars**\n"
    "    four spaces in\n"
    "# not a heading\n"
    "\n"
    "1. not a list\n"
    "a line long enough to wrap: " + "word " * 30 + "\n"
    "中文很长的一行" * 12
)


def shown_rows(body) -> list[str]:
    """The rows of a message body as drawn (a Markdown body, or a plain one)."""
    if hasattr(body, "lines_text"):
        return [line.rstrip() for line in body.lines_text()]
    return [body.render_line(y).text.rstrip() for y in range(body.line_count)]


async def _send(pilot, text: str):
    screen = pilot.app.screen
    prompt = screen.query_one(PromptInput)
    prompt.focus()
    prompt.load_text(text)
    await pilot.press("enter")
    await wait_idle(pilot)
    return screen.query_one(ChatView).last_bubble("user")


async def test_user_text_is_shown_verbatim_and_wrapped(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        bubble = await _send(pilot, VERBATIM)
        assert bubble.text == VERBATIM and bubble.body.source == VERBATIM
        rows = shown_rows(bubble.body)
        width = bubble.body.size.width
        assert rows[:4] == ["* not a bullet", "2*3*4 and _under_ and **stars**", "    four spaces in", "# not a heading"]
        assert rows[4:6] == ["", "1. not a list"]
        long_rows = [row for row in rows if row.startswith("a line long") or row.startswith("word")]
        assert len(long_rows) >= 2 and " ".join(r.strip() for r in long_rows).split() == (
            "a line long enough to wrap: " + "word " * 30).split()
        cjk = "".join(row for row in rows if "中" in row or "文" in row or "行" in row)
        assert cjk == "中文很长的一行" * 12 and sum("中" in row or "行" in row for row in rows) >= 2
        from rich.cells import cell_len

        assert all(cell_len(row) <= width for row in rows)


async def test_a_pasted_log_keeps_every_line(make_app, emu):
    log = "\n".join(f"2024-06-01 10:00:{i:02d} INFO step {i}" for i in range(120))
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        bubble = await _send(pilot, log)
        assert shown_rows(bubble.body) == log.split("\n")


async def test_fenced_code_in_a_user_message_is_highlighted_and_kept(make_app, emu):
    text = "Why does this fail?\n\n```python\ndef f(x):\n    return x * 2\n```\n  * and this line stays"
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        bubble = await _send(pilot, text)
        body = bubble.body
        assert isinstance(body, UserBody) and body.source == text
        kinds = [type(child) for child in body.children]
        assert kinds == [UserText, CodePart, UserText]
        code = body.children[1]
        assert code.source == "```python\ndef f(x):\n    return x * 2\n```"
        assert len({span.style for span in code.visual.spans}) > 1  # highlighted: more than one style
        assert shown_rows(body.children[2]) == ["  * and this line stays"]


def test_split_fences_gives_the_text_back():
    for text in ["a\n```py\nx\n```\nb", "```\nopen only", "~~~~\ncode\n~~~~", "x ``` y", "", "```a`b\nc\n```"]:
        parts = split_fences(text)
        assert "\n".join(source for source, _ in parts) == text
    assert [lang for _, lang in split_fences("t\n```\nc\n```")] == [None, ""]
    assert [lang for _, lang in split_fences("```\nnever closed")] == [None]
