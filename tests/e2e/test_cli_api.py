"""The command line on the MiniMax API backend, as a user runs it: real subprocesses, the emulator on 127.0.0.1.

Every test ends by grepping every file under its throwaway HOME (config, data, cache, logs) for the API keys it used.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from hailuo_tui.emulator import Emulator, EmulatorConfig
from tests.e2e.test_cli import cli_env, run_cli
from tests.helpers import secret_service_skip_reason

NO_KEYRING = "keyring.backends.fail.Keyring"
REASONING = "The user is asking"  # how the emulator's fake model starts its reasoning


def api_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = cli_env(tmp_path, XDG_CACHE_HOME=str(tmp_path / "cache"), **extra)
    if "MINIMAX_API_KEY" not in extra:
        env.pop("MINIMAX_API_KEY", None)
    return env


def assert_no_file_holds(root: Path, *secrets: str) -> None:
    written = [p for p in root.rglob("*") if p.is_file()]
    for path in written:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:10]}… in {path}"


@pytest.mark.keyring
async def test_api_key_login_status_ask_and_logout_through_the_keyring(tmp_path):
    reason = secret_service_skip_reason()
    if reason:
        pytest.skip(reason)
    import keyring

    async with Emulator() as emu:
        env = api_env(tmp_path)
        service = env["HAILUO_TUI_KEYRING_SERVICE"]
        host = ("--api-base-url", emu.api_base_url)
        refused = "sk-api-never-issued-" + uuid.uuid4().hex
        code, out, err = await run_cli("login", "--api-key", *host, env=env, stdin=refused + "\n")
        assert code == 3 and "Logged in" not in err, err
        assert keyring.get_password(service, "api-key") is None  # a refused key is not stored
        assert refused not in out + err

        key = emu.issue_api_key()
        try:
            code, out, err = await run_cli("login", "--api-key", *host, env=env, stdin=key + "\n")
            assert code == 0 and "Logged in to the MiniMax API" in err, err
            assert keyring.get_password(service, "api-key") == key
            assert keyring.get_password(service, "default") is None  # the web login is another entry

            code, out, err = await run_cli("status", "--backend", "api", *host, env=env)
            assert code == 0, out + err
            assert "API key:   stored in the keyring, accepted" in out and emu.api_base_url in out
            assert "Web login: not logged in" in out  # both logins are listed
            assert key not in out + err

            code, out, err = await run_cli("ask", "--backend", "api", *host, "hello there", env=env)
            assert code == 0 and "# About: hello there" in out, err

            # $MINIMAX_API_KEY wins over the stored key for one run: with the stored one revoked, it still works
            other = emu.issue_api_key()
            emu.revoke_api_key(key)
            with_env = dict(env, MINIMAX_API_KEY=other)
            code, out, err = await run_cli("--debug", "ask", "--backend", "api", *host, "from the env", env=with_env)
            assert code == 0 and "# About: from the env" in out, err
            code, out, err = await run_cli("status", "--backend", "api", *host, env=with_env)
            assert code == 0 and "from $MINIMAX_API_KEY, accepted" in out, out
            code, out, err = await run_cli("ask", "--backend", "api", *host, "stored key revoked", env=env)
            assert code == 3 and "Login needed" in err, err

            code, out, err = await run_cli("logout", "--api", env=env)
            assert code == 0 and "forgot the MiniMax API key" in err, err
            assert keyring.get_password(service, "api-key") is None
            code, out, err = await run_cli("status", "--backend", "api", *host, env=env)
            assert code == 3 and "API key:   none" in out
        finally:
            try:
                keyring.delete_password(service, "api-key")
            except Exception:
                pass
        assert_no_file_holds(tmp_path, key, other, refused)


async def test_ask_api_streams_the_answer_and_shows_thinking_only_when_asked(tmp_path):
    async with Emulator() as emu:
        key = emu.issue_api_key()
        env = api_env(tmp_path, MINIMAX_API_KEY=key, PYTHON_KEYRING_BACKEND=NO_KEYRING)
        host = ("--api-base-url", emu.api_base_url)
        code, out, err = await run_cli("ask", "--backend", "api", *host, "show me some code", env=env)
        assert code == 0, err
        assert out.startswith("# About: show me some code") and "```python" in out and out.endswith("\n")
        assert REASONING not in out + err and "<think>" not in out
        code, out, err = await run_cli("--debug", "ask", "--backend", "api", "--thinking", *host,
                                       "show me some code", env=env)
        assert code == 0, err
        assert REASONING in err and REASONING not in out and "\x1b[" not in err  # plain: stderr is not a tty
        assert out.startswith("# About: show me some code")
        log = tmp_path / "data" / "hailuo-tui" / "hailuo-tui.log"
        assert "/v1/chat/completions" in log.read_text()  # the debug log was written (and is grepped below)
        # inline <think> reasoning is routed the same way
        emu.config.api_reasoning = "inline"
        code, out, err = await run_cli("ask", "--backend", "api", "--thinking", *host, "hi", env=env)
        assert code == 0 and REASONING in err and "think>" not in out + err, out + err
        assert key not in out + err
    assert_no_file_holds(tmp_path, key)


async def test_ask_api_model_system_prompt_and_config_default_backend(tmp_path):
    async with Emulator() as emu:
        key = emu.issue_api_key()
        config = tmp_path / "hailuo.toml"
        config.write_text(f'default_backend = "api"\napi_base_url = "{emu.api_base_url}"\n'
                          'system_prompt = "Be brief."\n')
        env = api_env(tmp_path, MINIMAX_API_KEY=key, PYTHON_KEYRING_BACKEND=NO_KEYRING)
        code, out, err = await run_cli("--config", str(config), "ask", "hello", env=env)
        assert code == 0 and "I follow the system prompt \u201cBe brief.\u201d" in out, out + err
        code, out, err = await run_cli("--config", str(config), "ask", "--system", "Talk like a pirate.",
                                       "--model", "MiniMax-M2.7", "hello", env=env)
        assert code == 0 and "Talk like a pirate." in out, out + err
        chat = [r for r in emu.requests if r.path.endswith("/chat/completions")][-1]
        assert chat.json["model"] == "MiniMax-M2.7"
        assert chat.json["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
        code, out, err = await run_cli("--config", str(config), "ask", "--model", "No-Such-Model", "hi", env=env)
        assert code == 4 and "Request refused" in err, err
    assert_no_file_holds(tmp_path, key)


async def test_ask_api_exit_codes_match_the_error_family(tmp_path):
    async with Emulator(EmulatorConfig(api_chunk_chars=8)) as emu:
        key = emu.issue_api_key()
        env = api_env(tmp_path, MINIMAX_API_KEY=key, PYTHON_KEYRING_BACKEND=NO_KEYRING)
        host = ("--backend", "api", "--api-base-url", emu.api_base_url)
        bad = dict(env, MINIMAX_API_KEY="sk-api-wrong-" + uuid.uuid4().hex)
        code, out, err = await run_cli("ask", *host, "hello", env=bad)
        assert code == 3 and out == "", err  # AuthError's exit code
        assert bad["MINIMAX_API_KEY"] not in err
        for name, expected in (("rate_1002", 5), ("overload_529", 6)):
            emu.config.api_fail_next = [name]
            code, out, err = await run_cli("ask", *host, "hello", env=env)
            assert code == expected, (name, err)
        emu.config.api_cut_after = 70  # past the reasoning (about 40 chunks of 8 characters)
        code, out, err = await run_cli("ask", *host, "write a list", env=env)
        assert code == 8 and out.strip(), err  # the partial answer was printed
        emu.config.api_cut_after = None
        code, out, err = await run_cli("ask", *host, "hello", env=api_env(tmp_path, PYTHON_KEYRING_BACKEND=NO_KEYRING))
        assert code == 3 and "hailuo-tui login --api-key" in err
    assert_no_file_holds(tmp_path, key)


async def test_models_lists_caches_and_falls_back(tmp_path):
    async with Emulator() as emu:
        key = emu.issue_api_key()
        env = api_env(tmp_path, MINIMAX_API_KEY=key, PYTHON_KEYRING_BACKEND=NO_KEYRING)
        host = ("--api-base-url", emu.api_base_url)

        def listed() -> int:
            return sum(1 for r in emu.requests if r.path.endswith("/v1/models"))

        code, out, err = await run_cli("models", *host, env=env)
        assert code == 0 and err == "", err
        models = out.split()
        assert models[:2] == ["MiniMax-M3.1-Flash-Preview", "MiniMax-M3"] and listed() == 1
        emu.config.api_models_fail = "server_1000"
        code, out, err = await run_cli("models", *host, env=env)
        assert code == 0 and out.split() == models and listed() == 1  # from the cache, no request
        code, out, err = await run_cli("models", "--refresh", *host, env=env)
        assert code == 0 and listed() == 2
        assert "documented list" in err and "MiniMax-M3" in out.split()
        assert "MiniMax-M3.1-Flash-Preview" != out.split()[0]  # the documented order, not the server's
        cache = list((tmp_path / "cache").rglob("models.json"))
        assert len(cache) == 1
        emu.config.api_models_fail = None
        bad = dict(env, MINIMAX_API_KEY="sk-api-wrong-" + uuid.uuid4().hex)
        code, out, err = await run_cli("models", *host, env=bad)
        assert code == 3 and out == "", err
    assert_no_file_holds(tmp_path, key, bad["MINIMAX_API_KEY"])


async def test_demo_ask_on_the_api_backend_needs_no_key(tmp_path):
    env = api_env(tmp_path, PYTHON_KEYRING_BACKEND=NO_KEYRING)
    code, out, err = await run_cli("--demo", "ask", "--backend", "api", "--thinking", "hi", env=env)
    assert code == 0 and out.startswith("# About: hi"), err
    assert REASONING in err and "Warning" not in err
    code, out, err = await run_cli("--demo", "status", "--backend", "api", env=env)
    assert code == 0 and "API key:   the demo key, accepted" in out
    assert_no_file_holds(tmp_path, "sk-api-demo-")


async def test_login_api_key_never_takes_the_key_as_an_argument(tmp_path):
    env = api_env(tmp_path, PYTHON_KEYRING_BACKEND=NO_KEYRING)
    code, out, err = await run_cli("login", "--api-key", "sk-api-on-the-command-line", env=env, stdin="")
    assert code == 2 and "unrecognized arguments" in err
    code, out, err = await run_cli("login", "--api-key", env=env, stdin="\n")
    assert code == 2 and "No API key given" in err
    code, out, err = await run_cli("--help", env=env)
    assert code == 0 and "models" in out and "--backend" in out and "--api-base-url" in out


async def test_login_api_key_without_a_keyring_says_nothing_was_kept_and_fails(tmp_path):
    async with Emulator() as emu:
        key = emu.issue_api_key()
        env = api_env(tmp_path, PYTHON_KEYRING_BACKEND=NO_KEYRING)
        code, out, err = await run_cli("login", "--api-key", "--api-base-url", emu.api_base_url, env=env,
                                       stdin=key + "\n")
        assert code == 1, err  # storing the key was the command's purpose
        assert "Your API key is kept in memory for this run only" in err and "gnome-keyring" in err
        assert err.count("Warning:") == 1
        assert "Logged in" not in err and "nothing was kept" in err.splitlines()[-1]
        assert key not in out + err
    assert_no_file_holds(tmp_path, key)
