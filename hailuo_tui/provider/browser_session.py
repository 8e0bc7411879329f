"""The browser side of the login: one Chromium started through nodriver, watched and shut down cleanly.

Profile preparation, the liveness checks (browser gone, tab closed), the polls
for a loaded page and for ``localStorage._token``, the cookie read through
DevTools, and a close that reaps the process in this loop.

Nothing here prints, logs or puts the token into an exception text.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

from .errors import LoginError
from .page_session import READ_SESSION_JS, strip_headless, user_agent_metadata

#: Chromium flags (ENVIRONMENT.md §3); nodriver adds its own defaults.
BROWSER_FLAGS = [
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-default-apps",
    "--mute-audio",
]

_POLL_INTERVAL = 0.25
_JS_CALL_TIMEOUT = 10.0
_READY_TIMEOUT = 30.0
#: How long Chromium may take to open its DevTools endpoint while its process lives (a cold start on an
#: idle 2-core VM takes ~0.4 s; a loaded CI machine once took more than nodriver's ~2.75 s).
_START_TIMEOUT = 60.0
_DEVTOOLS_LINE = re.compile(r"DevTools listening on ws://[^\s/]+:(\d+)/")


# --- the browser side ----------------------------------------------------------


def prepare_profile(profile_dir: Path) -> Path:
    """Create the persistent profile directory if needed and make it private (0700).

    Args:
        profile_dir: Where the browser profile lives (``~`` is expanded).

    Returns:
        The expanded path.
    """
    profile_dir = Path(profile_dir).expanduser()
    if not profile_dir.exists():
        profile_dir.mkdir(mode=0o700, parents=True)
    with contextlib.suppress(OSError):
        if stat.S_IMODE(profile_dir.stat().st_mode) & 0o077:
            profile_dir.chmod(0o700)
    return profile_dir


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class BrowserGone(Exception):
    """The Chromium process has exited (``returncode`` 0: the user closed the window)."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(returncode)
        self.returncode = returncode


class TabClosed(Exception):
    """The login tab was closed while the browser lives on."""


