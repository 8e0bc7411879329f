"""One error family for everything the provider can report to a user.

Every error carries a short ``title`` and a plain-words ``message`` that the UI
and the CLI show as they are. Details for the log go in ``detail``; none of
these texts ever contains the token.
"""

from __future__ import annotations

from hailuo_tui.redact import redact


class HailuoError(Exception):
    """Base of every error the provider raises on purpose."""

    title: str = "Hailuo error"
    #: Exit code the CLI uses for this kind of failure.
    exit_code: int = 1
    #: Whether pressing "retry" can reasonably help.
    retryable: bool = True

    def __init__(self, message: str, *, detail: str | None = None, partial: str = "") -> None:
        # A server or proxy may echo the token, the API key or a URL password into the text
        # an error quotes: every secret the process holds is taken out here, once for all
        # the places an error goes (the screen, the database, the log, stderr).
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.detail = redact(detail) if detail else detail
        #: Assistant text received before the failure (never lost).
        self.partial = partial

    def __str__(self) -> str:
        return self.message


class AuthError(HailuoError):
    """The token is missing, expired or refused (HTTP 401/403): log in again."""

    title = "Login needed"
    exit_code = 3


class SiteRefused(HailuoError):
    """The site (its Cloudflare front) refused the request with a challenge page, not a login error:
    a browser check may be needed. Logging in with the browser passes it; the login itself is fine."""

    title = "Site refused the request"
    exit_code = 12


class BadRequest(HailuoError):
    """The server refused the request's parameters or signature (HTTP 400)."""

    title = "Request refused"
    exit_code = 4


class RateLimited(HailuoError):
    """Too many requests (HTTP 429), or the one-stream-per-account limit."""

    title = "Rate limited"
    exit_code = 5

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(HailuoError):
    """The server failed (HTTP 5xx)."""

    title = "Server error"
    exit_code = 6

    def __init__(self, message: str, *, status: int = 500, **kw) -> None:
        super().__init__(message, **kw)
        self.status = status


class ServiceError(HailuoError):
    """A non-zero ``statusInfo.code`` inside the event stream."""

    title = "Hailuo reported an error"
    exit_code = 6

    def __init__(self, message: str, *, code: int = 0, **kw) -> None:
        super().__init__(message, **kw)
        self.code = code

    @classmethod
    def from_status(cls, info: dict, *, partial: str = "") -> "ServiceError":
        """The error a non-zero ``statusInfo`` stands for (its message is server text: cleaned)."""
        from hailuo_tui.sanitize import clean

        code = info.get("code")
        try:
            code_int = int(code)
        except (TypeError, ValueError):
            code_int = -1
        message = clean(str(info.get("message") or "")).strip() or f"error code {code}"
        return cls(message[:300], code=code_int, partial=partial)


class NetworkError(HailuoError):
    """The server could not be reached at all (nothing was sent)."""

    title = "Network error"
    exit_code = 7


class StreamInterrupted(HailuoError):
    """The stream ended (or stalled) before its final message; ``partial`` keeps the text."""

    title = "Answer interrupted"
    exit_code = 8


class NoResponse(HailuoError):
    """The request was delivered (the connection was made and the message sent) but the server answered
    nothing at all within the read timeout: unlike :class:`NetworkError`, the message may have reached it."""

    title = "No answer from the server"
    exit_code = 8


class AnswerTooLong(StreamInterrupted):
    """The answer passed the configured ``max_answer_chars`` and was stopped; ``partial`` keeps the text."""

    title = "Answer stopped"

    def __init__(self, limit: int, *, partial: str = "", detail: str | None = None) -> None:
        super().__init__(f"Stopped: the answer passed {limit:,} characters (max_answer_chars); the text so far "
                         "was kept.", partial=partial, detail=detail)
        self.limit = limit


class AnswerTimedOut(StreamInterrupted):
    """The answer took longer than the configured ``answer_timeout`` (a server that trickles bytes never trips
    the read timeout); ``partial`` keeps the text."""

    title = "Answer stopped"

    def __init__(self, seconds: float, *, partial: str = "", detail: str | None = None) -> None:
        super().__init__(f"Stopped: the answer took longer than {seconds:g} s (answer_timeout); the text so far "
                         "was kept.", partial=partial, detail=detail)
        self.seconds = seconds


class InsufficientBalance(HailuoError):
    """The MiniMax account behind the API key has no balance left (code 1008, with any HTTP status)."""

    title = "Insufficient balance"
    exit_code = 10
    retryable = False


class ContentFiltered(HailuoError):
    """MiniMax's moderation refused the message (1026) or stopped the answer (1027); ``partial`` keeps the text."""

    title = "Content filtered"
    exit_code = 11
    retryable = False

    def __init__(self, message: str, *, code: int = 1027, **kw) -> None:
        super().__init__(message, **kw)
        self.code = code


class ContextTooLong(BadRequest):
    """The history does not fit the model's context window (2013 "context window exceeds limit", 1039)."""

    title = "Conversation too long"
    retryable = False


class ProtocolChanged(HailuoError):
    """The server sent something this client does not understand."""

    title = "Unexpected reply from Hailuo"
    exit_code = 9
    retryable = False

    def __init__(self, message: str, *, sample: str = "", **kw) -> None:
        super().__init__(message, **kw)
        #: A (size-limited) raw sample of what was received, for bug reports.
        self.sample = redact(sample[:2000])


class LoginError(HailuoError):
    """The browser login could not complete."""

    title = "Login failed"
    exit_code = 3


class BrowserNotFound(LoginError):
    """No Chromium/Chrome executable could be found."""

    title = "No browser for login"
    retryable = False


class LoginCancelled(LoginError):
    """The user closed the login window or cancelled."""

    title = "Login cancelled"


class LoginTimeout(LoginError):
    """The user did not finish logging in in time."""

    title = "Login timed out"
