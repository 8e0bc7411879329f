"""What one read of a slowly streamed socket costs the event loop, by glibc's mmap threshold: CPU and page faults.

Usage: python bench/socket_reads.py [--runs N] [--reads N] [--size BYTES] [--thresholds BYTES,BYTES,...]

asyncio reads a socket into a fresh bytes object of 256 KiB (its transports' read size) and shrinks it to
what came. A paced answer is read a few events at a time (the API backend, ~1,550 reads for 4,000 deltas
at 200 a second with ``provider/read_pacing.py``'s rests) or an event at a time (the web backend, thousands
of reads), so whatever a read costs is paid that many times an answer. With glibc's mmap threshold at
256 KiB (what ``memory.py`` set until round eleven) that buffer got a mapping of its own: mmap, mremap to
shrink it, munmap when it was freed, and a page fault or two per read.

For each run and each threshold (``HAILUO_TUI_MMAP_THRESHOLD``, alternating within the run so a slow phase
of the machine hits both), a fresh interpreter sets glibc's thresholds as the app does
(``memory.return_big_blocks``) and reads ``--reads`` writes of ``--size`` bytes, a millisecond apart, from
a socketpair through an ``asyncio.Protocol``; it prints the loop thread's user and system CPU per read
(getrusage) and its minor page faults. Printed: medians [min-max] per threshold. Never run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

READ_TIMEOUT = 60.0


def child(reads: int, size: int) -> None:
    """In a fresh interpreter: the app's malloc settings, then the paced reads; one JSON line."""
    from hailuo_tui.memory import return_big_blocks

    return_big_blocks()
    received = [0]

    class Reader(asyncio.Protocol):
        def data_received(self, data: bytes) -> None:
            received[0] += 1

    async def run() -> dict:
        ours, theirs = socket.socketpair()
        transport, _ = await asyncio.get_running_loop().connect_accepted_socket(Reader, ours)
        payload = b"x" * size

        def write() -> None:
            for _ in range(reads):
                theirs.sendall(payload)
                time.sleep(0.001)

        writer = threading.Thread(target=write, daemon=True)
        before = resource.getrusage(resource.RUSAGE_THREAD)
        writer.start()
        deadline = time.monotonic() + READ_TIMEOUT
        while writer.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.05)  # the last write's read
        after = resource.getrusage(resource.RUSAGE_THREAD)
        transport.close()
        theirs.close()
        n = max(received[0], 1)
        return {"reads": received[0], "user_us": 1e6 * (after.ru_utime - before.ru_utime) / n,
                "sys_us": 1e6 * (after.ru_stime - before.ru_stime) / n,
                "faults": (after.ru_minflt - before.ru_minflt) / n}

    print(json.dumps(asyncio.run(run())), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per threshold (default 5)")
    parser.add_argument("--reads", type=int, default=2000, help="paced writes read by each (default 2000)")
    parser.add_argument("--size", type=int, default=1000, help="bytes per write (default 1000: an API read)")
    parser.add_argument("--thresholds", default=None,
                        help="mmap thresholds to compare, bytes, comma-separated (default: 262144 and hailuo-tui's)")
    args = parser.parse_args()
    from api_stream import spread
    from run import machine

    from hailuo_tui.memory import MMAP_THRESHOLD

    settings = [int(t) for t in args.thresholds.split(",")] if args.thresholds else [256 * 1024, MMAP_THRESHOLD]
    print(f"machine: {machine()}")
    print(f"{args.reads} writes of {args.size} bytes, 1 ms apart, each read by an asyncio.Protocol; "
          f"{args.runs} interpreters per threshold, alternating")
    results: dict[int, list[dict]] = {t: [] for t in settings}
    for _ in range(args.runs):
        for threshold in settings:
            env = {**os.environ, "HAILUO_TUI_MMAP_THRESHOLD": str(threshold)}
            out = subprocess.run([sys.executable, __file__, "--child", str(args.reads), str(args.size)],
                                 capture_output=True, text=True, timeout=READ_TIMEOUT + 30, env=env, cwd=ROOT,
                                 check=True)
            results[threshold].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'mmap threshold':>16}  {'reads':7} {'user µs/read':22} {'sys µs/read':22} {'CPU µs/read':22} "
          "page faults/read")
    for threshold in settings:
        rows = results[threshold]
        print(f"{threshold:>14} B  {rows[0]['reads']:<7d} {spread([r['user_us'] for r in rows], '.1f'):22} "
              f"{spread([r['sys_us'] for r in rows], '.1f'):22} "
              f"{spread([r['user_us'] + r['sys_us'] for r in rows], '.1f'):22} "
              f"{spread([r['faults'] for r in rows], '.2f')}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
