"""The ``yy`` request signature (PROTOCOL.md §5) and the fingerprint query (§3.1).

Pure functions, no I/O. ``yy`` is computed over the path and query exactly as
they go on the wire, so build the query once and reuse the same text for the
URL and the signature.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote, urlencode

#: Characters JavaScript's encodeURIComponent leaves alone (besides alphanumerics).
_JS_SAFE = "-_.!~*'()"
_EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def md5_hex(text: str) -> str:
    """Lower-case hex MD5 of the UTF-8 bytes of ``text``."""
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def encode_uri_component(text: str, *, variant: Literal["js", "python"] = "js") -> str:
    """JavaScript ``encodeURIComponent``; ``variant="python"`` is g4f's ``quote(safe="")``."""
    return quote(text, safe=_JS_SAFE if variant == "js" else "")


def strip_line_breaks(text: str) -> str:
    """Remove every CRLF, LF and CR (only the hashed copy of ``msgContent`` is changed)."""
    return text.replace("\r\n", "").replace("\n", "").replace("\r", "")


def message_body_digest(character_id: str | int, msg_content: str, chat_id: str | int, form: str | None = None) -> str:
    """``B`` for the chat-message route: four concatenated MD5s (128 hex chars)."""
    return (
        md5_hex(str(character_id))
        + md5_hex(strip_line_breaks(msg_content))
        + md5_hex(str(chat_id))
        + (md5_hex(form) if form else _EMPTY_MD5)
    )


def sign(path_and_query: str, body_digest: str, unix: int | str, *, variant: Literal["js", "python"] = "js") -> str:
    """Compute ``yy`` from the raw path+query, the body digest ``B`` and the ``unix`` value."""
    s = encode_uri_component(path_and_query, variant=variant) + "_" + body_digest + md5_hex(str(unix)) + "ooui"
    return md5_hex(s)


def sign_message(
    path_and_query: str,
    unix: int | str,
    character_id: str | int,
    msg_content: str,
    chat_id: str | int,
    form: str | None = None,
) -> str:
    """``yy`` for ``POST /v4/api/chat/msg``."""
    return sign(path_and_query, message_body_digest(character_id, msg_content, chat_id, form), unix)


def compact_json(data: Any) -> str:
    """JSON exactly as JavaScript's ``JSON.stringify`` writes it (no spaces)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def sign_json(path_and_query: str, unix: int | str, body: str | None = None) -> str:
    """``yy`` for a JSON route: ``B`` is the body text as sent, or ``{}`` with no body."""
    return sign(path_and_query, body if body is not None else "{}", unix)


def unix_of(query: str) -> str | None:
    """The ``unix`` value of a raw query string, as its literal text (``None`` if absent)."""
    for pair in query.split("&"):
        key, sep, value = pair.partition("=")
        if sep and key == "unix":
            return value
    return None


# --- the fingerprint query ---------------------------------------------------

#: Parameter order used by the web page (g4f's capture of www.hailuo.ai).
QUERY_ORDER = (
    "device_platform", "biz_id", "app_id", "version_code", "lang", "uuid", "device_id",
    "os_name", "browser_name", "cpu_core_num", "browser_language", "browser_platform",
    "screen_width", "screen_height", "unix",
)

DEFAULT_FINGERPRINT: dict[str, str] = {
    "device_platform": "web",
    "biz_id": "2",
    "app_id": "3001",
    "version_code": "22201",
    "lang": "en",
    "os_name": "Linux",
    "browser_name": "chrome",
    "cpu_core_num": "8",
    "browser_language": "en-US",
    "browser_platform": "Linux x86_64",
    "screen_width": "1920",
    "screen_height": "1080",
}


def build_query(
    uuid: str,
    device_id: str | None,
    unix: int,
    overrides: Mapping[str, str] | None = None,
) -> str:
    """Build the query string as the page does (``URLSearchParams`` form encoding).

    ``device_id=None`` leaves the parameter out (as the device-register call needs).
    """
    values = dict(DEFAULT_FINGERPRINT)
    if overrides:
        values.update({k: str(v) for k, v in overrides.items()})
    values["uuid"] = uuid
    values["unix"] = str(unix)
    if device_id is not None:
        values["device_id"] = device_id
    else:
        values.pop("device_id", None)
    ordered = [(k, values[k]) for k in QUERY_ORDER if k in values]
    ordered += [(k, v) for k, v in values.items() if k not in QUERY_ORDER]
    return urlencode(ordered)


def new_uuid() -> str:
    return str(uuid_mod.uuid4())


def now_ms() -> int:
    return int(time.time() * 1000)
