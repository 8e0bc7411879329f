"""The real app in a real terminal (tmux): SIGKILL mid-stream, and hostile server text.

The emulator runs in the test's event loop (so the test can see exactly what
it sent and when); the app runs as ``python -m hailuo_tui --base-url …`` in a
private tmux server with ``$HAILUO_TOKEN`` and a null keyring.
Textual draws on stderr: never redirect it here.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import pytest

from hailuo_tui.emulator import Emulator, EmulatorConfig
from tests.e2e.test_cli import cli_env, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

LONG = " ".join(f"w{i:04d}" for i in range(3000))  # 15,000 characters, easy to measure


class Tmux:
    def __init__(self, root: Path) -> None:
        self.sock = f"hailuo-test-{uuid.uuid4().hex[:8]}"
        self.root = root

    async def run(self, *args: str, check: bool = True) -> str:
        proc = await asyncio.create_subprocess_exec(
            "tmux", "-L", self.sock, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        if check and proc.returncode:
            # Only the subcommand: the arguments hold the environment, with the (demo) token in it.
            raise RuntimeError(f"tmux {args[0]} failed ({proc.returncode}): {err.decode()}")
        return out.decode("utf-8", "replace")

    async def start(self, name: str, command: str, env: dict[str, str], log: Path | None = None) -> int:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        await self.run("new-session", "-d", "-s", name, "-x", "110", "-y", "34",
                       f"cd {shlex.quote(str(self.root))} && exec env {exports} {command}")
        await self.run("set-option", "-t", name, "remain-on-exit", "on")
        if log is not None:
            await self.run("pipe-pane", "-o", "-t", name, f"cat >> {shlex.quote(str(log))}")
        return int((await self.run("display", "-p", "-t", name, "#{pane_pid}")).strip())

    async def screen(self, name: str) -> str:
        return await self.run("capture-pane", "-p", "-t", name)

    async def wait_for(self, name: str, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = await self.screen(name)
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {text!r} on screen:\n{screen}")
            await asyncio.sleep(0.1)

    async def wait_until_dead(self, name: str, timeout: float = 10.0) -> None:
        """Wait until the pane's process has exited (tmux keeps the pane: remain-on-exit)."""
        deadline = time.monotonic() + timeout
        while (await self.run("display", "-p", "-t", name, "#{pane_dead}")).strip() != "1":
            if time.monotonic() > deadline:
                raise AssertionError(f"the process in {name!r} is still running")
            await asyncio.sleep(0.05)

    async def keys(self, name: str, *keys: str, literal: bool = False) -> None:
        await self.run("send-keys", "-t", name, *(["-l"] if literal else []), *keys)

    async def open(self) -> None:
        # A session that lives as long as the server: without it, killing the last app session makes
        # the server exit, and a new-session sent meanwhile fails with "server exited unexpectedly".
        await self.run("new-session", "-d", "-s", "keeper", "-x", "20", "-y", "5", "sleep 3600")

    async def close(self) -> None:
        await self.run("kill-server", check=False)


@pytest.fixture
async def tmux(tmp_path):
    t = Tmux(tmp_path)
    await t.open()
    yield t
    await t.close()


def app_env(tmp_path: Path, token: str) -> dict[str, str]:
    env = cli_env(tmp_path, HAILUO_TOKEN=token, PYTHON_KEYRING_BACKEND="tests.e2e.memkeyring.Keyring",
                  TERM="xterm-256color")
    keep = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "HAILUO_TUI_KEYRING_SERVICE", "HAILUO_TOKEN",
            "PYTHON_KEYRING_BACKEND", "TERM", "PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "PYTHONPATH")
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")]))
    return {k: env[k] for k in keep if k in env}


def db_rows(tmp_path: Path) -> list[tuple]:
    db = tmp_path / "data" / "hailuo-tui" / "hailuo.sqlite3"
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT id, role, content, status, error FROM messages ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def sent_text(emu: Emulator) -> str:
    """The answer text the emulator has sent so far on the latest message stream."""
    record = [r for r in emu.requests if r.path.startswith("/v4")][-1]
    text = ""
    for name, data in list(record.events):
        if name == "message_result":
            try:
                text = json.loads(data)["data"]["messageResult"]["content"]
            except (ValueError, KeyError, TypeError):
                pass
    return text


