"""What the store hands out: row types, the store's error, and how a row is read.

The column lists and the decoders live next to the dataclasses so that a new
column is added in one place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any

from hailuo_tui.domain import MessageStatus, Role

#: The chat services a conversation can belong to: the Hailuo web chat or the MiniMax API.
BACKENDS = frozenset({"web", "api"})


def token_fingerprint(token: str) -> str:
    """Return a short, stable, one-way fingerprint of ``token`` (sha256 hex, 16 chars)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ConversationRow:
    id: int
    title: str | None
    title_locked: bool
    chat_id: str | None
    token_fp: str | None
    created_at: float
    updated_at: float
    message_count: int
    #: For search results: the matched message text around the first hit.
    snippet: str | None = None
    #: "web" (Hailuo web chat) or "api" (MiniMax API).
    backend: str = "web"
    #: The model to ask; None means the backend's default.
    model: str | None = None
    #: The system prompt; None means the one in the config.
    system_prompt: str | None = None
    #: The last message of the branch on screen (None: no messages).
    leaf_id: int | None = None
    #: The last message the server chat (``chat_id``) holds; a question asked after any other
    #: message starts a new server chat with the branch's history folded.
    remote_leaf_id: int | None = None
    #: For search results: the oldest matching message (None when only the title matched).
    hit_message_id: int | None = None
    #: The title stands in until the conversation gets its own (a fork's "<title> (fork)").
    title_provisional: bool = False


@dataclass(frozen=True)
class MessageRow:
    id: int
    conversation_id: int
    role: str
    content: str
    status: MessageStatus | str
    error: str | None
    created_at: float
    updated_at: float
    #: The model's reasoning before the answer; "" when there was none.
    reasoning: str = ""
    #: model, prompt_tokens, completion_tokens, reasoning_tokens, seconds; None when unknown.
    usage: dict[str, Any] | None = None
    #: Web-search sources shown under the answer: (title, url) pairs, as the server sent them.
    sources: tuple[tuple[str, str], ...] = ()
    #: Follow-up questions the server suggested after the answer.
    follow_ups: tuple[str, ...] = ()
    #: The message before this one on its branch; None for a first message.
    parent_id: int | None = None
    #: This message's place (1-based, oldest first) among its siblings: the messages with the same parent.
    version: int = 1
    #: How many siblings there are, this one included (1: never edited or regenerated).
    versions: int = 1


#: Why a write did not happen, in the few words the app shows ("not saved yet: disk full").
REASONS = {
    "locked": "locked by another program",
    "full": "disk full",
    "readonly": "read-only",
    "io": "disk error",
    "corrupt": "database damaged",
    "newer": "database from a newer version",
    "foreign": "not a hailuo-tui database",
}

#: Kinds a later attempt may get past (the lock is released, space is freed, the disk is remounted).
TRANSIENT = frozenset({"locked", "full", "readonly", "io"})


class StoreError(Exception):
    """The database cannot be used; ``title`` and ``message`` are for the user."""

    def __init__(self, path: str, message: str, *, title: str = "Conversation database", kind: str = "io"):
        super().__init__(message)
        self.path = path
        self.title = title
        self.message = message
        #: "locked", "full", "readonly", "io", "corrupt", "newer" or "foreign": lets the app offer the
        #: right way out, and say in a few words why something is not saved (:attr:`reason`).
        self.kind = kind

    @property
    def reason(self) -> str:
        """A few words on why: "locked by another program", "disk full", "read-only"…"""
        return REASONS.get(self.kind, REASONS["io"])

    @property
    def transient(self) -> bool:
        """True when trying again later may succeed (the text is kept and retried meanwhile)."""
        return self.kind in TRANSIENT

    def __str__(self) -> str:
        return self.message


CONV_COLS = (
    "id, title, title_locked, chat_id, token_fp, created_at, updated_at, message_count, "
    "backend, model, system_prompt, leaf_id, remote_leaf_id, title_provisional"
)
MSG_COLS = (
    "id, conversation_id, role, content, status, error, created_at, updated_at, reasoning, usage, "
    "sources, follow_ups, parent_id"
)


_CONVERSATION_FIELDS = tuple(f.name for f in fields(ConversationRow))


