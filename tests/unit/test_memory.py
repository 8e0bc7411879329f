"""memory.return_big_blocks: glibc's mmap threshold, set without a subprocess."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_threshold_is_set_in_a_fresh_interpreter_without_running_a_program():
    """It runs at every start: ctypes.util.find_library ran `ldconfig -p` (2 of its 4-5 ms)."""
    code = (
        "import subprocess\n"
        "ran = []\n"
        "subprocess.Popen.__init__ = lambda self, *a, **k: ran.append(a)\n"
        "from hailuo_tui.memory import return_big_blocks\n"
        "print(return_big_blocks(), ran)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["True", "[]"], out.stdout + out.stderr


#: A fresh interpreter with the app's malloc settings, and glibc's malloc statistics (``libc.mallinfo2()``).
_MALLINFO = (
    "import ctypes\n"
    "from hailuo_tui.memory import return_big_blocks\n"
    "return_big_blocks()\n"
    "class Info(ctypes.Structure):\n"
    "    _fields_ = [(n, ctypes.c_size_t) for n in\n"
    "                'arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost'.split()]\n"
    "libc = ctypes.CDLL(None)\n"
    "libc.mallinfo2.restype = Info\n"
)

_KEEPCOST = _MALLINFO + (
    "blocks = [bytearray(100_000) for _ in range(10)]  # 1 MB from the heap (under the mmap threshold)\n"
    "del blocks\n"
    "print(libc.mallinfo2().keepcost)  # the free space left mapped at the heap's top\n"
)


def _run(code: str, variable: str, setting: str | None) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter, with ``variable`` set to ``setting`` (None: unset)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != variable}
    if setting is not None:
        env[variable] = setting
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                          env=env)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize(("setting", "kept"), [(None, True), ("0", False), ("junk", True)])
def test_free_space_at_the_heap_top_is_kept_up_to_the_trim_threshold(setting, kept):
    """A burst of snapshots frees and reallocates tens of KB per event: with glibc's 128 KiB trim threshold
    (what fixing the mmap threshold left) the heap's top went back to the system and faulted in again."""
    out = _run(_KEEPCOST, "HAILUO_TUI_TRIM_THRESHOLD", setting)
    keepcost = int(out.stdout.strip())
    if kept:
        assert keepcost >= 900_000, out.stdout + out.stderr
    else:
        assert keepcost < 256 * 1024, out.stdout + out.stderr


def test_the_trim_threshold_setting(monkeypatch):
    from hailuo_tui.memory import TRIM_THRESHOLD, trim_threshold

    monkeypatch.delenv("HAILUO_TUI_TRIM_THRESHOLD", raising=False)
    assert trim_threshold() == TRIM_THRESHOLD == 2 * 1024 * 1024
    for value, expected in (("0", 0), ("4194304", 4194304), ("-5", 0), ("1e9", TRIM_THRESHOLD),
                            (str(10**12), 256 * 1024 * 1024)):
        monkeypatch.setenv("HAILUO_TUI_TRIM_THRESHOLD", value)
        assert trim_threshold() == expected, value


_READ_BUFFER = _MALLINFO + (
    "import asyncio, socket\n"
    "seen = []\n"
    "class Reader(asyncio.Protocol):\n"
    "    def data_received(self, data):\n"
    "        seen.append(libc.mallinfo2().hblks)  # mapped blocks while the read's bytes are alive\n"
    "async def main():\n"
    "    ours, theirs = socket.socketpair()\n"
    "    transport, _ = await asyncio.get_running_loop().connect_accepted_socket(Reader, ours)\n"
    "    for sent in range(1, 4):\n"
    "        theirs.send(b'data: {}\\\\n\\\\n' * 20)\n"
    "        for _ in range(500):  # at most 5 s for the read\n"
    "            if len(seen) >= sent:\n"
    "                break\n"
    "            await asyncio.sleep(0.01)\n"
    "    after = libc.mallinfo2().hblks\n"
    "    transport.close(); theirs.close()\n"
    "    print(after, *seen)\n"
    "asyncio.run(main())\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize(("setting", "mapped"), [(None, False), ("262144", True), ("junk", False)])
def test_a_socket_read_is_not_a_mapping_of_its_own(setting, mapped):
    """asyncio reads a socket into a fresh 256 KiB bytes object, shrunk to what came: mapped on its own
    (mmap, mremap, munmap, page faults at every read) under a 256 KiB threshold, from the heap above it."""
    out = _run(_READ_BUFFER, "HAILUO_TUI_MMAP_THRESHOLD", setting)
    after, *during = (int(n) for n in out.stdout.split())
    assert len(during) == 3, out.stdout + out.stderr
    # While a read's bytes were alive, one more block was mapped than once they were gone (or none).
    assert all(n == after + 1 for n in during) is mapped, out.stdout + out.stderr


def test_the_mmap_threshold_setting(monkeypatch):
    from hailuo_tui.memory import MMAP_THRESHOLD, mmap_threshold

    monkeypatch.delenv("HAILUO_TUI_MMAP_THRESHOLD", raising=False)
    assert mmap_threshold() == MMAP_THRESHOLD == 320 * 1024
    for value, expected in (("262144", 262144), ("0", 64 * 1024), ("junk", MMAP_THRESHOLD),
                            (str(10**12), 32 * 1024 * 1024)):
        monkeypatch.setenv("HAILUO_TUI_MMAP_THRESHOLD", value)
        assert mmap_threshold() == expected, value
