"""The Hailuo provider core: login, signing, event-stream decoding, typed events.

Never imports textual or rich.
"""

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
from hailuo_tui.provider.hailuo import HailuoAI, format_prompt, last_user_message
from hailuo_tui.provider.models import (
    AuthResult,
    ChatStarted,
    Conversation,
    Finished,
    FollowUps,
    LoginProgress,
    LoginRequested,
    SearchSources,
    TextDelta,
    TitleGenerated,
)

__all__ = [
    "AuthError", "AuthResult", "BadRequest", "BrowserNotFound", "ChatStarted", "Conversation", "Finished",
    "FollowUps", "HailuoAI", "HailuoError", "LoginCancelled", "LoginError", "LoginProgress", "LoginRequested",
    "LoginTimeout", "NetworkError", "ProtocolChanged", "RateLimited", "SearchSources", "ServerError",
    "ServiceError", "StreamInterrupted", "TextDelta", "TitleGenerated", "format_prompt", "last_user_message",
]
