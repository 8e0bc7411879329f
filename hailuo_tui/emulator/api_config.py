"""Switches of the emulator's MiniMax API routes (``/v1/models``, ``/v1/chat/completions``; MINIMAX_API.md).

:class:`ApiSwitches` is a base of :class:`~hailuo_tui.emulator.config.EmulatorConfig`, so every field here is
an ``EmulatorConfig`` field, settable live on ``emu.config`` and as a ``python -m hailuo_tui.emulator`` flag.
Every default is the realistic, well-behaved server. Never imports textual or rich.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Values of :attr:`ApiSwitches.api_reasoning` (see its docstring).
API_REASONING_SHAPES = ("split", "inline", "details_cumulative", "split_with_stray_tag")


@dataclass
class ApiSwitches:
    """Live switches of the MiniMax-API half of the emulator (all names start with ``api_``)."""

    # --- keys and validation ------------------------------------------------------
    api_require_key: bool = True
    """Check ``Authorization: Bearer <key>`` against the keys the emulator issued (``emu.demo_api_key``,
    ``emu.issue_api_key()``). A missing, unknown or revoked key gets HTTP 401 with the real 1004 body (§8)."""

    api_strict_temperature: bool = False
    """``temperature`` outside [0, 1] is always refused (HTTP 400, 2013). With this switch 0 is refused too, as the
    documented range (0, 1] says; off by default because a 2026-04 probe got HTTP 200 with 0.0 (§4 [U])."""

    api_context_limit: int | None = None
    """Context window in tokens for every model (``None``: the model's own, 1,000,000 or 204,800). A request whose
    prompt (characters/4, one token per non-ASCII character) passes it gets the 2013 "context window exceeds limit"
    body. Lets a test trigger the real check with a small history."""

    # --- the answer -----------------------------------------------------------------
    api_reasoning: str = "split"
    """Shape of the reasoning (§7). ``"split"`` (default, what the real API does): with ``reasoning_split:true`` in
    the request, incremental ``reasoning_content`` plus the same text in ``reasoning_details``; without it, inline.
    ``"inline"``: always ``<think>\\n…\\n</think>\\n\\n`` at the start of ``content`` (even with ``reasoning_split``),
    the tags cut across chunks (``"<th"`` + ``"ink>…"``, ``"…</thi"`` + ``"nk>\\n\\n…"``).
    ``"details_cumulative"``: with ``reasoning_split:true``, only ``reasoning_details`` whose ``text`` is the whole
    reasoning so far in every chunk (the official example's reading); without it, inline.
    ``"split_with_stray_tag"``: like ``"split"`` but the reasoning ends with a literal ``"\\n</think>"`` cut across
    two deltas (the M3 quirk of §7); without ``reasoning_split``, inline."""

    api_answer_text: str | None = None
    """A fixed visible answer for every chat request (the reasoning still comes from the fake model)."""

    api_chunk_chars: int = 24
    """Approximate characters of text per chunk (cut after whitespace where possible; the real server sends tens
    to hundreds of characters per chunk)."""

    # --- pacing -----------------------------------------------------------------------
    api_first_chunk_delay: float = 0.0
    """Seconds between the response headers and the first chunk (about 1 s on the real server)."""

    api_chunk_delay: float = 0.0
    """Seconds to sleep after every chunk."""

    api_events_per_second: float | None = None
    """At most this many chunks per second on average, on a schedule like ``events_per_second`` (the larger gap of
    this and ``api_chunk_delay`` wins). The whole deliberate delay of one stream is capped at ``MAX_SLOW_SECONDS``."""

    # --- faults -------------------------------------------------------------------------
    api_done: bool = True
    """End a stream with ``data: [DONE]``. ``False``: close the connection right after the ``finish_reason`` chunk
    (and the usage chunk), as a 2026-09 report says the real server does (§6, §11 [U])."""

    api_cut_after: int | None = None
    """Abort the connection after this many chunks, before the ``finish_reason`` chunk is sent (a larger value
    cuts just before it): an interrupted stream."""

    api_stall_after_chunks: int | None = None
    """After this many chunks (0: before the first; a larger value: just before the ``finish_reason`` chunk) stop
    sending for ``api_stall_seconds`` (or until ``Emulator.end_stalls()``), then go on: a model that pauses."""

    api_stall_seconds: float = 30.0
    """Length of that stall (capped at ``MAX_SLOW_SECONDS``)."""

    api_filter_after: int | None = None
    """After this many chunks (a larger value: just before the ``finish_reason`` chunk) send the in-stream
    output-moderation frame ``{"type":"error","error":{"type":"unprocessable_entity_error","message":"output
    new_sensitive (1027)","http_code":"422"},"request_id":…}`` and end the response cleanly, without
    ``finish_reason`` or ``[DONE]`` (§8)."""

    api_error: str | None = None
    """Answer every chat request with this named real error (after the key check, before validation). Names:
    see :data:`~hailuo_tui.emulator.api_errors.API_ERRORS` (``auth_1004``, ``balance_1008_http``,
    ``balance_1008_200``, ``rate_1002``, ``usage_2056``, ``overload_529``, ``bad_request_2013``, ``context_2013``,
    ``input_1026``, ``server_1000``, ``gateway_502``, ``not_found_404``)."""

    api_fail_next: list[str] = field(default_factory=list)
    """Error names (as ``api_error``) for the next chat requests, one consumed per request, before ``api_error``."""

    api_models_fail: str | None = None
    """``GET /v1/models`` answers with this named error (as ``api_error``) instead of the list."""