def conversation_row(row: tuple, snippet: str | None = None, hit_message_id: int | None = None) -> ConversationRow:
    """A :class:`ConversationRow` from a row selected with :data:`CONV_COLS`."""
    values = (
        row[0], row[1], bool(row[2]), row[3], row[4], row[5], row[6], row[7], snippet,
        row[8], row[9], row[10], row[11], row[12], hit_message_id, bool(row[13]),
    )
    # Filled at once rather than by the frozen __init__ (one object.__setattr__ per field): a search as
    # the user types makes up to 200 of these per key (see message_row).
    conversation = object.__new__(ConversationRow)
    conversation.__dict__.update(zip(_CONVERSATION_FIELDS, values))
    return conversation


_MESSAGE_FIELDS = tuple(f.name for f in fields(MessageRow))
_ROLES = {role.value: role for role in Role}
_STATUSES = {status.value: status for status in MessageStatus}


def message_row(row: tuple, version: int = 1, versions: int = 1) -> MessageRow:
    """A :class:`MessageRow` from a row selected with :data:`MSG_COLS` (its place among its siblings given)."""
    values = (
        row[0], row[1], _ROLES.get(row[2]) or Role(row[2]), row[3], _STATUSES.get(row[4]) or MessageStatus(row[4]),
        row[5], row[6], row[7], row[8], load_usage(row[9]) if row[9] else None,
        load_sources(row[10]) if row[10] else (), load_follow_ups(row[11]) if row[11] else (),
        row[12], version, versions,
    )
    # The frozen dataclass's __init__ sets its 15 fields one object.__setattr__ call at a time: two thirds
    # of the time it takes to read a page of a conversation. These values are complete and checked, so the
    # row is filled at once (the same object __init__ would make: the class has no __post_init__ or slots).
    message = object.__new__(MessageRow)
    message.__dict__.update(zip(_MESSAGE_FIELDS, values))
    return message


def dump_usage(usage: dict[str, Any] | None) -> str | None:
    """``usage`` as the JSON text the ``usage`` column holds."""
    if usage is None:
        return None
    return json.dumps(usage, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def load_usage(text: str | None) -> dict[str, Any] | None:
    """The ``usage`` column as a dict; None when absent or not a JSON object."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        # Another program may have written the file; a bad cell must not hide the message.
        return None
    return value if isinstance(value, dict) else None


def _load_list(text: str | None) -> list[Any]:
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def dump_sources(sources: Any) -> str | None:
    """``(title, url)`` pairs as the JSON text the ``sources`` column holds (None when empty)."""
    pairs = [[str(title), str(url)] for title, url in sources or ()]
    return json.dumps(pairs, ensure_ascii=False, separators=(",", ":")) if pairs else None


def load_sources(text: str | None) -> tuple[tuple[str, str], ...]:
    """The ``sources`` column as (title, url) pairs; a malformed cell gives none."""
    out = []
    for item in _load_list(text):
        if isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) for part in item):
            out.append((item[0], item[1]))
    return tuple(out)


def dump_follow_ups(questions: Any) -> str | None:
    """Follow-up questions as the JSON text the ``follow_ups`` column holds (None when empty)."""
    items = [str(q) for q in questions or ()]
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")) if items else None


def load_follow_ups(text: str | None) -> tuple[str, ...]:
    """The ``follow_ups`` column as questions; a malformed cell gives none."""
    return tuple(q for q in _load_list(text) if isinstance(q, str))


def check_role(role: str) -> Role:
    """``role`` as a :class:`Role`; ValueError for anything else."""
    try:
        return Role(role)
    except ValueError:
        raise ValueError(f"role must be one of {sorted(r.value for r in Role)}, not {role!r}") from None


def check_status(status: str) -> MessageStatus:
    """``status`` as a :class:`MessageStatus`; ValueError for anything else."""
    try:
        return MessageStatus(status)
    except ValueError:
        raise ValueError(f"status must be one of {sorted(s.value for s in MessageStatus)}, not {status!r}") from None


def check_backend(backend: str) -> str:
    """``backend`` if it is one of :data:`BACKENDS`; ValueError otherwise."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)}, not {backend!r}")
    return backend
