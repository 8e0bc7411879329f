"""hailuo-tui at scale: the real app, started as ``hailuo-tui`` starts it, in a real terminal.

Usage: .venv/bin/python bench/app_scale.py [--quick] [CASE ...]

Issue 5 numbering:
  2. cold start to the first usable frame (sidebar drawn, prompt focused), from
     process start (interpreter + imports included): empty, and with a generated
     history of 10,000 conversations / 200,000 messages.
  3. opening a 2,000-message conversation (Enter on it in the sidebar -> its last
     message drawn), then scrolling to its top (Home, again and again, while the
     view loads older messages -> the first message drawn).
  4. sidebar search over the 10,000 conversations, per keystroke (key sent ->
     the sidebar shows that query's result).
  5. idle CPU over 10 s after start (utime+stime of the app process).
  soak-500 (issue 14): 500 answers in one run, then RSS and key-to-frame times
     (bench/soak.py; headless, in-process).

Driver: tmux (a real terminal, 100x40) on a private socket; the app is the
``hailuo-tui`` console script in a fresh process. Screens are read with
``tmux capture-pane`` polled every ~5 ms, so a figure is late by up to one poll
(plus the tmux round trip, ~2 ms). The login comes from the keyring, as for a
real user: a stand-in backend (bench/bench_keyring.py) hands the app an
emulator's demo login through an environment variable, so no Secret Service
(and no D-Bus round trip) is involved. The ``demo`` rows run ``hailuo-tui
--demo`` instead (emulator started in the app, login over HTTP before the
chat screen).

The history is written by the real store (schema and FTS as ChatStore writes
them) into a SQLite file cached under $XDG_CACHE_HOME/hailuo-tui-bench (or
~/.cache), keyed by the schema and generator versions; each run gets a fresh
copy in a temp dir. Never run as a test.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

#: Bump when the generated history changes.
GENERATOR_VERSION = 2
CONVERSATIONS = 10_000
MESSAGES = 200_000
BIG = 2_000
#: The big conversation is the second newest; the newest is a normal one (opened at start).
BIG_ID = CONVERSATIONS - 1
FIRST_MARK = "FIRSTMSG-of-the-long-one"
LAST_MARK = "LASTMSG-of-the-long-one"
WIDTH, HEIGHT = 100, 40
POLL = 0.005
TMUX = shutil.which("tmux") or "tmux"
APP = str(Path(sys.executable).with_name("hailuo-tui"))


def machine() -> str:
    from run import machine as run_machine

    return run_machine()


# -- the generated history -----------------------------------------------------------

_WORDS = (
    "travel plan kyoto osaka budget python script error stack trace refactor database index query "
    "recipe dinner garden tomato weather forecast meeting notes summary email draft invoice tax "
    "holiday train ticket museum history dynasty emperor poem translate chinese english grammar "
    "function class async await thread lock memory leak benchmark latency throughput cache layer "
    "server client protocol header token signature stream event parser decoder buffer window "
    "layout widget render frame terminal cursor scroll sidebar search keystroke result option "
    "marathon training running shoes knee stretch yoga breakfast coffee tea green oolong "
    "piano chord melody guitar jazz scale practice routine morning evening weekend project"
).split()
_CJK = ["西安旅行计划", "兵马俑", "大雁塔", "回民街", "肉夹馍", "机器学习", "数据库索引", "周末爬山", "学习中文", "写一首诗"]


_SYLLABLES = "ka ro mi te su na lo ve di pa sho ren ta gu fe bi zo cha lun mar".split()


def _vocabulary() -> tuple[list[str], list[float]]:
    """Common words plus 6,000 made-up ones with Zipf-like weights: a long tail, so a search narrows as you type."""
    rng = random.Random(11)
    made: set[str] = set()
    while len(made) < 6000:
        made.add("".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))))
    words = _WORDS + sorted(made)
    rng.shuffle(words)
    weights = [1 / (rank + 10) for rank in range(len(words))]
    total, cum = 0.0, []
    for weight in weights:
        total += weight
        cum.append(total)
    return words, cum


_VOCAB, _CUM = _vocabulary()


def _sentence(rng: random.Random, n: int) -> str:
    words = rng.choices(_VOCAB, cum_weights=_CUM, k=n)
    return " ".join(words).capitalize() + "."


def _user_text(rng: random.Random) -> str:
    text = _sentence(rng, rng.randint(5, 18))
    if rng.random() < 0.15:
        text += " " + rng.choice(_CJK)
    return text


def _answer_text(rng: random.Random) -> str:
    parts = [_sentence(rng, rng.randint(10, 25))]
    shape = rng.random()
    if shape < 0.3:
        parts.append("\n".join(f"- **{rng.choice(_VOCAB)}**: {_sentence(rng, rng.randint(4, 10))}" for _ in range(rng.randint(2, 5))))
    elif shape < 0.45:
        name = rng.choice(_WORDS)
        parts.append(f"```python\ndef {name}(x):\n    return x * {rng.randint(2, 9)}\n\nprint({name}(21))\n```")
    elif shape < 0.55:
        parts.append("| item | cost |\n| --- | --- |\n" + "\n".join(f"| {rng.choice(_WORDS)} | {rng.randint(5, 500)} |" for _ in range(3)))
    elif shape < 0.65:
        parts.append(rng.choice(_CJK) + "：" + "，".join(rng.choices(_CJK, k=3)) + "。")
    parts.append(_sentence(rng, rng.randint(8, 20)))
    return "\n\n".join(parts)


def _title(rng: random.Random, i: int) -> str:
    if rng.random() < 0.1:
        return rng.choice(_CJK) + f" {i}"
    return " ".join(w.capitalize() for w in rng.choices(_VOCAB, cum_weights=_CUM, k=rng.randint(2, 5)))


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hailuo-tui-bench"


def history_db() -> Path:
    """The cached generated history (10,000 conversations, 200,000 messages); built once."""
    from hailuo_tui.store.migrations import SCHEMA_VERSION

    path = cache_dir() / f"history-s{SCHEMA_VERSION}-g{GENERATOR_VERSION}-{CONVERSATIONS}-{MESSAGES}.sqlite3"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)
        t0 = time.perf_counter()
        generate(tmp)
        os.replace(tmp, path)
        print(f"(generated {path} in {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return path


def generate(path: Path, seed: int = 5) -> None:
    """Write the history through the store's own connection: one transaction, bulk inserts.

    The same rows and FTS entries as ChatStore.create_conversation/add_message write
    (contentless ``messages_fts`` with ``fts_text`` bodies, ``titles_fts`` titles,
    ``message_count``, ``updated_at`` and the tree: each message after the previous one, the last the leaf),
    only much faster.
    """
    from hailuo_tui.store import ChatStore
    from hailuo_tui.store.fts import fts_text

    rng = random.Random(seed)
    store = ChatStore(path)
    conn = store._conn
    now = time.time()
    span = 2 * 365 * 86400  # two years of history
    pairs_left = (MESSAGES - BIG) // 2
    others = CONVERSATIONS - 1
    extra = pairs_left - others * 9  # this many normal conversations get 10 pairs, the rest 9
    tens = set(rng.sample([i for i in range(1, CONVERSATIONS + 1) if i != BIG_ID], extra))
    conn.execute("BEGIN IMMEDIATE")
    mid = 0
    conv_rows, title_rows, msg_rows, fts_rows = [], [], [], []

    def flush() -> None:
        conn.executemany(
            "INSERT INTO conversations (id, title, created_at, updated_at, message_count, chat_id, token_fp, leaf_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            conv_rows,
        )
        conn.executemany("INSERT INTO titles_fts (rowid, title) VALUES (?, ?)", title_rows)
        conn.executemany(
            "INSERT INTO messages (id, conversation_id, role, content, status, error, created_at, updated_at, "
            "parent_id) VALUES (?, ?, ?, ?, 'complete', NULL, ?, ?, ?)",
            msg_rows,
        )
        conn.executemany("INSERT INTO messages_fts (rowid, body) VALUES (?, ?)", fts_rows)
        for rows in (conv_rows, title_rows, msg_rows, fts_rows):
            rows.clear()

    for cid in range(1, CONVERSATIONS + 1):
        count = BIG if cid == BIG_ID else (20 if cid in tens else 18)
        # conversation i's last activity: older ids are older; the newest is id CONVERSATIONS
        end = now - (CONVERSATIONS - cid) * (span / CONVERSATIONS) - 60
        start = end - count * 30
        title = _title(rng, cid)
        # one branch: each message follows the previous one, the last is the leaf
        conv_rows.append((cid, title, start, end, count, None, None, mid + count))
        title_rows.append((cid, fts_text(title)))
        for k in range(count):
            mid += 1
            role = "user" if k % 2 == 0 else "assistant"
            text = _user_text(rng) if role == "user" else _answer_text(rng)
            if cid == BIG_ID:
                text = f"#{k + 1} " + text
                if k == 0:
                    text = FIRST_MARK + " " + text
                elif k == count - 1:
                    text = text + "\n\n" + LAST_MARK
            at = start + k * 30
            msg_rows.append((mid, cid, role, text, at, at, mid - 1 if k else None))
            fts_rows.append((mid, fts_text(text)))
        if len(msg_rows) >= 20_000:
            flush()
    flush()
    conn.execute("COMMIT")
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == MESSAGES
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA optimize")
    store.close()


# -- the terminal ------------------------------------------------------------------------


class Term:
    """One tmux session on a private socket, 100x40, running one command."""

    def __init__(self) -> None:
        self.socket = f"hailuo-bench-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        self.target = "bench"
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s", self.target, "-x", str(WIDTH), "-y", str(HEIGHT),
                   "sleep", "3600")
        self._tmux("set-option", "-g", "remain-on-exit", "on")
        self._tmux("set-option", "-g", "status", "off")
        self._tmux("resize-window", "-t", self.target, "-x", str(WIDTH), "-y", str(HEIGHT))

    def _tmux(self, *args: str) -> str:
        return subprocess.run([TMUX, "-L", self.socket, *args], check=True, capture_output=True, text=True).stdout

    def start(self, argv: list[str], env: dict[str, str]) -> float:
        """Start ``argv`` in the pane (replacing the placeholder); returns the time just before."""
        command = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]
        t0 = time.perf_counter()
        self._tmux("respawn-pane", "-k", "-t", self.target, *command)
        return t0

    def pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", self.target, "#{pane_pid}").strip())

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.target)

    def send(self, *keys: str) -> float:
        t0 = time.perf_counter()
        self._tmux("send-keys", "-t", self.target, *keys)
        return t0

    def wait(self, predicate, timeout: float = 30.0, what: str = "the screen") -> tuple[float, str]:
        """Poll the screen until ``predicate(text)``; returns (time seen, text)."""
        deadline = time.perf_counter() + timeout
        while True:
            text = self.screen()
            now = time.perf_counter()
            if predicate(text):
                return now, text
            if now > deadline:
                raise TimeoutError(f"timed out waiting for {what}; screen:\n{text}")
            time.sleep(POLL)

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True)


# -- the app under test ------------------------------------------------------------------

FOCUS_SGR = "38;2;1;120;212m"  # textual-dark's focused border colour (the prompt's, once focused)


class Emu:
    """The emulator on 127.0.0.1 in a thread, and a login registered on it (kept in memory)."""

    def __init__(self) -> None:
        import asyncio
        import threading

        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

        async def start():
            from hailuo_tui.emulator import Emulator, EmulatorConfig
            from hailuo_tui.provider.login import token_login

            emulator = Emulator(EmulatorConfig(seed=3))
            await emulator.start()
            auth = await token_login(emulator.demo_token, emulator.url)
            return emulator, auth

        self.emulator, auth = asyncio.run_coroutine_threadsafe(start(), self._loop).result(30)
        self.url = self.emulator.url
        self.auth_json = auth.to_json()

    def stop(self) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self.emulator.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)


def record_checked(db: Path) -> None:
    """Check ``db`` and record it sound, as a session that checked it does when it closes it (a checkout
    without the record, an older one measured in a worktree, checks at every start: nothing to do)."""
    from hailuo_tui.store.db import ChatStore

    store = ChatStore(db)
    try:
        if getattr(store, "needs_check", False):
            assert store.check_beside() is None, f"{db} is damaged"
    finally:
        store.close()


class AppRun:
    """``hailuo-tui`` in a fresh process in tmux, with its own HOME/XDG dirs.

    ``history``: copy the generated history in first; ``recorded``: then check it and record it sound as a
    session closing it does (hailuo_tui/store/check_record.py), so the start is a day's usual one, not the first
    start on a file put in place. ``demo``: ``hailuo-tui --demo`` (its own emulator); otherwise logged in
    through the bench keyring, on ``emu``.
    """

    def __init__(self, *, history: bool, demo: bool = False, emu: Emu | None = None,
                 extra_env: dict[str, str] | None = None, recorded: bool = False) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="hailuo-bench-"))
        data = self.root / "data" / "hailuo-tui"
        db = data / "demo" / "demo.sqlite3" if demo else data / "hailuo.sqlite3"
        self.db = db
        if history:
            db.parent.mkdir(parents=True, mode=0o700)
            shutil.copyfile(history_db(), db)
            os.chmod(db, 0o600)
            # Written back now, so that the kernel's writeback of 221 MB of fresh dirty pages cannot overlap
            # the timed start on the 2 cores (no effect on the medians was shown: the starts vary more).
            fd = os.open(db, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            if recorded:
                record_checked(db)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_CACHE_HOME": str(self.root / "cache"),
            "TERM": "tmux-256color",
            "COLORTERM": "truecolor",
            "LANG": "C.UTF-8",
            # This checkout's package, not the one the venv installed (a worktree of older code measures itself).
            "PYTHONPATH": str(ROOT),
        }
        self.argv = [APP]
        if demo:
            self.argv.append("--demo")
        else:
            assert emu is not None
            self.env.update({
                "PYTHONPATH": os.pathsep.join((str(HERE), str(ROOT))),
                "PYTHON_KEYRING_BACKEND": "bench_keyring.EnvKeyring",
                "HAILUO_BENCH_AUTH": emu.auth_json,
            })
            self.argv += ["--base-url", emu.url]
        self.env.update(extra_env or {})
        for name in ("HAILUO_TUI_IDLE_GC", "HAILUO_TUI_KEEP_FULL_MAP", "HAILUO_TUI_BARS_WITH_LAYOUT",
                     "HAILUO_TUI_READ_BATCH", "HAILUO_TUI_DEFER_GC",
                     "HAILUO_TUI_EARLY_STORE", "HAILUO_TUI_LAZY_LINES",
                     "HAILUO_TUI_CHECK_EVERY_START"):  # a technique's off switch, for comparison
            if name in os.environ:
                self.env[name] = os.environ[name]
        self.term = Term()
        self.t0 = 0.0
        self.pid = 0

    def start(self) -> float:
        self.t0 = self.term.start(self.argv, self.env)
        self.pid = self.term.pid()
        return self.t0

    def cpu(self) -> float:
        """utime + stime of the app process (all its threads), in seconds."""
        from terminal_stream import cpu_seconds

        return cpu_seconds(self.pid)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def focused_prompt(self) -> bool:
        """The prompt's top border is drawn in the focus colour."""
        lines = self.term._tmux("capture-pane", "-p", "-e", "-t", self.term.target).splitlines()
        for i, line in enumerate(lines):
            if "essage Hailuo" in line and i:
                return FOCUS_SGR in lines[i - 1].rsplit("▕", 1)[-1]
        return False

    def close(self) -> None:
        try:
            self.term.send("C-q")
            time.sleep(0.2)
        finally:
            self.term.close()
            shutil.rmtree(self.root, ignore_errors=True)