class BrowserSession:
    """One Chromium started through nodriver, and its clean shutdown."""

    def __init__(self, executable: str, profile: Path, *, headless: bool, proxy: str | None) -> None:
        self.executable = executable
        self.profile = profile
        self.headless = headless
        self.proxy = proxy
        self.browser: Any = None
        self.proc: asyncio.subprocess.Process | None = None
        self.tab: Any = None
        self.target_id: str | None = None
        self._drains: list[asyncio.Task] = []
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=20)

    # -- start ------------------------------------------------------------------

    async def start(self) -> None:
        """Start Chromium ourselves, wait for its DevTools endpoint, then let nodriver connect to it.

        nodriver's own start gives Chromium ~2.75 s to answer on a port it picked (ENVIRONMENT.md §3,
        pitfall 8); a CI machine running the whole suite once took longer ("Failed to connect to
        browser"). Here Chromium picks a free port itself (``--remote-debugging-port=0``, no race for
        the port) and says which on stderr; we wait for that line as long as the process lives, up to
        ``_START_TIMEOUT``. The process is ours from the first moment, so nothing reads nodriver's
        private ``_process``.
        """
        import nodriver as uc

        args = list(BROWSER_FLAGS)
        if self.proxy:
            args.append(f"--proxy-server={self.proxy}")
        config = uc.Config(
            user_data_dir=str(self.profile),
            headless=self.headless,
            browser_executable_path=self.executable,
            browser_args=args,
            sandbox=not _is_root(),
        )
        # The host and port are left unset while the command line is built: nodriver adds them only
        # when set, and once set after the launch they make its start connect instead of launching.
        params = [*config(), "--remote-debugging-host=127.0.0.1", "--remote-debugging-port=0"]
        try:
            self.proc = await asyncio.create_subprocess_exec(
                self.executable, *params,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise self._start_failed(f"{self.executable}: {exc.strerror or exc}") from None
        assert self.proc.stderr is not None
        try:
            port = await asyncio.wait_for(self._devtools_port(self.proc.stderr), _START_TIMEOUT)
        except asyncio.TimeoutError:
            raise self._start_failed(f"no DevTools endpoint after {_START_TIMEOUT:g} s") from None
        finally:
            self._start_drains()
        if port is None:  # stderr ended: the process is exiting; its status follows
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 5)
            raise self._start_failed(f"exit status {self.proc.returncode}")
        config.host, config.port = "127.0.0.1", port
        self.browser = uc.Browser(config)
        try:
            await asyncio.wait_for(self.browser.start(), _START_TIMEOUT)
        except Exception as exc:
            raise self._start_failed(f"connecting to port {port}: {type(exc).__name__}: {exc!s}") from None

    async def _devtools_port(self, stderr: asyncio.StreamReader) -> int | None:
        """Read Chromium's stderr up to "DevTools listening on ws://127.0.0.1:PORT/…"; None if it ends first."""
        while True:
            try:
                line = await stderr.readline()
            except ValueError:  # a line over the reader's 64 KiB limit: dropped, the next one is read
                continue
            if not line:
                return None
            text = line.decode("utf-8", "replace").rstrip()
            self.stderr_tail.append(text)
            found = _DEVTOOLS_LINE.search(text)
            if found:
                return int(found.group(1))

    def _start_failed(self, why: str) -> LoginError:
        return LoginError(
            "Chromium could not be started for the login. If another login window is open, close it "
            "first; otherwise check that the browser works (try running it by hand).",
            detail=why[:500] + self.output_tail(),
        )

    def _start_drains(self) -> None:
        """Keep reading Chromium's output so a long session never blocks on a full pipe."""
        if self.proc is None or self._drains:
            return
        for stream, keep in ((self.proc.stdout, False), (self.proc.stderr, True)):
            if stream is not None:
                self._drains.append(asyncio.ensure_future(self._drain(stream, keep)))

    async def _drain(self, stream: asyncio.StreamReader, keep: bool) -> None:
        with contextlib.suppress(Exception):
            while True:
                line = await stream.readline()
                if not line:
                    return
                if keep:
                    self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    def output_tail(self) -> str:
        """The last lines Chromium wrote to stderr, each on its own line after a leading newline ("" if none)."""
        return ("\n" + "\n".join(self.stderr_tail)) if self.stderr_tail else ""

    # -- liveness ---------------------------------------------------------------

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.returncode is not None:
            raise BrowserGone(self.proc.returncode)

    async def check_tab(self) -> None:
        """Raise TabClosed if our tab is gone (the browser itself still answering)."""
        from nodriver import cdp

        self.check_alive()
        try:
            targets = await asyncio.wait_for(self.browser.send(cdp.target.get_targets()), _JS_CALL_TIMEOUT)
        except Exception:
            await asyncio.sleep(0.2)
            self.check_alive()
            return  # unknown: let the caller retry
        if self.target_id and not any(t.target_id == self.target_id for t in targets):
            raise TabClosed()

    async def js(self, expr: str) -> Any:
        """Evaluate ``expr`` in the tab, JSON round trip (ENVIRONMENT.md §3)."""
        res = await asyncio.wait_for(self.tab.evaluate(f"JSON.stringify({expr})"), _JS_CALL_TIMEOUT)
        if not isinstance(res, str):
            raise RuntimeError("JavaScript evaluation failed")
        return None if res == "undefined" else json.loads(res)

    # -- the steps ----------------------------------------------------------------

    async def open(self, url: str) -> None:
        from nodriver import cdp

        tab = self.browser.main_tab
        self.tab = tab
        self.target_id = tab.target.target_id
        if self.headless and os.environ.get("HAILUO_NO_UA_OVERRIDE") is None:
            # The page would otherwise see "HeadlessChrome" in navigator.userAgent.
            with contextlib.suppress(Exception):
                ua = strip_headless(str((self.browser.info or {}).get("User-Agent") or ""))
                if ua:
                    await asyncio.wait_for(
                        tab.send(
                            cdp.emulation.set_user_agent_override(
                                user_agent=ua, user_agent_metadata=user_agent_metadata(ua, self.executable)
                            )
                        ),
                        _JS_CALL_TIMEOUT,
                    )
        self.tab = await asyncio.wait_for(self.browser.get(url), _READY_TIMEOUT)
        self.target_id = self.tab.target.target_id

    async def wait_ready(self, deadline: float) -> None:
        """Wait for a loaded http(s) document (not ``tab.select``: ENVIRONMENT.md §3 pitfall 1).

        Gives up quietly at ``deadline`` (loop time) or after ``_READY_TIMEOUT`` s, whichever
        comes first: a slow page is not an error, the wait for the token decides.
        """
        loop = asyncio.get_running_loop()
        deadline = min(deadline, loop.time() + _READY_TIMEOUT)
        while True:
            self.check_alive()
            try:
                href, state = await self.js("[location.href, document.readyState]")
            except Exception:
                await self.check_tab()
            else:
                if isinstance(href, str) and href.startswith("chrome-error://"):
                    raise LoginError(
                        "The login page could not be loaded. Check your network connection"
                        " (and the proxy setting, if you use one), then try again.",
                        detail=href,
                    )
                if isinstance(href, str) and href.startswith(("http://", "https://")) and state == "complete":
                    return
            if loop.time() >= deadline:
                return  # slow page: keep going, the token poll decides
            await asyncio.sleep(0.1)

    async def wait_for_session(self, deadline: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        while True:
            self.check_alive()
            try:
                session = await self.js(READ_SESSION_JS)
            except Exception:
                session = None
                await self.check_tab()
            if isinstance(session, dict) and session.get("token"):
                return session
            if loop.time() >= deadline:
                raise asyncio.TimeoutError
            await asyncio.sleep(_POLL_INTERVAL)

    async def cookies(self, url: str) -> dict[str, str]:
        from nodriver import cdp

        cookies = await asyncio.wait_for(self.tab.send(cdp.network.get_cookies(urls=[url + "/"])), _JS_CALL_TIMEOUT)
        return {c.name: c.value for c in cookies}

    # -- close ----------------------------------------------------------------------

    async def close(self) -> None:
        """Close every connection, stop Chromium and reap it in this loop (no ResourceWarnings)."""
        browser, proc = self.browser, self.proc
        if browser is not None:
            for t in list(getattr(browser, "targets", []) or []):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(t.aclose(), 3)
            if proc is not None and proc.returncode is None:
                # Ask politely first so the profile (cookies, localStorage) is flushed to disk.
                with contextlib.suppress(Exception):
                    from nodriver import cdp

                    await asyncio.wait_for(browser.send(cdp.browser.close()), 3)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser.aclose(), 3)
            if proc is not None and proc.returncode is None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(proc.wait(), 5)
            with contextlib.suppress(Exception):
                from nodriver.core import util

                util.get_registered_instances().discard(browser)
        if proc is not None:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in self._drains:
            task.cancel()
        for task in self._drains:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._drains.clear()
        await asyncio.sleep(0)

    async def close_shielded(self) -> None:
        """:meth:`close`, carried through even when the caller is being cancelled (a second cancel waits too)."""
        task = asyncio.ensure_future(self.close())
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await task
            raise


async def remove_profile(path: Path) -> None:
    """Delete a throwaway profile directory, retrying while Chromium's helpers still write to it.

    Args:
        path: The profile directory.
    """
    for _ in range(5):
        await asyncio.to_thread(shutil.rmtree, path, True)
        if not path.exists():
            return
        await asyncio.sleep(0.2)  # Chromium helpers may still be writing (ENVIRONMENT.md §3 pitfall 5)
