"""Benchmark 1 through a real terminal: the real app in tmux, the emulator over HTTP.

Usage: .venv/bin/python bench/terminal_stream.py [--runs N] [--only burst|paced] [--show-screen] [--profile DIR]

What runs where:

* The emulator runs in a child process of this script (its own interpreter, so
  the poller never holds it up), on 127.0.0.1. Every message gets the same
  answer (``stream_bubble.make_answer()``, ~20,000 characters of Markdown:
  paragraphs, lists, ten fenced code blocks, a table) in exactly 4,000
  cumulative ``message_result`` events: "burst" = no rate limit, "paced" =
  ``events_per_second=200`` (kept to a schedule; the achieved rate is printed).
  The emulator stamps ``time.monotonic()`` right after writing each event
  (``RequestRecord.event_times``); CLOCK_MONOTONIC is one clock for every
  process on Linux, so its stamps compare with the poller's.
* The app is ``python -m hailuo_tui --base-url <emulator>`` (what ``hailuo-tui``
  runs) in a detached tmux session, 100x40, TERM=xterm-256color, on a private
  tmux server (``-L``, no user config), with throwaway HOME/XDG directories,
  the token in ``HAILUO_TOKEN``, and a real Secret Service: ``dbus-run-session``
  with an unlocked gnome-keyring (as ``.ci/run``; without one the app would show
  a "no keyring" toast over the conversation). The app draws on its stderr,
  i.e. on the tmux pane.
* The screen is read through one tmux control-mode client (``-C``, attached with
  ``no-output,ignore-size``, so tmux does not copy the pane output to us and the
  window stays 100x40): ``capture-pane -p`` back to back, at most every 5 ms,
  with no process spawned per poll (the achieved period, ``poll_ms``, is about
  10 ms on 2 busy cores). A figure's time is when the capture that first showed
  it came back, so each is late by at most one poll period.

Figures:

* first text: the first capture showing the answer's first characters ("Pla"
  at the start of a word: the heading "Plan for the trip" as it starts to
  stream; the prompt and its title contain no "Pla") minus the time the
  emulator wrote the first ``message_result`` event.
  ``events_sent_at_first_text`` says how many events had been sent by then.
* lag: the first capture showing "That is the last line of the answer." minus
  the time the emulator wrote the last ``message_result`` event (``isEnd: 0``).
* CPU: utime+stime of the app process (all its threads; /proc/PID/stat, clock
  ticks of 10 ms) from just before Enter is sent to the capture showing the last
  line. The tmux server's CPU over the same span is shown too (the terminal's
  share of the cost; not the app's).
* peak RSS: VmHWM of the app process (/proc/PID/status) at the end, i.e. the
  peak over its whole life (start-up included).

Never run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import re
import select
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

COLUMNS, ROWS = 100, 40
EVENTS = 4000
PACED_RATE = 200.0
PROMPT = "Write up my trip"  # no "Pla" in it: the answer's first characters are then unambiguous
PROMPT_READY = "Message Hailuo"
FIRST_TEXT = "Plan for the trip"
#: The answer's first characters on screen: "Pla" at the start of a word (the prompt and its title have none).
FIRST_RE = re.compile(r"(?<!\w)" + re.escape(FIRST_TEXT[:3]))
LAST_LINE = "That is the last line of the answer."
POLL = 0.005
START_TIMEOUT = 40.0
STREAM_TIMEOUT = 90.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

TARGETS = {  # from the issue
    "burst": {"first_text_s": 0.05, "lag_s": 0.2, "cpu_s": 2.0, "peak_rss_mb": 120.0},
    "paced": {"first_text_s": 0.05, "lag_s": 0.05, "cpu_s": 3.0, "peak_rss_mb": 120.0},
}


# -- the emulator, in a child process ------------------------------------------------------


def read_json_line(proc: subprocess.Popen, timeout: float, who: str) -> dict:
    """The next JSON line a bench child process prints on stdout, waiting at most ``timeout`` seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if not line:
        raise RuntimeError(f"{who} did not answer")
    return json.loads(line)


def ask_child(proc: subprocess.Popen, command: str, timeout: float, who: str) -> dict:
    """Send one command line to a bench child process and read its JSON answer."""
    assert proc.stdin is not None
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    return read_json_line(proc, timeout, who)


