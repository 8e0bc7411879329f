"""The MiniMax API's chat-completion chunks and error bodies, mapped to events and errors (MINIMAX_API.md §6, §8).

Pure: no I/O, no asyncio, no aiohttp. :class:`ChunkMapper` takes the decoded SSE events of one
streamed answer (from :class:`~hailuo_tui.provider.sse.SSEDecoder`) and returns typed events;
:func:`api_error` turns an error body, an in-stream error frame or a bare HTTP status into the one
error family, in plain words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from hailuo_tui.provider.errors import (
    AuthError,
    BadRequest,
    ContentFiltered,
    ContextTooLong,
    HailuoError,
    InsufficientBalance,
    RateLimited,
    ServerError,
    ServiceError,
    StreamInterrupted,
)
from hailuo_tui.provider.models import Finished, Usage
from hailuo_tui.provider.reasoning import ReasoningSplitter
from hailuo_tui.provider.sse import SSEEvent
from hailuo_tui.sanitize import clean

_JSON = json.JSONDecoder()
#: The MiniMax code sits only at the end of ``error.message``: ``"… (1004)"``.
_TRAILING_CODE = re.compile(r"\((\d{3,5})\)\s*\Z")
_CONTEXT_WORDS = re.compile(r"context (window|length)|too long|exceeds? (the )?limit", re.IGNORECASE)

AUTH_MESSAGE = (
    "The MiniMax API refused the key: wrong key or wrong region (a key from platform.minimaxi.com only works "
    "on the China host, one from platform.minimax.io only on the international host). Check the key and the "
    "region, then log in again with `hailuo-tui login --api-key`."
)
RETRYABLE_CODES = frozenset({1000, 1001, 1002, 1013, 1024, 1033, 1041, 2045})


def error_info(payload: Any) -> tuple[int | None, str, int | None] | None:
    """``(code, server message, http_code)`` when ``payload`` is an error body or frame, else ``None``.

    An error is a top-level ``error``, ``type: "error"``, or ``base_resp.status_code`` other than 0.
    """
    if not isinstance(payload, Mapping):
        return None
    error = payload.get("error")
    if isinstance(error, Mapping) or payload.get("type") == "error" or isinstance(error, str):
        info = error if isinstance(error, Mapping) else payload
        message = str(error if isinstance(error, str) else info.get("message") or "")
        match = _TRAILING_CODE.search(message)
        code = int(match.group(1)) if match else _int(info.get("code"))
        return code, message, _int(info.get("http_code"))
    base = payload.get("base_resp")
    if isinstance(base, Mapping):
        code = _int(base.get("status_code"))
        if code:
            return code, str(base.get("status_msg") or ""), None
    return None


def _is_map(value: Any) -> bool:
    # `type(x) is dict` first: JSON gives dicts, and `isinstance(x, Mapping)` goes through the ABC machinery
    # (seven such checks a chunk were a fifth of a burst's decoding: bench/decode_burst.py).
    return type(value) is dict or isinstance(value, Mapping)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def api_error(status: int | None, payload: Any = None, *, partial: str = "", secret: str = "") -> HailuoError:
    """The error an HTTP status and/or an error body stand for, in plain words.

    The MiniMax code (from ``error.message`` or ``base_resp``) decides when there is one, whatever the
    HTTP status (1008 arrives as 402, 429, 500 or 200); otherwise the status does.

    Args:
        status: The HTTP status (``None`` or 200 for a frame inside a stream).
        payload: The parsed JSON body or frame, if any.
        partial: The answer received before the failure.
        secret: Text that must never appear in the result (the API key); replaced by ``<key>``.
    """
    code, server, http_code = error_info(payload) or (None, "", None)
    if status in (None, 200) and http_code:
        status = http_code
    said = clean(server).strip()
    if secret:
        said = said.replace(secret, "<key>")
    said = said[:300]
    detail = f"HTTP {status}, code {code}" + (f": {said}" if said else "")
    quoted = f" (MiniMax said: {said})" if said else ""

    def make(cls: type[HailuoError], message: str, *, retryable: bool | None = None, **kw: Any) -> HailuoError:
        err = cls(message, detail=detail, partial=partial, **kw)
        if retryable is not None:
            err.retryable = retryable
        return err

    if code in (1004, 2049) or (code is None and status in (401, 403)):
        return make(AuthError, AUTH_MESSAGE, retryable=False)
    if code == 1008 or (code is None and status == 402):
        return make(InsufficientBalance, "Your MiniMax account has insufficient balance for this key. Top up the "
                    "account (or use a key of the plan that has credit), then send again.")
    if code in (1026, 1027):
        where = "your message" if code == 1026 else "the answer"
        kept = " The part of the answer received so far is kept." if partial else ""
        return make(ContentFiltered, f"MiniMax's content moderation stopped {where} (code {code}).{kept} "
                    "Rephrase the message and send again.", code=code)
    if code in (1039,) or (code == 2013 and _CONTEXT_WORDS.search(said)):
        return make(ContextTooLong, "The conversation is too long for this model's context window. Start a new "
                    "conversation, or choose a model with a larger window." + quoted)
    if code in (1002, 2045, 2056, 1041) or (code is None and status == 429):
        if code == 2056:
            text = "Your MiniMax plan's usage limit is reached; it resets later." + quoted
        else:
            text = "The MiniMax API is limiting requests for this key. Wait a little, then retry." + quoted
        return make(RateLimited, text, retryable=True)
    if code == 2061:
        return make(BadRequest, "This model is not available on your MiniMax plan. Choose another model." + quoted,
                    retryable=False)
    if code in (2013, 1042):
        text = "The MiniMax API refused the request" + (f": {said}" if said else ".")
        return make(BadRequest, text, retryable=False)
    if code in RETRYABLE_CODES or (code is None and status is not None and status >= 500):
        if status == 529:
            text = "The MiniMax API is overloaded right now. Try again in a moment." + quoted
        else:
            text = f"The MiniMax API failed (HTTP {status or 200}). Try again in a moment." + quoted
        return make(ServerError, text, status=status or 500, retryable=True)
    if code is None and status == 404:
        return make(BadRequest, "The API host has no such route (HTTP 404). Check the API base URL.", retryable=False)
    if code is None and status is not None and 400 <= status < 500:
        return make(BadRequest, f"The MiniMax API refused the request (HTTP {status})." + quoted, retryable=False)
    err = make(ServiceError, f"The MiniMax API reported an error (code {code})." + quoted, code=code or -1)
    err.title = "MiniMax API error"
    return err


def parse_usage(usage: Any, model: str) -> Usage | None:
    """A :class:`Usage` from a ``usage`` object; ``None`` for a missing or all-zero one (a known quirk)."""
    if not isinstance(usage, Mapping):
        return None
    prompt = _int(usage.get("prompt_tokens")) or 0
    completion = _int(usage.get("completion_tokens")) or 0
    if not prompt and not completion and not _int(usage.get("total_tokens")):
        return None
    completion_details = usage.get("completion_tokens_details")
    prompt_details = usage.get("prompt_tokens_details")
    reasoning = _int(completion_details.get("reasoning_tokens")) if isinstance(completion_details, Mapping) else None
    cached = _int(prompt_details.get("cached_tokens")) if isinstance(prompt_details, Mapping) else None
    return Usage(model=model, prompt_tokens=prompt, completion_tokens=completion,
                 reasoning_tokens=reasoning or 0, cached_tokens=cached or 0)


class ChunkMapper:
    """The events of one streamed answer, from its decoded SSE events.

    :meth:`feed` returns :class:`~.ReasoningDelta`, :class:`~.TextDelta` and :class:`~.Usage` events and
    raises the error an in-stream error frame stands for (with the answer so far in ``partial``);
    :meth:`close` ends the stream: :class:`~.Finished`, or :class:`~.StreamInterrupted` when neither
    ``[DONE]`` nor a ``finish_reason`` arrived.
    """

    def __init__(self, model: str = "", *, secret: str = "") -> None:
        self.model = model
        self.splitter = ReasoningSplitter()
        #: The last ``finish_reason`` received (``stop``, ``length``…), ``None`` before it.
        self.finish_reason: str | None = None
        #: ``data: [DONE]`` arrived: nothing more to read.
        self.done = False
        self.usage: Usage | None = None
        self.chunks = 0
        #: Data that was not JSON (skipped, counted for the log).
        self.skipped = 0
        self._secret = secret

    @property
    def text(self) -> str:
        """The answer so far (what :class:`~.TextDelta` events carried)."""
        return self.splitter.answer

    @property
    def reasoning(self) -> str:
        """The reasoning so far."""
        return self.splitter.reasoning

    @property
    def size(self) -> int:
        """Characters of answer and reasoning so far (what the answer's size cap counts)."""
        return self.splitter.size

    @property
    def complete(self) -> bool:
        """Whether the answer is whole: ``[DONE]`` or a ``finish_reason`` arrived."""
        return self.done or self.finish_reason is not None

    def feed(self, event: SSEEvent) -> list[Any]:
        """Map one SSE event."""
        data = event.data.strip()
        if not data or self.done:
            return []
        if data == "[DONE]":
            self.done = True
            return []
        try:
            # raw_decode: json.loads' own checks around it cost a third of its time on a chunk this small
            payload, end = _JSON.raw_decode(data)
        except ValueError:
            self.skipped += 1
            return []
        if end != len(data):  # text after the value: not JSON (json.loads refuses it too)
            self.skipped += 1
            return []
        return self.feed_payload(payload)

    def feed_payload(self, payload: Any) -> list[Any]:
        """Map one chunk object (or a whole non-streamed ``chat.completion``: its ``message`` is one delta)."""
        if not _is_map(payload):
            self.skipped += 1
            return []
        if ("error" in payload or "type" in payload or "base_resp" in payload) and error_info(payload) is not None:
            raise api_error(None, payload, partial=self.text, secret=self._secret)
        self.chunks += 1
        out: list[Any] = []
        choices = payload.get("choices")
        final = isinstance(choices, list) and not choices  # the trailing usage chunk
        if isinstance(choices, list) and choices and _is_map(choice := choices[0]):
            delta = choice.get("delta")
            if not _is_map(delta):
                delta = choice.get("message")
            if _is_map(delta):
                out += self.splitter.feed_delta(delta)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        if (final or self.finish_reason is not None) and self.usage is None:
            model = payload.get("model")
            usage = parse_usage(payload.get("usage"), model if isinstance(model, str) and model else self.model)
            if usage is not None:
                self.usage = usage
                out.append(usage)
        return out

    def close(self) -> list[Any]:
        """End of the stream: the held-back text and :class:`~.Finished`, or raise :class:`~.StreamInterrupted`."""
        out = self.splitter.finish()
        if not self.complete:
            raise StreamInterrupted(
                "The MiniMax API ended the answer before it was finished; the answer so far was kept.",
                partial=self.text,
            )
        out.append(Finished(self.text, finish_reason=self.finish_reason or ""))
        return out
