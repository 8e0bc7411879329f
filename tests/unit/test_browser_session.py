"""BrowserSession.start with a real Chromium, a slow one and broken ones: the process is ours and always reaped."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from hailuo_tui.provider import browser_session
from hailuo_tui.provider.browser_session import BrowserSession
from hailuo_tui.provider.errors import BrowserNotFound, LoginError
from hailuo_tui.provider.login import find_browser


def _chromium() -> str:
    try:
        return find_browser()
    except BrowserNotFound:
        pytest.skip("no Chromium/Chrome installed")


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "browser.sh"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def _reaped(session: BrowserSession) -> asyncio.subprocess.Process:
    proc = session.proc
    assert proc is not None
    await asyncio.wait_for(session.close(), 60)
    # close() stops its pipe readers; read both pipes to their end so that asyncio closes the process
    # transport in this loop, not in a garbage collection after the loop is gone ("Event loop is closed").
    await asyncio.wait_for(asyncio.gather(proc.stdout.read(), proc.stderr.read()), 30)
    assert proc.returncode is not None
    return proc


@pytest.mark.browser
@pytest.mark.timeout(120)
async def test_a_chromium_slower_than_nodriver_waits_is_still_connected(tmp_path) -> None:
    """nodriver's own launch gives up ~2.75 s after starting Chromium; a start that takes 4 s (a loaded CI
    machine) still connects, because the wait is for Chromium's own "DevTools listening" line."""
    slow = _script(tmp_path, f'sleep 4\nexec "{_chromium()}" "$@"')
    session = BrowserSession(slow, tmp_path / "profile", headless=True, proxy=None)
    try:
        await asyncio.wait_for(session.start(), 90)
        assert session.proc is not None and session.proc.returncode is None
        assert session.browser.info and "Browser" in session.browser.info  # nodriver read /json/version
        tab = await asyncio.wait_for(session.browser.get("about:blank"), 30)
        assert await asyncio.wait_for(tab.evaluate("1 + 1"), 10) == 2
    finally:
        proc = await _reaped(session)
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)


async def _failed_start(tmp_path: Path, script: str) -> tuple[LoginError, bool, asyncio.subprocess.Process]:
    """Start a "browser" that is the shell ``script``; the LoginError, whether it still ran, and its reaped process."""
    session = BrowserSession(_script(tmp_path, script), tmp_path / "profile", headless=True, proxy=None)
    try:
        with pytest.raises(LoginError) as caught:
            await asyncio.wait_for(session.start(), 30)
        running = session.proc is not None and session.proc.returncode is None
    finally:
        proc = await _reaped(session)
    return caught.value, running, proc


async def test_a_browser_that_exits_at_once_says_so_with_its_output(tmp_path) -> None:
    error, _, proc = await _failed_start(tmp_path, 'echo "cannot open display" >&2\nexit 7')
    assert "could not be started" in error.message
    assert "exit status 7" in error.detail and "cannot open display" in error.detail
    assert proc.returncode == 7


async def test_a_browser_that_never_opens_devtools_is_given_up_and_stopped(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(browser_session, "_START_TIMEOUT", 1.0)
    error, running, proc = await _failed_start(tmp_path, "exec sleep 600")
    assert "no DevTools endpoint after 1 s" in error.detail
    assert running  # given up on, then stopped by close()
    assert proc.returncode is not None


async def test_an_executable_that_cannot_run_is_a_login_error(tmp_path) -> None:
    not_runnable = tmp_path / "chromium"
    not_runnable.write_text("not a program")  # no execute bit
    session = BrowserSession(str(not_runnable), tmp_path / "profile", headless=True, proxy=None)
    with pytest.raises(LoginError) as caught:
        await asyncio.wait_for(session.start(), 30)
    assert str(not_runnable) in caught.value.detail
    assert session.proc is None
    await asyncio.wait_for(session.close(), 30)
