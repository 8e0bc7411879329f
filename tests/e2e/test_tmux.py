"""The real app in a real terminal: `python -m hailuo_tui --demo` inside tmux.

Each test gets a private tmux server (``-L`` with a unique socket name, no
user config), a 120x36 window with TERM=xterm-256color, and throwaway
HOME/XDG directories. Keys go in with ``send-keys`` (``-l`` for text, as a
terminal forwards pasted or IME-committed text; ``-H`` for raw bytes) and the
screen is read with ``capture-pane``. Every wait polls about every 0.1 s and
gives up after at most 20 s; the tmux server is killed in a ``finally``.

The demo emulator paces its answers (about 50 events/s), so each answer
takes a few seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

ROOT = Path(__file__).resolve().parents[2]
COLUMNS, ROWS = 120, 36
WAIT = 20.0
#: The sidebar is 34 columns wide; the main column starts after it.
MAIN_COLUMN = 36
PROMPT_READY = "Message Hailuo"
#: The last sentence of every English answer of the emulator's fake model, and of every Chinese one.
END_EN = "Anything else you would like to know?"
END_ZH = "还有其他问题吗？"


class Terminal:
    """One tmux session running the app."""

    def __init__(self, socket: str, home: Path) -> None:
        self.socket = socket
        self.home = home
        self.session = "app"

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args],
            capture_output=True, text=True, encoding="utf-8", check=check, timeout=10,
            env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        )

    def start(self) -> None:
        env = {
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "XDG_DATA_HOME": str(self.home / "data"),
            "XDG_CACHE_HOME": str(self.home / "cache"),
            "XDG_STATE_HOME": str(self.home / "state"),
            "HAILUO_TUI_CONFIG": "",
            "HAILUO_TOKEN": "",
        }
        # Textual draws on stderr: leave it on the terminal.
        command = f"cd {_quote(str(ROOT))} && {_quote(sys.executable)} -m hailuo_tui --demo; echo EXITED rc=$?; sleep 60"
        args = ["new-session", "-d", "-s", self.session, "-x", str(COLUMNS), "-y", str(ROWS)]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        self.tmux(*args, command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session).stdout

    def lines(self) -> list[str]:
        return self.screen().splitlines()

    def header(self) -> str:
        lines = self.lines()
        return lines[0] if lines else ""

    def prompt(self) -> str:
        """The text of the prompt box (the rows above the status bar and footer), main column only."""
        lines = self.screen().rstrip("\n").split("\n")
        return " ".join(line[MAIN_COLUMN:].strip(" ▊▎▔▁▌▐│") for line in lines[-5:-2]).strip()

    def send_text(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.session, "-l", text)

    def send_keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.session, *keys)

    def send_bytes(self, data: bytes) -> None:
        self.tmux("send-keys", "-t", self.session, "-H", *(f"{b:02x}" for b in data))

    def wait_for(self, what: str | Callable[[], bool], timeout: float = WAIT, describe: str | None = None) -> str:
        """Poll the screen until ``what`` (a text, or a predicate) is there; return the screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if (what in screen) if isinstance(what, str) else what():
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {describe or what!r}; the screen:\n{screen}")
            time.sleep(0.1)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture
def terminal(tmp_path) -> Iterator[Terminal]:
    home = tmp_path / "home"
    home.mkdir()
    term = Terminal(f"hailuo-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}", home)
    socket_path = None
    try:
        term.start()
        socket_path = term.tmux("display-message", "-p", "#{socket_path}", check=False).stdout.strip()
        term.wait_for(PROMPT_READY)
        yield term
    finally:
        term.tmux("kill-server", check=False)
        if socket_path:
            Path(socket_path).unlink(missing_ok=True)


def _send(term: Terminal, text: str) -> None:
    """Type ``text`` as the terminal forwards it (UTF-8), wait for the echo, press Enter."""
    term.send_text(text)
    term.wait_for(lambda: text in term.prompt(), describe=f"{text!r} in the prompt")
    term.send_keys("Enter")


