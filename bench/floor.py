"""Cold start beside Textual's floor: a bare Textual app and hailuo-tui, started alternately in one run.

Usage: .venv/bin/python bench/floor.py [--runs N]

* The floor: ``python bench/floor.py --bare-app``, a Textual app of a Header, an empty widget, an Input (with
  a placeholder, focused) and a Footer; nothing else imported.
* The shaped floor: ``python bench/floor.py --shaped-app``, stock Textual widgets in the chat screen's shape
  (Header; a sidebar of an Input and an OptionList of 40 rows; a VerticalScroll with a welcome text; a
  TextArea with a placeholder, focused; a status row of three Statics; a Footer), nothing else
  imported: what Textual itself costs for that screen, without a store, a backend or any of hailuo-tui's code.
* hailuo-tui: the ``hailuo-tui`` console script, empty and with app_scale.py's generated history (10,000
  conversations, 200,000 messages), logged in through the bench keyring on the emulator (app_scale.AppRun).
* Each start is a fresh process in tmux 100x40 (app_scale.Term); the time runs from just before tmux
  respawns the pane to the first capture showing a usable frame: for the floor, the Input's placeholder
  with its focused border; for hailuo-tui, app_scale's test (the sidebar filled, the prompt focused).
  The four are started in turn after one uncounted warm-up start (floor, shaped, empty, 10k, floor, …) so drift in
  the load hits all alike, each after a second of rest (the last start's exit and clean-up done).
* Printed: medians [min–max], and the gap to the floor, each against issue 14's targets (≤ 0.22 s to the
  first usable frame, ≤ 0.05 s above the floor).

Never run as a test.
"""

from __future__ import annotations

import sys

PLACEHOLDER = "Floor prompt"


def bare_app() -> None:
    """The floor itself: imports nothing but Textual."""
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Input, Static

    class Floor(App):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("", id="body")
            yield Input(placeholder=PLACEHOLDER)
            yield Footer()

        def on_mount(self) -> None:
            self.query_one(Input).focus()

    Floor().run()


SHAPED_PLACEHOLDER = "Shaped prompt"


def shaped_app() -> None:
    """Textual's cost for the chat screen's shape, in stock widgets: imports nothing but Textual."""
    from textual.app import App, ComposeResult
    from textual.containers import Horizontal, Vertical, VerticalScroll
    from textual.widgets import Footer, Header, Input, OptionList, Static, TextArea

    class Shaped(App):
        CSS = """
        #sidebar { width: 32; }
        #status { height: 1; }
        #status Static { width: 1fr; }
        TextArea { height: 5; }
        """
        BINDINGS = [("ctrl+q", "quit", "Quit"), ("ctrl+n", "bell", "New"), ("ctrl+l", "bell", "Sidebar"),
                    ("ctrl+m", "bell", "Model"), ("ctrl+t", "bell", "Theme"), ("f1", "bell", "Help")]

        def compose(self) -> ComposeResult:
            yield Header(icon="◆")
            with Horizontal():
                with Vertical(id="sidebar"):
                    yield Input(placeholder="Search conversations…")
                    yield OptionList(*(f"Conversation {i}" for i in range(40)))
                with Vertical():
                    with VerticalScroll():
                        yield Static("Ask anything. Try one of these:\n\n  Plan a trip to Xi'an\n  Explain a regex")
                    yield TextArea(placeholder=SHAPED_PLACEHOLDER)
            with Horizontal(id="status"):
                yield Static("model")
                yield Static("logged in")
                yield Static("ready")
            yield Footer()

        def on_mount(self) -> None:
            self.query_one(TextArea).focus()

    Shaped().run()


if __name__ == "__main__" and sys.argv[1:2] == ["--bare-app"]:
    bare_app()
    raise SystemExit(0)
if __name__ == "__main__" and sys.argv[1:2] == ["--shaped-app"]:
    shaped_app()
    raise SystemExit(0)

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import app_scale  # noqa: E402
from terminal_stream import status_kb  # noqa: E402

TARGET_FRAME_S = 0.22
#: Seconds of rest before each start.
SETTLE_S = 1.0
TARGET_GAP_S = 0.05


