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