def test_chat_switch_and_quit_in_a_real_terminal(terminal):
    term = terminal
    # English: the answer streams in, and Hailuo's title names the conversation.
    _send(term, "Show me a table")
    screen = term.wait_for(END_EN)
    assert "A small table:" in screen and "Triple" in screen
    term.wait_for(lambda: "Show me a table" in term.header(), describe="the title in the header")
    assert "Conversations (1)" in screen or "Conversations (1)" in term.screen()

    # Chinese, as UTF-8 text (what tmux forwards for IME and pasted text), in the same conversation.
    _send(term, "你好，请介绍一下你自己")
    term.wait_for(END_ZH)
    screen = term.screen()
    assert "你好，请介绍一下你自己" in screen
    assert "第 2 轮" in screen  # the server continued the same chat

    # Ctrl+N: a second conversation.
    term.send_keys("C-n")
    term.wait_for("Start the conversation")
    _send(term, "short answer please")
    term.wait_for("Turn 1.")
    term.wait_for(lambda: "short answer please" in term.header(), describe="the second title")
    term.wait_for("Conversations (2)")

    # Alt+Down and Ctrl+PgDn move through the sidebar (newest first, wrapping around).
    term.send_keys("M-Down")
    term.wait_for(lambda: "Show me a table" in term.header(), describe="Alt+Down to the first conversation")
    term.send_keys("C-NPage")
    term.wait_for(lambda: "short answer please" in term.header(), describe="Ctrl+PgDn back to the second")
    term.send_keys("M-Up")
    term.wait_for(lambda: "Show me a table" in term.header(), describe="Alt+Up")

    # Ctrl+Q quits cleanly.
    term.send_keys("C-q")
    term.wait_for("EXITED rc=0", describe="the app to exit with rc 0")


def _app_pid(term: Terminal) -> int:
    """The app's process: the child of the pane's shell."""
    shell = int(term.tmux("display-message", "-p", "-t", term.session, "#{pane_pid}").stdout.strip())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == shell:
                return int(entry.name)
    raise AssertionError(f"no process under the pane's shell {shell}")


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_sigcont_does_not_restart_the_terminal_and_ctrl_q_still_quits(terminal):
    """A terminal that closes sends SIGHUP and SIGCONT to the programs in it, and ``kill -CONT`` sends
    SIGCONT: Textual started its input and output threads again on each one, over the running ones,
    after which Ctrl+Q never ended the app (textual_compat.resume_only_after_suspend)."""
    term = terminal
    app = _app_pid(term)
    threads = _threads(app)
    for _ in range(50):  # settled: start-up's own threads (the backends' preload) have come and gone
        time.sleep(0.2)
        now, threads = threads, _threads(app)
        if now == threads:
            break
    for _ in range(3):
        os.kill(app, signal.SIGCONT)
        time.sleep(0.3)
    term.wait_for(PROMPT_READY)
    assert _threads(app) <= threads  # each restart added an input and an output thread
    term.send_keys("C-q")
    term.wait_for("EXITED rc=0", describe="the app to exit with rc 0")


def test_kitty_csi_u_text_arrives_as_characters(terminal):
    """An IME commit under the kitty keyboard protocol: ``CSI 49;;20320:22909 u`` is 你好."""
    term = terminal
    sequence = "\x1b[49;;20320:22909u"
    # As raw bytes, in one write (what a kitty-protocol terminal sends).
    term.send_bytes(sequence.encode("ascii"))
    term.wait_for(lambda: term.prompt().startswith("你好"), describe="你好 in the prompt (send-keys -H)")
    assert "[49;" not in term.screen()
    # Clear the prompt (Ctrl+U deletes to the start of the line), then the same via send-keys -l.
    term.send_keys("C-u")
    term.wait_for(lambda: PROMPT_READY in term.prompt(), describe="an empty prompt")
    term.send_text(sequence)
    term.wait_for(lambda: term.prompt().startswith("你好"), describe="你好 in the prompt (send-keys -l)")
    assert "[49;" not in term.screen()
    # It sends as text: the answer comes back in Chinese and the title is 你好.
    term.send_keys("Enter")
    term.wait_for(END_ZH)
    term.wait_for(lambda: "你好" in term.header(), describe="the title 你好")
    term.send_keys("C-q")
    term.wait_for("EXITED rc=0", describe="the app to exit with rc 0")


