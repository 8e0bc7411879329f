"""A streamed answer renders exactly like the same text rendered in one go.

A MessageBubble streams into a `MarkdownBody` that cuts the text into
top-level blocks, renders each finished block once into lines, re-renders
only the open tail, and repaints only the lines that changed (issue 5). This
checks that none of it is visible: same blocks, same lines, same screen (text
and styles) as a one-shot render, mid-stream and at the end, and after a
resize.
"""

from __future__ import annotations

import random

from textual.app import App

from hailuo_tui.domain import ShownMessage
from hailuo_tui.emulator.model import split_ends
from hailuo_tui.widgets import ChatView
from hailuo_tui.markdown.blocks import split_all, split_blocks
from tests.ui.conftest import Host


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


SIZE = (100, 700)


async def settle(pilot) -> None:
    """Let mounts, layouts and the runs' freezing (after a refresh) finish."""
    for _ in range(6):
        await pilot.pause(0.05)


async def render_one_shot(text: str, size: tuple[int, int], status: str = "complete") -> tuple[list, list]:
    app = Host(ChatView())
    async with app.run_test(size=size) as pilot:
        view = app.query_one(ChatView)
        await view.load([ShownMessage(1, "assistant", text, status)])
        await settle(pilot)
        return view.bubbles[0].markdown.lines_text(), screen_lines(app)


async def test_streamed_answer_renders_like_one_shot():
    text = long_answer()
    assert 19_500 < len(text) < 21_000
    deltas = deltas_of(text, 4000)
    assert len(deltas) >= 4000
    expected_lines, expected_screen = await render_one_shot(text, SIZE)
    narrow_lines, narrow_screen = await render_one_shot(text, (72, SIZE[1]))
    checkpoints = {1000, 2200, 3100}
    partial: dict[int, tuple[str, list]] = {}

    app = Host(ChatView())
    async with app.run_test(size=SIZE) as pilot:
        view = app.query_one(ChatView)
        bubble = await view.add_message("assistant", status="streaming")
        for i, delta in enumerate(deltas):
            await bubble.append(delta)
            if i % 150 == 0:
                await pilot.pause(0.01)  # let frames and timed flushes happen
            if i in checkpoints:
                await bubble._flush()
                await settle(pilot)
                partial[i] = (bubble.text, screen_lines(app))
        await bubble.finish()
        await settle(pilot)
        assert bubble.text == text
        body = bubble.markdown
        assert body.source == text
        # Cut where a one-shot render cuts, and every block finished.
        assert body.blocks == split_all(text) and body.open_text == ""
        assert len(body.blocks) > 50
        assert body.lines_text() == expected_lines
        assert sum(1 for line in expected_lines if line.startswith(" python") or line.startswith(" js")) == 10
        assert bubble.code_blocks()[1].startswith("x_0 = compute(1, 0)")
        assert screen_lines(app) == expected_screen

        # A resize re-wraps every block like a fresh render.
        await pilot.resize_terminal(72, SIZE[1])
        await settle(pilot)
        assert body.lines_text() == narrow_lines
        assert screen_lines(app) == narrow_screen

    # Mid-stream, the screen (repainted only where lines changed) is the one-shot
    # render of the text received so far.
    for i, (so_far, lines) in partial.items():
        _, one_shot = await render_one_shot(so_far, SIZE, status="streaming")
        assert lines == one_shot, f"mid-stream screen differs after delta {i}"


TRICKY = [
    "para one\nstill para\n\n",
    "Setext heading\n===\n\n",
    "para\n| a | b |\n|---|---|\n| 1 | 2 |\n\n",
    "- item\n- item two\n  lazy continuation\n\n  loose para\n\n",
    "1. one\n2. two\n\n3. three\n",
    "```py\ncode ``` not the end\n\n# not a heading\n```\n",
    "> quote\n> > nested\n\nafter\n",
    "<div>\nhtml block\n</div>\n\n",
    "[ref]: https://example.com\n\nuses [ref]\n",
    "    indented code\n\n",
    "***\n",
    "para\n---\n",
    "term\n- list interrupts\n",
    "~~~\nunclosed tilde fence\n",
]


