"""Stream a ~20,000-character Markdown answer into a MessageBubble; print costs.

Usage: .venv/bin/python bench/stream_bubble.py [--interval SECONDS] [--flush SECONDS]

Prints the CPU seconds spent while streaming 4,000 deltas, the wall time, and
the lag from the last delta to the bubble's final render (finish() plus the
next screen refresh). Runs headless, so terminal output costs are not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from textual.app import App, ComposeResult
from textual.widgets._markdown import MarkdownBlock, MarkdownFence

from hailuo_tui.widgets import ChatView, MessageBubble


def make_answer(target: int = 20_000) -> str:
    """A Markdown answer with paragraphs, lists, ten code fences and a table."""
    parts: list[str] = ["# Plan for the trip\n\n"]
    for i in range(10):
        parts.append(
            f"## Step {i + 1}\n\n"
            f"This paragraph explains step {i + 1} in some detail, with **bold**, *italic* "
            f"and `inline code`. 我们今天去西安，看兵马俑和城墙。 It keeps going for a while so "
            f"that the paragraph wraps over several lines in an 80-column terminal.\n\n"
            f"- first point of step {i + 1}\n- second point, a bit longer than the first\n"
            f"  - a nested point\n- third point\n\n"
            f"```python\ndef step_{i}(x: int) -> int:\n"
            + "".join(f"    x = x * {j} + {i}  # line {j}\n" for j in range(12))
            + "    return x\n```\n\n"
        )
    parts.append("| city | days | budget |\n|---|---|---|\n")
    parts += [f"| 城市{i} | {i % 5 + 1} | {100 * i} |\n" for i in range(20)]
    parts.append("\n")
    text = "".join(parts)
    filler = "More notes follow here, one sentence after another, until the answer is long enough. "
    while len(text) < target - 40:
        text += filler
        if len(text) % 7 == 0:
            text += "\n\n"
    return text + "\n\nThat is the last line of the answer."


def split(text: str, count: int) -> list[str]:
    size = max(1, len(text) // count)
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    while len(pieces) > count:
        tail = pieces.pop()
        pieces[-1] += tail
    return pieces


class Bench(App):
    def compose(self) -> ComposeResult:
        yield ChatView(id="chat")


async def run(interval: float, flush: float | None) -> dict[str, float]:
    answer = make_answer()
    deltas = split(answer, 4000)
    if flush is not None:
        MessageBubble.FLUSH_INTERVAL = flush
    app = Bench()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(ChatView)
        await view.add_message("user", "Plan a trip to Xi'an")
        bubble = await view.add_message("assistant", status="streaming")
        await pilot.pause()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for delta in deltas:
            await bubble.append(delta)
            await asyncio.sleep(interval)
        last = time.perf_counter()
        await bubble.finish()
        await pilot.pause()
        lag = time.perf_counter() - last
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        blocks = list(bubble.markdown.query(MarkdownBlock))
        assert bubble.markdown.source == answer, "source mismatch"
        assert blocks[-1]._content.plain.endswith("That is the last line of the answer.")
        fences = len(bubble.query(MarkdownFence))
        return {
            "chars": len(answer),
            "deltas": len(deltas),
            "cpu_s": cpu,
            "wall_s": wall,
            "lag_s": lag,
            "blocks": len(blocks),
            "fences": fences,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=0.0, help="sleep between deltas (s)")
    parser.add_argument("--flush", type=float, default=None, help="override FLUSH_INTERVAL (s)")
    args = parser.parse_args()
    result = asyncio.run(run(args.interval, args.flush))
    print(
        f"{result['chars']} chars in {result['deltas']} deltas "
        f"(interval {args.interval}s, flush {args.flush if args.flush is not None else MessageBubble.FLUSH_INTERVAL:.4f}s): "
        f"CPU {result['cpu_s']:.2f} s, wall {result['wall_s']:.2f} s, "
        f"lag after last delta {result['lag_s'] * 1000:.0f} ms, "
        f"{result['blocks']} blocks, {result['fences']} fences"
    )


if __name__ == "__main__":
    main()
