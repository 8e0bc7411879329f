"""Opt-in debug logging that never writes the token or the signature."""

from __future__ import annotations

import logging
import os
import re

from hailuo_tui.redact import redact as redact_secrets
from hailuo_tui.sanitize import clean

#: Header names and JSON keys whose values are secrets.
_SECRET = re.compile(
    r"""(?ix)
    (?P<key>["']?(?:token|_token|yy|access_token|cookie)["']?\s*[:=]\s*["']?)
    (?P<value>[^"'\s,;&}]+)
    """
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
#: A bearer credential (the MiniMax API key in an Authorization header) and keys shaped like MiniMax's.
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
_API_KEY = re.compile(r"(?i)(?P<key>[\"']?(?:api_key|api-key|apikey|authorization)[\"']?\s*[:=]\s*[\"']?)(?!bearer\s)[^\"'\s,;&}]+")
_SK_KEY = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    """Hide secret values (``token``, ``yy``, cookies, anything JWT-shaped, bearer and ``sk-`` API keys, every
    secret registered with :mod:`hailuo_tui.redact`) and terminal escapes (a log read with ``cat`` or ``less -R``)."""
    text = _SECRET.sub(lambda m: m.group("key") + "<redacted>", text)
    text = _BEARER.sub(lambda m: m.group(1) + "<redacted>", text)
    text = _API_KEY.sub(lambda m: m.group("key") + "<redacted>", text)
    text = _SK_KEY.sub("<redacted-key>", text)
    text = _JWT.sub("<redacted-jwt>", text)
    # The secrets themselves, wherever they are (a server echoing them inside HTML or nested JSON).
    return clean(redact_secrets(text))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup_debug_log(*, demo: bool = False) -> str:
    """Send the ``hailuo_tui`` and ``aiohttp`` loggers to a 0600 file; returns its path."""
    from hailuo_tui.config import Paths

    paths = Paths.default(demo=demo)
    paths.ensure()
    path = paths.log_file
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.chmod(path, 0o600)
    handler = logging.StreamHandler(os.fdopen(fd, "a", encoding="utf-8"))
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("hailuo_tui", "aiohttp"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    return str(path)
