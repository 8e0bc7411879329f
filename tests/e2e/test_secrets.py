"""The token stays secret through a whole session under a throwaway XDG home.

CLI (login --token, status, ask, --help, a --debug run, debug_log=true in the
config), then the app with Pilot (messages, an error, an export, a screenshot,
the debug log), then provider exceptions: every file written and every output
captured is grepped for the token and the yy signatures. Files the app creates
are 0600, its directories 0700.
"""

from __future__ import annotations

import logging
import os
import stat
import traceback
from pathlib import Path

from hailuo_tui.config import Config, Paths
from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.logs import RedactingFormatter, redact
from hailuo_tui.provider import HailuoAI, HailuoError
from hailuo_tui.provider.login import token_login
from hailuo_tui.services import Options, Services
from hailuo_tui.store.vault import TokenVault
from tests.e2e.test_cli import cli_env, run_cli

SIZE = (100, 32)


def secrets_of(emu: Emulator, token: str) -> list[str]:
    """The token and every yy signature the emulator saw."""
    found = {token}
    for record in emu.requests:
        for name in ("token", "yy"):
            value = record.headers.get(name)
            if value and len(value) >= 8:
                found.add(value)
    return sorted(found)


def leaks(texts: dict[str, str | bytes], secrets: list[str]) -> list[str]:
    out = []
    for where, text in texts.items():
        data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
        for secret in secrets:
            if secret.encode() in data:
                out.append(f"{where}: {secret[:6]}…")
    return out


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


