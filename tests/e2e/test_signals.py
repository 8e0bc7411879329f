"""SIGTERM and SIGHUP mid-answer close the app like Ctrl+Q: the answer is saved as interrupted with its
partial text, and the terminal is given back (no alternate screen, no mouse reporting). Real app in tmux."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Terminal, _send, terminal  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.e2e]

#: tmux's view of the pane's terminal modes: alternate screen, and each mouse-reporting mode.
MODES = "#{alternate_on} #{mouse_any_flag} #{mouse_button_flag} #{mouse_standard_flag} #{mouse_all_flag}"


def app_pid(term: Terminal) -> int:
    """The Python process inside the pane (the pane's process is the shell that started it)."""
    shell = int(term.tmux("display-message", "-p", "-t", term.session, "#{pane_pid}").stdout.strip())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise AssertionError("the app's process was not found")


def modes(term: Terminal) -> str:
    return term.tmux("display-message", "-p", "-t", term.session, MODES).stdout.strip()


def answer_rows(home: Path) -> list[tuple[str, str, str | None]]:
    db = home / "data" / "hailuo-tui" / "demo" / "demo.sqlite3"
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status, content, error FROM messages WHERE role = 'assistant'").fetchall()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_mid_answer_saves_it_and_restores_the_terminal(terminal, signum):  # noqa: F811
    term = terminal
    assert modes(term).startswith("1 1")  # the app runs in the alternate screen with the mouse on
    _send(term, "a long answer please")
    term.wait_for("section 1 of a long answer")  # about 20,000 characters at ~300 a second: mid-answer
    pid = app_pid(term)
    os.kill(pid, signum)
    term.wait_for(f"EXITED rc={128 + signum}", describe="the app to exit on the signal")
    assert modes(term) == "0 0 0 0 0"
    [(status, content, error)] = answer_rows(term.home)
    assert status == "interrupted"
    assert "section 1 of a long answer" in content and len(content) < 20_000
    assert error == "Stopped when hailuo-tui was closed."
