"""Key-to-frame time of the message cursor: 50 presses of ↑ in a 2,000-message conversation, and 50 of
the block cursor in a 2,000-line answer (the worst and the median). Headless, on the widget alone.

    PYTHONPATH=$PWD python scripts/measure_message_cursor.py
"""

from __future__ import annotations

import asyncio
import statistics
import time

from textual import events

from hailuo_tui.domain import ShownMessage
from hailuo_tui.widgets.chat_view import ChatView
from tests.ui.conftest import Host

PRESSES = 50


def _conversation(count: int) -> list[ShownMessage]:
    return [ShownMessage(i, "user" if i % 2 else "assistant", f"message {i}\n\n" + "some words " * 25)
            for i in range(1, count + 1)]


def _long_answer(lines: int) -> str:
    parts = []
    for i in range(lines // 10):
        parts.append(f"Paragraph {i} with a few words on one line.")
        parts.append("```python\n" + "\n".join(f"x_{i}_{j} = {j}" for j in range(6)) + "\n```")
    return "\n\n".join(parts)


async def _key_to_frame(pilot, view: ChatView, key: str) -> float:
    """Seconds from delivering `key` to the end of the first frame drawn after the cursor moved."""
    screen = pilot.app.screen
    frames: list[float] = []
    before = (view._cursor_id, view._cursor_block)
    original = screen._compositor_refresh

    def frame() -> None:
        original()
        if (view._cursor_id, view._cursor_block) != before:
            frames.append(time.perf_counter())

    screen._compositor_refresh = frame
    try:
        start = time.perf_counter()
        event = events.Key(key, None)
        event.set_sender(pilot.app)
        pilot.app._driver.send_message(event)
        deadline = start + 10
        while not frames and time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
        if not frames:
            raise RuntimeError(f"{key}: no frame after the cursor moved ({before} -> {(view._cursor_id, view._cursor_block)})")
        return frames[0] - start
    finally:
        screen._compositor_refresh = original


def _report(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    slowest = sorted(range(len(times)), key=times.__getitem__)[-3:][::-1]
    print(f"{name}: {len(ms)} presses, median {statistics.median(ms):.1f} ms, worst {ms[-1]:.1f} ms "
          f"(presses {', '.join(str(i + 1) for i in slowest)})")


async def main() -> None:
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(110, 36)) as pilot:
        await view.load(_conversation(2000))
        await pilot.pause(0.3)
        view.focus()
        view.set_cursor(2000)
        await pilot.pause(0.3)
        _report("↑ in 2,000 messages", [await _key_to_frame(pilot, view, "up") for _ in range(PRESSES)])
        await pilot.pause(0.5)  # the page mounted ahead of the last ↑ is in
        _report("↓ back", [await _key_to_frame(pilot, view, "down") for _ in range(PRESSES)])
        answer = _long_answer(1800)  # under the 2,000 source lines past which an answer is shown as plain text
        await view.load([ShownMessage(1, "user", "a long one"), ShownMessage(2, "assistant", answer)])
        await pilot.pause(0.5)
        print(f"the answer: {answer.count(chr(10)) + 1} source lines, "
              f"{view.bubbles[-1].markdown.line_count} rendered lines")
        view.set_cursor(2)
        await pilot.pause(0.2)
        _report("block cursor in a 2,000-line answer",
                [await _key_to_frame(pilot, view, "shift+down") for _ in range(PRESSES)])


if __name__ == "__main__":
    asyncio.run(main())
