"""The stable screens of hailuo-tui, built from the real app on the emulator.

Shared by the SVG snapshot tests (tests/snapshots/test_snapshots.py) and
``scripts/screenshots.py``. Everything here is deterministic:

* The emulator runs *inside the app's event loop*: `SceneApp.on_mount` starts
  it before `HailuoApp.on_mount` opens the store and asks for the login
  (Textual calls a subclass's ``on_mount`` first, then the base class's).
  Both `snap_compare` and `App.run_test` give the app its own loop, so an
  emulator started by a pytest-asyncio fixture could not serve it.
* The emulator has a fixed seed, no pacing and the fake model's fixed answers.
* The sidebar's relative times use a frozen clock (`frozen_clock`); seeded
  conversations get ``updated_at`` values relative to `FIXED_NOW`, and
  conversations created while the scene runs are newer, so they show "now".
* Every text cursor stops blinking (`freeze_cursors`) before a screenshot.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from hailuo_tui.app import HailuoApp
from hailuo_tui.config import Config, Paths
from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.services import Options, Services
from hailuo_tui.store.vault import TokenVault
from tests.helpers import wait_until

#: The frozen "now" of the sidebar's relative times: Saturday 1 June 2024, 10:00 UTC.
FIXED_NOW = 1_717_236_000.0

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@dataclass(frozen=True)
class Seed:
    """A conversation written to the database before the app starts."""

    title: str
    age: float
    """Seconds before `FIXED_NOW` of its last activity."""
    messages: tuple[tuple, ...] = ()
    """(role, text) pairs, or (role, text, reasoning, usage) for an answer from the API."""
    backend: str = "web"
    """The conversation's backend ("web" or "api")."""


#: A long, varied sidebar (newest first). Titles mix English and Chinese, short and too long to fit.
LONG_SIDEBAR: tuple[Seed, ...] = (
    Seed("Python decorators explained", 4 * MINUTE,
         (("user", "How do Python decorators work?"), ("assistant", "A decorator wraps a function…"))),
    Seed("Trip to Xi'an in October", 25 * MINUTE),
    Seed("Rust vs Python for a CLI tool", 2 * HOUR,
         (("user", "Rust or Python for a small CLI?"), ("assistant", "Python is quicker to write…"))),
    Seed("周末去杭州的行程安排", 3 * HOUR),
    Seed("SQL window functions", 5 * HOUR),
    Seed("Debugging asyncio deadlocks in Python services", 9 * HOUR,
         (("user", "My asyncio Python service hangs"), ("assistant", "Look for a lock held across an await…"))),
    Seed("Sourdough starter schedule", 20 * HOUR),
    Seed("如何用 Python 读取 Excel 文件", 1 * DAY + 2 * HOUR,
         (("user", "如何用 Python 读取 Excel 文件？"), ("assistant", "可以使用 pandas 的 read_excel…"))),
    Seed("Regex for ISO dates", 1 * DAY + 6 * HOUR),
    Seed("Explain the CAP theorem", 2 * DAY),
    Seed("Birthday poem for Mei", 2 * DAY + 4 * HOUR),
    Seed("Type hints for a Python dict of lists", 3 * DAY,
         (("user", "Type hint a Python dict of lists"), ("assistant", "Use dict[str, list[int]]…"))),
    Seed("Kubernetes readiness vs liveness", 3 * DAY + 5 * HOUR),
    Seed("翻译：会议纪要", 4 * DAY),
    Seed("Git rebase onto another branch", 4 * DAY + 8 * HOUR),
    Seed("Cover letter draft", 5 * DAY),
    Seed("Unit tests with pytest fixtures in Python", 5 * DAY + 3 * HOUR,
         (("user", "pytest fixtures in Python"), ("assistant", "A fixture is a function marked @pytest.fixture…"))),
    Seed("Bash: loop over files with spaces", 6 * DAY),
    Seed("Vegetarian dumplings", 6 * DAY + 5 * HOUR),
    Seed("Compare three note-taking apps", 6 * DAY + 20 * HOUR),
)

#: A short sidebar, so the other scenes look lived-in.
SHORT_SIDEBAR: tuple[Seed, ...] = LONG_SIDEBAR[1:2] + LONG_SIDEBAR[3:4] + LONG_SIDEBAR[6:7] + LONG_SIDEBAR[9:10]


class FrozenClock:
    """Stands in for the ``time`` module in the sidebar: ``time()`` is always `FIXED_NOW`."""

    def __init__(self, now: float = FIXED_NOW) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def __getattr__(self, name: str):
        return getattr(time, name)


