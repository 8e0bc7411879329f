"""Plain data that crosses the provider boundary: auth state, conversation handle, events."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Union

from hailuo_tui.redact import remember_secret

MESSAGE_PATH = "/v4/api/chat/msg"


@dataclass
class Conversation:
    """A server-side Hailuo chat that later messages continue.

    ``token`` is the credential the chat was created with: a chat only
    continues while the same token is in use (Hailuo chats belong to the
    account). Keep it in memory or the keyring only; the store keeps a
    fingerprint instead.
    """

    token: str
    chatID: str
    characterID: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {"token": self.token, "chatID": self.chatID, "characterID": self.characterID}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Conversation":
        return cls(token=data["token"], chatID=str(data["chatID"]), characterID=int(data.get("characterID", 1)))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "Conversation":
        return cls.from_dict(json.loads(text))

    def __repr__(self) -> str:  # never print the token
        return f"Conversation(chatID={self.chatID!r}, characterID={self.characterID!r}, token=<hidden>)"


@dataclass
class AuthResult:
    """Everything needed to sign and send requests for one login.

    ``path_and_query`` is the message path plus the fingerprint query built at
    login (PROTOCOL.md §3.1); ``timestamp`` is its ``unix`` value in ms.
    """

    token: str
    path_and_query: str
    timestamp: int
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    #: The site the login happened on (so an emulator login is used against the emulator).
    base_url: str | None = None

    def __post_init__(self) -> None:
        # Every token the process holds passes through here: from then on, no error,
        # log line or saved text can quote it.
        remember_secret(self.token)

    @property
    def query(self) -> str:
        """The query string alone (without ``?``)."""
        return self.path_and_query.partition("?")[2]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AuthResult":
        return cls(
            token=data["token"],
            path_and_query=data["path_and_query"],
            timestamp=int(data["timestamp"]),
            cookies=dict(data.get("cookies") or {}),
            headers=dict(data.get("headers") or {}),
            base_url=data.get("base_url"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "AuthResult":
        return cls.from_dict(json.loads(text))

    def __repr__(self) -> str:  # never print the token
        return f"AuthResult(path_and_query={self.path_and_query!r}, timestamp={self.timestamp}, token=<hidden>)"


# --- events yielded by on_auth_async / create_authed -------------------------


@dataclass(frozen=True)
class LoginRequested:
    """The user must log in at ``url`` (from ``G4F_LOGIN_URL``)."""

    url: str


@dataclass(frozen=True)
class LoginProgress:
    """A step of the browser login, in plain words, for a progress display."""

    message: str


@dataclass(frozen=True)
class ChatStarted:
    """The server accepted the message (``send_result``)."""

    chat_id: str
    user_msg_id: str = ""
    system_msg_id: str = ""


@dataclass(frozen=True)
class TextDelta:
    """New assistant text (the server's cumulative content, diffed)."""

    text: str


@dataclass(frozen=True)
class TextReplaced:
    """The server rewrote text it had already sent: ``text`` is the whole answer so far and replaces
    everything shown before (the web protocol's content is cumulative, so its latest snapshot is the truth)."""

    text: str


@dataclass(frozen=True)
class TitleGenerated:
    """The chat title the server generated (``chatTitle``)."""

    title: str


@dataclass(frozen=True)
class SearchSources:
    """Web-search links (``extra.netSearchStatus.linkDetail``)."""

    links: tuple[tuple[str, str], ...]  # (title/detail, url)


@dataclass(frozen=True)
class FollowUps:
    """Suggested follow-up questions (type 4)."""

    questions: tuple[str, ...]


@dataclass(frozen=True)
class ReasoningDelta:
    """New reasoning ("thinking") text, streamed before the answer (MiniMax API).

    Every shape the API sends reasoning in (inline ``<think>`` in the content,
    ``reasoning_content``, ``reasoning_details``) becomes these events.
    """

    text: str


@dataclass(frozen=True)
class Usage:
    """Token counts for one answer (the API's trailing ``usage`` chunk)."""

    model: str
    prompt_tokens: int
    completion_tokens: int
    #: Part of ``completion_tokens`` spent on reasoning.
    reasoning_tokens: int = 0
    #: Part of ``prompt_tokens`` the server had cached.
    cached_tokens: int = 0


@dataclass(frozen=True)
class HistoryTrimmed:
    """The oldest ``dropped`` messages were left out of the request (they are still stored):
    the history would not fit the model's context window."""

    dropped: int


@dataclass(frozen=True)
class Finished:
    """The answer is complete; ``text`` is the whole answer."""

    text: str
    chat_id: str = ""
    #: Why the model stopped (MiniMax API: ``"stop"``, ``"length"``…; ``""`` when unknown).
    finish_reason: str = ""


ChatEvent = Union[
    ChatStarted, TextDelta, TextReplaced, ReasoningDelta, Usage, HistoryTrimmed, TitleGenerated, SearchSources,
    FollowUps, Finished, Conversation,
]