def _expected_start(history: bool) -> tuple[str, str | None]:
    """(the sidebar's border title, the newest conversation's title) for the history."""
    if not history:
        return "Conversations (0)", None
    import sqlite3

    conn = sqlite3.connect(history_db())
    (title,) = conn.execute("SELECT title FROM conversations ORDER BY updated_at DESC, id DESC LIMIT 1").fetchone()
    conn.close()
    return f"Conversations ({CONVERSATIONS})", title


def _started(run: AppRun, history: bool) -> dict:
    """Wait for the first usable frame, then for the opened conversation; times from process start."""
    border, newest = _expected_start(history)

    def sidebar(text: str) -> bool:
        if border not in text:
            return False
        return newest is None or newest[:20] in text

    t_side, _ = run.term.wait(sidebar, what="the sidebar")
    while not run.focused_prompt():
        time.sleep(POLL)
    t_frame = time.perf_counter()
    if newest is not None:
        t_open, _ = run.term.wait(lambda text: f"Hailuo — {newest[:20]}" in text, what="the newest conversation")
    else:
        t_open = t_frame
    return {"sidebar_s": t_side - run.t0, "frame_s": t_frame - run.t0, "opened_s": t_open - run.t0}


# -- 2. cold start --------------------------------------------------------------------------


def bench_start(history: bool, demo: bool = False, repeat: int = 5) -> dict:
    emu = None if demo else Emu()
    if history:
        history_db()
    results = []
    try:
        for _ in range(repeat):
            run = AppRun(history=history, demo=demo, emu=emu)
            try:
                run.start()
                results.append(_started(run, history))
                results[-1]["rss_mb"] = run.rss_mb()
            finally:
                run.close()
    finally:
        if emu is not None:
            emu.stop()
    out = {}
    for key in results[0]:
        values = sorted(r[key] for r in results)
        out[key] = values[len(values) // 2]
        if key == "frame_s":
            out["frame_min_s"], out["frame_max_s"] = values[0], values[-1]
    out["runs"] = repeat
    return out


# -- 5. idle CPU -------------------------------------------------------------------------------


def idle_windows(pid: int, windows: tuple[float, ...], delay: float = 1.0) -> list[float]:
    """CPU of ``pid`` (% of a core) over consecutive windows of the given seconds, after ``delay``."""
    from terminal_stream import cpu_seconds

    time.sleep(delay)
    figures = []
    for seconds in windows:
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        time.sleep(seconds)
        figures.append(100 * (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0))
    return figures


def bench_idle(seconds: float = 10.0) -> dict:
    """5: the app's CPU over 10 s from 1 s after its first usable frame (what start-up leaves running),
    then over the next 10 s (steady), beside a bare Textual app's (bench/floor.py's) over the same windows;
    on the history as a closed session left it (recorded sound: the usual start), and once more on a copy
    put in place (``first_start_idle_cpu_pct``: the file is checked, a 130 MB read, in the first window).
    On this VM Textual's input thread alone, waking 10 times a second to poll the terminal, costs about
    0.2 % of a core (189 us a wake-up)."""
    from floor import floor_start

    emu = Emu()
    figures = []
    try:
        for recorded in (True, False):
            run = AppRun(history=True, emu=emu, recorded=recorded)
            try:
                run.start()
                _started(run, True)
                figures.append(idle_windows(run.pid, (seconds, seconds)))
            finally:
                run.close()
    finally:
        emu.stop()
    floor_first, floor_steady = floor_start(idle_windows=(seconds, seconds))["idle_cpu_pct"]
    (first, steady), (unrecorded, _) = figures
    return {"idle_cpu_pct": first, "steady_cpu_pct": steady, "first_start_idle_cpu_pct": unrecorded,
            "floor_idle_cpu_pct": floor_first, "floor_steady_cpu_pct": floor_steady}


# -- 3 and 4: in-process, the real HailuoApp on Textual's headless driver ---------------------


async def _headless_app(root: Path, *, history: bool = True, emulator_config=None):
    """The real HailuoApp on a copy of the history (or an empty store), logged in (in-memory vault) on an
    emulator (``EmulatorConfig(seed=3)`` unless given)."""
    from hailuo_tui.app import HailuoApp
    from hailuo_tui.config import Config, Paths
    from hailuo_tui.emulator import Emulator, EmulatorConfig
    from hailuo_tui.provider.login import token_login
    from hailuo_tui.services import Options, Services
    from hailuo_tui.store.vault import TokenVault

    paths = Paths.under(root)
    paths.ensure()
    if history:
        shutil.copyfile(history_db(), paths.db_path)
    emulator = Emulator(emulator_config or EmulatorConfig(seed=3))
    await emulator.start()
    options = Options(base_url=emulator.url)
    services = Services(Config(base_url=emulator.url), paths, options, vault=TokenVault.in_memory())
    await services.vault.save(await token_login(emulator.demo_token, emulator.url))
    return HailuoApp(options, services=services), emulator


class Drawn:
    """Times of compositor refreshes (frames) of a screen, with a predicate checked at each."""

    def __init__(self, screen) -> None:
        self.screen = screen
        self.predicate = None
        self.seen: float | None = None
        original = screen._compositor_refresh

        def spy() -> None:
            original()
            if self.predicate is not None and self.seen is None and self.predicate():
                self.seen = time.perf_counter()

        screen._compositor_refresh = spy  # type: ignore[method-assign]

    def arm(self, predicate) -> None:
        self.predicate, self.seen = predicate, None

    def check(self) -> None:
        """Called once the screen is up to date (``call_after_refresh``): for a change that drew nothing."""
        if self.predicate is not None and self.seen is None and self.predicate():
            self.seen = time.perf_counter()

    async def wait(self, timeout: float = 30.0) -> float:
        import asyncio

        deadline = time.perf_counter() + timeout
        while self.seen is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("not drawn")
            await asyncio.sleep(0.001)
        return self.seen


@contextlib.asynccontextmanager
async def _running_app(*, size=(WIDTH, HEIGHT), settle: float = 0.2, message_hook=None, prefix: str = "hailuo-bench-",
                       **app_options):
    """The real HailuoApp of `_headless_app` (``app_options``) running headless at ``size``, from the moment its
    chat screen has loaded (and ``settle`` seconds more): yields (app, pilot); the emulator is stopped and the
    files are removed after."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    app, emulator = await _headless_app(root, **app_options)
    try:
        async with app.run_test(size=size, message_hook=message_hook) as pilot:
            deadline = time.monotonic() + 30
            while type(app.screen).__name__ != "ChatScreen" or not getattr(app.screen, "loaded", False):
                if time.monotonic() > deadline:
                    raise TimeoutError("the chat screen never loaded")
                await pilot.pause(0.01)
            await pilot.pause(settle)
            yield app, pilot
    finally:
        await emulator.stop()
        shutil.rmtree(root, ignore_errors=True)


def bench_open_scroll() -> dict:
    """3: open the 2,000-message conversation from the sidebar, then scroll to its top; beside it, Textual's own
    cost of the same pages in stock widgets (bench/paging_floor.py, in a process of its own, run first)."""
    import asyncio

    floor = subprocess.run([sys.executable, str(HERE / "paging_floor.py"), "--json"], capture_output=True, text=True,
                           cwd=ROOT, timeout=600)
    lines = floor.stdout.strip().splitlines()
    floor_figures = json.loads(lines[-1]) if floor.returncode == 0 and lines else {
        "floor_error": (floor.stderr or floor.stdout)[-300:]}

    async def run() -> dict:
        from hailuo_tui.widgets.chat_view import ChatView
        from hailuo_tui.widgets.conversation_list import ConversationList

        async with _running_app() as (app, pilot):
            screen = app.screen
            view, sidebar = screen.query_one(ChatView), screen.query_one(ConversationList)
            first_id, last_id = [
                r[0] for r in app.store.sync._conn.execute(
                    "SELECT min(id), max(id) FROM messages WHERE conversation_id = ?", (BIG_ID,))
            ][0], None
            last_id = app.store.sync._conn.execute(
                "SELECT max(id) FROM messages WHERE conversation_id = ?", (BIG_ID,)).fetchone()[0]
            drawn = Drawn(screen)
            await pilot.press("ctrl+l", "down")
            await pilot.pause(0.2)
            assert sidebar.highlighted_id == BIG_ID, sidebar.highlighted_id
            cpu0 = time.process_time()
            drawn.arm(lambda: (b := view.last_bubble()) is not None and b.message_id == last_id
                      and view.is_vertical_scroll_end)
            t0 = time.perf_counter()
            await pilot.press("enter")
            opened = await drawn.wait() - t0
            open_cpu = time.process_time() - cpu0
            mounted = len(view.bubbles)
            await pilot.pause(0.3)
            # Scroll to the top as Home does, again and again, without the scroll animation
            # (seconds at Textual's 50 lines/s); forced, so it works whatever keys the view takes.
            def home() -> None:
                app._idle_gc.activity()  # what the reader's key would tell the app: not a quiet moment
                view.scroll_to(y=0, animate=False, immediate=True, force=True)

            steps = nudged = 0
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            step_times = []
            while True:
                oldest = view.bubbles[0].message_id
                if oldest == first_id:
                    drawn.arm(lambda: view.scroll_y == 0)
                    home()
                    await drawn.wait()
                    break
                ts = time.perf_counter()
                # A page is there once it is drawn in place: the older bubbles mounted and laid out,
                # and the reader's place kept, in one frame.
                drawn.arm(lambda: view.bubbles[0].message_id < oldest and view.bubbles[0].virtual_region.height
                          and view.scroll_y > 0)
                if view.scroll_y == 0:  # the view did not keep its place: step off the top first
                    view.scroll_to(y=1, animate=False, immediate=True, force=True)
                    nudged += 1
                home()
                try:
                    seen = await drawn.wait(10)
                except TimeoutError:
                    raise TimeoutError(f"step {steps}: oldest {view.bubbles[0].message_id} (was {oldest}), "
                                       f"scroll_y {view.scroll_y}, held {view.held_count}") from None
                step_times.append(seen - ts)  # the frame's time, not when this loop woke up to see it
                steps += 1
                # The view moves back to where the reader was right after that frame (not timed).
                for _ in range(50):
                    if view.scroll_y > 0:
                        break
                    await pilot.pause(0.01)
            top = time.perf_counter() - t0
            scroll_cpu = time.process_time() - cpu0
            return {
                "open_s": opened, "open_cpu_s": open_cpu, "mounted": mounted,
                "top_s": top, "top_cpu_s": scroll_cpu, "pages": steps,
                "page_mean_s": sum(step_times) / max(len(step_times), 1),
                "page_median_s": statistics.median(step_times) if step_times else 0.0,
                "page_max_s": max(step_times, default=0.0),
                "bubbles_at_top": len(view.bubbles), "kept_place": steps - nudged, **floor_figures,
            }

    return asyncio.run(run())


def bench_cursor() -> dict:
    """Issue 14: the message cursor from the newest message of the 2,000-message conversation to its
    first, one ↑ at a time (F5 puts the cursor on the messages); key sent -> the cursor drawn on the
    next message. Pages of older messages are mounted on the way, ahead of the cursor."""
    import asyncio

    async def run() -> dict:
        from hailuo_tui.widgets.chat_view import ChatView
        from hailuo_tui.widgets.conversation_list import ConversationList

        async with _running_app() as (app, pilot):
            screen = app.screen
            view, sidebar = screen.query_one(ChatView), screen.query_one(ConversationList)
            first_id = app.store.sync._conn.execute(
                "SELECT min(id) FROM messages WHERE conversation_id = ?", (BIG_ID,)).fetchone()[0]
            await pilot.press("ctrl+l", "down")
            await pilot.pause(0.2)
            assert sidebar.highlighted_id == BIG_ID, sidebar.highlighted_id
            await pilot.press("enter")
            for _ in range(500):
                if view.bubbles and view.is_vertical_scroll_end:
                    break
                await pilot.pause(0.01)
            await pilot.press("f5")
            await pilot.pause(0.3)
            drawn = Drawn(screen)
            times = []
            cpu0 = time.process_time()
            t_all = time.perf_counter()
            for _ in range(BIG + 10):
                current = view.cursor_message
                if current is not None and current.id == first_id:
                    break
                current_id = current.id if current is not None else None
                drawn.arm(lambda: view.cursor_message is not None and view.cursor_message.id != current_id)
                t0 = time.perf_counter()
                await pilot.press("up")
                try:
                    times.append(await drawn.wait(10) - t0)
                except TimeoutError:
                    raise TimeoutError(f"key {len(times)}: the cursor stayed on {current_id}") from None
            else:
                raise AssertionError("the cursor did not reach the first message")
            return {
                "keys": len(times), "all_s": time.perf_counter() - t_all, "cpu_s": time.process_time() - cpu0,
                "key_mean_s": sum(times) / len(times), "key_max_s": max(times),
                "keys_over_50ms": sum(t > 0.05 for t in times),
            }

    return asyncio.run(run())


SEARCH_QUERY = "marzosuren"


def bench_search(query: str = SEARCH_QUERY) -> dict:
    """4: type a query into the sidebar search, one key at a time; key sent -> the list drawn."""
    import asyncio

    async def run() -> dict:
        from hailuo_tui.screens.chat_screen import SIDEBAR_PAGE
        from hailuo_tui.widgets.conversation_list import ConversationList

        async with _running_app() as (app, pilot):
            screen = app.screen
            sidebar = screen.query_one(ConversationList)
            store = app.store.sync
            drawn = Drawn(screen)
            applied: list[str] = []  # the queries the sidebar was refreshed for, in order
            original = screen.refresh_sidebar
            search_box = screen.query_one("#search")

            async def spy():
                query_now = search_box.value.strip()
                rows = await original()
                applied.append(query_now)
                # When the list already showed this result (a key that did not change the
                # matches), nothing is redrawn: the sidebar is up to date once the screen is.
                screen.call_after_refresh(drawn.check)
                return rows

            screen.refresh_sidebar = spy
            await pilot.press("ctrl+f")
            await pilot.pause(0.1)
            per_key = []
            for i in range(1, len(query) + 1):
                expected = [r.id for r in store.search(query[:i], limit=SIDEBAR_PAGE)]
                label = f"Matches ({len(expected)})"
                want = query[:i]
                drawn.arm(lambda: applied and applied[-1] == want and sidebar.item_ids() == expected
                          and str(sidebar.border_title).startswith(label))
                t0 = time.perf_counter()
                await pilot.press(query[i - 1])
                per_key.append((query[:i], len(expected), await drawn.wait() - t0))
                await pilot.pause(0.3)  # a typing pause: each keystroke is measured on its own
            # and one fast burst (10 keys/s would be quick typing; this is 30 keys/s)
            await pilot.press("escape")
            drawn.arm(lambda: str(sidebar.border_title).startswith("Conversations"))
            await drawn.wait()
            expected = [r.id for r in store.search(query, limit=SIDEBAR_PAGE)]
            drawn.arm(lambda: applied and applied[-1] == query and sidebar.item_ids() == expected)
            from textual import events

            t0 = time.perf_counter()
            for n, ch in enumerate(query):  # keys as a terminal sends them, 30 a second
                if n:
                    await asyncio.sleep(1 / 30)
                last_key = time.perf_counter()
                app.post_message(events.Key(ch, ch))
            burst_lag = await drawn.wait() - last_key
            times = [t for _, _, t in per_key]
            return {
                "key_mean_s": sum(times) / len(times), "key_max_s": max(times),
                "first_key_s": times[0], "burst_lag_s": burst_lag,
                "keys": " ".join(f"{q}:{n}:{t * 1000:.0f}ms" for q, n, t in per_key),
            }

    return asyncio.run(run())


def bench_soak(answers: int) -> dict:
    """Issue 14's long session: ``answers`` answers in one run, then RSS and key-to-frame times (bench/soak.py)."""
    import asyncio

    from soak import run

    return asyncio.run(run(answers))


# -- driver ------------------------------------------------------------------------------------

CASES = {
    "start-empty": lambda quick: bench_start(False, repeat=3 if quick else 7),
    "start-10k": lambda quick: bench_start(True, repeat=3 if quick else 7),
    "start-demo-empty": lambda quick: bench_start(False, demo=True, repeat=3 if quick else 5),
    "open-2000+top": lambda quick: bench_open_scroll(),
    "cursor-2000": lambda quick: bench_cursor(),
    "search-10k": lambda quick: bench_search(),
    "idle-cpu-10s": lambda quick: bench_idle(),
    "soak-500": lambda quick: bench_soak(100 if quick else 500),
}
TARGETS = {
    "start-empty": ("frame_s", 0.22),
    "start-10k": ("frame_s", 0.22),
    "open-2000+top": ("page_max_s", 0.05),
    "cursor-2000": ("key_max_s", 0.05),
    "search-10k": ("key_max_s", 0.05),
    "idle-cpu-10s": ("idle_cpu_pct", 0.2),
    "soak-500": ("rss_end_mb", 120),
}


def child(name: str, quick: bool) -> None:
    if os.environ.get("HAILUO_BENCH_MALLOPT", "1") != "0":
        from hailuo_tui.memory import return_big_blocks

        return_big_blocks()  # glibc's thresholds as `hailuo-tui` sets them (cli.main), for the in-process cases
    result = CASES[name](quick)
    result["bench_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


def main() -> None:
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "--child":
        child(args[1], "--quick" in args)
        return
    quick = "--quick" in args
    names = [a for a in args if not a.startswith("--")] or list(CASES)
    print(f"machine: {machine()}")
    print(f"load average before: {os.getloadavg()[0]:.2f} (other work on the 2 cores skews every figure)")
    print("start-*, idle: tmux 3.x (real terminal) 100x40, `hailuo-tui` console script in a fresh process, "
          "logged in via the keyring (bench stand-in backend); start-demo: `hailuo-tui --demo`.")
    print("open, search: the real HailuoApp in-process on Textual's headless driver (100x40), frames timed at "
          "the compositor refresh; terminal output not counted.\n")
    history_db()  # build the cache outside any timing
    rows = []
    for name in names:
        proc = subprocess.run([sys.executable, __file__, "--child", name, *(["--quick"] if quick else [])],
                              capture_output=True, text=True, cwd=ROOT, timeout=900)
        line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
        rows.append((name, json.loads(line[7:]) if line else {"error": (proc.stderr or proc.stdout)[-400:]}))
    print(f"{'benchmark':<17} {'target':<30} figures")
    for name, result in rows:
        target = ""
        if name in TARGETS and TARGETS[name][0] in result:
            key, limit = TARGETS[name]
            target = f"{key} <= {limit:g}: {'met' if result[key] <= limit else 'MISSED'}"
        figures = ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items())
        print(f"{name:<17} {target:<30} {figures}")


if __name__ == "__main__":
    main()