@contextlib.contextmanager
def frozen_clock(now: float = FIXED_NOW) -> Iterator[None]:
    """Freeze the sidebar's clock (the only place the UI reads the wall clock)."""
    from hailuo_tui.widgets import conversation_list

    saved = conversation_list.time
    conversation_list.time = FrozenClock(now)  # type: ignore[assignment]
    try:
        yield
    finally:
        conversation_list.time = saved


def scene_paths(root: Path) -> Paths:
    """Config and data of one scene, all under ``root``."""
    return Paths.under(root)


def seed_database(path: Path, seeds: Sequence[Seed], now: float = FIXED_NOW) -> None:
    """Write ``seeds`` through the store, then pin their times relative to ``now``."""
    from hailuo_tui.store.db import ChatStore

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = ChatStore(path)
    ids = []
    try:
        for seed in reversed(seeds):  # oldest first, so ids grow with recency
            row = store.create_conversation(seed.title, backend=seed.backend)
            for role, text, *extra in seed.messages:
                reasoning, usage = (*extra, "", None)[:2]
                store.add_message(row.id, role, text, reasoning=reasoning, usage=usage)
            ids.append((row.id, now - seed.age))
    finally:
        store.close()
    # The store stamps rows with the wall clock; pin them to the frozen one.
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        for conversation_id, when in ids:
            conn.execute("UPDATE conversations SET created_at = ?, updated_at = ? WHERE id = ?",
                         (when, when, conversation_id))
            conn.execute("UPDATE messages SET created_at = ?, updated_at = ? WHERE conversation_id = ?",
                         (when, when, conversation_id))


class SceneApp(HailuoApp):
    """The real `HailuoApp`, with the emulator and its data started inside the app's own event loop.

    Args:
        root: A directory for the scene's config and database.
        logged_in: Start with the emulator's demo account (False: the welcome screen).
        seeds: Conversations written to the database before the app opens it.
        emulator_config: Switches for the emulator (default: seed 3, no pacing).
    """

    # A relative CSS_PATH is read next to the subclass's module: point at the app's own file.
    CSS_PATH = str(Path(__import__("hailuo_tui.app").app.__file__).with_name("app.tcss"))

    def __init__(
        self,
        root: Path,
        *,
        logged_in: bool = True,
        seeds: Sequence[Seed] = (),
        emulator_config: EmulatorConfig | None = None,
    ) -> None:
        super().__init__(Options())
        self.root = Path(root)
        self.logged_in = logged_in
        self.seeds = tuple(seeds)
        self.emulator = Emulator(emulator_config or EmulatorConfig(seed=3))

    async def on_mount(self) -> None:
        # Runs before HailuoApp.on_mount, which then finds self.services set.
        from hailuo_tui.provider.login import token_login

        emulator = self.emulator
        await emulator.start()
        # Not logged in: the welcome screen names the real site, not the emulator's random port.
        base_url = emulator.url if self.logged_in else Config().base_url
        services = Services(Config(base_url=base_url), scene_paths(self.root), Options(base_url=base_url),
                            vault=TokenVault.in_memory())
        services.emulator = emulator  # stopped by Services.close() when the app unmounts
        if self.logged_in:
            await services.vault.save(await token_login(emulator.demo_token, emulator.url))
        if self.seeds:
            seed_database(services.paths.db_path, self.seeds)
        self.services = services


# --- driving a scene ---------------------------------------------------------------


def chat_screen(app: HailuoApp):
    from hailuo_tui.screens.chat_screen import ChatScreen

    for screen in app.screen_stack:
        if isinstance(screen, ChatScreen):
            return screen
    return None


async def chat_ready(pilot: Pilot) -> None:
    """Wait until the chat screen is up and has loaded its conversation."""
    await pilot.pause()
    await wait_until(pilot, lambda: chat_screen(pilot.app) is not None and pilot.app.screen is chat_screen(pilot.app),
                     what="the chat screen", timeout=20)
    await pilot.pause()


def freeze_cursors(app: HailuoApp) -> None:
    """Stop every text cursor blinking, so a screenshot never catches it half-way."""
    for screen in app.screen_stack:
        for widget in screen.query("Input, TextArea"):
            if isinstance(widget, (Input, TextArea)):
                widget.cursor_blink = False


async def settle(pilot: Pilot) -> None:
    """Let pending renders, scrolls and animations finish, with cursors frozen."""
    freeze_cursors(pilot.app)
    for _ in range(3):
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.1)
    await pilot.pause()


