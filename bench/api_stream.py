"""The MiniMax-API backend through a real terminal: hailuo-tui in tmux against bench's OpenAI-compatible fake.

Usage: .venv/bin/python bench/api_stream.py [--runs N] [--only paced|burst] [--no-reasoning] [--show-screen]
       .venv/bin/python bench/api_stream.py --floor [--runs N]

How it runs (the same way as terminal_stream.py, whose tmux, /proc and keyring helpers it imports):

* ``bench/openai_fake.py`` in a child process on 127.0.0.1 sends the same ~20,000-character Markdown answer
  as 4,000 ``chat.completion.chunk`` content deltas (``data: {...}`` events, ``data: [DONE]``), paced at
  200 events/s or in a burst, optionally after 1,000 reasoning deltas (``reasoning_content`` +
  ``reasoning_details``: hailuo-tui asks with ``reasoning_split: true``), and stamps ``time.monotonic()``
  after writing each event.
* ``python -m hailuo_tui --backend api --api-base-url <fake>`` with ``MINIMAX_API_KEY`` set, throwaway
  HOME/XDG directories, in a private tmux server at 120x40 (TERM=xterm-256color), inside a private D-Bus
  session with an unlocked gnome-keyring (as terminal_stream.py). The prompt is typed, then Enter.
* The screen is read through a tmux control-mode client (``capture-pane``, at most every 5 ms).

Figures (as terminal_stream.py): ``cpu_s`` = the app's utime+stime from just before Enter to the capture that
shows the answer's last line; ``lag_s`` = that capture minus the time the fake wrote the last answer event;
``first_text_s`` = the first capture showing the answer's first characters minus the first answer event;
``thinking_s`` (with reasoning) = the first capture showing the reasoning's first words minus the first
reasoning event; ``peak_rss_mb`` = VmHWM at the end.

``--floor``: what taking the same stream costs without any drawing, ``hailuo-tui ask --backend api`` on the
same fake (the answer to /dev/null), paced and burst, minus the CPU of its imports alone. Never run as a test.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import terminal_stream as ts  # noqa: E402  (the tmux driver, /proc readers and the keyring wrapper)
from openai_fake import EVENTS, REASONING_EVENTS, FakeServer  # noqa: E402

#: The issue's terminal: 120x40 (terminal_stream's Tmux reads its module's COLUMNS/ROWS when it starts a session).
ts.COLUMNS, ts.ROWS = 120, 40
PACED_RATE = 200.0
PROMPT = ts.PROMPT
LAST_LINE = ts.LAST_LINE
FIRST_RE = ts.FIRST_RE
THINKING_TEXT = "Thought 1"
START_TIMEOUT = 60.0
STREAM_TIMEOUT = 180.0
END_KEY_PERIOD = 0.25

#: Issue 14's targets for hailuo-tui's API backend, per mode (the same with and without reasoning).
TARGETS = {
    "paced": {"cpu_s": 1.0, "lag_s": 0.033, "peak_rss_mb": 90.0},
    "burst": {"cpu_s": 0.3, "lag_s": 0.1, "peak_rss_mb": 90.0},
}


@dataclass
class Client:
    """One chat app to drive: how to start it against the fake, when it is ready, which key sends.

    ``prepare(fake, tmpdir, env)`` writes the app's config into the throwaway HOME and returns the shell
    command that ``exec``s the app (its pid is written to ``tmpdir/app.pid`` by the caller's wrapper).
    """

    name: str
    prepare: Callable[[FakeServer, Path, dict[str, str]], str]
    ready: str
    send_key: str = "Enter"
    quit_key: str = "C-q"
    #: Seconds from Enter to the last line before the run counts as failed.
    stream_timeout: float = STREAM_TIMEOUT
    keyring: bool = False
    #: Keys a reader presses to bring the answer's end into view when the app stops following it: pressed
    #: (the first key once, the last every :data:`END_KEY_PERIOD` s) only after the fake sent the last event.
    end_keys: tuple[str, ...] = ()
    #: Why a figure of this client needs a word of explanation (printed under the table).
    note: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)


def _hailuo(fake: FakeServer, tmpdir: Path, env: dict[str, str]) -> str:
    env.update({
        "HAILUO_TUI_CONFIG": "",
        "HAILUO_TUI_KEYRING_SERVICE": "hailuo-tui-bench",
        "MINIMAX_API_KEY": "bench-key",
        "PYTHONPATH": str(ROOT),  # this checkout's package, whatever the venv's editable install points at
    })
    return (f"exec {shlex.quote(sys.executable)} -m hailuo_tui --backend api "
            f"--api-base-url {shlex.quote(fake.url)}")


HAILUO = Client("hailuo-tui", _hailuo, ready="Message", keyring=True)


def measure(client: Client, rate: float | None, reasoning: bool = False) -> dict:
    """One streaming run of ``client``: ``rate`` events/s (``None``: burst). Returns the figures (s, MB)."""
    with tempfile.TemporaryDirectory(prefix="hailuo-bench-", ignore_cleanup_errors=True) as tmp:
        tmpdir = Path(tmp)
        home = tmpdir / "home"
        home.mkdir()
        (tmpdir / "run").mkdir(mode=0o700)
        pidfile = tmpdir / "app.pid"
        fake = FakeServer(rate, reasoning)
        term = ts.Tmux()
        try:
            env = {
                "TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
                "XDG_CACHE_HOME": str(home / "cache"), "XDG_STATE_HOME": str(home / "state"),
                "XDG_RUNTIME_DIR": str(tmpdir / "run"), **client.extra_env,
            }
            app = client.prepare(fake, tmpdir, env)
            app = f"echo $$ > {shlex.quote(str(pidfile))} && {app}"
            if client.keyring:
                app = ts._keyring_wrapper(app)
            # The app draws on the pane; after it exits the pane shows its exit status for close().
            term.start(f"cd {shlex.quote(str(ROOT))} && {app}; echo EXITED rc=$?; sleep 30", env)
            term.wait_for(client.ready, START_TIMEOUT)
            pid = int(pidfile.read_text().strip())
            server_pid = int(term.command("display-message -p '#{pid}'")[0])
            ts.wait_idle(pid)
            term.command(f"send-keys -t {term.session} -l {shlex.quote(PROMPT)}")
            term.wait_for(PROMPT, 10.0)
            ts.wait_idle(pid, quiet=0.2, timeout=3.0)

            cpu0, server0 = ts.cpu_seconds(pid), ts.cpu_seconds(server_pid)
            t_enter = time.monotonic()
            term.command(f"send-keys -t {term.session} {client.send_key}")
            first_seen = thinking_seen = last_seen = None
            polls = 0
            screen = ""
            sent_all = False
            next_check = next_key = 0.0
            end_keys_pressed = 0
            deadline = t_enter + client.stream_timeout
            while last_seen is None:
                screen = term.screen()
                now = time.monotonic()
                polls += 1
                if reasoning and thinking_seen is None and THINKING_TEXT in screen:
                    thinking_seen = now
                if first_seen is None and FIRST_RE.search(screen):
                    first_seen = now
                if LAST_LINE in screen:
                    last_seen = now
                    break
                if client.end_keys and now >= next_key:
                    if not sent_all and now >= next_check:
                        sent_all, next_check = fake.sent_all(), now + 0.1
                    if sent_all:
                        keys = client.end_keys if not end_keys_pressed else client.end_keys[-1:]
                        term.command(f"send-keys -t {term.session} {' '.join(keys)}")
                        end_keys_pressed += 1
                        next_key = now + END_KEY_PERIOD
                if now > deadline:
                    raise TimeoutError(f"{client.name}: the last line never showed; the screen:\n{screen}")
                time.sleep(max(0.0, ts.POLL - (time.monotonic() - now)))
            cpu = ts.cpu_seconds(pid) - cpu0
            server_cpu = ts.cpu_seconds(server_pid) - server0
            peak_rss_mb = ts.status_kb(pid, "VmHWM") / 1024

            report = fake.report()
            sent, thought = report["times"]["answer"], report["times"]["reasoning"]
            if len(sent) != EVENTS or (reasoning and len(thought) != REASONING_EVENTS):
                raise RuntimeError(f"{client.name}: the fake sent {len(sent)} answer and {len(thought)} reasoning "
                                   f"events, not {EVENTS} and {REASONING_EVENTS if reasoning else 0}")
            all_sent = thought + sent
            result = {
                "first_text_s": (first_seen - sent[0]) if first_seen is not None else float("nan"),
                "lag_s": last_seen - sent[-1],
                "cpu_s": cpu,
                "peak_rss_mb": peak_rss_mb,
                "tmux_cpu_s": server_cpu,
                "fake_cpu_s": report["cpu_s"],
                "stream_s": all_sent[-1] - all_sent[0],
                "events_per_s": (len(all_sent) - 1) / max(1e-9, all_sent[-1] - all_sent[0]),
                "wall_s": last_seen - t_enter,
                "poll_ms": 1000 * (last_seen - t_enter) / max(1, polls),
                "reasoning_split": float(bool(report["request"].get("reasoning_split"))),
                "end_key_presses": float(end_keys_pressed),
                "screen": screen,
            }
            if reasoning:
                result["thinking_s"] = (thinking_seen - thought[0]) if thinking_seen is not None else float("nan")
            _quit(term, client)
            return result
        finally:
            term.close()
            fake.close()


def _quit(term: ts.Tmux, client: Client) -> None:
    """Ask the app to quit with its own key, so Tmux.close finds it exited instead of waiting."""
    try:
        term.command(f"send-keys -t {term.session} {client.quit_key}")
        term.wait_for("EXITED rc=", 8.0)
    except (OSError, RuntimeError, TimeoutError):
        pass


# -- tables --------------------------------------------------------------------------------------------


def spread(values: list[float], fmt: str) -> str:
    """``median [min–max]`` (just the value for one run)."""
    values = [v for v in values if v == v]  # NaN: not seen
    if not values:
        return "—"
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.median(values), fmt)} [{format(min(values), fmt)}–{format(max(values), fmt)}]"


def verdict(values: list[float], limit: float) -> str:
    """``✓`` when the median meets ``limit`` (≤), else ``✗``."""
    values = [v for v in values if v == v]
    if not values:
        return "✗"
    return "✓" if statistics.median(values) <= limit else "✗"


#: (key, label, format) of the rows the tables print.
TABLE_ROWS = [("cpu_s", "app CPU s", ".2f"), ("lag_s", "lag s", ".3f"), ("first_text_s", "first text s", ".3f"),
        ("thinking_s", "thinking s", ".3f"), ("peak_rss_mb", "peak RSS MB", ".0f"),
        ("tmux_cpu_s", "tmux CPU s", ".2f"), ("events_per_s", "events/s", ".0f")]


def mode_name(rate: float | None, reasoning: bool) -> str:
    return ("paced" if rate else "burst") + ("+reasoning" if reasoning else "")


def print_hailuo_table(results: dict[str, list[dict]]) -> None:
    """hailuo-tui's API backend per mode, each figure with issue 14's target and ✓/✗."""
    modes = list(results)
    width = 26
    print(f"{'figure':<14}" + "".join(f"{m:<{width + 4}}" for m in modes))
    for key, label, fmt in TABLE_ROWS:
        if not any(key in r for m in modes for r in results[m]):
            continue
        row = f"{label:<14}"
        for mode in modes:
            values = [r[key] for r in results[mode] if key in r]
            cell = spread(values, fmt) if values else "—"
            target = TARGETS[mode.split("+")[0]].get(key)
            if target is not None and values:
                cell += f" {verdict(values, target)}≤{target:g}"
            row += f"{cell:<{width + 4}}"
        print(row)
    print("✓/✗: the median against issue 14's target for hailuo-tui's API backend (paced ≤ 1.0 CPU-s, lag ≤ "
          "0.033 s; burst ≤ 0.3 CPU-s, lag ≤ 0.1 s; with and without reasoning; peak RSS ≤ 90 MB)")


def header(runs: int) -> None:
    print(f"machine: {ts.machine()}")
    import os

    print(f"load average before: {os.getloadavg()[0]:.2f} (other work on the cores skews every figure)")
    print(f"driver: tmux {ts.COLUMNS}x{ts.ROWS} (TERM=xterm-256color), the app in a fresh process against "
          f"bench/openai_fake.py on 127.0.0.1; screen read with capture-pane via a tmux control client, at most "
          f"every {ts.POLL * 1000:.0f} ms; medians of {runs} [min–max]")
    from stream_bubble import make_answer

    print(f"answer: {len(make_answer())} chars in {EVENTS} chat.completion.chunk deltas; +reasoning: "
          f"{REASONING_EVENTS} reasoning deltas first (reasoning_content + reasoning_details)\n")


def run_modes(runs: int, modes: list[tuple[float | None, bool]], show_screen: bool = False) -> dict[str, list[dict]]:
    """hailuo-tui alone, ``runs`` rounds over ``modes`` (interleaved: a round visits every mode once)."""
    results: dict[str, list[dict]] = {mode_name(r, z): [] for r, z in modes}
    for i in range(runs):
        for rate, reasoning in modes:
            name = mode_name(rate, reasoning)
            result = measure(HAILUO, rate, reasoning)
            screen = result.pop("screen")
            results[name].append(result)
            print(f"{name} run {i + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items()), flush=True)
            if show_screen:
                print(screen)
    return results


def _child_cpu(argv: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of one child process run to its end, output discarded."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=STREAM_TIMEOUT,
                   check=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ingest_floor(rate: float | None) -> dict:
    """What taking the answer off the socket costs without drawing: ``hailuo-tui ask`` (text to /dev/null)
    on the same fake, and the part of that which is its start (the same imports, nothing asked)."""
    import os

    fake = FakeServer(rate)
    try:
        with tempfile.TemporaryDirectory(prefix="hailuo-bench-") as home:
            env = {**os.environ, "HOME": home, "XDG_CONFIG_HOME": home, "XDG_DATA_HOME": home,
                   "XDG_CACHE_HOME": home, "HAILUO_TUI_CONFIG": "", "MINIMAX_API_KEY": "bench-key",
                   "PYTHONPATH": str(ROOT)}
            ask = _child_cpu([sys.executable, "-m", "hailuo_tui", "ask", "--backend", "api", "--api-base-url",
                              fake.url, PROMPT], env)
            start = _child_cpu([sys.executable, "-c", "import hailuo_tui.cli, hailuo_tui.cli_api, "
                                "hailuo_tui.provider.minimax, aiohttp"], env)
    finally:
        fake.close()
    return {"ask_cpu_s": ask, "start_cpu_s": start, "ingest_cpu_s": ask - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--only", choices=("paced", "burst"), help="one rate only")
    parser.add_argument("--no-reasoning", action="store_true", help="without the reasoning runs")
    parser.add_argument("--show-screen", action="store_true", help="print the final screen of each run")
    parser.add_argument("--floor", action="store_true",
                        help="only the floor: `hailuo-tui ask` taking the same stream without drawing")
    args = parser.parse_args()
    if args.floor:
        print(f"machine: {ts.machine()}")
        for rate in (PACED_RATE, None):
            runs = [ingest_floor(rate) for _ in range(args.runs)]
            figures = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
            print(f"floor, {'paced' if rate else 'burst'} (`hailuo-tui ask`, medians of {args.runs}): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()))
        return
    header(args.runs)
    modes = [(rate, reasoning) for rate in (PACED_RATE, None) for reasoning in (False, True)
             if args.only in (None, "paced" if rate else "burst") and not (reasoning and args.no_reasoning)]
    results = run_modes(args.runs, modes, args.show_screen)
    print()
    print_hailuo_table(results)
    print("elia and oterm beside these figures, from the same kind of run: bench/run.py --only anchors "
          "(bench/anchors.py)")


if __name__ == "__main__":
    main()
