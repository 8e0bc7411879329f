"""Logging in: the real browser login (nodriver + Chromium) and the ``--token`` path.

``browser_login`` opens the site in Chromium with a persistent profile, waits
until the page has stored ``localStorage._token`` (the user logs in by hand),
then builds the fingerprint query *inside the page* in the order the web app
uses (PROTOCOL.md §3.1), reads the cookies through DevTools and closes the
browser. ``token_login`` does without a browser: it registers a device for a
pasted token (PROTOCOL.md §2.4).

The pieces live in :mod:`~hailuo_tui.provider.browser_session` (Chromium through
nodriver), :mod:`~hailuo_tui.provider.page_session` (the in-page JavaScript and the
browser's headers) and :mod:`~hailuo_tui.provider.device_login` (``token_login``);
this module finds the browser, runs the login and re-exports their names.

Nothing here prints, logs or puts the token into an exception text.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .browser_session import (  # BROWSER_FLAGS: re-exported
    BROWSER_FLAGS,
    BrowserGone,
    BrowserSession,
    TabClosed,
    prepare_profile,
    remove_profile,
)
from .device_login import DEFAULT_USER_AGENT, DEVICE_REGISTER_PATH, token_login  # re-exported
from .errors import BrowserNotFound, HailuoError, LoginCancelled, LoginError, LoginTimeout
from .models import MESSAGE_PATH, AuthResult
from .page_session import browser_headers

log = logging.getLogger(__name__)

#: Executables tried on PATH, in this order.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Well-known install locations that are usually not on PATH.
_KNOWN_PATHS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/snap/bin/chromium",
)

_INSTALL_HINT = (
    "Install Chromium (e.g. `sudo apt install chromium`) or Google Chrome, "
    "or point hailuo-tui at a browser with `browser_path` in the config, `--browser PATH` "
    "or the HAILUO_BROWSER environment variable. "
    "You can also log in without a browser: `hailuo-tui login --token`."
)


# --- finding a browser ---------------------------------------------------------


def _executable(path: str) -> str | None:
    p = Path(path).expanduser()
    if p.is_file() and os.access(p, os.X_OK):
        return str(p)
    return None


def _resolve(candidate: str) -> str | None:
    """A path (absolute/relative with a separator) or a command name on PATH."""
    if os.sep in candidate or (os.altsep and os.altsep in candidate) or candidate.startswith("~"):
        return _executable(candidate)
    return shutil.which(candidate) or _executable(candidate)


def find_browser(explicit: str | None = None) -> str:
    """Path of the Chromium/Chrome to use for the login.

    Order: ``explicit`` (config ``browser_path`` / ``--browser``), ``$HAILUO_BROWSER``,
    then the usual names on PATH. An explicit choice that does not exist is an
    error (no silent fallback to another browser).
    """
    for origin, candidate in (("--browser / browser_path", explicit), ("HAILUO_BROWSER", os.environ.get("HAILUO_BROWSER"))):
        if candidate:
            found = _resolve(candidate)
            if found:
                return found
            raise BrowserNotFound(
                f"The browser {candidate!r} (from {origin}) does not exist or is not executable. "
                + _INSTALL_HINT
            )
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for path in _KNOWN_PATHS:
        found = _executable(path)
        if found:
            return found
    raise BrowserNotFound(
        "No Chromium or Chrome was found for the login window "
        f"(looked for {', '.join(BROWSER_NAMES)} on PATH). " + _INSTALL_HINT
    )


async def browser_login(
    url: str,
    *,
    profile_dir: Path | None = None,
    headless: bool = False,
    browser_path: str | None = None,
    proxy: str | None = None,
    timeout: float = 300.0,
    on_progress: Callable[[str], None] | None = None,
) -> AuthResult:
    """Log in through a real Chromium window and return the session.

    ``url`` is the site root (``https://www.hailuo.ai`` or the emulator's URL).
    ``profile_dir`` keeps the browser profile between runs, so a login survives;
    ``None`` uses a throwaway profile. Raises BrowserNotFound, LoginTimeout,
    LoginCancelled (window closed) or LoginError.
    """
    url = url.rstrip("/")
    executable = find_browser(browser_path)

    def progress(message: str) -> None:
        if on_progress is not None:
            on_progress(message)

    temporary = profile_dir is None
    profile = Path(tempfile.mkdtemp(prefix="hailuo-login-")) if temporary else prepare_profile(Path(profile_dir))
    session = BrowserSession(executable, profile, headless=headless, proxy=proxy)
    loop = asyncio.get_running_loop()
    try:
        try:
            progress("Starting Chromium…")
            await session.start()
            deadline = loop.time() + timeout
            await session.open(url)
            await session.wait_ready(deadline)
            progress("Waiting for you to log in…")
            try:
                data = await session.wait_for_session(deadline)
            except asyncio.TimeoutError:
                raise LoginTimeout(
                    f"The login was not finished within {timeout:g} s. "
                    "Run `hailuo-tui login` again (or press Login) and finish logging in in the browser window."
                ) from None
            progress("Reading the session…")
            cookies = await session.cookies(url)
        except TabClosed:
            raise LoginCancelled("The login window was closed before login finished.") from None
        except BrowserGone as gone:
            if gone.returncode == 0:
                raise LoginCancelled("The login window was closed before login finished.") from None
            raise LoginError(
                f"Chromium stopped unexpectedly (exit status {gone.returncode}) before the login finished. "
                "Try again; if it keeps happening, run the browser by hand to see what is wrong.",
                detail=session.output_tail().strip() or None,
            ) from None
        except (HailuoError, asyncio.CancelledError):
            raise
        except Exception as exc:  # nodriver/websocket trouble
            if session.proc is not None and session.proc.returncode is not None:
                raise LoginError(
                    f"Chromium stopped unexpectedly (exit status {session.proc.returncode}) before the login finished.",
                    detail=session.output_tail().strip() or None,
                ) from None
            raise LoginError(
                "The connection to the login browser failed. Try again.",
                detail=f"{type(exc).__name__}: {exc!s}"[:500],
            ) from None
    finally:
        await session.close_shielded()
        if temporary:
            await remove_profile(profile)

    query = str(data["query"])
    unix = int(data["unix"])
    return AuthResult(
        token=str(data["token"]),
        path_and_query=f"{MESSAGE_PATH}?{query}",
        timestamp=unix,
        cookies=cookies,
        headers=browser_headers(data, url),
        base_url=url,
    )


__all__ = [
    "BROWSER_NAMES",
    "browser_login",
    "find_browser",
    "token_login",
]
