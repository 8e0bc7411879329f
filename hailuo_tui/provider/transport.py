"""Signed JSON calls to the Hailuo site and the mapping of HTTP failures to the provider's errors.

Shared by the chat provider (:mod:`~hailuo_tui.provider.hailuo`) and the token
login (:mod:`~hailuo_tui.provider.device_login`), so neither has to import the
other. Nothing here prints, logs or puts the token into an exception text.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from hailuo_tui.provider.errors import (
    AuthError,
    BadRequest,
    HailuoError,
    NetworkError,
    ProtocolChanged,
    RateLimited,
    ServerError,
    SiteRefused,
    ServiceError,
)
from hailuo_tui.provider.models import AuthResult
from hailuo_tui.provider.signing import compact_json, sign_json, unix_of
from hailuo_tui.sanitize import clean

log = logging.getLogger(__name__)

#: The real site; used when neither the caller nor the login names another root.
HAILUO_URL = "https://www.hailuo.ai"


def _status_message(body: str) -> str:
    """The server's ``statusInfo.message`` from an error body, cleaned for display."""
    try:
        info = json.loads(body).get("statusInfo") or {}
        return clean(str(info.get("message") or "")).strip()[:300]
    except (ValueError, AttributeError):
        return ""


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def is_challenge_page(status: int, body: str, headers: Mapping[str, str] | None = None) -> bool:
    """True for a Cloudflare challenge ("Just a moment...") instead of the site's own answer."""
    if status not in (403, 429, 503):
        return False
    header = {str(k).lower(): str(v).lower() for k, v in (headers or {}).items()}
    if header.get("cf-mitigated") == "challenge":
        return True
    html = body.lstrip()[:4096].lower()
    if not html.startswith(("<!doctype html", "<html")):
        return False
    return "just a moment" in html or "_cf_chl_opt" in html or "challenge-platform" in html or (
        "cloudflare" in header.get("server", "") and status == 403
    )


def error_for_status(status: int, body: str, headers: Mapping[str, str] | None = None) -> HailuoError:
    """Map an HTTP error response to the provider's error family.

    Args:
        status: The HTTP status (anything but 200).
        body: The response body; its ``statusInfo.message``, cleaned, is quoted to the user.
        headers: The response headers (``Retry-After`` sets :attr:`RateLimited.retry_after`).

    Returns:
        The error to raise: SiteRefused (a Cloudflare challenge page), AuthError, BadRequest, RateLimited,
        ServerError or a plain HailuoError.
    """
    if is_challenge_page(status, body, headers):
        return SiteRefused(
            f"Hailuo's site refused the request (HTTP {status}, a Cloudflare browser check); the login is not "
            "the problem. A browser check may be needed: log in with the browser once to pass it, then retry.",
            detail=f"HTTP {status} challenge page",
        )
    server = _status_message(body)
    said = f" (Hailuo said: {server})" if server else ""
    if status in (401, 403):
        return AuthError(
            f"Your Hailuo login was refused or has expired (HTTP {status}). Log in again.{said}",
            detail=f"HTTP {status}",
        )
    if status == 400:
        return BadRequest(
            "Hailuo refused the request's signature or parameters (HTTP 400). "
            f"Logging in again usually fixes this.{said}",
            detail="HTTP 400",
        )
    if status in (402, 429):
        wait = _retry_after((headers or {}).get("Retry-After"))
        hint = f" Wait {wait:.0f} s, then retry." if wait else " Wait a little, then retry."
        return RateLimited(f"Hailuo is limiting requests for this account (HTTP {status}).{hint}{said}", retry_after=wait)
    if status >= 500:
        return ServerError(f"Hailuo's server failed (HTTP {status}). Try again in a moment.{said}", status=status)
    return HailuoError(f"Unexpected answer from Hailuo (HTTP {status}).{said}", detail=f"HTTP {status}")


def unreachable(root: str, exc: BaseException) -> NetworkError:
    """The error for a request that never got an HTTP answer (refused, reset, timed out).

    Args:
        root: The site root that was called (shown to the user; it holds no secret).
        exc: What aiohttp or the socket raised; only its type is shown, its repr goes to ``detail``.
    """
    return NetworkError(
        f"Could not reach Hailuo at {root}: {type(exc).__name__}. Check your connection or proxy.",
        detail=repr(exc),
    )


async def json_request(
    method: str,
    path: str,
    auth_result: AuthResult,
    body: Any = None,
    *,
    query: str | None = None,
    base_url: str | None = None,
    proxy: str | None = None,
    session: aiohttp.ClientSession | None = None,
    timeout: float = 15.0,
    default_base_url: str = HAILUO_URL,
) -> dict[str, Any]:
    """A signed call to a JSON route (PROTOCOL.md §4.4); returns its ``data``.

    Args:
        method: The HTTP method.
        path: The route, without a query.
        auth_result: The login whose token, headers, cookies and query sign the call.
        body: A JSON body (sent compact, as the signature expects), or None.
        query: The query to send and sign; defaults to the login's.
        base_url: The site root; defaults to the login's, then ``default_base_url``.
        proxy: An HTTP proxy URL.
        session: An aiohttp session to use (else one is opened and closed here).
        timeout: Total seconds for a session opened here.
        default_base_url: The root used when neither ``base_url`` nor the login names one.

    Returns:
        The reply's ``data`` object (``{}`` when it is not an object).

    Raises:
        HailuoError: NetworkError, an error from :func:`error_for_status`, ServiceError
            (non-zero ``statusInfo.code``) or ProtocolChanged.
    """
    query = auth_result.query if query is None else query
    path_and_query = f"{path}?{query}"
    text = compact_json(body) if body is not None else None
    headers = dict(auth_result.headers)
    headers["token"] = auth_result.token
    headers["yy"] = sign_json(path_and_query, unix_of(query) or str(auth_result.timestamp), text)
    if text is not None:
        headers["content-type"] = "application/json"
    root = (base_url or auth_result.base_url or default_base_url).rstrip("/")
    own_session = session is None
    if own_session:
        session = aiohttp.ClientSession(cookies=auth_result.cookies, timeout=aiohttp.ClientTimeout(total=timeout))
    try:
        try:
            async with session.request(method, root + path_and_query, data=text, headers=headers, proxy=proxy) as response:
                raw = await response.text(errors="replace")
                status = response.status
                response_headers = response.headers
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise unreachable(root, exc) from None
    finally:
        if own_session:
            await session.close()
    log.debug("%s %s: HTTP %s", method, path, status)
    if status != 200:
        raise error_for_status(status, raw, response_headers)
    try:
        payload = json.loads(raw)
    except ValueError:
        raise ProtocolChanged("Hailuo answered with something that is not JSON.", sample=raw) from None
    info = payload.get("statusInfo") if isinstance(payload, dict) else None
    if not isinstance(info, dict):
        raise ProtocolChanged("Hailuo's answer has no status.", sample=raw)
    if info.get("code") not in (0, "0"):
        raise ServiceError.from_status(info)
    data = payload.get("data")
    return data if isinstance(data, dict) else {}