async def send(pilot: Pilot, text: str, *, expect_title: bool = True) -> None:
    """Type ``text`` into the prompt, press Enter and wait until the answer is over."""
    from hailuo_tui.widgets.chat_view import ChatView
    from hailuo_tui.widgets.prompt_input import PromptInput

    screen = chat_screen(pilot.app)
    prompt = screen.query_one(PromptInput)
    prompt.focus()
    await pilot.pause()
    prompt.insert(text)
    await pilot.pause()
    await pilot.press("enter")

    def answered() -> bool:
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        return bubble is not None and bubble.status not in ("pending", "streaming") and not screen.replies

    await wait_until(pilot, answered, what="the answer to finish", timeout=20)
    if expect_title:
        await wait_until(pilot, lambda: bool(screen.sub_title) and not screen.sub_title.startswith("New conversation"),
                         what="the title", timeout=20)
    await pilot.pause()


# --- the scenes ------------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    """One stable screen: how to build the app and what to do before the screenshot."""

    name: str
    caption: str
    logged_in: bool = True
    seeds: tuple[Seed, ...] = ()
    steps: Callable[[Pilot], object] | None = None
    emulator: Callable[[], EmulatorConfig] = lambda: EmulatorConfig(seed=3)
    size: tuple[int, int] | None = None
    """The terminal size this scene is about (the narrow layout), or None for the caller's."""

    def app(self, root: Path) -> SceneApp:
        return SceneApp(root, logged_in=self.logged_in, seeds=self.seeds, emulator_config=self.emulator())

    async def run_before(self, pilot: Pilot) -> None:
        await pilot.pause()
        if self.logged_in:
            await chat_ready(pilot)
        if self.steps is not None:
            await self.steps(pilot)
        await settle(pilot)


async def _welcome(pilot: Pilot) -> None:
    from hailuo_tui.screens.login_screen import LoginScreen

    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen), what="the welcome screen", timeout=20)


async def _empty(pilot: Pilot) -> None:
    pass


async def new_conversation(pilot: Pilot) -> None:
    """Ctrl+N: start a new conversation (the app opens the newest one on start)."""
    screen = chat_screen(pilot.app)
    await pilot.press("ctrl+n")
    await wait_until(pilot, lambda: screen.current_id is None, what="a new conversation", timeout=20)
    await pilot.pause()


async def _conversation(pilot: Pilot) -> None:
    await new_conversation(pilot)
    await send(pilot, "Show me some Python code and a table")


async def _help(pilot: Pilot) -> None:
    from hailuo_tui.screens.help_screen import HelpScreen

    await pilot.press("f1")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), what="the help screen", timeout=20)


async def _error(pilot: Pilot) -> None:
    from hailuo_tui.widgets.status_bar import StatusBar

    app = pilot.app
    app.emulator.config.fail_next = [503]
    await new_conversation(pilot)
    await send(pilot, "What is the weather in Shanghai?", expect_title=False)
    await wait_until(pilot, lambda: bool(chat_screen(app).query_one(StatusBar).error_text), what="the error", timeout=20)


#: A server error long enough to need several lines: shown in full under the answer, with the retry key.
LONG_ERROR = ("The service is busy answering other people right now, so this message could not be answered. "
              "Nothing you did caused this; the conversation and your message are saved. Please wait a "
              "little and ask again.")


def _wrapped_error_config() -> EmulatorConfig:
    return EmulatorConfig(seed=3, stream_error=0, stream_error_message=LONG_ERROR)


async def _wrapped_error(pilot: Pilot) -> None:
    await new_conversation(pilot)
    await send(pilot, "What is the weather in Shanghai?", expect_title=False)


def _extras_config() -> EmulatorConfig:
    return EmulatorConfig(seed=3, search_links=True, follow_ups=True)


async def _sources_and_suggestions(pilot: Pilot) -> None:
    await new_conversation(pilot)
    await pilot.press("f9")  # web search on: the header says so
    pilot.app.clear_notifications()  # its toast would come and go with the timing
    await send(pilot, "What is new in Xi'an this week?")
    from hailuo_tui.widgets.chat_view import ChatView

    chat_screen(pilot.app).query_one(ChatView).scroll_end(animate=False)  # the answer's end: sources, suggestions


