"""Small helpers shared by several test modules."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any


def secret_service_skip_reason() -> str:
    """'' if an unlocked Secret Service answers, else why a keyring test must skip."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return "no D-Bus session (run pytest under dbus-run-session with an unlocked gnome-keyring)"
    try:
        from keyring.backends import SecretService

        SecretService.Keyring().get_password("hailuo-tui-probe", "probe")
    except Exception as exc:
        return f"Secret Service not usable: {type(exc).__name__}: {exc}"
    return ""


@asynccontextmanager
async def serve(app) -> AsyncIterator[str]:
    """Run an aiohttp application on 127.0.0.1 (a free port) and yield its base URL."""
    from aiohttp import web

    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def wait_until(pilot: Any, predicate: Callable[[], object], timeout: float = 15.0, what: str = "condition") -> Any:
    """Let the app run until ``predicate()`` (a value or a coroutine) is true; fail after ``timeout`` seconds.

    Returns the predicate's true value.
    """
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
