"""Logging in: the real browser login (nodriver + Chromium) and the ``--token`` path.

``browser_login`` opens the site in Chromium with a persistent profile, waits
until the page has stored ``localStorage._token`` (the user logs in by hand),
then builds the fingerprint query *inside the page* in the order the web app
uses (PROTOCOL.md §3.1), reads the cookies through DevTools and closes the
browser. ``token_login`` does without a browser: it registers a device for a
pasted token (PROTOCOL.md §2.4).

Nothing here prints, logs or puts the token into an exception text.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import signing
from .errors import (
    AuthError,
    BadRequest,
    BrowserNotFound,
    HailuoError,
    LoginCancelled,
    LoginError,
    LoginTimeout,
    NetworkError,
    ProtocolChanged,
    RateLimited,
    ServerError,
)
from .models import MESSAGE_PATH, AuthResult

log = logging.getLogger(__name__)

#: Executables tried on PATH, in this order.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Well-known install locations that are usually not on PATH.
_KNOWN_PATHS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/snap/bin/chromium",
)

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

DEVICE_REGISTER_PATH = "/v1/api/user/device/register"

#: A Chrome-like user agent for the ``--token`` login (matches signing.DEFAULT_FINGERPRINT: Linux).
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36"
)

_POLL_INTERVAL = 0.25
_JS_CALL_TIMEOUT = 10.0
_READY_TIMEOUT = 30.0

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


# --- the page side -------------------------------------------------------------

#: Runs in the page. Returns null until ``_token`` exists, then everything the
#: login needs, read atomically. The query is built exactly like the web app
#: (g4f's capture): this parameter order, URLSearchParams encoding (a missing
#: localStorage value becomes the text "null").
_READ_SESSION_JS = r"""
(() => {
  let token;
  try { token = window.localStorage.getItem("_token"); } catch (e) { return null; }
  if (!token) return null;
  const device_id = localStorage.getItem("USER_HARD_WARE_INFO");
  const uuid = localStorage.getItem("UNIQUE_USER_ID");
  const os_name = (navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform || "Unknown";
  const browser_name = (() => {
    const ua = navigator.userAgent.toLowerCase();
    if (ua.includes("edg")) return "edge";
    if (ua.includes("chrome")) return "chrome";
    if (ua.includes("firefox")) return "firefox";
    if (ua.includes("safari")) return "safari";
    return "unknown";
  })();
  const cpu_core_num = navigator.hardwareConcurrency || 8;
  const browser_language = navigator.language || "unknown";
  const browser_platform = navigator.platform || "unknown";
  const screen_width = window.screen.width || "unknown";
  const screen_height = window.screen.height || "unknown";
  const unix = Date.now();
  const params = {
    device_platform: "web", biz_id: "2", app_id: "3001", version_code: "22201", lang: "en",
    uuid: uuid, device_id: device_id, os_name: os_name, browser_name: browser_name,
    cpu_core_num: cpu_core_num, browser_language: browser_language, browser_platform: browser_platform,
    screen_width: screen_width, screen_height: screen_height, unix: unix,
  };
  const uad = navigator.userAgentData;
  return {
    token: token,
    query: new URLSearchParams(params).toString(),
    unix: unix,
    ua: navigator.userAgent,
    brands: (uad && uad.brands) ? uad.brands.map(b => [b.brand, b.version]) : null,
    mobile: uad ? !!uad.mobile : false,
    platform: uad ? uad.platform : null,
    language: navigator.language || "",
  };
})()
"""


def _fix_ua(ua: str) -> str:
    return ua.replace("HeadlessChrome", "Chrome")


def _ua_metadata(ua: str, executable: str) -> Any:
    """Client-hint metadata to go with an overridden UA (without it the page loses navigator.userAgentData)."""
    import re

    from nodriver import cdp

    m = re.search(r"Chrome/(\d+)((?:\.\d+)*)", ua)
    major = m.group(1) if m else "0"
    brands = [cdp.emulation.UserAgentBrandVersion(brand="Not:A-Brand", version="8"),
              cdp.emulation.UserAgentBrandVersion(brand="Chromium", version=major)]
    if "chrome" in Path(executable).name.lower() and "chromium" not in Path(executable).name.lower():
        brands.append(cdp.emulation.UserAgentBrandVersion(brand="Google Chrome", version=major))
    if "Windows" in ua:
        platform = "Windows"
    elif "Macintosh" in ua or "Mac OS X" in ua:
        platform = "macOS"
    elif "Android" in ua:
        platform = "Android"
    else:
        platform = "Linux"
    return cdp.emulation.UserAgentMetadata(
        platform=platform, platform_version="", architecture="x86", model="",
        mobile="Mobile" in ua, brands=brands,
    )


def _browser_headers(session: dict[str, Any], url: str) -> dict[str, str]:
    headers = {
        "accept": "*/*",
        "accept-language": "en-US,en;q=0.9",
        "user-agent": _fix_ua(str(session.get("ua") or DEFAULT_USER_AGENT)),
        "referer": url + "/",
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
    }
    brands = session.get("brands")
    if brands:
        headers["sec-ch-ua"] = ", ".join(
            f'"{_fix_ua(str(b))}";v="{v}"' for b, v in brands
        )
        headers["sec-ch-ua-mobile"] = "?1" if session.get("mobile") else "?0"
        if session.get("platform"):
            headers["sec-ch-ua-platform"] = f'"{session["platform"]}"'
    return headers


# --- the browser side ----------------------------------------------------------


def _prepare_profile(profile_dir: Path) -> Path:
    profile_dir = Path(profile_dir).expanduser()
    if not profile_dir.exists():
        profile_dir.mkdir(mode=0o700, parents=True)
    with contextlib.suppress(OSError):
        if stat.S_IMODE(profile_dir.stat().st_mode) & 0o077:
            profile_dir.chmod(0o700)
    return profile_dir


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class _BrowserGone(Exception):
    """The Chromium process has exited."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(returncode)
        self.returncode = returncode


class _TabClosed(Exception):
    """The login tab was closed while the browser lives on."""


class _Session:
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
        import nodriver as uc
        from nodriver.core.browser import Browser

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
        self.browser = Browser(config)
        try:
            await self.browser.start()
        except Exception as exc:
            self.proc = self.browser._process
            raise LoginError(
                "Chromium could not be started for the login. If another login window is open, close it "
                "first; otherwise check that the browser works (try running it by hand).",
                detail=f"{self.executable}: {exc!s}".strip()[:500] + self._tail(),
            ) from None
        finally:
            self.proc = self.browser._process
            self._start_drains()

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

    def _tail(self) -> str:
        return ("\n" + "\n".join(self.stderr_tail)) if self.stderr_tail else ""

    # -- liveness ---------------------------------------------------------------

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.returncode is not None:
            raise _BrowserGone(self.proc.returncode)

    async def check_tab(self) -> None:
        """Raise _TabClosed if our tab is gone (the browser itself still answering)."""
        from nodriver import cdp

        self.check_alive()
        try:
            targets = await asyncio.wait_for(self.browser.send(cdp.target.get_targets()), _JS_CALL_TIMEOUT)
        except Exception:
            await asyncio.sleep(0.2)
            self.check_alive()
            return  # unknown: let the caller retry
        if self.target_id and not any(t.target_id == self.target_id for t in targets):
            raise _TabClosed()

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
                ua = _fix_ua(str((self.browser.info or {}).get("User-Agent") or ""))
                if ua:
                    await asyncio.wait_for(
                        tab.send(
                            cdp.emulation.set_user_agent_override(
                                user_agent=ua, user_agent_metadata=_ua_metadata(ua, self.executable)
                            )
                        ),
                        _JS_CALL_TIMEOUT,
                    )
        self.tab = await asyncio.wait_for(self.browser.get(url), _READY_TIMEOUT)
        self.target_id = self.tab.target.target_id

    async def wait_ready(self, deadline: float) -> None:
        """Wait for a loaded http(s) document (not ``tab.select``: ENVIRONMENT.md §3 pitfall 1)."""
        loop = asyncio.get_running_loop()
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
                session = await self.js(_READ_SESSION_JS)
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
                browser.stop()  # sync terminate(); also clears browser._process
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


async def _close_shielded(session: _Session) -> None:
    """Close even when the caller is being cancelled (a second cancel waits for it too)."""
    task = asyncio.ensure_future(session.close())
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise


async def _remove_dir(path: Path) -> None:
    for _ in range(5):
        await asyncio.to_thread(shutil.rmtree, path, True)
        if not path.exists():
            return
        await asyncio.sleep(0.2)  # Chromium helpers may still be writing (ENVIRONMENT.md §3 pitfall 5)


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
    profile = Path(tempfile.mkdtemp(prefix="hailuo-login-")) if temporary else _prepare_profile(Path(profile_dir))
    session = _Session(executable, profile, headless=headless, proxy=proxy)
    loop = asyncio.get_running_loop()
    try:
        try:
            progress("Starting Chromium…")
            await session.start()
            deadline = loop.time() + timeout
            await session.open(url)
            await session.wait_ready(min(deadline, loop.time() + _READY_TIMEOUT))
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
        except _TabClosed:
            raise LoginCancelled("The login window was closed before login finished.") from None
        except _BrowserGone as gone:
            if gone.returncode == 0:
                raise LoginCancelled("The login window was closed before login finished.") from None
            raise LoginError(
                f"Chromium stopped unexpectedly (exit status {gone.returncode}) before the login finished. "
                "Try again; if it keeps happening, run the browser by hand to see what is wrong.",
                detail=session._tail().strip() or None,
            ) from None
        except (HailuoError, asyncio.CancelledError):
            raise
        except Exception as exc:  # nodriver/websocket trouble
            if session.proc is not None and session.proc.returncode is not None:
                raise LoginError(
                    f"Chromium stopped unexpectedly (exit status {session.proc.returncode}) before the login finished.",
                    detail=session._tail().strip() or None,
                ) from None
            raise LoginError(
                "The connection to the login browser failed. Try again.",
                detail=f"{type(exc).__name__}: {exc!s}"[:500],
            ) from None
    finally:
        await _close_shielded(session)
        if temporary:
            await _remove_dir(profile)

    query = str(data["query"])
    unix = int(data["unix"])
    return AuthResult(
        token=str(data["token"]),
        path_and_query=f"{MESSAGE_PATH}?{query}",
        timestamp=unix,
        cookies=cookies,
        headers=_browser_headers(data, url),
        base_url=url,
    )


# --- login with a pasted token ---------------------------------------------------


def _default_headers(base_url: str) -> dict[str, str]:
    return {
        "accept": "*/*",
        "accept-language": "en-US,en;q=0.9",
        "user-agent": DEFAULT_USER_AGENT,
        "referer": base_url + "/",
        "sec-ch-ua": '"Chromium";v="136", "Google Chrome";v="136", "Not.A/Brand";v="99"',
        "sec-ch-ua-mobile": "?0",
        "sec-ch-ua-platform": '"Linux"',
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
    }


def _clean_token(token: str) -> str:
    token = (token or "").strip()
    if token.lower().startswith("token:"):
        token = token[6:].strip()
    if not token or any(ch.isspace() or ord(ch) < 32 for ch in token):
        raise AuthError(
            "That does not look like a Hailuo token. Copy the value of localStorage `_token` "
            "(or the `token` request header) from a logged-in browser."
        )
    return token


async def token_login(
    token: str,
    base_url: str,
    *,
    session_factory: Callable[..., Any] | None = None,
    proxy: str | None = None,
    timeout: float = 30.0,
) -> AuthResult:
    """Turn a pasted token into an AuthResult by registering a device (PROTOCOL.md §2.4).

    ``session_factory`` makes the aiohttp ``ClientSession`` (tests may inject one).
    Raises AuthError (token refused), NetworkError, or another HailuoError.
    """
    import aiohttp

    token = _clean_token(token)
    base_url = base_url.rstrip("/")
    uuid = signing.new_uuid()
    unix = signing.now_ms()
    register_pq = f"{DEVICE_REGISTER_PATH}?{signing.build_query(uuid, None, unix)}"
    body = signing.compact_json({"uuid": uuid})
    headers = _default_headers(base_url)
    request_headers = {
        **headers,
        "content-type": "application/json",
        "token": token,
        "yy": signing.sign_json(register_pq, unix, body),
    }
    factory = session_factory or aiohttp.ClientSession
    try:
        async with factory(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            async with http.post(
                base_url + register_pq, data=body.encode("utf-8"), headers=request_headers, proxy=proxy
            ) as resp:
                status = resp.status
                text = await resp.text(errors="replace")
    except HailuoError:
        raise
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        raise NetworkError(
            f"Could not reach {base_url} to check the token. Check your network connection"
            " (and the proxy setting, if you use one).",
            detail=f"{type(exc).__name__}: {exc!s}"[:500],
        ) from None

    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    info = payload.get("statusInfo") if isinstance(payload, dict) else None
    server_message = str(info.get("message") or "") if isinstance(info, dict) else ""
    if status in (401, 403):
        raise AuthError(
            "That token was refused by Hailuo. It may have expired: log in again in the browser "
            "and copy a fresh token.",
            detail=f"HTTP {status} {server_message}".strip(),
        )
    if status == 429:
        raise RateLimited("Too many requests while checking the token. Wait a moment and try again.")
    if status >= 500:
        raise ServerError(f"Hailuo had a server error (HTTP {status}) while checking the token.", status=status)
    if status == 400:
        raise BadRequest(
            "Hailuo refused the device registration request.", detail=f"HTTP 400 {server_message}".strip()
        )
    if not isinstance(payload, dict):
        raise ProtocolChanged("Unexpected reply to the device registration.", sample=text)
    code = info.get("code") if isinstance(info, dict) else None
    if code not in (0, "0", None):
        raise AuthError(
            "That token was refused by Hailuo"
            + (f" ({server_message})" if server_message else "")
            + ". Log in again in the browser and copy a fresh token.",
            detail=f"statusInfo.code={code}",
        )
    data = payload.get("data")
    device_id = data.get("deviceIDStr") if isinstance(data, dict) else None
    if not device_id:
        raise ProtocolChanged("The device registration reply has no deviceIDStr.", sample=text)

    final_unix = signing.now_ms()
    query = signing.build_query(uuid, str(device_id), final_unix)
    return AuthResult(
        token=token,
        path_and_query=f"{MESSAGE_PATH}?{query}",
        timestamp=final_unix,
        cookies={},
        headers=headers,
        base_url=base_url,
    )


__all__ = [
    "BROWSER_NAMES",
    "browser_login",
    "find_browser",
    "token_login",
]
