"""Fixtures for app tests: the real app on the emulator over HTTP, with its data in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import pytest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widget import Widget

from hailuo_tui.config import Config, Paths
from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.provider.login import token_login
from hailuo_tui.services import Options, Services
from hailuo_tui.store.vault import TokenVault
from tests.helpers import click_shown, wait_until

__all__ = ["Host", "Posted", "Spy", "answers_finished", "chat", "paste_token_on_login_screen", "paths_under",
           "ready", "recording", "scroll_to_oldest", "send", "type_text", "wait_answered", "wait_idle",
           "wait_streaming", "wait_until"]

M = TypeVar("M", bound=Message)


def paths_under(root: Path) -> Paths:
    return Paths.under(root)


@pytest.fixture
async def emu():
    async with Emulator(EmulatorConfig(seed=3)) as emulator:
        yield emulator


@pytest.fixture
def make_app(tmp_path, emu):
    """Build a HailuoApp on the emulator; ``logged_in=False`` starts without a login.

    The app's ``run_test`` records every message its widgets receive in ``app.posted`` (a :class:`Posted`,
    given as ``message_hook``), so tests can wait for and assert on what was posted (see :func:`send`).
    """

    async def factory(*, logged_in: bool = True, root: Path | None = None, **config_values):
        from hailuo_tui.app import HailuoApp

        config = Config(base_url=emu.url, **config_values)
        options = Options(base_url=emu.url)
        services = Services(config, paths_under(root or tmp_path), options, vault=TokenVault.in_memory())
        if logged_in:
            await services.vault.save(await token_login(emu.demo_token, emu.url))
        return recording(HailuoApp(options, services=services))

    return factory


class Posted:
    """The app's own messages (classes of hailuo_tui) its message pumps receive, each once
    (a ``run_test(message_hook=...)``).

    A message posted to several widgets (the reply messages) is recorded once. Textual's
    events (keys, timers, callbacks, refreshes) are not kept: a long test (the soak) would
    hold millions of them and measure them as the app's memory.
    """

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._seen: set[int] = set()

    def __call__(self, message: Message) -> None:
        if not type(message).__module__.startswith("hailuo_tui."):
            return
        if id(message) not in self._seen:  # the list keeps each message alive: an id is never reused
            self._seen.add(id(message))
            self.messages.append(message)

    def of(self, kind: type[M]) -> list[M]:
        """The recorded messages of one class, in the order they arrived."""
        return [m for m in self.messages if isinstance(m, kind)]


def recording(app: App) -> App:
    """Make ``app.run_test`` record the posted messages in ``app.posted`` (unless given another hook)."""
    posted = app.posted = Posted()
    run_test = app.run_test

    def run_recorded(*args, message_hook=None, **kwargs):
        return run_test(*args, message_hook=message_hook or posted, **kwargs)

    app.run_test = run_recorded
    return app


class Host(App):
    """A tiny app that mounts the given widgets (widget tests) and keeps, in ``seen``, the messages
    they post to the app: a submitted prompt, a chosen conversation, a request for older messages."""

    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self._widgets = widgets
        self.seen: list[Message] = []

    def compose(self) -> ComposeResult:
        yield from self._widgets

    def on_prompt_input_submitted(self, message: Message) -> None:
        self.seen.append(message)

    def on_conversation_list_selected(self, message: Message) -> None:
        self.seen.append(message)

    def on_chat_view_older_requested(self, message: Message) -> None:
        self.seen.append(message)


def chat(app):
    """The chat screen, which must be the screen on top."""
    from hailuo_tui.screens.chat_screen import ChatScreen

    screen = app.screen
    assert isinstance(screen, ChatScreen), screen
    return screen


async def ready(pilot):
    """Wait until the chat screen is on top and has loaded its first conversation; return it."""
    from hailuo_tui.screens.chat_screen import ChatScreen

    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.loaded, what="the chat screen")
    await pilot.pause()
    return chat(app)


def answers_finished(app) -> int:
    """How many answers have ended so far (the ReplyFinished messages the app posted)."""
    from hailuo_tui.widgets.reply_messages import ReplyFinished

    return len(app.posted.of(ReplyFinished))


async def wait_answered(pilot, before: int, timeout: float = 20.0, count: int = 1) -> None:
    """Wait until ``count`` more answers ended than the ``before`` counted by :func:`answers_finished`."""
    await wait_until(pilot, lambda: answers_finished(pilot.app) >= before + count, timeout, "the answer to finish")
    await pilot.pause()


async def wait_idle(pilot, timeout: float = 20.0) -> None:
    """Wait until the chat screen is on top and no answer is running.

    Only meaningful once an answer is known to have started (it is true before one starts).
    """
    from hailuo_tui.screens.chat_screen import ChatScreen

    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and not app.screen.replies, timeout,
                     "the answer to finish")
    await pilot.pause()


async def wait_streaming(pilot, more_than: int = 0, timeout: float = 20.0):
    """Wait until the open conversation's answer has streamed more than ``more_than`` characters; return its session."""
    screen = chat(pilot.app)

    def streaming():
        reply = screen.replies.get(screen.current_id)
        return reply if reply is not None and len(reply.text) > more_than else None

    return await wait_until(pilot, streaming, timeout, f"an answer streaming past {more_than} characters")


