"""What taking a burst of cumulative snapshots off the socket costs the web backend, with no app: CPU, page faults.

Usage: python bench/web_burst.py [--runs N] [--answers N] [--trim BYTES,BYTES,...]

The emulator (a child process, as in bench/terminal_stream.py) sends the same ~20,000-character answer as
4,000 cumulative ``message_result`` events (~43 MB of JSON), unpaced. For each run and each trim threshold
(``HAILUO_TUI_TRIM_THRESHOLD``: ``0`` is glibc's 128 KiB, the old setting; the default is hailuo-tui's), a
fresh interpreter sets glibc's thresholds as the app does (``memory.return_big_blocks``), then reads
``--answers`` answers one after the other with ``HailuoAI.create_authed`` (the SSE decoder, the event
mapper, ``read_chunk``): per answer its user and system CPU (getrusage), its minor page faults and its wall
time. The settings alternate within each run, so a slow phase of the machine hits both. The first answer of
a process warms its heap (as an app's first answer does), so it is shown apart from the rest.

Printed: medians [min-max] per setting, first answer and later answers. Never run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

EVENTS = 4000


def child(url: str, token: str, answers: int) -> None:
    """In a fresh interpreter: the app's malloc settings, then ``answers`` answers read; one JSON line."""
    from hailuo_tui.memory import return_big_blocks

    return_big_blocks()
    from hailuo_tui.provider import HailuoAI, TextDelta
    from hailuo_tui.provider.login import token_login

    async def run() -> list[dict]:
        auth = await token_login(token, url)
        out = []
        for _ in range(answers):
            before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            chars = 0
            async for event in HailuoAI.create_authed("MiniMax", [{"role": "user", "content": "hi"}], auth):
                if isinstance(event, TextDelta):
                    chars += len(event.text)
            after = resource.getrusage(resource.RUSAGE_SELF)
            out.append({"user_s": after.ru_utime - before.ru_utime, "sys_s": after.ru_stime - before.ru_stime,
                        "faults": after.ru_minflt - before.ru_minflt, "wall_s": time.perf_counter() - start,
                        "chars": chars})
        return out

    print(json.dumps(asyncio.run(run())), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per setting (default 5)")
    parser.add_argument("--answers", type=int, default=4, help="answers read by each (default 4)")
    parser.add_argument("--trim", default=None,
                        help="trim thresholds to compare, bytes, comma-separated (default: 0 and hailuo-tui's)")
    args = parser.parse_args()
    from api_stream import spread
    from run import machine
    from stream_bubble import make_answer
    from terminal_stream import EmulatorProcess

    from hailuo_tui.memory import TRIM_THRESHOLD

    settings = [int(t) for t in args.trim.split(",")] if args.trim else [0, TRIM_THRESHOLD]
    print(f"machine: {machine()}")
    answer = make_answer()
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as file:
        file.write(answer)
    emulator = EmulatorProcess(answer_file=file.name, num_events=EVENTS, events_per_second=None,
                               record_events=False)
    results: dict[int, list[list[dict]]] = {t: [] for t in settings}
    try:
        print(f"answer: {len(answer)} characters in {EVENTS} cumulative events, unpaced; "
              f"{args.runs} interpreters per setting, {args.answers} answers each")
        for _ in range(args.runs):
            for trim in settings:
                env = {**os.environ, "HAILUO_TUI_TRIM_THRESHOLD": str(trim)}
                out = subprocess.run([sys.executable, __file__, "--child", emulator.url, emulator.token,
                                      str(args.answers)], capture_output=True, text=True, timeout=120, env=env,
                                     cwd=ROOT, check=True)
                answers = json.loads(out.stdout.strip().splitlines()[-1])
                if any(a["chars"] != len(answer) for a in answers):
                    raise RuntimeError(f"an answer came back incomplete: {[a['chars'] for a in answers]}")
                results[trim].append(answers)
    finally:
        emulator.close()
        os.unlink(file.name)
    print(f"{'trim threshold':>16}  {'answers':8} {'user s':22} {'sys s':22} {'CPU s':22} {'page faults':24} wall s")
    for trim in settings:
        label = f"{trim} B" if trim else "glibc's 128 KiB"
        for name, pick in (("first", lambda runs: [r[0] for r in runs]),
                           ("later", lambda runs: [a for r in runs for a in r[1:]])):
            rows = pick(results[trim])
            print(f"{label:>16}  {name:8} {spread([r['user_s'] for r in rows], '.3f'):22} "
                  f"{spread([r['sys_s'] for r in rows], '.3f'):22} "
                  f"{spread([r['user_s'] + r['sys_s'] for r in rows], '.3f'):22} "
                  f"{spread([r['faults'] for r in rows], '.0f'):24} {spread([r['wall_s'] for r in rows], '.3f')}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
