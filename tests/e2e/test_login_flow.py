"""Browser login end to end: the CLI and the app's welcome screen drive a real headless Chromium."""

from __future__ import annotations

import pytest

from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.provider.errors import BrowserNotFound
from hailuo_tui.provider.login import find_browser
from tests.e2e.test_cli import cli_env, run_cli
from tests.helpers import secret_service_skip_reason
from tests.ui.conftest import emu, make_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def _browser_or_skip() -> None:
    try:
        find_browser()
    except BrowserNotFound as exc:
        pytest.skip(f"no Chromium: {exc.message}")


async def test_cli_login_with_the_browser_then_ask(tmp_path):
    _browser_or_skip()
    reason = secret_service_skip_reason()
    if reason:
        pytest.skip(reason)
    async with Emulator(EmulatorConfig(auto_login=True)) as emu:
        env = cli_env(tmp_path)
        code, out, err = await run_cli("--base-url", emu.url, "--headless", "login", env=env, timeout=90)
        assert code == 0, err
        assert "Logged in (stored in the keyring)." in err and "Waiting for you to log in" in err
        code, out, err = await run_cli("--base-url", emu.url, "status", env=env)
        assert code == 0 and "logged in as Demo User" in out
        code, out, err = await run_cli("--base-url", emu.url, "ask", "hello", env=env)
        assert code == 0 and "Turn 1" in out
        assert emu.demo_token not in out + err
        # the persistent browser profile lives in the data dir, private
        profile = tmp_path / "data" / "hailuo-tui" / "browser-profile"
        assert profile.is_dir() and oct(profile.stat().st_mode & 0o777) == "0o700"
        await run_cli("--base-url", emu.url, "logout", env=env)


async def test_cli_login_without_a_browser_says_what_to_install(tmp_path):
    async with Emulator() as emu:
        env = cli_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        code, out, err = await run_cli("--base-url", emu.url, "--browser", "/nonexistent/chromium", "login", env=env)
        assert code == 3
        assert "No browser for login" in err and "chromium" in err.lower()


async def test_app_welcome_screen_logs_in_with_the_browser(make_app, emu):
    from hailuo_tui.screens.chat_screen import ChatScreen
    from hailuo_tui.screens.login_screen import LoginScreen
    from tests.helpers import click_shown, wait_until

    _browser_or_skip()
    emu.config.auto_login = True
    app = await make_app(logged_in=False, headless=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the welcome screen")
        login = app.screen
        # Click once the screen is mounted (it focuses its first button then), as a person can.
        await wait_until(pilot, lambda: app.focused is not None and app.focused.screen is login, what="the mounted login")
        await click_shown(pilot, "#browser")
        await wait_until(pilot, lambda: login.has_class("-working"), what="the login to start")
        try:  # 90 s, as the CLI login above: Chromium starts slowly on a loaded machine
            await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), timeout=90, what="login to finish")
        except AssertionError:  # say why: a full-suite run once timed out here with nothing more to go on
            shown = [str(widget.render()) for widget in login.query("Static")]
            raise AssertionError(f"the login did not finish; the login screen shows {shown}") from None
        assert app.auth is not None and app.auth.token == emu.demo_token
        assert (await app.services.vault.load()).token == emu.demo_token
