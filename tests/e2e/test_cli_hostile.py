"""`hailuo-tui ask` against hostile servers and odd terminals: real subprocesses, servers on 127.0.0.1."""

from __future__ import annotations

import asyncio

from aiohttp import web

from tests.e2e.test_cli import cli_env, run_cli
from tests.unit.test_hostile_streams import send_result, serve, snapshot, sse, stream_response

MARK = "/v4/api/chat/msg"


def hostile(message_handler):
    """A Hailuo look-alike: the device registration succeeds; the message route is ``message_handler``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == MARK:
            return await message_handler(request)
        await request.read()
        return web.json_response({"statusInfo": {"code": 0}, "data": {"deviceIDStr": "42"}})

    return handler


def env_for(tmp_path, url, config: str = "", **extra) -> tuple[dict[str, str], tuple[str, ...]]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(config)
    env = cli_env(tmp_path, HAILUO_TOKEN="hostile.test.token", HAILUO_TUI_CONFIG=str(cfg),
                  PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", **extra)
    return env, ("--base-url", url)


async def test_ask_prints_the_servers_rewritten_text_and_says_so(tmp_path):
    async def message(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = await stream_response(request)
        for chunk in (send_result(), snapshot("The cat sat"), snapshot("The dog sat on"),
                      snapshot("The dog sat on the mat.", 0), sse("close_chunk", {"type": 8, "data": {}})):
            await response.write(chunk)
        return response

    runner, url = await serve(hostile(message))
    try:
        env, base = env_for(tmp_path, url)
        code, out, err = await run_cli(*base, "ask", "hi", env=env)
    finally:
        await runner.cleanup()
    assert code == 0, err
    assert "server rewrote the answer" in err
    assert out.splitlines()[-1] == "The dog sat on the mat."  # the final text, whole, never a splice
    assert "The cat sat on the mat." not in out


async def test_ask_stops_an_endless_answer_at_max_answer_chars(tmp_path):
    async def message(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = await stream_response(request)
        await response.write(send_result())
        text = ""
        for _ in range(20_000):
            text += "word " * 100
            await response.write(snapshot(text))
        return response

    runner, url = await serve(hostile(message))
    try:
        env, base = env_for(tmp_path, url, "max_answer_chars = 20000\n")
        code, out, err = await run_cli(*base, "ask", "hi", env=env)
    finally:
        await runner.cleanup()
    assert code == 8, err
    assert "Stopped: the answer passed 20,000 characters" in err
    assert 20_000 <= len(out) < 21_000


async def test_ask_gives_up_on_a_trickling_server_at_answer_timeout(tmp_path):
    async def message(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = await stream_response(request)
        await response.write(send_result() + snapshot("Partial"))
        for _ in range(120):
            await response.write(b":")
            await asyncio.sleep(0.25)
        return response

    runner, url = await serve(hostile(message))
    try:
        env, base = env_for(tmp_path, url, "answer_timeout = 2\nread_timeout = 1\n")
        code, out, err = await run_cli(*base, "ask", "hi", env=env, timeout=25)
    finally:
        await runner.cleanup()
    assert code == 8, err
    assert out.strip() == "Partial"
    assert "took longer than 2 s" in err


async def test_ask_says_the_request_arrived_when_the_server_stays_silent(tmp_path):
    async def message(request: web.Request) -> web.StreamResponse:
        await request.read()
        await asyncio.sleep(4)
        return web.Response()

    runner, url = await serve(hostile(message))
    try:
        env, base = env_for(tmp_path, url, "read_timeout = 1\n")
        code, out, err = await run_cli(*base, "ask", "hi", env=env, timeout=25)
    finally:
        await runner.cleanup()
    assert code == 8, err
    assert "accepted the request but sent nothing for 1 s" in err and "Could not reach" not in err


async def test_ask_on_a_non_utf8_stdout_finishes_with_replacements(tmp_path):
    for encoding, backend in (("ascii", "web"), ("latin-1", "web"), ("ascii", "api")):
        env = cli_env(tmp_path, PYTHONIOENCODING=encoding)
        code, out_bytes, err = await run_cli_bytes("ask", "--demo", "--backend", backend, "你好，介绍一下你自己",
                                                   env=env)
        assert code == 0, err
        assert "UnicodeEncodeError" not in err
        assert "PYTHONIOENCODING=utf-8" in err
        assert out_bytes.rstrip().endswith(b"?") and len(out_bytes) > 20  # the whole answer, as far as it shows


async def run_cli_bytes(*args: str, env: dict[str, str], timeout: float = 60):
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hailuo_tui", *args, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode, out, err.decode("utf-8", "replace")
