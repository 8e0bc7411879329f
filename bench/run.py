"""hailuo-tui benchmarks: one command, one table.

Usage: .venv/bin/python bench/run.py [--quick]

Each figure runs in its own subprocess (so peak RSS is that run's). What is
measured and how is printed next to each figure. Never run as a test.

Implemented (issue 5 numbering):
  1. streaming, burst and paced (200 events/s): a ~20,000-char Markdown answer
     in 4,000 pieces into a MessageBubble in a ChatView, Textual headless
     driver (terminal output not counted): time to first text drawn, lag from
     the last piece to the last line drawn, CPU s, peak RSS.
  2. cold start (empty): import of the app module plus the first frame of a
     headless ChatView app.
  6. decoder + provider alone: SSE bytes of 4,000 cumulative message_result
     events through SSEDecoder + EventMapper, events/s.
Not yet implemented here (see the report): driving the full app through
tmux with the emulator, 10k-conversation history, 2,000-message open,
sidebar search, idle CPU.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import textual

    return (
        f"{cpu}; {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"Textual {textual.__version__}; {platform.system()} {platform.release()}"
    )


# -- 1. streaming ---------------------------------------------------------------


def bench_stream(rate: float | None) -> dict:
    import asyncio

    from stream_bubble import Bench, make_answer, split
    from textual.widgets._markdown import MarkdownBlock

    from hailuo_tui.widgets import ChatView

    answer = make_answer()
    deltas = split(answer, 4000)
    last_line = "That is the last line of the answer."

    async def run() -> dict:
        app = Bench()
        async with app.run_test(size=(100, 40)) as pilot:
            view = app.query_one(ChatView)
            await view.add_message("user", "Plan a trip to Xi'an")
            bubble = await view.add_message("assistant", status="streaming")
            await pilot.pause()
            screen = app.screen
            first_drawn: list[float] = []
            original = screen._compositor_refresh

            def spy() -> None:
                original()
                if not first_drawn and bubble.markdown.query(MarkdownBlock):
                    first_drawn.append(time.perf_counter())

            screen._compositor_refresh = spy  # type: ignore[method-assign]
            cpu0, t0 = time.process_time(), time.perf_counter()
            for i, delta in enumerate(deltas):
                await bubble.append(delta)
                if rate:
                    delay = t0 + (i + 1) / rate - time.perf_counter()
                    await asyncio.sleep(max(0.0, delay))
                elif i % 400 == 0:
                    await asyncio.sleep(0)
            last_sent = time.perf_counter()
            await bubble.finish()
            # wait until the last line is on screen
            while True:
                await pilot.pause()
                text = "\n".join(
                    "".join(s.text for chop in row for s in chop)
                    for row in screen._compositor.render_full_update().strips
                )
                if last_line in text:
                    break
                if time.perf_counter() - last_sent > 30:
                    break
            lag = time.perf_counter() - last_sent
            cpu = time.process_time() - cpu0
            assert bubble.markdown.source == answer
            return {
                "first_text_s": (first_drawn[0] - t0) if first_drawn else float("nan"),
                "lag_s": lag,
                "cpu_s": cpu,
                "wall_s": time.perf_counter() - t0,
            }

    return asyncio.run(run())


# -- 2. cold start -----------------------------------------------------------------


def bench_cold_start() -> dict:
    t0 = time.perf_counter()
    import asyncio

    import hailuo_tui.app  # noqa: F401  (the app module, as `hailuo-tui` imports it)
    from textual.app import App

    from hailuo_tui.widgets import ChatView, ConversationList, PromptInput

    imported = time.perf_counter() - t0

    class First(App):
        def compose(self):
            yield ConversationList()
            yield ChatView()
            yield PromptInput()

    async def run() -> float:
        app = First()
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.pause()
            return time.perf_counter() - t0

    first = asyncio.run(run())
    return {"import_s": imported, "first_frame_s": first}


# -- 6. decoder -------------------------------------------------------------------


def bench_decoder() -> dict:
    from stream_bubble import make_answer, split

    from hailuo_tui.provider.sse import SSEDecoder
    from hailuo_tui.provider.stream import EventMapper

    answer = make_answer()
    pieces = split(answer, 4000)
    out = [b'event: send_result\ndata: {"type":1,"statusInfo":{"code":0},"data":{"sendResult":{"chatID":"1","chatTitle":"t"}}}\n\n']
    text = ""
    for i, piece in enumerate(pieces):
        text += piece
        payload = {"type": 2, "statusInfo": {"code": 0}, "data": {"messageResult": {"content": text, "chatID": "1", "isEnd": 0 if i == len(pieces) - 1 else 1}}}
        out.append(b"event: message_result\ndata: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n")
    out.append(b'event: close_chunk\ndata: {"type":8,"statusInfo":{"code":0},"data":{}}\n\n')
    stream = b"".join(out)
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    cpu0 = time.process_time()
    decoder, mapper = SSEDecoder(), EventMapper()
    events = 0
    for chunk in chunks:
        for sse in decoder.feed(chunk):
            events += 1
            mapper.feed(sse)
    cpu = time.process_time() - cpu0
    assert mapper.text == answer and mapper.final
    return {"events": events, "bytes": len(stream), "cpu_s": cpu, "events_per_s": events / cpu}


def _frozen(fn):
    from hailuo_tui.widgets.message_bubble import MarkdownBody

    MarkdownBody.FREEZE = True  # the experimental captured-lines runs
    return fn()


# -- driver -----------------------------------------------------------------------------

CASES = {
    "stream-burst": lambda: bench_stream(None),
    "stream-paced": lambda: bench_stream(200.0),
    "paced+freeze": lambda: _frozen(lambda: bench_stream(200.0)),
    "cold-start": bench_cold_start,
    "decoder": bench_decoder,
}


def child(name: str) -> None:
    result = CASES[name]()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    print(f"machine: {machine()}")
    print("driver: Textual headless (App.run_test), 100x40; no terminal output cost counted\n")
    rows = []
    for name in CASES:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", name], capture_output=True, text=True, cwd=ROOT, timeout=600
        )
        line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
        if line is None:
            rows.append((name, {"error": (proc.stderr or proc.stdout)[-300:]}))
        else:
            rows.append((name, json.loads(line[7:])))
    print(f"{'benchmark':<14} figures")
    for name, result in rows:
        figures = ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()
        )
        print(f"{name:<14} {figures}")


if __name__ == "__main__":
    main()
