"""What decoding a burst costs, stage by stage, with no app and no network.

Usage: python bench/decode_burst.py [--rounds N] [--markdown]

The body bench/openai_fake.py sends (4,000 ``chat.completion.chunk`` deltas, and 1,000 reasoning deltas
before them with ``reasoning_split``) is cut into 64 KiB reads, as aiohttp hands a burst over, and fed to the
MiniMax-API backend's decoding: the SSE decoder, the chunk mapper (JSON and the reasoning split) and
``limits.read_chunk`` (the two, and the deltas of a read joined), as ``MiniMaxAPI._read_stream`` runs
them. With ``--markdown``, also what cutting the whole answer into blocks costs (``split_blocks``, the
answer's single write once the burst is decoded), and rendering it in a headless app.

Printed: the best of ``--rounds`` runs in ms per stage (the best, not the median: this is CPU work with
nothing to wait for, and the best is the run the other processes on the machine disturbed least). The app's
lag after a burst (bench/api_stream.py --only burst) is this decoding, the answer's Markdown and a frame.
Never run as a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

READ = 65536


def best_ms(run: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def decoding(reasoning: bool, rounds: int) -> dict[str, float]:
    from openai_fake import sse_events

    from hailuo_tui.provider.limits import read_chunk
    from hailuo_tui.provider.openai_stream import ChunkMapper
    from hailuo_tui.provider.sse import SSEDecoder

    body = b"".join(data for _, data in sse_events("bench-model", True, reasoning, True))
    reads = [body[i:i + READ] for i in range(0, len(body), READ)]
    events = [sse for decoder in [SSEDecoder()] for chunk in reads for sse in decoder.feed(chunk)]

    def sse() -> None:
        decoder = SSEDecoder()
        for chunk in reads:
            decoder.feed(chunk)

    def mapper() -> None:
        chunks = ChunkMapper("bench-model")
        for event in events:
            chunks.feed(event)

    def whole() -> None:
        decoder, chunks = SSEDecoder(), ChunkMapper("bench-model")
        for chunk in reads:
            read_chunk(decoder, chunks.feed, chunk, lambda: chunks.size > 10_000_000)

    return {"events": len(events), "reads": len(reads), "SSE": best_ms(sse, rounds),
            "JSON + reasoning split": best_ms(mapper, rounds), "all (read_chunk)": best_ms(whole, rounds)}


def markdown(rounds: int) -> dict[str, float]:
    import asyncio

    from stream_bubble import make_answer
    from textual.app import App

    from hailuo_tui.markdown.blocks import split_blocks
    from hailuo_tui.widgets.markdown_body import MarkdownBody

    text = make_answer()
    figures = {"characters": len(text), "split_blocks": best_ms(lambda: split_blocks(text, final=False), rounds)}

    async def render() -> None:
        app = App()
        async with app.run_test(size=(120, 40)) as pilot:
            times = []
            for _ in range(rounds):
                body = MarkdownBody(streaming=True)
                await app.mount(body)
                await pilot.pause()
                start = time.perf_counter()
                body.write(text, final=False)  # the burst's one write: cut, then every block rendered
                times.append(time.perf_counter() - start)
                await body.remove()
            figures["MarkdownBody.write"] = 1000 * min(times)

    asyncio.run(render())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--markdown", action="store_true", help="also the answer's Markdown")
    args = parser.parse_args()
    from run import machine

    print(f"machine: {machine()}")
    print(f"best of {args.rounds} rounds, ms")
    for reasoning in (False, True):
        figures = decoding(reasoning, args.rounds)
        label = "answer" if not reasoning else "reasoning + answer"
        print(f"{label:20s} " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                           for k, v in figures.items()))
    if args.markdown:
        figures = markdown(args.rounds)
        print(f"{'markdown':20s} " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                           for k, v in figures.items()))


if __name__ == "__main__":
    main()
