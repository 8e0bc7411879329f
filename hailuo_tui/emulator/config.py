"""Switches of the Hailuo emulator.

Every field defaults to the realistic, well-behaved server. Tests flip fields
on ``emu.config`` between requests: the server reads the config at the start
of each request (and the stream switches while it streams).

Nothing here imports textual or rich.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from hailuo_tui.emulator.api_config import ApiSwitches

#: The in-stream error text reported in hailuo-free-api issue #22 (2025-11), in English.
HICCUP_MESSAGE = "Sorry, the server is having a hiccup, please try again later"
#: The same text as the Chinese site shows it.
HICCUP_MESSAGE_ZH = "抱歉，服务器开小差了，请稍等一会儿再试。"

#: Points at which ``drop_before`` can cut the connection.
DROP_POINTS = ("send_result", "after_send_result", "mid_answer", "close_chunk")

#: Upper bound (seconds) on the deliberate slowness of one stream (pacing, stalls, delays).
MAX_SLOW_SECONDS = 110.0


@dataclass
class EmulatorConfig(ApiSwitches):
    """Live switches of one :class:`~hailuo_tui.emulator.Emulator` (the ``api_*`` ones, for the MiniMax API routes,
    are documented in :class:`~hailuo_tui.emulator.api_config.ApiSwitches`)."""

    # --- authentication ---------------------------------------------------
    require_auth: bool = True
    """Check the ``token`` header. ``False`` accepts any token (even none) as an anonymous account."""

    check_expiry: bool = True
    """Decode the JWT payload and refuse a token whose ``exp`` is in the past."""

    token_error_status: int = 401
    """HTTP status for a missing, unknown, revoked or expired token (the body is JSON with a non-zero ``statusInfo.code``)."""

    token_ttl: float = 40 * 24 * 3600.0
    """Lifetime in seconds of tokens the emulator issues (about 40 days, as [zb] reports)."""

    # --- the yy signature -------------------------------------------------
    check_yy: bool = True
    """Verify the ``yy`` header (PROTOCOL.md §5). A mismatch or a missing ``yy``/``unix`` gives HTTP 400, code 2."""

    yy_lenient: bool = False
    """Also accept the Python ``quote(safe="")`` variant of step 2 (gpt4free's way of escaping)."""

    max_unix_skew: float | None = None
    """If set, refuse (HTTP 400, code 2) a ``unix`` query value further than this many seconds from now. Off by default,
    because gpt4free signs every request with the timestamp captured at login."""

    require_multipart: bool = True
    """Refuse (HTTP 400, code 2) a message request whose body is not ``multipart/form-data``."""

    # --- chats --------------------------------------------------------------
    unknown_chat_error: Literal["stream", "http"] = "stream"
    """What a message for a chat that does not exist (or belongs to another token, or was deleted) gets:
    ``"stream"``: HTTP 200 event stream with one ``message_result`` payload whose ``statusInfo.code`` is non-zero
    (:data:`~hailuo_tui.emulator.server.CODE_CHAT_NOT_FOUND`); ``"http"``: HTTP 400 with ``statusInfo.code`` 2."""

    title_on_continue: bool = True
    """Send the chat's existing ``chatTitle`` in ``send_result`` when a chat is continued (``False``: leave the key out)."""

    title_length: int = 20
    """Maximum length in characters of a generated title."""

    # --- the answer -----------------------------------------------------------
    answer_text: str | None = None
    """A fixed answer for every message (benchmarks). Overrides the fake model."""

    answer_file: str | None = None
    """Path of a UTF-8 file whose content is the answer for every message (read once per request)."""

    num_events: int | None = None
    """Split the answer into exactly this many cumulative ``message_result`` events (the last one is the ``isEnd: 0``
    event). ``None``: split by ``chunk_chars``."""

    chunk_chars: int = 6
    """Approximate characters of new text per ``message_result`` event when ``num_events`` is ``None``. Chunks end
    after whitespace where possible (words), and CJK text is cut by characters."""

    # --- pacing ---------------------------------------------------------------
    headers_delay: float = 0.0
    """Seconds to wait before sending the response status and headers."""

    first_event_delay: float = 0.0
    """Seconds to wait between the headers (``send_result``) and the first ``message_result`` ("thinking")."""

    event_delay: float = 0.0
    """Seconds to sleep after every event."""

    events_per_second: float | None = None
    """Pacing: at most this many events per second on average (combined with ``event_delay``: the larger gap wins),
    kept to a schedule: writing an event counts toward its gap and a late event is caught up on (a delay over 0.25 s
    restarts the schedule). The total deliberate delay of one stream is capped at :data:`MAX_SLOW_SECONDS` by
    shrinking the per-event gap."""

    stall_after_events: int | None = None
    """After this many ``message_result`` events (0 = right after ``send_result``) stop sending bytes for
    ``stall_seconds`` (or until ``Emulator.end_stalls()``), then continue normally."""

    stall_seconds: float = 30.0
    """Length of the stall (capped at :data:`MAX_SLOW_SECONDS`)."""

    # --- realism extras ---------------------------------------------------------
    heartbeats: bool = False
    """Interleave heartbeat payloads ``{"type":3,"statusInfo":{"code":1,"message":"heartbeat"},"data":{}}`` (a NON-ZERO
    code; clients must ignore them) with the ``message_result`` events: one before the first and one after every
    ``heartbeat_every`` message events. The SSE event name is unknown (PROTOCOL.md §10); we guess ``heartbeat_event``."""

    heartbeat_every: int = 3
    """With ``heartbeats``: one heartbeat after this many ``message_result`` events."""

    heartbeat_event: str = "heartbeat"
    """SSE event name used for heartbeats. A guess: the real name is unknown."""

    follow_ups: bool = False
    """Before ``close_chunk`` send ``event: follow_up_question_result`` (type 4) whose ``data.messageResult.content`` is
    the full answer (a "final summary", as [zb] reads it) and whose ``data.followUpQuestions`` is a list of suggested
    questions (that field name is a guess). With search links, ``data.extra.netSearchStatus.linkDetail`` too."""

    search_links: bool = False
    """When the request's ``searchMode`` equals ``search_on_value``, every ``message_result`` carries
    ``messageResult.extra.netSearchStatus.linkDetail`` = ``[{"detail": ..., "url": ...}, ...]``."""

    search_on_value: str = "1"
    """The ``searchMode`` value that means "search on". Unverified: every client sends ``0``, and [zb]'s docstring
    claims ``1`` is off; we treat ``"1"`` as on."""

    fffd_splits: bool = False
    """Snapshots cut just before a multi-byte (non-ASCII) character end in U+FFFD, as if the server had cut the
    character's bytes; the next snapshot has the right character. Never on the final event."""

    stream_error: int | None = None
    """After this many ``message_result`` events (0 = right after ``send_result``) send a ``message_result`` payload
    with ``statusInfo.code`` = ``stream_error_code`` and ``stream_error_message`` (``data: {}``), then end the
    response cleanly without ``close_chunk`` (unless ``stream_error_close_chunk``)."""

    stream_error_code: int = 1500001
    """``statusInfo.code`` of the injected in-stream error (the real code is unknown)."""

    stream_error_message: str | None = None
    """Message of the injected error; ``None``: the "server hiccup" text (in Chinese for a CJK prompt)."""

    stream_error_close_chunk: bool = False
    """Send ``close_chunk`` after the injected in-stream error."""

    one_stream_per_token: bool = False
    """Refuse a second concurrent message stream for the same token (the one-stream-per-account limit)."""

    one_stream_error: Literal["http", "stream"] = "http"
    """How the second stream is refused: ``"http"``: HTTP 429, ``Retry-After`` and a JSON ``statusInfo`` (code
    :data:`~hailuo_tui.emulator.server.CODE_RATE_LIMIT`); ``"stream"``: HTTP 200 with one ``message_result`` payload
    with that non-zero code."""

    fail_next: list[int] = field(default_factory=list)
    """HTTP statuses to return, in order, for the next message requests (one entry is consumed per message request,
    before any other check). Bodies: 400 JSON code 2; 401/403 JSON token error (403 with ``fail_403_cloudflare``: a
    Cloudflare challenge HTML page); 429 JSON code 1002 with ``Retry-After``; 500 JSON code 1000; 502/504 an nginx
    HTML page; 503 JSON with ``Retry-After``; anything else JSON code 1000."""

    retry_after: int = 2
    """``Retry-After`` seconds sent with 429/503 responses."""

    fail_403_cloudflare: bool = False
    """A ``fail_next`` 403 returns a Cloudflare "Just a moment..." HTML page instead of JSON."""

    disconnect_after_bytes: int | None = None
    """Abort the connection (no chunked terminator) after this many bytes of response body have been sent."""

    drop_before: str | None = None
    """Abort the connection at a named point: ``"send_result"`` (headers sent, no event), ``"after_send_result"``
    (only ``send_result`` sent), ``"mid_answer"`` (after half of the ``message_result`` events, at least one),
    ``"close_chunk"`` (after the final ``isEnd: 0`` event, before ``close_chunk``)."""

    malformed_lines: bool = False
    """After the first ``message_result`` insert junk that a tolerant client must skip: a truncated JSON data line,
    a comment line, a non-JSON ``data:`` line, and a ``message_result`` event whose data is HTML."""

    oversized_line: int | None = None
    """After the first ``message_result`` insert one heartbeat-typed event (type 3, non-zero code, the heartbeat
    event name) whose single data line is about this many bytes long (``data.padding``)."""

    unknown_event: bool = False
    """After ``send_result`` insert ``event: unknown_future_event`` with ``{"type":42,...}`` (statusInfo code 0)."""

    no_final: bool = False
    """Omit the final ``isEnd: 0`` event and ``close_chunk``: send only the ``isEnd: 1`` events, then end cleanly."""

    compact_fields: bool = False
    """Write ``event:name`` / ``data:{...}`` without the space after the colon (legal SSE)."""

    # --- login page ------------------------------------------------------------------
    auto_login: bool = False
    """The login page at ``/`` stores the demo account's token in localStorage as soon as it loads."""

    # --- bookkeeping -------------------------------------------------------------------
    record_events: bool = True
    """Keep every sent event in ``emu.requests[i].events`` (turn off for huge benchmarks)."""

    seed: int | None = None
    """Seed for ids and tokens' randomness (``None``: random). The fake model is deterministic regardless."""

    @classmethod
    def demo(cls, **overrides) -> "EmulatorConfig":
        """A lively configuration for ``hailuo-tui --demo``: paced streaming, follow-ups, search links, heartbeats
        (and, on the API routes, a first chunk after 0.6 s and about 12 chunks a second)."""
        values = dict(
            api_first_chunk_delay=0.6,
            api_events_per_second=12.0,
            first_event_delay=0.6,
            events_per_second=50.0,
            follow_ups=True,
            search_links=True,
            heartbeats=True,
            fffd_splits=True,
        )
        values.update(overrides)
        return cls(**values)