async def _sidebar_search(pilot: Pilot) -> None:
    screen = chat_screen(pilot.app)
    await pilot.press("ctrl+f")
    search = screen.query_one("#search", Input)
    await wait_until(pilot, lambda: screen.focused is search, what="the search box", timeout=20)
    await pilot.press(*"python")
    await wait_until(pilot, lambda: screen.query_one("#conversations").border_title.startswith("Matches"),
                     what="the search results", timeout=20)


async def _chinese(pilot: Pilot) -> None:
    await new_conversation(pilot)
    await send(pilot, "你好！请用代码和表格介绍一下斐波那契数列")


async def _long_sidebar(pilot: Pilot) -> None:
    pass


#: A terminal narrower than the sidebar's breakpoint (100 columns).
NARROW = (80, 24)


async def _narrow(pilot: Pilot) -> None:
    await new_conversation(pilot)
    await send(pilot, "Show me some Python code")


async def _narrow_sidebar(pilot: Pilot) -> None:
    await _narrow(pilot)
    await pilot.press("ctrl+b")
    await wait_until(pilot, lambda: chat_screen(pilot.app).query_one("#sidebar").display, what="the sidebar overlay")


#: An answer from the MiniMax API, as stored: its reasoning (shown folded) and its usage.
API_ANSWER = Seed(
    "Haiku about the sea", 2 * MINUTE,
    (
        ("user", "Write a haiku about the sea."),
        ("assistant", "Grey waves fold and break,  \nsalt wind carries gulls inland,  \nthe tide keeps its time.",
         "The user wants a haiku: five, seven, five syllables. The sea: waves, salt, gulls, tide. "
         "Keep it concrete and end on time, the tide as a clock.",
         {"model": "MiniMax-M3", "prompt_tokens": 769, "completion_tokens": 116, "reasoning_tokens": 37,
          "seconds": 2.4}),
    ),
    backend="api",
)

#: The user's own message as typed: line breaks, indentation, stars that are not Markdown, pasted code.
USER_CODE = Seed(
    "Why does my loop stop early", 3 * MINUTE,
    (
        ("user", "Why does this stop early?\n\n```python\nfor i in range(10):\n    if i * 2 > 7:\n"
                 "        break\n    print(i)\n```\n\n* not a bullet, 2*3*4 stays as typed\n"
                 "    indented line\n最后一行：中文也照原样显示"),
        ("assistant", "The `break` ends the loop at `i = 4`, because `4 * 2 > 7`."),
    ),
)

#: An answer of three blocks (a paragraph, a code block, a table) for the message and block cursors.
CURSOR_SEED = Seed(
    "Greeting function", 1 * MINUTE,
    (
        ("user", "Write a function that greets someone."),
        ("assistant", "Here is a short function that greets someone by name.\n\n"
                      "```python\ndef greet(name):\n    return f\"hello {name}\"\n```\n\n"
                      "| name | greeting |\n| --- | --- |\n| world | hello world |\n"),
        ("user", "Thanks!"),
        ("assistant", "You are welcome."),
    ),
)


async def _message_cursor(pilot: Pilot) -> None:
    """F5, ↑ ↑: the answer highlighted; Shift+↓ Shift+↓: its code block under the block cursor."""
    from hailuo_tui.widgets.chat_view import ChatView

    view = chat_screen(pilot.app).query_one(ChatView)
    await pilot.press("f5", "up", "up")
    await wait_until(pilot, lambda: view.cursor_message is not None and view.cursor_message.content.startswith("Here"),
                     what="the answer highlighted", timeout=20)
    await pilot.press("shift+down", "shift+down")
    await wait_until(pilot, lambda: view.cursor_block == 1, what="the code block highlighted", timeout=20)


#: A question and an answer with a wrapped paragraph and code, for a mouse selection across both.
SELECTION = Seed(
    "Greeting someone in Python", 1 * MINUTE,
    (
        ("user", "How do I greet someone by name in Python?"),
        ("assistant", "Write a small function that formats the name into a greeting, and call it wherever "
                      "you need one; 你好 works as well as hello.\n\n```python\ndef greet(name):\n"
                      "    return f\"Hello, {name}!\"\n```\n\nThen `print(greet(\"西安\"))` prints it."),
    ),
)


async def _selection(pilot: Pilot) -> None:
    """Drag from the question's second word to the middle of the answer's code."""
    from hailuo_tui.widgets.chat_view import ChatView
    from hailuo_tui.widgets.message_bubble import MessageBubble

    bubbles = list(chat_screen(pilot.app).query_one(ChatView).query(MessageBubble))
    question, answer = bubbles[-2].body, bubbles[-1].body
    row = next(y for y, text in enumerate(answer.lines_text()) if "return" in text)
    await pilot.mouse_down(question, offset=(5, 0))
    await pilot.hover(answer, offset=(14, row))
    await pilot.mouse_up(answer, offset=(14, row))