async def scroll_to_oldest(pilot, view, oldest_id: int, steps: int = 300) -> list[list[int]]:
    """Scroll a ChatView to the top, again and again, until the bubble of ``oldest_id`` is mounted.

    Returns the ids of the mounted bubbles after each step (fails if ``steps`` did not reach it).
    """
    windows = []
    for _ in range(steps):
        if view.bubbles[0].message_id == oldest_id:
            return windows
        view.scroll_home(animate=False, immediate=True)
        await pilot.pause(0.02)
        await pilot.pause()
        windows.append([bubble.message_id for bubble in view.bubbles])
    raise AssertionError(f"message {oldest_id} was not mounted after {steps} scrolls to the top")


async def send(pilot, text: str, *, wait: bool = True, timeout: float = 20.0) -> None:
    """Type ``text`` into the prompt and press Enter; with ``wait``, until its answer ended (ReplyFinished)."""
    before = answers_finished(pilot.app)
    await type_text(pilot, text)
    await pilot.press("enter")
    if wait:
        await wait_answered(pilot, before, timeout)


async def type_text(pilot, text: str) -> None:
    """Type into the focused widget as a terminal would (one key per character)."""
    from hailuo_tui.widgets.prompt_input import PromptInput

    prompt = pilot.app.screen.query_one(PromptInput)
    prompt.focus()
    await pilot.pause()
    prompt.insert(text)
    await pilot.pause()


async def paste_token_on_login_screen(pilot, token: str) -> None:
    """On the login screen: choose "Paste a token", enter ``token``, and wait for the chat screen."""
    from hailuo_tui.screens.chat_screen import ChatScreen

    app = pilot.app
    login = app.screen
    # The screen focuses its first button once mounted: click only after that, or that focus wins.
    await wait_until(pilot, lambda: app.focused is not None and app.focused.screen is login, what="the mounted login")
    await click_shown(pilot, "#paste")
    field = login.query_one("#token")
    await wait_until(pilot, lambda: app.focused is field, what="the token field")
    field.value = token
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen after login")


async def settled(pilot, screen, timeout: float = 10.0) -> None:
    """Let the app run until 50 ms pass with no frame drawn: what was pending (a scroll to the highlighted
    row, a refresh a loaded machine left for the next timer tick) is on screen before a Spy starts counting.
    Fails after ``timeout`` seconds."""
    import time

    spy = Spy(screen)
    deadline = time.monotonic() + timeout
    while True:
        before = spy.frames
        await pilot.pause(0.05)
        if spy.frames == before:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the screen kept drawing for {timeout} s")


class Spy:
    """Counts the screen's layouts and frames, and notes which widgets asked for each layout
    (`arranged`: their class names; none for a layout that only scrolls)."""

    def __init__(self, screen, after_frame=None) -> None:
        """``after_frame``: called after each frame is drawn (to read what it showed)."""
        self.layouts = self.frames = 0
        self.arranged: list[list[str]] = []
        layout, frame = screen._refresh_layout, screen._compositor_refresh

        def counted_layout(*args, **kwargs):
            self.layouts += 1
            self.arranged.append([type(widget).__name__ for widget in screen._layout_widgets])
            return layout(*args, **kwargs)

        def counted_frame():
            self.frames += 1
            drawn = frame()
            if after_frame is not None:
                after_frame()
            return drawn

        screen._refresh_layout = counted_layout
        screen._compositor_refresh = counted_frame
