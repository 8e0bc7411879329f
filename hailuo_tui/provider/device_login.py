"""Logging in with a pasted token: register a device for it (PROTOCOL.md §2.4), no browser needed.

Nothing here prints, logs or puts the token into an exception text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import signing
from .errors import AuthError, NetworkError, ProtocolChanged, ServiceError
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

    from .transport import json_request  # aiohttp is a heavy import: only when a token is checked

    token = _clean_token(token)
    base_url = base_url.rstrip("/")
    uuid = signing.new_uuid()
    unix = signing.now_ms()
    headers = _default_headers(base_url)
    # The register call is signed like any JSON call, with a query that has no device_id yet.
    provisional = AuthResult(token, f"{MESSAGE_PATH}?{signing.build_query(uuid, None, unix)}", unix, {}, headers, base_url)
    factory = session_factory or aiohttp.ClientSession
    try:
        async with factory(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            data = await json_request(
                "POST", DEVICE_REGISTER_PATH, provisional, {"uuid": uuid}, proxy=proxy, session=http
            )
    except (AuthError, ServiceError) as exc:
        raise AuthError(
            "That token was refused by Hailuo. It may have expired: log in again in the browser "
            "and copy a fresh token.",
            detail=exc.detail or exc.message,
        ) from None
    except NetworkError as exc:
        raise NetworkError(
            f"Could not reach {base_url} to check the token. Check your network connection"
            " (and the proxy setting, if you use one).",
            detail=exc.detail,
        ) from None
    device_id = data.get("deviceIDStr")
    if not device_id:
        raise ProtocolChanged("The device registration reply has no deviceIDStr.", sample=json.dumps(data)[:500])

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