async def _versions(pilot: Pilot) -> None:
    """A question answered three times (Ctrl+R twice), then ← on the answer: version 2 of 3 shown."""
    from hailuo_tui.widgets.chat_view import ChatView

    screen = chat_screen(pilot.app)
    view = screen.query_one(ChatView)
    await new_conversation(pilot)
    await send(pilot, "Name a colour and say why you like it")
    for versions in (2, 3):
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: (b := view.last_bubble("assistant")) is not None and b.versions == versions
                         and b.status == "complete", what=f"answer {versions}", timeout=20)
    await pilot.press("f5")
    await wait_until(pilot, lambda: view.cursor_message is not None and view.cursor_message.role == "assistant",
                     what="the cursor on the answer", timeout=20)
    await pilot.press("left")
    await wait_until(pilot, lambda: (b := view.last_bubble("assistant")) is not None and b.version == 2,
                     what="version 2 of 3", timeout=20)


SCENES: dict[str, Scene] = {
    scene.name: scene
    for scene in (
        Scene("welcome", "The welcome screen on first start: log in with a browser or paste a token.",
              logged_in=False, steps=_welcome),
        Scene("empty", "An empty chat, ready for the first message.", steps=_empty),
        Scene("conversation", "A streamed answer with a highlighted code block and a table.",
              seeds=SHORT_SIDEBAR, steps=_conversation),
        Scene("help", "F1 lists every key with its binding id, for remapping in the config.",
              seeds=SHORT_SIDEBAR, steps=_help),
        Scene("error", "A failed request: the error in the status bar and on the message; Ctrl+R retries.",
              seeds=SHORT_SIDEBAR, steps=_error),
        Scene("wrapped-error", "A long error shown in full on the message, with the key that retries it.",
              seeds=SHORT_SIDEBAR, steps=_wrapped_error, emulator=_wrapped_error_config),
        Scene("sources-suggestions", "Web search on: the answer's sources as numbered links and Hailuo's "
              "suggested follow-up questions, each sent with Alt+1, Alt+2, Alt+3.",
              seeds=SHORT_SIDEBAR, steps=_sources_and_suggestions, emulator=_extras_config),
        Scene("sidebar-search", "A long sidebar filtered as you type (Ctrl+F), titles and message text.",
              seeds=LONG_SIDEBAR, steps=_sidebar_search),
        Scene("long-sidebar", "A long sidebar with relative times; wide characters keep the columns.",
              seeds=LONG_SIDEBAR, steps=_long_sidebar),
        Scene("chinese", "A conversation in Chinese: wide characters in titles, messages and tables.",
              seeds=SHORT_SIDEBAR, steps=_chinese),
        Scene("api-thinking", "An answer from the MiniMax API: its reasoning folded to one line (Ctrl+O opens it), "
              "token usage and speed under it, and the conversation marked API in the sidebar.",
              seeds=(API_ANSWER, *SHORT_SIDEBAR), steps=_long_sidebar),
        Scene("narrow", "Below 100 columns the sidebar folds away and the conversation takes the whole width.",
              seeds=SHORT_SIDEBAR, steps=_narrow, size=NARROW),
        Scene("narrow-sidebar", "On a narrow terminal Ctrl+B shows the sidebar over the conversation.",
              seeds=SHORT_SIDEBAR, steps=_narrow_sidebar, size=NARROW),
        Scene("user-code", "Your own message as you typed it: line breaks, indentation and stars kept, "
              "pasted code highlighted.", seeds=(USER_CODE, *SHORT_SIDEBAR), steps=_long_sidebar),
        Scene("selection", "Text selected with the mouse across a question and its answer; Ctrl+C copies it "
              "as shown (the paragraph as one line, the code without its padding).",
              seeds=(SELECTION, *SHORT_SIDEBAR), steps=_selection),
        Scene("versions", "An answer regenerated twice keeps every version: ◀ 2/3 ▶ on the highlighted answer, "
              "←/→ switch between them.", seeds=SHORT_SIDEBAR, steps=_versions),
        Scene("message-cursor", "F5 puts a cursor on the messages: ↑/↓ highlight one, Shift+↓ a block of an "
              "answer (here its code block), C copies it.", seeds=(CURSOR_SEED, *SHORT_SIDEBAR),
              steps=_message_cursor),
    )
}
