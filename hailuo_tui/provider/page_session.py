"""The page side of the browser login: what runs in the page, and the headers that match the browser.

:data:`READ_SESSION_JS` reads the token and builds the fingerprint query inside
the page in the order the web app uses (PROTOCOL.md §3.1); the helpers turn what
it returns into request headers that look like that browser's.

Nothing here prints, logs or puts the token into an exception text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .device_login import DEFAULT_USER_AGENT

#: Runs in the page. Returns null until ``_token`` exists, then everything the
#: login needs, read atomically. The query is built exactly like the web app
#: (g4f's capture): this parameter order, URLSearchParams encoding (a missing
#: localStorage value becomes the text "null").
READ_SESSION_JS = r"""
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


def strip_headless(ua: str) -> str:
    """The user agent with "HeadlessChrome" named "Chrome", as a headed browser sends it."""
    return ua.replace("HeadlessChrome", "Chrome")


def user_agent_metadata(ua: str, executable: str) -> Any:
    """Client-hint metadata to go with an overridden UA (without it the page loses navigator.userAgentData).

    Args:
        ua: The user agent that replaces the browser's own.
        executable: The browser's path (a Google Chrome adds its brand).

    Returns:
        A ``nodriver.cdp.emulation.UserAgentMetadata``.
    """
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


def browser_headers(session: dict[str, Any], url: str) -> dict[str, str]:
    """Request headers that look like those of the browser the login ran in.

    Args:
        session: What :data:`READ_SESSION_JS` returned (``ua``, ``brands``, ``mobile``, ``platform``).
        url: The site root, for the referer.
    """
    headers = {
        "accept": "*/*",
        "accept-language": "en-US,en;q=0.9",
        "user-agent": strip_headless(str(session.get("ua") or DEFAULT_USER_AGENT)),
        "referer": url + "/",
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "cors",
        "sec-fetch-site": "same-origin",
    }
    brands = session.get("brands")
    if brands:
        headers["sec-ch-ua"] = ", ".join(
            f'"{strip_headless(str(b))}";v="{v}"' for b, v in brands
        )
        headers["sec-ch-ua-mobile"] = "?1" if session.get("mobile") else "?0"
        if session.get("platform"):
            headers["sec-ch-ua-platform"] = f'"{session["platform"]}"'
    return headers