class EmulatorProcess:
    """An :class:`Emulator` in a child process (its own interpreter and GIL, so the poller never delays it).

    It prints ``{url, token}``; a line on its stdin makes it print the send times of the ``message_result``
    events of the last message request (``time.monotonic()``, the same clock system-wide on Linux), its own
    CPU seconds, and exit.
    """

    def __init__(self, **config) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--emulator-child", json.dumps(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True,
        )
        hello = self._line(15.0)
        self.url, self.token = hello["url"], hello["token"]

    def _line(self, timeout: float) -> dict:
        return read_json_line(self.proc, timeout, "the emulator")

    def report(self) -> dict:
        return ask_child(self.proc, "report", 20.0, "the emulator")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def emulator_child(config_json: str) -> None:
    from hailuo_tui.emulator import Emulator, EmulatorConfig
    from hailuo_tui.emulator.protocol import MESSAGE_PATH

    async def run() -> None:
        emu = Emulator(EmulatorConfig(**json.loads(config_json)))
        url = await emu.start()
        print(json.dumps({"url": url, "token": emu.demo_token}), flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        records = [r for r in emu.requests if r.path == MESSAGE_PATH]
        deadline = time.monotonic() + 10
        while not (records and records[-1].done) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        sent = []
        if records:
            rec = records[-1]
            sent = [t for (name, _), t in zip(rec.events, rec.event_times) if name == "message_result"]
        print(json.dumps({"sent": sent, "cpu_s": time.process_time()}), flush=True)
        await emu.stop()

    asyncio.run(run())


# -- tmux ----------------------------------------------------------------------------------


class Tmux:
    """A private tmux server with one session, read through a control-mode client."""

    def __init__(self) -> None:
        self.socket = f"hailuo-bench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.session = "bench"
        self.control: subprocess.Popen | None = None
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self.socket_path: str | None = None
        #: Set in the environment of everything the session starts (to find what outlives it).
        self.marker = f"HAILUO_BENCH_RUN={uuid.uuid4().hex}"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, "-f", os.devnull, *args],
            capture_output=True, text=True, encoding="utf-8", check=check, timeout=10,
            env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        )

    def start(self, command: str, env: dict[str, str]) -> None:
        args = ["new-session", "-d", "-s", self.session, "-x", str(COLUMNS), "-y", str(ROWS), "-e", self.marker]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        self.run(*args, command)
        self.socket_path = self.run("display-message", "-p", "#{socket_path}", check=False).stdout.strip() or None
        self.control = subprocess.Popen(
            ["tmux", "-L", self.socket, "-f", os.devnull, "-C", "attach-session", "-f", "no-output,ignore-size",
             "-t", self.session],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
            env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        )
        threading.Thread(target=self._reader, name="tmux-control", daemon=True).start()
        if self.command("display-message -p ok") != ["ok"]:
            raise RuntimeError("the tmux control client is out of step")

    def _reader(self) -> None:
        assert self.control is not None and self.control.stdout is not None
        for line in iter(self.control.stdout.readline, b""):
            self._lines.put(line)
        self._lines.put(None)

    def command(self, command: str, timeout: float = 5.0) -> list[str]:
        """Run one tmux command through the control client; its output lines."""
        assert self.control is not None and self.control.stdin is not None
        self.control.stdin.write(command.encode("utf-8") + b"\n")
        deadline = time.monotonic() + timeout
        out: list[str] = []
        inside = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"tmux did not answer {command!r}")
            try:
                raw = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if raw is None:
                raise RuntimeError("the tmux control client exited")
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not inside:
                # Notifications come between replies; a reply's %begin ends in flags 1 for a command we
                # wrote, 0 for the attach itself (which may come before or after our first reply).
                if line.startswith("%begin ") and line.endswith(" 1"):
                    inside = True
                    out = []
                continue
            if line.startswith("%end ") or line.startswith("%error "):
                if line.startswith("%error "):
                    raise RuntimeError(f"tmux: {command!r}: {' '.join(out)}")
                return out
            out.append(line)

    def screen(self) -> str:
        return "\n".join(self.command(f"capture-pane -p -t {self.session}"))

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {text!r}; the screen:\n{screen}")
            time.sleep(0.05)

    def close(self) -> None:
        """Quit the app (Ctrl+Q) so dbus-run-session cleans up, kill the server, then any process left behind."""
        if self.control is not None and self.control.poll() is None:
            try:
                self.command(f"send-keys -t {self.session} C-q")
                self.wait_for("EXITED rc=", 10.0)
            except (OSError, RuntimeError, TimeoutError):
                pass
        if self.control is not None:
            try:
                self.control.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass
        self.run("kill-server", check=False)
        if self.control is not None:
            try:
                self.control.wait(5)
            except subprocess.TimeoutExpired:
                self.control.kill()
        if self.socket_path:
            Path(self.socket_path).unlink(missing_ok=True)
        # dbus-daemon and gnome-keyring-daemon outlive a killed pane: end those of this run, by pid.
        for pid in marked_processes(self.marker):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass


