"""Logging in with a pasted token: register a device for it (PROTOCOL.md §2.4), no browser needed.

Nothing here prints, logs or puts the token into an exception text.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from . import signing
from .errors import AuthError, BadRequest, HailuoError, NetworkError, ProtocolChanged, RateLimited, ServerError
from .models import MESSAGE_PATH, AuthResult

DEVICE_REGISTER_PATH = "/v1/api/user/device/register"

#: A Chrome-like user agent for the ``--token`` login (matches signing.DEFAULT_FINGERPRINT: Linux).
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/136.0.0.0 Safari/537.36"
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
