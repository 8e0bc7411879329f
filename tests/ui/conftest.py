"""Fixtures for app tests: the real app on the emulator over HTTP, with its data in tmp_path."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hailuo_tui.config import Config, Paths
from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.provider.login import token_login
from hailuo_tui.services import Options, Services
from hailuo_tui.store.vault import TokenVault


def paths_under(root: Path) -> Paths:
    return Paths.under(root)


@pytest.fixture
async def emu():
    async with Emulator(EmulatorConfig(seed=3)) as emulator:
        yield emulator


@pytest.fixture
def make_app(tmp_path, emu):
    """Build a HailuoApp on the emulator; ``logged_in=False`` starts without a login."""

    async def factory(*, logged_in: bool = True, root: Path | None = None, **config_values):
        from hailuo_tui.app import HailuoApp

        config = Config(base_url=emu.url, **config_values)
        options = Options(base_url=emu.url)
        services = Services(config, paths_under(root or tmp_path), options, vault=TokenVault.in_memory())
        if logged_in:
            await services.vault.save(await token_login(emu.demo_token, emu.url))
        return HailuoApp(options, services=services)

    return factory


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition"):
    """Let the app run until ``predicate()`` is true (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


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
    await pilot.click("#paste")
    await pilot.pause()
    app.screen.query_one("#token").value = token
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen after login")


class Spy:
    """Counts the screen's layouts and frames, and notes which widgets asked for each layout
    (`arranged`: their class names; none for a layout that only scrolls)."""

    def __init__(self, screen) -> None:
        self.layouts = self.frames = 0
        self.arranged: list[list[str]] = []
        layout, frame = screen._refresh_layout, screen._compositor_refresh

        def counted_layout(*args, **kwargs):
            self.layouts += 1
            self.arranged.append([type(widget).__name__ for widget in screen._layout_widgets])
            return layout(*args, **kwargs)

        def counted_frame():
            self.frames += 1
            return frame()

        screen._refresh_layout = counted_layout
        screen._compositor_refresh = counted_frame
