"""Hide every secret the app holds from every text it stores, logs or prints.

Pattern-based redaction (:func:`hailuo_tui.logs.redact`) catches what looks like a
secret; a server or a proxy that echoes the token inside an error body (JSON in
JSON, HTML, a base64-free blob) defeats it. So the secrets themselves are
registered here when the app learns them (the web token, the API key, a
password in ``base_url`` or ``proxy``), and :func:`redact` replaces each one,
whatever text it appears in: HailuoError messages and details, the debug log,
``messages.error`` in the database, the CLI's stderr.

Pure module: no textual or rich import.
"""

from __future__ import annotations

import json
import re
import threading
from urllib.parse import quote, unquote, urlsplit

__all__ = ["REDACTED", "Redactor", "SECRETS", "redact", "remember_secret", "remember_url"]

REDACTED = "<redacted>"
#: Shorter values are not registered: replacing them would shred ordinary text.
MIN_SECRET_LENGTH = 6
_USERINFO = re.compile(r"(?<=://)([^/@\s:\"'<>]*):[^/@\s\"'<>]*@")


class Redactor:
    """The secrets known to this process, and the function that hides them.

    Thread-safe: secrets may be added from a worker thread (the keyring) while the
    event loop formats a log line.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None

    def add(self, secret: str | None) -> None:
        """Remember ``secret`` and the forms it takes when quoted in JSON or a URL.

        Args:
            secret: A token, key or password (``None`` and very short values are ignored).
        """
        if not secret or len(secret.strip()) < MIN_SECRET_LENGTH:
            return
        secret = secret.strip()
        forms = {secret, quote(secret, safe=""), unquote(secret)}
        quoted = json.dumps(secret)[1:-1]
        forms |= {quoted, json.dumps(quoted)[1:-1], secret.replace("/", "\\/")}
        forms = {form for form in forms if len(form) >= MIN_SECRET_LENGTH}
        with self._lock:
            if forms <= self._secrets:
                return
            self._secrets = self._secrets | forms
            # Longest first, so a secret that contains another is replaced whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def add_url(self, url: str | None) -> None:
        """Remember the password of ``url``'s ``user:password@`` part, if it has one."""
        if not url:
            return
        try:
            password = urlsplit(url.strip()).password
        except ValueError:
            return
        self.add(password)

    def forget_all(self) -> None:
        """Drop every registered secret (tests)."""
        with self._lock:
            self._secrets = frozenset()
            self._pattern = None

    def __call__(self, text: str) -> str:
        """``text`` without any registered secret, and without any ``user:password@`` password.

        Args:
            text: Any text about to be stored, logged or printed.

        Returns:
            The text with each secret replaced by ``<redacted>``.
        """
        if not text:
            return text
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        if "@" in text:
            text = _USERINFO.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
        return text


#: The process's secrets (one app or one CLI command per process).
SECRETS = Redactor()


def redact(text: str) -> str:
    """``text`` with every secret this process knows replaced (see :class:`Redactor`)."""
    return SECRETS(text)


def remember_secret(secret: str | None) -> None:
    """Register a token, API key or password with the process's :data:`SECRETS`."""
    SECRETS.add(secret)


def remember_url(url: str | None) -> None:
    """Register the password of ``url`` (``user:password@``) with the process's :data:`SECRETS`."""
    SECRETS.add_url(url)
