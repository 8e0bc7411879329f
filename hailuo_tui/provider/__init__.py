"""The Hailuo provider core: login, signing, event-stream decoding, typed events.

Never imports textual or rich. ``HailuoAI`` (and with it aiohttp) is imported on
first use, so the app's first frame does not wait for aiohttp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hailuo_tui.provider.errors import (
    AnswerTimedOut,
    AnswerTooLong,
    AuthError,
    BadRequest,
    BrowserNotFound,
    ContentFiltered,
    ContextTooLong,
    HailuoError,
    InsufficientBalance,
    LoginCancelled,
    LoginError,
    LoginTimeout,
    NetworkError,
    NoResponse,
    ProtocolChanged,
    RateLimited,
    ServerError,
    ServiceError,
    SiteRefused,
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
    TextReplaced,
    TitleGenerated,
    Usage,
)

if TYPE_CHECKING:
    from hailuo_tui.provider.hailuo import HailuoAI, format_prompt, last_user_message
    from hailuo_tui.provider.minimax import MiniMaxAPI

#: Names imported on first use (they pull in aiohttp, ~0.1 s), and the module each lives in.
_LAZY = {
    "HailuoAI": "hailuo_tui.provider.hailuo",
    "format_prompt": "hailuo_tui.provider.hailuo",
    "last_user_message": "hailuo_tui.provider.hailuo",
    "MiniMaxAPI": "hailuo_tui.provider.minimax",
}

__all__ = [
    "AnswerTimedOut", "AnswerTooLong", "NoResponse", "TextReplaced",
    "AuthError", "AuthResult", "BadRequest", "BrowserNotFound", "ChatStarted", "ContentFiltered", "ContextTooLong",
    "Conversation", "Finished", "FollowUps", "HailuoAI", "HailuoError", "HistoryTrimmed", "InsufficientBalance",
    "LoginCancelled", "LoginError", "LoginProgress", "LoginRequested", "LoginTimeout", "MiniMaxAPI", "NetworkError",
    "ProtocolChanged", "RateLimited", "ReasoningDelta", "SearchSources", "ServerError", "ServiceError", "SiteRefused",
    "StreamInterrupted", "TextDelta", "TitleGenerated", "Usage", "format_prompt", "last_user_message",
]


def __getattr__(name: str) -> Any:
    # hailuo.py and minimax.py pull in aiohttp (~0.1 s): import them when something first asks.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
