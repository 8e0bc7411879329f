"""Issue 14's long-session figures: 500 answers in one run, then memory and key-to-frame times.

Usage: python bench/soak.py [--answers N] [--read-every K] [--read-pause S]
       (also ``python bench/app_scale.py soak-500``)

The real HailuoApp in-process on Textual's headless driver (120x40), logged in on the emulator on
127.0.0.1 (in the same process: its memory is counted with the app's, so the RSS is an upper
bound). Each answer is a ~1,600-character Markdown reply (paragraphs, a list, a code block, a
table) streamed in 40-character events; a new conversation every 50 answers, as a user would
start one, so every conversation grows past the view's window of mounted bubbles; a 2 s pause after
every 25th answer (``--read-every``, ``--read-pause``), as a reader makes: hailuo_tui.idle_gc runs its full
collections in such moments, and a key pressed during one waits for it (``full_gc_*``: every full collection
the app made during the soak, timed; ``quick_deep_busy``: idle_gc's quick and deep collections and busy
stretches).

Before the first answer and after the last, three keys are timed from the press to the frame that
shows their effect (compositor refreshes, as app_scale's open/search figures): a character typed
into the message box, ↑ moving the message cursor (F5), ↓ moving the sidebar's highlight. RSS is
read from /proc after a full collection at answers 100, 300 and 500, and the peak (VmHWM) at the end;
the app's full garbage collections during the soak are counted and timed (not the benchmark's own).
Never run as a test.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from terminal_stream import status_kb  # noqa: E402  (bench/ is on sys.path from here)

ANSWERS = 500
PER_CONVERSATION = 50
READ_EVERY, READ_PAUSE = 25, 2.0
PRESSES = 15
SIZE = (120, 40)
ANSWER = (
    "Here is how the **cache** works, in three steps:\n\n"
    "1. The first read fills it from the store.\n2. Later reads are served from memory.\n"
    "3. A write invalidates the entry, never the whole cache.\n\n"
    "```python\ndef cached(key, load):\n    if key not in CACHE:\n        CACHE[key] = load(key)\n"
    "    return CACHE[key]\n```\n\n"
    "| operation | cost | note |\n| --- | --- | --- |\n| hit | O(1) | memory |\n| miss | one read | store |\n"
    "| write | O(1) | invalidates one key |\n\n"
    + "A paragraph of explanation that wraps over several lines of the terminal, with `inline code` "
      "and a [link](https://example.com/docs) for the curious reader. " * 6
)


_OWN_COLLECTION = [False]


def rss_mb() -> float:
    _OWN_COLLECTION[0] = True
    try:
        gc.collect()
    finally:
        _OWN_COLLECTION[0] = False
    return status_kb(os.getpid(), "VmRSS") / 1024


async def _key_times(pilot, drawn, keys) -> dict[str, list[float]]:
    """Each (key, ready, done): set up with ``ready()``, press ``key``, time until ``done()`` is drawn."""
    times: dict[str, list[float]] = {key: [] for key, _ready, _done in keys}
    for _ in range(PRESSES):
        for key, ready, done in keys:
            await ready()
            await pilot.pause(0.02)
            drawn.arm(done())
            t0 = time.perf_counter()
            await pilot.press(key)
            try:
                times[key].append(await drawn.wait(5) - t0)
            except TimeoutError:
                raise TimeoutError(f"{key!r}: its effect was never drawn") from None
    return times


async def run(answers: int = ANSWERS) -> dict:
    from textual.message import Message

    from app_scale import Drawn, _running_app
    from hailuo_tui.emulator import EmulatorConfig
    from hailuo_tui.widgets.chat_view import ChatView
    from hailuo_tui.widgets.conversation_list import ConversationList
    from hailuo_tui.widgets.prompt_input import PromptInput
    from hailuo_tui.widgets.reply_messages import ReplyFinished

    finished: list[str] = []

    def hook(message: Message) -> None:
        if isinstance(message, ReplyFinished) and (not finished or finished[-1] is not message):
            finished.append(message)  # posted to several widgets: counted once

    config = EmulatorConfig(seed=1, answer_text=ANSWER, chunk_chars=40, record_events=False)
    async with _running_app(size=SIZE, settle=0.0, message_hook=hook, prefix="hailuo-soak-", history=False,
                            emulator_config=config) as (app, pilot):
        screen = app.screen
        prompt = screen.query_one(PromptInput)
        view = screen.query_one(ChatView)
        sidebar = screen.query_one(ConversationList)
        drawn = Drawn(screen)

        async def send(text: str) -> None:
            prompt.focus()
            prompt.insert(text)
            before = len(finished)
            await pilot.press("enter")
            limit = time.monotonic() + 30
            while len(finished) <= before:
                if time.monotonic() > limit:
                    raise TimeoutError(f"no answer to {text!r}")
                await pilot.pause(0.005)

        def keys():
            async def at_prompt():
                prompt.focus()

            async def at_messages():
                if not view.has_focus:
                    await pilot.press("f5")
                if view.cursor_message is None or view.cursor_message.id == view.bubbles[0].message_id:
                    await pilot.press("end")

            async def at_sidebar():
                if not sidebar.has_focus:
                    sidebar.focus()
                if sidebar.highlighted is None or sidebar.highlighted >= sidebar.option_count - 1:
                    sidebar.highlighted = 0

            def typed():
                length = len(prompt.text)
                return lambda: len(prompt.text) > length

            def cursor_up():
                current = view.cursor_message.id if view.cursor_message is not None else None
                return lambda: view.cursor_message is not None and view.cursor_message.id != current

            def sidebar_down():
                current = sidebar.highlighted
                return lambda: sidebar.highlighted != current

            return [("x", at_prompt, typed), ("up", at_messages, cursor_up), ("down", at_sidebar, sidebar_down)]

        # A little history, so the cursor and the sidebar have somewhere to move before the soak.
        for i in range(6):
            if i % 2 == 0 and i:
                prompt.focus()
                await pilot.press("ctrl+n")
            await send(f"warm-up question {i}")
        early = await _key_times(pilot, drawn, keys())
        prompt.clear()
        rss_start = rss_mb()
        checkpoints: dict[int, float] = {}
        pauses: list[float] = []
        started: list[float] = []

        def timed(phase: str, info: dict) -> None:
            if _OWN_COLLECTION[0]:
                return
            if phase == "start":
                started[:] = [time.perf_counter()]
            elif started and info.get("generation") == 2:
                pauses.append(time.perf_counter() - started[0])

        gc.callbacks.append(timed)
        t0 = time.monotonic()
        for i in range(answers):
            if i and i % PER_CONVERSATION == 0:
                prompt.focus()
                await pilot.press("ctrl+n")
            await send(f"soak question {i}: how does the cache work?")
            if (i + 1) % READ_EVERY == 0:
                await pilot.pause(READ_PAUSE)  # a reader's pause (the app may do its slow upkeep now)
            if i + 1 in (100, 300, 500) or i + 1 == answers:
                checkpoints[i + 1] = rss_mb()
        soak_s = time.monotonic() - t0
        late = await _key_times(pilot, drawn, keys())
        gc.callbacks.remove(timed)
        statuses = {}
        for message in finished:
            status = str(getattr(message.status, "value", message.status))
            statuses[status] = statuses.get(status, 0) + 1
        return {
            "answers": answers, "soak_s": soak_s, "statuses": statuses,
            "rss_start_mb": rss_start, "rss_mb": checkpoints, "peak_rss_mb": status_kb(os.getpid(), "VmHWM") / 1024,
            "rss_end_mb": checkpoints[answers], "key_after_max_s": max(max(t) for t in late.values()),
            "full_gc_count": len(pauses), "full_gc_max_s": max(pauses, default=0.0),
            "full_gc_median_s": statistics.median(pauses) if pauses else 0.0,
            "full_gc_over_20ms": sum(1 for p in pauses if p > 0.02),
            "quick_deep_busy": (app._idle_gc.quick_collections, app._idle_gc.deep_collections,
                                app._idle_gc.busy_stretches),
            "keys_before": _summary(early), "keys_after": _summary(late),
            "mounted_bubbles": len(view.bubbles),
        }


def _summary(times: dict[str, list[float]]) -> dict[str, str]:
    """Per key: "median / worst" in seconds."""
    return {key: f"{statistics.median(t):.3f} / {max(t):.3f}" for key, t in times.items()}


def main() -> None:
    global READ_EVERY, READ_PAUSE
    answers = ANSWERS
    if "--answers" in sys.argv:
        answers = int(sys.argv[sys.argv.index("--answers") + 1])
    if "--read-every" in sys.argv:  # 1: a reader's pause after every answer, as in a conversation
        READ_EVERY = int(sys.argv[sys.argv.index("--read-every") + 1])
    if "--read-pause" in sys.argv:
        READ_PAUSE = float(sys.argv[sys.argv.index("--read-pause") + 1])
    result = asyncio.run(run(answers))
    print(result)


if __name__ == "__main__":
    main()