async def test_the_token_never_leaks_and_files_are_private(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    captured: dict[str, str | bytes] = {}
    async with Emulator(EmulatorConfig(seed=5)) as emu:
        token = emu.demo_token
        env = cli_env(home)
        # -- the CLI, as a user runs it ------------------------------------------------
        code, out, err = await run_cli("login", "--token", "--base-url", emu.url, env=env, stdin=token + "\n")
        captured["login"] = out + err
        assert code == 0 or (code == 1 and "nothing was kept" in err), err  # 1: no usable keyring here
        code, out, err = await run_cli("status", "--base-url", emu.url, env=env)
        captured["status"] = out + err
        if code == 3:  # no usable keyring here (the vault said why): use $HAILUO_TOKEN from now on
            assert "keyring" in err.lower() or "Keyring" in out
            env["HAILUO_TOKEN"] = token
            code, out, err = await run_cli("status", "--base-url", emu.url, env=env)
            captured["status-env"] = out + err
        assert code == 0 and "logged in" in out, out + err
        code, out, err = await run_cli("--base-url", emu.url, "--debug", "ask", "hello there", env=env)
        captured["ask-debug"] = out + err
        assert code == 0 and "Turn 1" in out, err
        emu.config.fail_next = [401]
        code, out, err = await run_cli("--base-url", emu.url, "ask", "refused", env=env)
        captured["ask-401"] = out + err
        assert code == 3 and "Log in again" in err
        emu.config.drop_before = "mid_answer"
        code, out, err = await run_cli("--base-url", emu.url, "--debug", "ask", "cut me off", env=env)
        captured["ask-drop"] = out + err
        assert code == 8 and "dropped" in err
        emu.config.drop_before = None
        for args in (["--help"], ["ask", "--help"], ["login", "--help"], ["status", "--help"]):
            code, out, err = await run_cli(*args, env=env)
            captured[" ".join(args)] = out + err
            assert code == 0
        log_file = Paths.default().log_file  # computed below again with the env; read after the app run

        # -- debug_log = true in the config also writes the log ------------------------
        config_dir = home / "config" / "hailuo-tui"
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "config.toml").write_text("debug_log = true\n")
        code, out, err = await run_cli("--base-url", emu.url, "ask", "logged by the config", env=env)
        captured["ask-config-debug"] = out + err
        assert code == 0

        # -- the app with Pilot, on the same throwaway home ------------------------------
        for key in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            monkeypatch.setenv(key, env[key])
        monkeypatch.chdir(home)
        monkeypatch.delenv("HAILUO_TOKEN", raising=False)
        paths = Paths.default()
        log_file = paths.log_file
        from hailuo_tui.app import HailuoApp
        from hailuo_tui.logs import setup_debug_log
        from hailuo_tui.widgets.status_bar import StatusBar
        from tests.ui.conftest import ready, recording, send

        setup_debug_log()
        options = Options(base_url=emu.url, debug=True)
        services = Services(Config(base_url=emu.url), paths, options, vault=TokenVault.in_memory())
        await services.vault.save(await token_login(token, emu.url))
        app = recording(HailuoApp(options, services=services))
        try:
            async with app.run_test(size=SIZE) as pilot:
                screen = await ready(pilot)
                for text, fail in (("first message", None), ("second message", [500]), ("third message", None)):
                    emu.config.fail_next = fail or []
                    await send(pilot, text)
                    if fail:
                        captured["status-bar-500"] = screen.query_one(StatusBar).error_text
                        assert "HTTP 500" in captured["status-bar-500"]
                await pilot.press("ctrl+s")
                await pilot.pause()
                shot = app.save_screenshot(filename="shot.svg", path=str(tmp_path))
                captured["screenshot"] = Path(shot).read_text()
                captured["notifications"] = "\n".join(str(n.message) for n in app._notifications)
                captured["export-notice"] = captured["notifications"]
        finally:
            for name in ("hailuo_tui", "aiohttp"):
                logger = logging.getLogger(name)
                for handler in list(logger.handlers):
                    if isinstance(handler.formatter, RedactingFormatter):
                        logger.removeHandler(handler)
                        handler.close()
                logger.setLevel(logging.NOTSET)
        assert list(home.glob("hailuo-*.md")), "the export was written"

        # -- provider exceptions and their tracebacks ----------------------------------
        auth = await token_login(token, emu.url)
        for switches in ({"fail_next": [401]}, {"fail_next": [400]}, {"fail_next": [403], "fail_403_cloudflare": True},
                         {"drop_before": "mid_answer"}, {"stream_error": 1}, {"malformed_lines": True, "no_final": True}):
            emu.config = EmulatorConfig(seed=5, **switches)
            try:
                async for _ in HailuoAI.create_authed("MiniMax", [{"role": "user", "content": "hi"}], auth,
                                                      base_url=emu.url):
                    pass
            except HailuoError as exc:
                captured[f"exception {switches}"] = "\n".join(
                    [str(exc), repr(exc), exc.title, exc.detail or "", getattr(exc, "sample", ""),
                     "".join(traceback.format_exception(exc))])
        captured["auth-repr"] = repr(auth) + str(auth)

        secrets = secrets_of(emu, token)

    # -- every file written under the throwaway home, every output ----------------------
    written = files_under(home)
    assert written, "the session wrote files"
    assert not leaks({**written, **captured}, secrets), leaks({**written, **captured}, secrets)

    # -- the debug log: useful, and redacted ------------------------------------------
    log_text = log_file.read_text()
    assert "POST /v4/api/chat/msg" in log_text and "HTTP 200" in log_text  # something useful
    # neither the answers nor the stream's events one by one
    assert "You said" not in log_text and "TextDelta" not in log_text and "ChatStarted" not in log_text
    assert "stream ended" in log_text and "logged by the config" not in log_text  # never the user's text
    assert "StreamInterrupted" in log_text  # the dropped answer was logged
    assert redact(f"token: {token}").endswith("<redacted>") and token not in redact(f"'token': '{token}'")
    assert token not in redact(f'{{"yy": "abc", "token": "{token}"}}')
    assert "abcdef0123" not in redact("yy=abcdef0123&unix=1")

    # -- permissions: what the app creates is private ---------------------------------------
    data_dir = paths.data_dir
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for path in [data_dir, *data_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode == 0o700, (path, oct(mode))
        elif path.is_file():
            assert mode & 0o077 == 0, (path, oct(mode))
    for export in home.glob("hailuo-*.md"):
        assert stat.S_IMODE(export.stat().st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths.db_path).st_mode) == 0o600
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