def floor_start(idle_windows: tuple[float, ...] = (), shaped: bool = False) -> dict:
    """One cold start of the bare app (``shaped``: the shaped one): seconds to the focused prompt, and its peak
    RSS; with ``idle_windows``, then its CPU (% of a core) over each window in turn, from 1 s after that frame."""
    placeholder = SHAPED_PLACEHOLDER if shaped else PLACEHOLDER
    root = Path(app_scale.tempfile.mkdtemp(prefix="hailuo-bench-floor-"))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), "TERM": "tmux-256color",
           "COLORTERM": "truecolor", "LANG": "C.UTF-8"}
    term = app_scale.Term()
    try:
        t0 = term.start([sys.executable, str(Path(__file__).resolve()),
                         "--shaped-app" if shaped else "--bare-app"], env)
        pid = term.pid()

        drawn: list[float] = []

        def focused(text: str) -> bool:
            if not drawn and placeholder in text:
                drawn.append(time.perf_counter())
            lines = term._tmux("capture-pane", "-p", "-e", "-t", term.target).splitlines()
            # The placeholder's first character carries the cursor (its own SGR): match from the second.
            return any(placeholder[1:] in line and i and app_scale.FOCUS_SGR in lines[i - 1]
                       for i, line in enumerate(lines))

        t_frame, _ = term.wait(focused, what="the bare app's focused prompt")
        rss = status_kb(pid, "VmHWM") / 1024
        idle = app_scale.idle_windows(pid, idle_windows) if idle_windows else []
        term.send("C-q")
        time.sleep(0.2)
        return {"frame_s": t_frame - t0, "drawn_s": (drawn[0] if drawn else t_frame) - t0, "rss_mb": rss,
                "idle_cpu_pct": idle}
    finally:
        term.close()
        app_scale.shutil.rmtree(root, ignore_errors=True)


def hailuo_start(history: bool, emu: app_scale.Emu) -> dict:
    run = app_scale.AppRun(history=history, emu=emu)
    try:
        run.start()
        result = app_scale._started(run, history)
        result["rss_mb"] = run.rss_mb()
        return result
    finally:
        run.close()


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} [{min(values):.3f}–{max(values):.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="starts of each (default 5)")
    args = parser.parse_args()
    print(f"machine: {app_scale.machine()}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (other work on the cores skews every figure)")
    print(f"tmux {app_scale.WIDTH}x{app_scale.HEIGHT}, a fresh process per start; time from respawn-pane to the "
          f"first capture showing a usable frame (polled every {app_scale.POLL * 1000:.0f} ms); floor, shaped, empty and "
          f"10k started in turn, medians of {args.runs} [min–max]\n")
    app_scale.history_db()  # build the cache outside any timing
    emu = app_scale.Emu()
    results: dict[str, list[dict]] = {"floor": [], "shaped": [], "empty": [], "10k": []}
    try:
        # warm-up, not counted: the first start reads cold files
        floor_start(), floor_start(shaped=True), hailuo_start(False, emu)
        for _ in range(args.runs):
            for name, start in (("floor", floor_start), ("shaped", lambda: floor_start(shaped=True)),
                                ("empty", lambda: hailuo_start(False, emu)), ("10k", lambda: hailuo_start(True, emu))):
                # A pause first: the last start's exit and its 221 MB history's removal no longer overlap
                # this one (the bare floor, started after the 10k one, came out slower than the shaped one).
                time.sleep(SETTLE_S)
                results[name].append(start())
    finally:
        emu.stop()
    floor = statistics.median(r["frame_s"] for r in results["floor"])
    print(f"{'start':<24}{'first usable frame s':<28}{'gap to floor s':<40}{'peak RSS MB':<14}targets")
    for name, label in (("floor", "bare Textual (floor)"), ("shaped", "Textual, chat's shape"),
                        ("empty", "hailuo-tui, empty"), ("10k", "hailuo-tui, 10k convs")):
        frames = [r["frame_s"] for r in results[name]]
        rss = statistics.median(r["rss_mb"] for r in results[name])
        if name == "floor":
            drawn = [r["drawn_s"] for r in results[name]]
            print(f"{label:<24}{_spread(frames):<28}{'—':<40}{rss:<14.0f}"
                  f"(its Input first drawn, focus colour or not: {_spread(drawn)})")
            continue
        frame = statistics.median(frames)
        gap = frame - floor
        # Paired gaps (each start minus the floor start of its own round) show how much of it is drift.
        paired = [r["frame_s"] - f["frame_s"] for r, f in zip(results[name], results["floor"])]
        if name == "shaped":
            marks = "(stock widgets in the chat screen's shape: Textual's own cost of that screen)"
        else:
            shaped = statistics.median(r["frame_s"] for r in results["shaped"])
            marks = (f"frame {'✓' if frame <= TARGET_FRAME_S else '✗'}≤{TARGET_FRAME_S:g}, "
                     f"gap {'✓' if gap <= TARGET_GAP_S else '✗'}≤{TARGET_GAP_S:g}; "
                     f"{frame - shaped:+.3f} beside the shaped floor")
        print(f"{label:<24}{_spread(frames):<28}{f'{gap:+.3f} (paired {_spread(paired)})':<40}{rss:<14.0f}{marks}")


if __name__ == "__main__":
    main()