async def test_sigkill_mid_stream_keeps_the_partial_answer_and_regenerates(tmp_path, tmux):
    app_cmd = f"{shlex.quote(sys.executable)} -m hailuo_tui"
    async with Emulator(EmulatorConfig(seed=7, answer_text=LONG, chunk_chars=10, event_delay=0.03)) as emu:
        env = app_env(tmp_path, emu.demo_token)
        pid = await tmux.start("app", f"{app_cmd} --base-url {emu.url}", env)
        await tmux.wait_for("app", "Message Hailuo")
        await tmux.keys("app", "a long answer please", literal=True)
        await tmux.wait_for("app", "a long answer please")
        await tmux.keys("app", "Enter")
        await tmux.wait_for("app", "w0040")  # streaming, on screen
        progress: list[tuple[float, int]] = []
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # stream a while, noting what the server has sent when
            progress.append((time.monotonic(), len(sent_text(emu))))
            await asyncio.sleep(0.05)
        os.kill(pid, 9)
        killed_at = time.monotonic()
        sent_at_kill = len(sent_text(emu))
        sent_a_second_before = max(n for t, n in progress if t <= killed_at - 1.05)
        await tmux.wait_until_dead("app")

        rows = db_rows(tmp_path)
        assert [r[1] for r in rows] == ["user", "assistant"], rows
        user, answer = rows
        assert user[2] == "a long answer please" and user[3] == "complete"
        saved = answer[2]
        assert answer[3] == "streaming"  # what the killed process left
        assert saved and LONG.startswith(saved)
        # saved no more than about a second before the kill
        assert len(saved) >= sent_a_second_before, (len(saved), sent_a_second_before, sent_at_kill)
        assert sent_at_kill < len(LONG)  # really killed mid-stream

        # Restart: the message and the partial answer are there, marked interrupted.
        emu.config.event_delay = 0.0
        emu.config.answer_text = "Regenerated in full."
        await tmux.run("kill-session", "-t", "app")
        await tmux.start("app2", f"{app_cmd} --base-url {emu.url}", env)
        await tmux.wait_for("app2", saved.split()[-2])  # the end of the partial answer is shown
        await tmux.keys("app2", "Home")  # and above it (a long partial answer fills the screen), the question
        await tmux.wait_for("app2", "a long answer please")
        rows = db_rows(tmp_path)
        assert rows[1][3] == "interrupted" and rows[1][2] == saved
        before = len(emu.requests)
        await tmux.keys("app2", "C-r")
        await tmux.wait_for("app2", "Regenerated in full.")
        for _ in range(50):
            rows = db_rows(tmp_path)
            if rows and rows[-1][3] == "complete":
                break
            await asyncio.sleep(0.1)
        # The regenerated answer is a new version beside the interrupted one, which is kept.
        assert [(r[1], r[3]) for r in rows] == [("user", "complete"), ("assistant", "interrupted"),
                                                 ("assistant", "complete")]
        assert rows[1][2] == saved and rows[2][2] == "Regenerated in full." and len(emu.requests) > before
        await tmux.keys("app2", "C-q")


#: Hostile server text: OSC 52 clipboard write, OSC 0/2 title changes, CSI, DCS, 8-bit CSI, markup, bidi.
HOSTILE = (
    "Start \x1b]52;c;UFdORUQtQ0xJUA==\x07 clip "
    "\x1b]0;PWNED-TITLE-0\x07 \x1b]2;PWNED-TITLE-2\x1b\\ title "
    "\x1b[2J\x1b[31mRED\x1b[0m \x1bPqPWNED-DCS\x1b\\ \x9b31m "
    "[bold red]x[/] [@click=app.quit]y[/] "
    "abc\u202eRLO-OVERRIDE\u202c \u2066isolate\u2069 End"
)
HOSTILE_TITLE = "T\x1b]0;PWNED-HDR\x07\x1b]52;c;UFdORUQtVElUTEU=\x07[b]bold[/b]\u202eX"
PAYLOADS = ("UFdORUQtQ0xJUA==", "PWNED-TITLE", "PWNED-DCS", "PWNED-HDR", "UFdORUQtVElUTEU=")


async def test_hostile_server_text_never_reaches_the_terminal(tmp_path, tmux, monkeypatch):
    from hailuo_tui.emulator import model

    monkeypatch.setattr(model, "make_title", lambda message, limit=20: HOSTILE_TITLE)
    app_cmd = f"{shlex.quote(sys.executable)} -m hailuo_tui"
    raw = tmp_path / "pane-output.bin"
    async with Emulator(EmulatorConfig(seed=7, answer_text=HOSTILE, chunk_chars=7)) as emu:
        env = app_env(tmp_path, emu.demo_token)
        await tmux.start("app", f"{app_cmd} --base-url {emu.url}", env, log=raw)
        await tmux.run("set-option", "-g", "set-clipboard", "on")
        await tmux.run("set-option", "-g", "allow-rename", "on")
        title_before = (await tmux.run("display", "-p", "-t", "app", "#{pane_title}")).strip()
        await tmux.wait_for("app", "Message Hailuo")
        await tmux.keys("app", "hello hostile", literal=True)
        await tmux.wait_for("app", "hello hostile")
        await tmux.keys("app", "Enter")
        screen = await tmux.wait_for("app", "End")
        await asyncio.sleep(0.5)
        screen = await tmux.screen("app")
        # markup is shown literally, escapes are gone, the app is still running
        assert "[bold red]x[/]" in screen and "[@click=app.quit]y[/]" in screen
        assert "Start" in screen and "RED" in screen
        assert "[b]bold[/b]" in screen  # the hostile title, shown as text in the sidebar/header
        for payload in PAYLOADS:
            assert payload not in screen
        assert "\u202e" not in screen and "\u2066" not in screen
        # the terminal did not act on anything: no title change, no clipboard write
        assert (await tmux.run("display", "-p", "-t", "app", "#{pane_title}")).strip() == title_before
        assert not (await tmux.run("list-buffers", check=False)).strip()
        # an export holds no escapes either
        await tmux.keys("app", "C-s")
        await tmux.wait_for("app", "Exported to")
        await tmux.keys("app", "C-q")
        await asyncio.sleep(0.5)
        output = raw.read_bytes()
        assert len(output) > 2000 and b"clip" in output  # the pane's output was really recorded
        for payload in PAYLOADS:
            assert payload.encode() not in output, payload
        assert b"\x1b]52" not in output and b"\x1b]0;" not in output and b"\x1b]2;" not in output
        exports = list(tmp_path.glob("hailuo-*.md"))
        assert exports
        for export in exports:
            text = export.read_text()
            assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
            assert "[bold red]x[/]" in text

        # the CLI prints the answer and the title as text too
        code, out, err = await run_cli("--base-url", emu.url, "ask", "hi",
                                       env=cli_env(tmp_path, HAILUO_TOKEN=emu.demo_token,
                                                   PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"))
        assert code == 0, err
        for stream in (out, err):
            assert "\x1b" not in stream and "\x9b" not in stream and "\u202e" not in stream
            for payload in PAYLOADS:
                assert payload not in stream
        assert "[bold red]x[/]" in out and "[b]bold[/b]" in err
