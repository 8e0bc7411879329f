"""Local storage: the SQLite conversation store and the keyring token vault."""

from __future__ import annotations

from typing import Any

from .async_store import AsyncChatStore
from .db import ChatStore
from .rows import ConversationRow, MessageRow, StoreError, token_fingerprint

__all__ = [
    "AsyncChatStore",
    "ChatStore",
    "ConversationRow",
    "MessageRow",
    "StoreError",
    "TokenVault",
    "VaultUnavailable",
    "token_fingerprint",
]


def __getattr__(name: str) -> Any:
    # The vault pulls in keyring; import it only when someone asks for it.
    if name in ("TokenVault", "VaultUnavailable"):
        from . import vault

        return getattr(vault, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