def test_block_cuts_do_not_depend_on_how_the_text_arrives():
    """Feeding any text in random pieces cuts it into the same blocks as one pass."""
    rng = random.Random(11)
    for trial in range(300):
        text = "".join(rng.choice(TRICKY) for _ in range(rng.randint(1, 8)))
        blocks: list[str] = []
        open_text = ""
        pos = 0
        while pos < len(text):
            step = rng.randint(1, 12)
            fragment = text[pos : pos + step]
            pos += step
            open_text += fragment
            if "\n" in fragment:
                done, open_text = split_blocks(open_text, final=False)
                blocks += done
        done, rest = split_blocks(open_text, final=True)
        blocks += done
        assert rest == ""
        assert "".join(blocks) == text
        assert blocks == split_all(text), (trial, text)


def _inside_fence(text: str) -> bool:
    return sum(1 for line in text.split("\n")[:-1] if line.startswith("```")) % 2 == 1


def _held_inside_a_fence(text: str, *, chunk_chars: int, fraction: float) -> int:
    """The emulator's ``stall_after_events`` that holds the web stream, from ``fraction`` of its events on, at
    the first snapshot that ends inside a code fence."""
    ends = split_ends(text, chunk_chars=chunk_chars)
    start = int(len(ends) * fraction)
    return next(k for k in range(start, len(ends)) if _inside_fence(text[: ends[k - 1]]))


async def test_switching_away_and_back_while_streaming_renders_like_one_shot(make_app, emu):
    """Through the real app on the emulator: leave the answering conversation and come back at random
    points (one of them inside a code fence); the view shown on return is cut and drawn as the one-shot
    render of the same text, mid-stream and at the end."""
    from hailuo_tui.widgets.prompt_input import PromptInput
    from tests.ui.conftest import wait_until
    from tests.ui.test_app import ready, wait_idle

    text = long_answer()
    app = await make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await ready(pilot)
        prompt = screen.query_one(PromptInput)
        prompt.load_text("another conversation")
        await pilot.press("enter")
        await wait_idle(pilot)
        await pilot.press("ctrl+n")
        emu.config.answer_text = text
        emu.config.chunk_chars = 23
        emu.config.event_delay = 0.01
        # The stream holds a third of the way in, inside the last code fence, until three returns were checked: a
        # paced stream alone (13 s) ended after two returns in a CI run of the whole suite.
        emu.config.stall_after_events = _held_inside_a_fence(text, chunk_chars=23, fraction=0.3)
        emu.config.stall_seconds = 50  # under the app's 60 s read timeout; ended by end_stalls() long before
        prompt.load_text("a long answer please")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.replies, what="the answer to start")
        reply = next(iter(screen.replies.values()))
        answering = reply.conversation_id
        view = screen.query_one(ChatView)
        rng = random.Random(12)
        returns = 0
        while returns < 3 or (screen.replies and returns < 6):
            await pilot.pause(rng.uniform(0.05, 0.4))
            await pilot.press("alt+down")  # away, to the other conversation
            await wait_until(pilot, lambda: screen.current_id not in (None, answering), what="the other one")
            if returns == 1:  # come back while the answer is inside a code fence
                await wait_until(pilot, lambda: _inside_fence(reply.text) or not screen.replies, 30, "a fence")
            else:
                await pilot.pause(rng.uniform(0.05, 0.5))
            await pilot.press("alt+up")
            await wait_until(pilot, lambda: screen.current_id == answering, what="back")
            returns += 1
            await settle(pilot)
            bubble = view.last_bubble("assistant")
            await bubble._flush()  # no await that yields from here: no delta arrives before the check
            if returns <= 3:
                assert screen.replies, f"the answer ended before return {returns}, through the held stall"
            if screen.replies:
                body = bubble.markdown
                done, rest = split_blocks(bubble.text, final=False)
                assert (body.blocks, body.open_text) == (done, rest), f"cut differently after return {returns}"
            if returns == 3:
                emu.end_stalls()
        await wait_idle(pilot, 60)
        await settle(pilot)
        bubble = view.last_bubble("assistant")
        assert bubble.text == text
        streamed_lines, streamed_screen = bubble.markdown.lines_text(), screen_lines(app)
        assert bubble.markdown.blocks == split_all(text)
        await screen.open_conversation(answering)  # the one-shot render, from the store
        await settle(pilot)
        one_shot = view.last_bubble("assistant")
        assert one_shot is not bubble and one_shot.text == text
        assert streamed_lines == one_shot.markdown.lines_text()
        assert streamed_screen == screen_lines(app)
