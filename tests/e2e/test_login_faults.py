"""Login and keyring failures at the CLI level: a clear message, the right exit code, still usable."""

from __future__ import annotations

from hailuo_tui.emulator import Emulator
from tests.e2e.test_cli import cli_env, run_cli


async def test_a_missing_browser_is_reported_in_plain_words(tmp_path):
    async with Emulator() as emu:
        env = cli_env(tmp_path, PYTHON_KEYRING_BACKEND="tests.e2e.memkeyring.Keyring")
        code, out, err = await run_cli("login", "--browser", "/nonexistent/chromium", "--base-url", emu.url, env=env)
        assert code == 3, (out, err)
        assert "Traceback" not in err and "/nonexistent/chromium" in err, err
        env["HAILUO_BROWSER"] = "/nonexistent/chrome"
        code, out, err = await run_cli("login", "--base-url", emu.url, env=env)
        assert code == 3 and "Traceback" not in err, err


async def test_no_keyring_backend_warns_and_the_token_still_works(tmp_path):
    async with Emulator() as emu:
        for backend in ("keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"):
            env = cli_env(tmp_path, PYTHON_KEYRING_BACKEND=backend)
            code, out, err = await run_cli("login", "--token", "--base-url", emu.url, env=env, stdin=emu.demo_token)
            assert code == 1 and "Warning" in err and "keyring" in err.lower(), err
            assert "nothing was kept" in err and "Logged in." not in err
            assert "Traceback" not in err and emu.demo_token not in out + err
            env["HAILUO_TOKEN"] = emu.demo_token
            code, out, err = await run_cli("--base-url", emu.url, "ask", "still usable?", env=env)
            assert code == 0 and "Turn 1" in out, err
            assert "Warning" not in err  # a token from the environment needs no keyring
