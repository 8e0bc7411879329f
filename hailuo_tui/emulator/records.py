"""What the emulator keeps: request records (tests assert on these), chats and their turns, accounts.

Part of the emulator (PROTOCOL.md §9). Never imports textual or rich. No ``repr`` here shows a token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestRecord:
    """One request as the emulator saw it (tests assert on these)."""

    method: str
    #: The raw request target: path and query exactly as received.
    target: str
    #: Request headers with lower-case names (includes ``token`` and ``yy`` when sent).
    headers: dict[str, str]
    #: Parsed multipart text fields (message route) or the JSON object body (JSON routes).
    form: dict[str, Any] = field(default_factory=dict)
    #: The raw body text of JSON routes ("" otherwise).
    body: str = ""
    #: The parsed JSON body of the MiniMax API routes (``None`` when absent or not JSON).
    json: Any = None
    #: Which API key a MiniMax API request carried, never the key itself: ``"demo"``, ``"issued-N"``,
    #: ``"revoked"``, ``"unknown"`` or ``"missing"`` (``None`` on the web routes). The ``authorization`` header
    #: in :attr:`headers` is redacted on those routes.
    api_key: str | None = None
    #: Whether the ``yy`` check passed (``None``: not checked, e.g. refused earlier).
    yy_ok: bool | None = None
    #: HTTP status sent (0 while not yet decided).
    status: int = 0
    #: Events sent on a stream: ``(event name, data JSON text)``.
    events: list[tuple[str, str]] = field(default_factory=list)
    #: ``time.monotonic()`` right after each of ``events`` was written (benchmarks: first/last event sent).
    event_times: list[float] = field(default_factory=list)
    #: Why the request was refused, in words (``None`` on success).
    error: str | None = None
    #: The chat the message went to (the new id for ``chatID=0``).
    chat_id: str | None = None
    #: Response body bytes written on a stream.
    bytes_sent: int = 0
    #: The emulator cut the connection on purpose (``disconnect_after_bytes``/``drop_before``).
    aborted: bool = False
    #: The handler finished (stream fully written, or refused).
    done: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    @property
    def token(self) -> str | None:
        return self.headers.get("token")

    def __repr__(self) -> str:  # never show the token
        return (f"RequestRecord({self.method} {self.path} status={self.status} yy_ok={self.yy_ok} "
                f"events={len(self.events)} error={self.error!r})")


@dataclass
class Turn:
    user: str
    assistant: str
    user_msg_id: str
    system_msg_id: str


@dataclass
class Chat:
    id: str
    title: str
    #: The token that created the chat (chats belong to the token).
    owner: str
    turns: list[Turn] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)

    @property
    def user_messages(self) -> list[str]:
        return [t.user for t in self.turns]

    def __repr__(self) -> str:
        return f"Chat(id={self.id!r}, title={self.title!r}, turns={len(self.turns)})"


@dataclass
class Account:
    token: str
    user_id: str
    name: str
    device_id: str
    exp: int
    anonymous: bool = False
    revoked: bool = False

    def __repr__(self) -> str:
        return f"Account(user_id={self.user_id!r}, name={self.name!r}, revoked={self.revoked})"
