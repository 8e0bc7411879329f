"""Where the drawing CPU of a streamed answer goes: every screen update of the real app, by kind.

Usage: python bench/frame_log.py [--burst] [--reasoning]

Runs bench/api_stream.py's paced (or burst) measurement once, with ``hailuo-tui --backend api`` started
through this file (``--child``), which wraps Textual's screen update to log, per update: whether it laid
out, which widgets were dirty, and the process CPU it took. Prints the figures of the run, then the
updates grouped by kind with their count and CPU, then where the main thread's CPU went while the answer
streamed (frames, Markdown writes, decoding, aiohttp, the rest). Never run as a test.
"""

from __future__ import annotations

import ast
import atexit
import collections
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _cpu_buckets() -> collections.Counter:
    """Where the main thread's CPU goes while the answer streams (``time.thread_time``), by kind; filled
    when the reply session's stream ends: its total, the frames (counted above too), the Markdown bodies'
    writes, JSON and the reasoning split, SSE decoding, aiohttp's ``data_received``; the process's user and
    system time beside it."""
    from aiohttp.client_proto import ResponseHandler
    from textual.screen import Screen

    from hailuo_tui.provider.openai_stream import ChunkMapper
    from hailuo_tui.provider.sse import SSEDecoder
    from hailuo_tui.reply_session import ReplySession
    from hailuo_tui.widgets.markdown_body import MarkdownBody

    totals: collections.Counter = collections.Counter()
    live: collections.Counter = collections.Counter()
    inside = [0]

    def timed(owner: type, name: str, key: str, *, returns_list: bool = False) -> None:
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            if inside[0]:
                return original(*args, **kwargs)
            inside[0] += 1
            start = time.thread_time()
            try:
                result = original(*args, **kwargs)
                return list(result) if returns_list else result  # a generator's work happens here
            finally:
                live[key] += time.thread_time() - start
                inside[0] -= 1

        setattr(owner, name, wrapper)

    timed(Screen, "_on_timer_update", "frames")
    timed(MarkdownBody, "write", "Markdown writes")
    timed(ChunkMapper, "feed", "JSON and the reasoning split")
    timed(SSEDecoder, "feed", "SSE decoding", returns_list=True)
    timed(ResponseHandler, "data_received", "aiohttp data_received")
    stream = ReplySession._stream

    async def watched(self, *args, **kwargs):
        live.clear()
        start, times = time.thread_time(), os.times()
        try:
            return await stream(self, *args, **kwargs)
        finally:
            totals.update(live)
            totals["main thread, all"] += time.thread_time() - start
            now = os.times()
            totals["process user"] += now.user - times.user
            totals["process system"] += now.system - times.system

    ReplySession._stream = watched  # type: ignore[method-assign]
    return totals


def child(log_path: str, argv: list[str]) -> int:
    """The app, with each screen update logged to ``log_path`` at exit."""
    from textual.screen import Screen

    log: list[tuple] = []
    original = Screen._on_timer_update

    def logged(self) -> None:
        cpu = time.process_time()
        layout = self._layout_required
        dirty = sorted({type(w).__name__ + (f"#{w.id}" if w.id else "") for w in self._dirty_widgets})
        original(self)
        log.append((1000 * (time.process_time() - cpu), layout, dirty))

    Screen._on_timer_update = logged  # type: ignore[method-assign]
    buckets = _cpu_buckets()

    def dump() -> None:
        with open(log_path, "w") as out:
            out.writelines(repr(row) + "\n" for row in log)
        with open(log_path + ".buckets", "w") as out:
            out.write(repr(dict(buckets)))

    atexit.register(dump)
    from hailuo_tui.cli import main

    return main(argv)


def main() -> None:
    import api_stream

    burst, reasoning = "--burst" in sys.argv, "--reasoning" in sys.argv
    log_path = os.path.join(tempfile.mkdtemp(prefix="hailuo-frames-"), "frames.txt")

    def prepare(fake, tmpdir, env):
        api_stream._hailuo(fake, tmpdir, env)
        return (f"exec {shlex.quote(sys.executable)} {shlex.quote(__file__)} --child {shlex.quote(log_path)} "
                f"--backend api --api-base-url {shlex.quote(fake.url)}")

    client = api_stream.Client("hailuo-tui", prepare, ready="Message", keyring=True)
    result = api_stream.measure(client, None if burst else 200.0, reasoning)
    result.pop("screen", None)
    print(", ".join(f"{k} {v:.3f}" for k, v in result.items()))
    rows = [ast.literal_eval(line) for line in Path(log_path).read_text().splitlines()]
    count: collections.Counter[str] = collections.Counter()
    cost: collections.Counter[str] = collections.Counter()
    for ms, layout, dirty in rows:
        kind = ("layout: " if layout else "repaint: ") + (", ".join(dirty)[:80] or "-")
        count[kind] += 1
        cost[kind] += ms
    print(f"{len(rows)} screen updates (the whole run, start-up included), {sum(cost.values()) / 1000:.2f} CPU-s")
    for kind, ms in cost.most_common(8):
        print(f"  {count[kind]:5d} x {ms / count[kind]:5.1f} ms = {ms / 1000:5.2f} s  {kind}")
    buckets = ast.literal_eval(Path(log_path + ".buckets").read_text())
    known = sum(v for k, v in buckets.items() if not k.startswith(("main thread", "process")))
    print("while the answer streamed (main thread CPU-s, time.thread_time):")
    for key, seconds in sorted(buckets.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:6.3f}  {key}")
    print(f"  {buckets.get('main thread, all', 0.0) - known:6.3f}  the rest: the reply loop, asyncio, Textual's message pumps")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2], sys.argv[3:]))
    main()
