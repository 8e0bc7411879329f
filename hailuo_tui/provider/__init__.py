"""The Hailuo provider core: login, signing, event-stream decoding, typed events.

Never imports textual or rich. ``HailuoAI`` (and with it aiohttp) is imported on
first use, so the app's first frame does not wait for aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hailuo_tui.provider.errors import (
    AuthError,
    BadRequest,
    BrowserNotFound,
    HailuoError,
    LoginCancelled,
    LoginError,
    LoginTimeout,
    NetworkError,
    ProtocolChanged,
    RateLimited,
    ServerError,
    ServiceError,
    StreamInterrupted,
)
from hailuo_tui.provider.models import (
    AuthResult,
    ChatStarted,
    Conversation,
    Finished,
    FollowUps,
    HistoryTrimmed,
    LoginProgress,
    LoginRequested,
    ReasoningDelta,
    SearchSources,
    TextDelta,
    TitleGenerated,
    Usage,
)

if TYPE_CHECKING:
    from hailuo_tui.provider.hailuo import HailuoAI, format_prompt, last_user_message

_LAZY = ("HailuoAI", "format_prompt", "last_user_message")

__all__ = [
    "AuthError", "AuthResult", "BadRequest", "BrowserNotFound", "ChatStarted", "Conversation", "Finished",
    "FollowUps", "HailuoAI", "HailuoError", "HistoryTrimmed", "LoginCancelled", "LoginError", "LoginProgress", "LoginRequested",
    "LoginTimeout", "NetworkError", "ProtocolChanged", "RateLimited", "ReasoningDelta", "SearchSources", "ServerError",
    "ServiceError", "StreamInterrupted", "TextDelta", "TitleGenerated", "Usage", "format_prompt",
    "last_user_message",
]


def __getattr__(name: str) -> Any:
    # hailuo.py pulls in aiohttp (~0.1 s): import it when something first asks for it.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module("hailuo_tui.provider.hailuo"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
