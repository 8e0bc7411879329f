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


async def click_shown(pilot: Any, selector: str, timeout: float = 15.0) -> Any:
    """Click the current screen's ``selector`` once the screen has laid it out; fail unless the click landed on it.

    A widget can be queried, and focused, from its mount on, before the screen's layout gives it a place: till
    then its region is empty and Pilot, which reads the region before it lets the app run, clicks the screen's
    top-left corner. The browser login test timed out in CI with the login never started (its progress line
    empty), as after such a click. Returns the widget.
    """
    app = pilot.app

    def laid_out() -> Any:
        found = app.screen.query(selector)
        return found and found.first().region.area and found.first()

    widget = await wait_until(pilot, laid_out, timeout=timeout, what=f"{selector} on the screen")
    landed = await pilot.click(widget)
    under = app.get_widget_at(*widget.region.offset)[0]
    assert landed, f"the click on {selector} at {widget.region.offset} landed on {under!r}"
    return widget


def run_queue_seconds() -> float | None:
    """Seconds the main thread (the event loop's) has spent runnable but waiting for a CPU; None without schedstat.

    ``/proc/self/schedstat`` is the thread group leader's: the main thread's alone.
    """
    try:
        with open("/proc/self/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


class UnstarvedTimer:
    """How long something took, had the event loop had a CPU whenever it wanted one.

    Wall time minus the time the main thread (where the app, the emulator and the test run)
    waited, runnable, for a CPU that other processes held (Linux schedstat). On an idle
    machine that is the wall time; on a loaded one (CI, CPU burners at a higher priority)
    it is about what the same run takes on an idle one. It still counts every wait the app
    chose (timers, the network) and the time it waited for other threads (the store's),
    however starved those were: it can only be stricter than on an idle machine there.
    Where the kernel keeps no schedstat it is the wall time.
    """

    def __init__(self) -> None:
        self._wall = time.monotonic()
        self._queued = run_queue_seconds()

    def elapsed(self) -> float:
        wall = time.monotonic() - self._wall
        queued = run_queue_seconds()
        if queued is None or self._queued is None:
            return wall
        return wall - (queued - self._queued)


async def api_answer(config: Any, timeout: float = 60.0) -> list:
    """Every event of one MiniMax-API answer from an emulator run with ``config`` (an EmulatorConfig)."""
    from hailuo_tui.emulator import Emulator
    from hailuo_tui.provider import MiniMaxAPI
    from hailuo_tui.provider.backend import ChatRequest

    async with Emulator(config) as emu:
        api = MiniMaxAPI(emu.demo_api_key, base_url=emu.url + "/v1", read_timeout=10, connect_timeout=5)
        request = ChatRequest([{"role": "user", "content": "hello"}])

        async def run() -> list:
            return [event async for event in api.stream(request)]

        return await asyncio.wait_for(run(), timeout)
