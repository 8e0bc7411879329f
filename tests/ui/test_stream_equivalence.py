"""A streamed answer renders exactly like the same text rendered in one go.

The MessageBubble streams into a column of small Markdown runs and freezes
each full run (issue 5); this checks that nothing of that is visible: same
blocks, same text, same rendered lines (text and styles), also after the
terminal is resized once the runs are frozen.
"""

from __future__ import annotations

import random

from textual.app import App, ComposeResult
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownFence

from hailuo_tui.widgets import ChatView
from hailuo_tui.widgets.message_bubble import MarkdownBody, split_runs


def long_answer() -> str:
    """About 20,000 characters: headings, paragraphs, lists, ten fences, a table, CJK."""
    parts = ["# 西安之旅 (a plan)\n\n"]
    for i in range(10):
        parts.append(
            f"## Step {i + 1}\n\n"
            f"Step {i + 1} in some detail, with **bold**, *italic*, `inline code` and a "
            f"[link](https://example.com/{i}). 我们今天去西安，看兵马俑和城墙，然后吃一碗面。 "
            "The paragraph keeps going so that it wraps over several lines of the terminal, "
            "and then a little more, to be sure.\n\n"
            f"- first point of step {i + 1}\n- second point, longer than the first one\n"
            "  - a nested point\n- third point\n\n"
            f"1. one\n2. two\n3. three 三\n\n"
            f"```{'python' if i % 2 else 'js'}\n"
            + "".join(f"x_{j} = compute({i}, {j})  # 第{j}行\n" for j in range(14))
            + "```\n\n"
            + ("> a quote that spans\n> two lines\n\n" if i % 3 == 0 else "")
            + ("---\n\n" if i == 4 else "")
        )
    parts.append("| city | days | budget |\n|---|---|---|\n")
    parts += [f"| 城市{i} | {i % 5 + 1} | {100 * i} |\n" for i in range(20)]
    parts.append("\n")
    text = "".join(parts)
    sentence = "More notes follow, one sentence after another, until the answer is long enough. "
    n = 0
    while len(text) < 19_900:
        text += sentence
        n += 1
        if n % 6 == 0:
            text += "\n\n"
    return text + "\n\nThat is the last line of the answer."


def deltas_of(text: str, count: int, seed: int = 5) -> list[str]:
    """Cut `text` into about `count` random pieces, one cut inside a code fence's backticks."""
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(text)), count - 1))
    fence = text.index("```python")
    cuts = sorted(set(cuts) | {fence + 1, fence + 2, fence + 5})
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def blocks_of(widget) -> list[tuple[str, str]]:
    out = []
    for block in widget.query(MarkdownBlock):
        text = block.code if isinstance(block, MarkdownFence) else block._content.plain
        out.append((type(block).__name__, text))
    return out


def screen_lines(app: App) -> list[tuple[str, tuple]]:
    """Every rendered line of the screen: its text and its styled segments."""
    update = app.screen._compositor.render_full_update(simplify=True)
    lines = []
    for chops in update.strips:
        segments = tuple((seg.text, str(seg.style)) for strip in chops for seg in strip)
        lines.append(("".join(seg[0] for seg in segments).rstrip(), segments))
    while lines and not lines[-1][0]:
        lines.pop()
    return lines


class Host(App):
    def compose(self) -> ComposeResult:
        yield ChatView()


SIZE = (100, 700)


async def settle(pilot) -> None:
    """Let mounts, layouts and the runs' freezing (after a refresh) finish."""
    for _ in range(6):
        await pilot.pause(0.05)


async def render_one_shot(text: str, size: tuple[int, int]) -> tuple[list, list]:
    app = Host()
    async with app.run_test(size=size) as pilot:
        view = app.query_one(ChatView)
        await view.load([(1, "assistant", text, "complete", None)])
        await settle(pilot)
        return blocks_of(view.bubbles[0].markdown), screen_lines(app)


async def test_streamed_answer_renders_like_one_shot():
    text = long_answer()
    assert 19_500 < len(text) < 21_000
    deltas = deltas_of(text, 4000)
    assert len(deltas) >= 4000
    expected_blocks, expected_lines = await render_one_shot(text, SIZE)
    narrow_blocks, narrow_lines = await render_one_shot(text, (72, SIZE[1]))

    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ChatView)
        bubble = await view.add_message("assistant", status="streaming")
        for i, delta in enumerate(deltas):
            await bubble.append(delta)
            if i % 150 == 0:
                await pilot.pause(0.01)  # let frames and timed flushes happen
        await bubble.finish()
        await settle(pilot)
        assert bubble.text == text
        assert bubble.markdown.source == text
        # The runs are cut where a one-shot split cuts them, and frozen.
        runs = bubble.markdown.runs
        assert [run.source for run in runs] == split_runs(text)
        assert len(runs) > 10
        if MarkdownBody.FREEZE:  # every run drawn from captured lines
            assert all(run.frozen is not None and not run.display for run in runs)
        streamed_blocks = blocks_of(bubble.markdown)
        assert streamed_blocks == expected_blocks
        assert sum(1 for kind, _ in streamed_blocks if kind == "MarkdownFence") == 10
        assert bubble.code_blocks()[1].startswith("x_0 = compute(1, 0)")
        assert screen_lines(app) == expected_lines

        # A resize after the runs froze re-wraps them like a fresh render.
        await pilot.resize_terminal(72, SIZE[1])
        await settle(pilot)
        assert blocks_of(bubble.markdown) == narrow_blocks
        assert screen_lines(app) == narrow_lines


async def test_runs_match_a_single_markdown_widget():
    """Same blocks, text and lines as Textual's own one-document Markdown widget."""
    text = long_answer()

    class Plain(App):
        CSS = "Markdown { padding: 0 1; }"

        def __init__(self, widget) -> None:
            super().__init__()
            self.widget = widget

        def compose(self) -> ComposeResult:
            yield self.widget

    results = []
    for widget in (Markdown(text), MarkdownBody(text)):
        app = Plain(widget)
        async with app.run_test(size=(100, 700)) as pilot:
            await pilot.pause()
            await pilot.pause()
            results.append((blocks_of(widget), screen_lines(app)))
    (plain_blocks, plain_lines), (body_blocks, body_lines) = results
    assert len(MarkdownBody(text)._frozen) > 10  # really cut into runs
    assert body_blocks == plain_blocks
    assert body_lines == plain_lines