# -- /proc -----------------------------------------------------------------------------------


def marked_processes(marker: str) -> list[int]:
    """Pids of this user's processes whose environment holds ``marker`` (``NAME=value``)."""
    needle = marker.encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14 and 15)


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def wait_idle(pid: int, quiet: float = 0.3, timeout: float = 8.0) -> None:
    """Until the app has used no CPU tick for ``quiet`` seconds (start-up work done)."""
    deadline = time.monotonic() + timeout
    last, since = cpu_seconds(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = cpu_seconds(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


# -- one run -----------------------------------------------------------------------------------


def _keyring_wrapper(inner: str) -> str:
    """Run ``inner`` inside a private D-Bus session with an unlocked gnome-keyring (as .ci/run)."""
    if shutil.which("dbus-run-session") is None or shutil.which("gnome-keyring-daemon") is None:
        raise SystemExit(
            "needs dbus-run-session and gnome-keyring-daemon (apt-get install gnome-keyring dbus-x11): without a "
            "Secret Service the app shows a keyring warning over the conversation"
        )
    script = f"printf pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null && {inner}"
    return f"dbus-run-session -- sh -c {shlex.quote(script)}"


def measure(rate: float | None, profile: Path | None = None) -> dict:
    """One streaming run: ``rate`` events/s (``None``: burst). Returns the figures (seconds, MB).

    ``profile``: run the app under cProfile and write its stats there when it quits (slows the app down: the
    figures of such a run are not the app's).
    """
    from stream_bubble import make_answer

    answer = make_answer()
    with tempfile.TemporaryDirectory(prefix="hailuo-bench-", ignore_cleanup_errors=True) as tmp:
        tmpdir = Path(tmp)
        answer_file = tmpdir / "answer.md"
        answer_file.write_text(answer, encoding="utf-8")
        home = tmpdir / "home"
        home.mkdir()
        pidfile = tmpdir / "app.pid"
        emulator = EmulatorProcess(answer_file=str(answer_file), num_events=EVENTS, events_per_second=rate,
                                  record_events=True)
        term = Tmux()
        try:
            env = {
                "TERM": "xterm-256color",
                "LANG": "C.UTF-8",
                "LC_ALL": "C.UTF-8",
                "HOME": str(home),
                "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_DATA_HOME": str(home / "data"),
                "XDG_CACHE_HOME": str(home / "cache"),
                "XDG_STATE_HOME": str(home / "state"),
                "XDG_RUNTIME_DIR": str(tmpdir / "run"),
                "HAILUO_TUI_CONFIG": "",
                "HAILUO_TUI_KEYRING_SERVICE": "hailuo-tui-bench",
                "HAILUO_TOKEN": emulator.token,
                "PYTHONPATH": str(ROOT),  # this checkout's package, whatever the venv's editable install points at
            }
            (tmpdir / "run").mkdir(mode=0o700)
            profiler = f"-m cProfile -o {shlex.quote(str(profile))} " if profile is not None else ""
            app = f"echo $$ > {shlex.quote(str(pidfile))} && exec {shlex.quote(sys.executable)} {profiler}" \
                  f"-m hailuo_tui --base-url {shlex.quote(emulator.url)}"
            # Textual draws on stderr: it stays on the pane.
            command = f"cd {shlex.quote(str(ROOT))} && {_keyring_wrapper(app)}; echo EXITED rc=$?; sleep 30"
            term.start(command, env)
            term.wait_for(PROMPT_READY, START_TIMEOUT)
            pid = int(pidfile.read_text().strip())
            server_pid = int(term.command("display-message -p '#{pid}'")[0])
            wait_idle(pid)
            term.command(f"send-keys -t {term.session} -l {shlex.quote(PROMPT)}")
            term.wait_for(PROMPT, 10.0)
            wait_idle(pid, quiet=0.2, timeout=3.0)

            cpu0, server0 = cpu_seconds(pid), cpu_seconds(server_pid)
            t_enter = time.monotonic()
            term.command(f"send-keys -t {term.session} Enter")
            first_seen = last_seen = None
            first_screen = ""
            polls = 0
            deadline = t_enter + STREAM_TIMEOUT
            while last_seen is None:
                screen = term.screen()
                now = time.monotonic()
                polls += 1
                if first_seen is None and FIRST_RE.search(screen):
                    first_seen, first_screen = now, screen
                if LAST_LINE in screen:
                    last_seen = now
                    break
                if now > deadline:
                    raise TimeoutError(f"the last line never showed; the screen:\n{screen}")
                time.sleep(max(0.0, POLL - (time.monotonic() - now)))
            cpu = cpu_seconds(pid) - cpu0
            server_cpu = cpu_seconds(server_pid) - server0
            peak_rss_mb = status_kb(pid, "VmHWM") / 1024
            rss_mb = status_kb(pid, "VmRSS") / 1024
            final_screen = screen

            # the emulator's record of the stream
            report = emulator.report()
            sent = report["sent"]
            if len(sent) != EVENTS:
                raise RuntimeError(f"expected {EVENTS} message_result events, the emulator sent {len(sent)}")
            first_sent, last_sent = sent[0], sent[-1]
            return {
                "first_text_s": (first_seen - first_sent) if first_seen is not None else float("nan"),
                "lag_s": last_seen - last_sent,
                "cpu_s": cpu,
                "peak_rss_mb": peak_rss_mb,
                "rss_end_mb": rss_mb,
                "tmux_cpu_s": server_cpu,
                "emulator_cpu_s": report["cpu_s"],
                "enter_to_first_event_s": first_sent - t_enter,
                "stream_s": last_sent - first_sent,
                "events_per_s": (len(sent) - 1) / (last_sent - first_sent) if last_sent > first_sent else float("inf"),
                "wall_s": last_seen - t_enter,
                "poll_ms": 1000 * (last_seen - t_enter) / max(1, polls),
                "events_sent_at_first_text": sum(1 for t in sent if t <= first_seen) if first_seen else 0,
                "screen": final_screen,
                "first_screen": first_screen,
            }
        finally:
            term.close()
            emulator.close()


# -- the table ---------------------------------------------------------------------------------


def machine() -> str:
    from run import machine as _machine

    return _machine()


def _spread(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.median(values), fmt)} [{format(min(values), fmt)}–{format(max(values), fmt)}]"


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--emulator-child":
        emulator_child(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each mode (default 3)")
    parser.add_argument("--only", choices=("burst", "paced"), help="one mode only")
    parser.add_argument("--show-screen", action="store_true", help="print the screens at first text and at the end")
    parser.add_argument("--profile", metavar="DIR", type=Path,
                        help="run the app under cProfile, stats in DIR/<mode>-<run>.prof (slower: figures not comparable)")
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    print(f"driver: tmux {COLUMNS}x{ROWS} (TERM=xterm-256color), real app + emulator over HTTP on 127.0.0.1; "
          f"screen read with capture-pane through a tmux control-mode client, at most every {POLL * 1000:.0f} ms")
    print(f"answer: {len(__import__('stream_bubble').make_answer())} chars in {EVENTS} cumulative events\n")
    modes = [m for m in ("burst", "paced") if args.only in (None, m)]
    results: dict[str, list[dict]] = {}
    for mode in modes:
        rate = None if mode == "burst" else PACED_RATE
        for i in range(args.runs):
            prof = args.profile.resolve() / f"{mode}-{i + 1}.prof" if args.profile is not None else None
            result = measure(rate, prof)
            screen = result.pop("screen")
            first_screen = result.pop("first_screen")
            results.setdefault(mode, []).append(result)
            print(f"{mode} run {i + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items()), flush=True)
            if prof is not None:
                import pstats

                deadline = time.monotonic() + 10
                while not prof.exists() and time.monotonic() < deadline:
                    time.sleep(0.1)
                if prof.exists():
                    pstats.Stats(str(prof)).sort_stats("tottime").print_stats(25)
            if args.show_screen:
                print("the screen at first text:\n" + first_screen + "\nthe screen at the last line:\n" + screen)
    print()
    keys = [("first_text_s", "first text s", ".3f"), ("lag_s", "lag s", ".3f"), ("cpu_s", "app CPU s", ".2f"),
            ("peak_rss_mb", "peak RSS MB", ".0f"), ("tmux_cpu_s", "tmux CPU s", ".2f"),
            ("stream_s", "stream s", ".2f"), ("events_per_s", "events/s", ".0f")]
    print(f"{'figure':<14}" + "".join(f"{m + ' (median [min–max])':<32}" for m in modes) + "targets")
    for key, label, fmt in keys:
        row = f"{label:<14}"
        for mode in modes:
            row += f"{_spread([r[key] for r in results[mode]], fmt):<32}"
        targets = "  ".join(f"{m} ≤ {TARGETS[m][key]:g}" for m in modes if key in TARGETS[m])
        print(row + targets)


if __name__ == "__main__":
    main()
