"""The command line as a user runs it: real subprocesses, the emulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import pytest

from hailuo_tui.emulator import Emulator
from tests.helpers import secret_service_skip_reason


def cli_env(tmp_path, **extra) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        # a keyring entry of its own, so a developer's real login is never touched
        HAILUO_TUI_KEYRING_SERVICE=f"hailuo-tui-test-{uuid.uuid4().hex[:8]}",
    )
    env.pop("HAILUO_TOKEN", None)
    env.update(extra)
    return env


async def run_cli(*args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60):
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hailuo_tui", *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin is not None else None), timeout)
    return proc.returncode, out.decode(), err.decode()


async def test_ask_demo_streams_a_markdown_answer(tmp_path):
    code, out, err = await run_cli("ask", "--demo", "Show me some python code and a table", env=cli_env(tmp_path))
    assert code == 0, err
    assert "```python" in out and "|---" in out
    assert err.splitlines()[-1].startswith("# Show me some python")  # the title goes to stderr
    assert "Warning" not in err  # the demo never needs a keyring


async def test_ask_reads_the_prompt_from_stdin(tmp_path):
    code, out, err = await run_cli("--demo", "ask", env=cli_env(tmp_path), stdin="你好，介绍一下你自己\n")
    assert code == 0, err
    assert any("\u4e00" <= ch <= "\u9fff" for ch in out)


async def test_ask_without_a_prompt_is_a_usage_error(tmp_path):
    code, out, err = await run_cli("ask", "--demo", env=cli_env(tmp_path), stdin="")
    assert code == 2 and "Nothing to ask" in err


async def test_not_logged_in_says_so_with_exit_code_3(tmp_path):
    async with Emulator() as emu:
        env = cli_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        code, out, err = await run_cli("ask", "--base-url", emu.url, "hello", env=env)
        assert code == 3 and "hailuo-tui login" in err
        code, out, err = await run_cli("status", "--base-url", emu.url, env=env)
        assert code == 3 and "not logged in" in out


async def test_env_token_overrides_and_is_never_printed(tmp_path):
    async with Emulator() as emu:
        env = cli_env(tmp_path, HAILUO_TOKEN=emu.demo_token, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        code, out, err = await run_cli("--base-url", emu.url, "status", env=env)
        assert code == 0 and "logged in" in out and "$HAILUO_TOKEN" in out
        assert emu.demo_token not in out + err
        code, out, err = await run_cli("--base-url", emu.url, "ask", "hello", env=env)
        assert code == 0 and "Turn 1" in out
        assert emu.demo_token not in out + err


async def test_error_exit_codes(tmp_path):
    async with Emulator() as emu:
        env = cli_env(tmp_path, HAILUO_TOKEN=emu.demo_token, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        for status, expected in ((429, 5), (502, 6), (401, 3)):
            emu.config.fail_next = [status]
            code, out, err = await run_cli("--base-url", emu.url, "ask", "hello", env=env)
            assert code == expected, (status, err)
        emu.config.drop_before = "mid_answer"
        code, out, err = await run_cli("--base-url", emu.url, "ask", "write a list", env=env)
        assert code == 8 and out.strip(), err  # the partial answer was printed
        assert "interrupted" in err.lower()


async def test_malformed_config_is_reported_with_path_and_line(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('theme = "nord"\nread_timeout = \n')
    code, out, err = await run_cli("--config", str(config), "ask", "--demo", "hi", env=cli_env(tmp_path))
    assert code == 2
    assert "bad.toml line 2" in err


@pytest.mark.keyring
async def test_login_token_status_logout_round_trip_through_the_keyring(tmp_path):
    reason = secret_service_skip_reason()
    if reason:
        pytest.skip(reason)
    async with Emulator() as emu:
        env = cli_env(tmp_path)
        code, out, err = await run_cli("--base-url", emu.url, "login", "--token", env=env, stdin=emu.demo_token + "\n")
        assert code == 0, err
        code, out, err = await run_cli("--base-url", emu.url, "status", env=env)
        assert code == 0 and "logged in as" in out, out + err
        assert "SecretService" in out or "Secret" in out
        code, out, err = await run_cli("--base-url", emu.url, "ask", "hello", env=env)
        assert code == 0 and "Turn 1" in out
        code, out, err = await run_cli("--base-url", emu.url, "logout", env=env)
        assert code == 0
        code, out, err = await run_cli("--base-url", emu.url, "status", env=env)
        assert code == 3
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert emu.demo_token.encode() not in path.read_bytes(), path


async def test_help_lists_every_command(tmp_path):
    code, out, err = await run_cli("--help", env=cli_env(tmp_path))
    assert code == 0
    for command in ("login", "logout", "status", "ask", "--demo", "--base-url", "--proxy", "--headless"):
        assert command in out


async def test_config_init_writes_a_private_default_that_loads(tmp_path):
    env = cli_env(tmp_path)
    code, out, err = await run_cli("config", "--init", env=env)
    assert code == 0 and "It loads fine" in out
    path = tmp_path / "config" / "hailuo-tui" / "config.toml"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    code, out, err = await run_cli("config", "--init", env=env)
    assert code == 0 and "not overwritten" in err
    path.write_text("read_timeout = 'soon'\n")
    code, out, err = await run_cli("config", env=env)
    assert code == 2 and "read_timeout" in out


# --- config values checked in one place (issue 11) -------------------------------------------------


@pytest.mark.parametrize(
    ("line", "key"),
    [("read_timeout = nan\n", "read_timeout"), ("connect_timeout = inf\n", "connect_timeout"),
     ('base_url = "ftp://www.hailuo.ai"\n', "base_url"), ('proxy = "socks5://127.0.0.1:9"\n', "proxy")],
)
async def test_config_and_ask_refuse_values_that_cannot_work(tmp_path, line, key):
    env = cli_env(tmp_path)
    path = tmp_path / "config" / "hailuo-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(line)
    code, out, err = await run_cli("config", env=env)
    assert code == 2 and f"'{key}'" in out and "It loads fine" not in out, out + err
    # `ask` says the same instead of failing every request at once or with an OverflowError
    code, out, err = await run_cli("ask", "--demo", "hi", env=env)
    assert code == 2 and f"'{key}'" in err and "Traceback" not in err, err


async def test_config_warns_as_the_app_does_about_themes_ids_and_keys(tmp_path):
    env = cli_env(tmp_path)
    path = tmp_path / "config" / "hailuo-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('theme = "[/x]"\n[keymap]\n"chat.send" = "entr"\n"no.such" = "f5"\n"chat.stop" = "escape"\n')
    code, out, err = await run_cli("config", env=env)
    assert code == 1 and "It loads fine" not in out, out + err
    warnings = [line for line in out.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 3, out
    assert all("config.toml" in w for w in warnings)
    assert "'[/x]'" in warnings[0] and "'no.such'" in warnings[1] and "'entr'" in warnings[2]


async def test_config_says_when_a_url_it_sets_cannot_be_reached(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = cli_env(tmp_path)
    path = tmp_path / "config" / "hailuo-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(f'base_url = "http://me:pw-4a7c2e@127.0.0.1:{port}"\n')
    code, out, err = await run_cli("config", env=env)
    assert code == 1 and "base_url" in out and "cannot be reached" in out, out + err
    assert "pw-4a7c2e" not in out + err
    # ask: the password of base_url is never echoed either
    code, out, err = await run_cli("ask", "hi", env={**env, "HAILUO_TOKEN": "tok-cafe0123456789"})
    assert code == 7 and "Could not reach" in err, err
    assert "pw-4a7c2e" not in out + err and "tok-cafe0123456789" not in out + err


# --- secrets echoed by a hostile server (issue 11) -----------------------------------------------


@pytest.mark.parametrize("wrap", ["json-in-json", "html"])
@pytest.mark.parametrize("status", [400, 500])
async def test_a_server_echoing_the_token_and_key_never_gets_them_printed_or_logged(tmp_path, wrap, status):
    from tests.hostile_echo import EchoServer

    token, key, password = "tok-7f3a9cQQe1b2zz", "mmk_Zr8qLw2Vx5QQ", "pw-91b0c3d7"
    env = cli_env(tmp_path, HAILUO_TOKEN=token, MINIMAX_API_KEY=key)
    async with EchoServer(status, wrap) as server:
        url = server.url.replace("http://", f"http://me:{password}@")
        code, out, err = await run_cli("--debug", "--base-url", url, "ask", "hi", env=env)
        assert code in (4, 6) and ("refused" in err or "failed" in err), err
        code2, out2, err2 = await run_cli("--debug", "--backend", "api", "--api-base-url", server.url + "/v1", "ask",
                                          "hi", env=env)
        assert code2 in (4, 6), err2
        assert server.hits >= 3  # the register call, the web chat, the API chat: the echo was sent
    log = tmp_path / "data" / "hailuo-tui" / "hailuo-tui.log"
    logged = log.read_text()
    assert "POST" in logged
    for secret in (token, key, password):
        for text in (out, err, out2, err2, logged):
            assert secret not in text and secret[4:12] not in text


async def test_login_token_without_a_keyring_says_nothing_was_kept_and_warns_once_per_command(tmp_path):
    async with Emulator() as emu:
        env = cli_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        code, out, err = await run_cli("--base-url", emu.url, "login", "--token", env=env, stdin=emu.demo_token + "\n")
        assert code != 0, err  # the command's purpose, keeping the login, failed
        assert "nothing was kept" in err and "Logged in." not in err
        assert err.count("Warning:") == 1 and emu.demo_token not in out + err
        code, out, err = await run_cli("--base-url", emu.url, "status", env=env)
        assert code == 3 and "not logged in" in out
        assert err.count("Warning:") == 1  # one keyring, one warning (not one per vault)
        env["HAILUO_TOKEN"] = emu.demo_token
        code, out, err = await run_cli("--base-url", emu.url, "ask", "hello", env=env)
        assert code == 0 and "Turn 1" in out and "Warning" not in err
