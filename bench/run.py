"""hailuo-tui benchmarks: one command, three tables.

Usage: .venv/bin/python bench/run.py [--quick] [--only headless|terminal|scale|api|anchors|floor]

Never run as a test. Each figure runs in its own process (peak RSS is that
run's); what is measured and how is printed with each table.

1. headless (this file): the streaming path alone, Textual's headless driver,
   100x40 (terminal output not counted): a ~20,000-character Markdown answer
   in 4,000 pieces into a MessageBubble in a ChatView, burst and paced
   (200 pieces/s): time to first text drawn, lag from the last piece to the
   frame that shows the last line, CPU s, peak RSS; the SSE decoder + event
   mapper alone on 4,000 cumulative events (item 6).
2. terminal (bench/terminal_stream.py): item 1 with the real app in tmux
   against the emulator over HTTP (the answer from a file, 4,000 cumulative
   events, burst and 200 events/s).
3. scale (bench/app_scale.py): items 2-5 with the real app: cold start
   (empty, 10,000 conversations / 200,000 messages), opening a
   2,000-message conversation and scrolling to its top, sidebar search per
   keystroke, idle CPU over 10 s; the soak (bench/soak.py: 500 answers in one
   run, then RSS and the time from a key to its frame, beside the same keys
   before the first answer).
4. api (bench/api_stream.py): issue 14's API backend: the real app in tmux
   120x40 with ``--backend api`` against bench/openai_fake.py (the same
   answer as 4,000 ``chat.completion.chunk`` deltas), paced and burst, with
   and without 1,000 reasoning deltas first; each figure against its target.
5. anchors (bench/anchors.py): item 4 with elia 1.10.0 and oterm 0.26.1
   (throwaway virtualenvs in the bench cache, installed once from PyPI) and
   Textual's floor (bench/textual_floor.py: a bare Textual app writing the
   same stream to a Log widget 4 times a second) on the same fake,
   interleaved with hailuo-tui, side by side. The default run
   runs this one for item 4 too (its hailuo-tui runs are item 4's).
6. floor (bench/floor.py): cold start to the first usable frame, a bare
   Textual app beside hailuo-tui (empty and 10,000 conversations), in turn.

The default run (all of them) should take 18-20 minutes on an idle 2-core
machine (about 8 for 1-3, about 10 for 5 and 6: elia's and oterm's own
streams are most of it); ``--quick`` does one repetition of each.
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
        f"Textual {textual.__version__}; {platform.system()} {platform.release()}; "
        f"a {SPEED_STEPS:,}-step Python loop {speed():.3f} s now"
    )


SPEED_STEPS = 2_000_000


def speed(rounds: int = 3) -> float:
    """Seconds a fixed pure-Python loop takes now (best of ``rounds``), printed with the machine: this VM's speed
    moved by half within an hour in round ten (another loop, 10 million additions at module level: 0.56 s, then
    0.90 s), so figures from two runs compare only with this beside them."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for i in range(SPEED_STEPS):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


# -- 1. streaming ---------------------------------------------------------------


def bench_stream(rate: float | None) -> dict:
    import asyncio

    from stream_bubble import Bench, make_answer, split
    from hailuo_tui.widgets import ChatView
    from hailuo_tui.markdown.blocks import warm as warm_markdown

    answer = make_answer()
    deltas = split(answer, 4000)
    last_line = "That is the last line of the answer."

    async def run() -> dict:
        app = Bench()
        async with app.run_test(size=(100, 40)) as pilot:
            view = app.query_one(ChatView)
            await view.add_message("user", "Plan a trip to Xi'an")
            bubble = await view.add_message("assistant", status="streaming")
            # The app loads the Markdown parser on the first key typed (ChatScreen._warm_markdown);
            # the user's own message no longer goes through it, so load it here as the app has by Enter.
            warm_markdown()
            await pilot.pause()
            screen = app.screen
            first_drawn: list[float] = []
            last_drawn: list[tuple[float, float]] = []
            finished = False
            original = screen._compositor_refresh

            def on_screen(text: str) -> bool:
                return any(
                    text in "".join(s.text for chop in row for s in chop)
                    for row in screen._compositor.render_full_update().strips
                )

            def spy() -> None:
                # Headless, a frame is drawn when the compositor refreshes (a terminal
                # driver would write it then). The check runs after the time is taken.
                original()
                now, cpu_now = time.perf_counter(), time.process_time()
                if not first_drawn and bubble.markdown.line_count:
                    first_drawn.append(now)
                if finished and not last_drawn and on_screen(last_line):
                    last_drawn.append((now, cpu_now))

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
            finished = True
            await bubble.finish()
            deadline = last_sent + 30
            while not last_drawn and time.perf_counter() < deadline:
                await pilot.pause(0.01)
            drawn_at, cpu_at = last_drawn[0] if last_drawn else (float("nan"), time.process_time())
            lag = drawn_at - last_sent
            cpu = cpu_at - cpu0
            assert bubble.markdown.source == answer
            return {
                "first_text_s": (first_drawn[0] - t0) if first_drawn else float("nan"),
                "lag_s": lag,
                "cpu_s": cpu,
                "wall_s": time.perf_counter() - t0,
            }

    return asyncio.run(run())


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


# -- driver -----------------------------------------------------------------------------

CASES = {
    "stream-burst": lambda: bench_stream(None),
    "stream-paced": lambda: bench_stream(200.0),
    "decoder": bench_decoder,
}


def child(name: str) -> None:
    result = CASES[name]()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def headless() -> None:
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


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    import argparse

    parser = argparse.ArgumentParser(description="hailuo-tui benchmarks (issues 5 and 14)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", choices=("headless", "terminal", "scale", "api", "anchors", "floor"))
    args = parser.parse_args()
    if args.only in (None, "headless"):
        print("== 1. streaming path, headless ==")
        headless()
    if args.only in (None, "terminal"):
        print("\n== 1. streaming, real app in tmux ==", flush=True)
        subprocess.run([sys.executable, str(HERE / "terminal_stream.py"), "--runs", "1" if args.quick else "3"], cwd=ROOT)
    if args.only in (None, "scale"):
        print("\n== 2-5. start, long conversation, search, idle: real app ==", flush=True)
        subprocess.run([sys.executable, str(HERE / "app_scale.py"), *(["--quick"] if args.quick else [])], cwd=ROOT)
    runs = ["--runs", "1" if args.quick else "3"]
    if args.only == "api":
        print("\n== API backend: real app in tmux on the OpenAI-compatible fake ==", flush=True)
        subprocess.run([sys.executable, str(HERE / "api_stream.py"), *runs], cwd=ROOT)
    if args.only in (None, "anchors"):
        # One interleaved run gives both the API backend's table and the side-by-side one.
        print("\n== API backend beside elia and oterm, one fake server, interleaved ==", flush=True)
        subprocess.run([sys.executable, str(HERE / "anchors.py"), *runs], cwd=ROOT)
    if args.only in (None, "floor"):
        print("\n== cold start beside a bare Textual app ==", flush=True)
        subprocess.run([sys.executable, str(HERE / "floor.py"), "--runs", "1" if args.quick else "5"], cwd=ROOT)


if __name__ == "__main__":
    main()