def _user_messages(term: Terminal) -> list[str]:
    """The user's messages as stored by the app (its database under the test's XDG_DATA_HOME)."""
    import sqlite3

    db = term.home / "data" / "hailuo-tui" / "demo" / "demo.sqlite3"
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return [row[0] for row in conn.execute("SELECT content FROM messages WHERE role = 'user' ORDER BY id")]
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()


def _wait_stored(term: Terminal, count: int) -> list[str]:
    term.wait_for(lambda: len(_user_messages(term)) >= count, describe=f"{count} stored user messages")
    return _user_messages(term)


def test_text_and_enter_in_one_burst_are_sent_whole(terminal):
    """A sentence and Enter in one write (tmux, a text expander, an IME commit): all of it is sent, in order."""
    term = terminal
    sentence = "Show me a markdown table of three fruits and their colours"
    term.send_bytes((sentence + "\r").encode())
    assert _wait_stored(term, 1) == [sentence]
    term.wait_for(END_EN)
    chinese = "继续：请再给我一个列表，三种水果和它们的颜色"
    term.send_bytes((chinese + "\r").encode())
    assert _wait_stored(term, 2)[1] == chinese
    term.wait_for(END_ZH)
    # Ctrl+J (LF) is a new line, in the same burst as the text around it and the Enter.
    term.send_bytes(b"line one\nline two\r")
    assert _wait_stored(term, 3)[2] == "line one\nline two"
    term.send_keys("C-q")
    term.wait_for("EXITED rc=0", describe="the app to exit with rc 0")


def test_alt_enter_inserts_a_new_line(terminal):
    """tmux sends Alt+Enter as ESC CR: a new line in the message box, not a send (nor a stop)."""
    term = terminal
    term.send_text("first line")
    term.wait_for(lambda: "first line" in term.prompt(), describe="the text in the prompt")
    term.send_keys("M-Enter")
    term.send_text("second line")
    term.wait_for(lambda: "second line" in term.prompt(), describe="the second line in the prompt")
    assert _user_messages(term) == []  # Alt+Enter did not send
    term.send_keys("Enter")
    assert _wait_stored(term, 1) == ["first line\nsecond line"]
    term.send_keys("C-q")
    term.wait_for("EXITED rc=0", describe="the app to exit with rc 0")


def test_the_message_cursor_copies_a_code_block_in_a_real_terminal(terminal):
    """F5, the block keys and C as tmux delivers them; the code arrives in tmux's buffer through OSC 52."""
    term = terminal
    term.tmux("set-option", "-g", "set-clipboard", "on")  # take the app's OSC 52 into a tmux buffer
    _send(term, "Show me some code")
    term.wait_for(END_EN)
    term.send_keys("F5")
    for _ in range(8):  # the answer's blocks, one by one (Shift+↓ and ] are the same binding)
        term.send_keys("S-Down")
        term.send_keys("c")
        time.sleep(0.2)
        if "Copied the code block" in term.screen():
            break
    term.wait_for("Copied the code block", describe="C on the code block")
    term.wait_for(lambda: term.tmux("show-buffer", check=False).stdout.startswith("# Example code for turn 1\n"),
                  describe="the code, without its fence, in tmux's buffer")
    assert "```" not in term.tmux("show-buffer").stdout
    term.send_text("[")  # back one block: the sentence above the code
    term.send_keys("c")
    term.wait_for(lambda: term.tmux("show-buffer").stdout.strip() == "Some example code:",
                  describe="[ then C: the paragraph above the code in tmux's buffer")
    term.send_keys("C-q")
    term.wait_for("EXITED rc=0", describe="the app to exit with rc 0")
