"""JWT-shaped tokens for the emulator's accounts (HS512, like the real site's).

Clients treat the token as opaque; the emulator signs it with a per-instance
secret and checks it against its own table of issued tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_jwt(payload: dict[str, Any], secret: bytes) -> str:
    header = b64url(json.dumps({"alg": "HS512", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    sig = hmac.new(secret, f"{header}.{body}".encode("ascii"), hashlib.sha512).digest()
    return f"{header}.{body}.{b64url(sig)}"


def decode_payload(token: str) -> dict[str, Any] | None:
    """The JWT payload (unverified), or ``None`` if the token is not JWT-shaped."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        data = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def verify_signature(token: str, secret: bytes) -> bool:
    parts = token.split(".")
    if len(parts) != 3:
        return False
    expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode("ascii", "replace"), hashlib.sha512).digest()
    try:
        return hmac.compare_digest(expected, b64url_decode(parts[2]))
    except ValueError:
        return False
