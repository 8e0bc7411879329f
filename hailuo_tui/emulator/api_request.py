"""Parsing and validating a ``POST /v1/chat/completions`` body as the real server does (MINIMAX_API.md §4).

:func:`parse_chat_request` returns the request or the :class:`~hailuo_tui.emulator.api_errors.ApiError` the real
server answers with (HTTP 400, ``bad_request_error``, code 2013, the captured texts). Pure; never imports
textual or rich.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hailuo_tui.emulator import api_errors as E
from hailuo_tui.emulator import api_model

ROLES = ("system", "user", "assistant", "tool")
#: ``thinking.type`` values accepted; ``enabled`` is sent by some clients for M2.x (§4 [U]) and means adaptive.
THINKING_TYPES = ("adaptive", "disabled", "enabled")


@dataclass
class ChatRequest:
    """A valid chat request, reduced to what the emulator acts on."""

    model: str
    messages: list[dict]
    stream: bool = False
    include_usage: bool = False
    reasoning_split: bool = False
    #: Whether the model reasons for this request (M3 adaptive unless disabled; M2.x and M3.1 always).
    thinking: bool = True
    #: ``max_completion_tokens`` (or the deprecated ``max_tokens``), ``None`` when absent.
    max_tokens: int | None = None
    body: dict[str, Any] = field(default_factory=dict)


def _syntax_error(raw: bytes) -> E.ApiError | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return E.bad_request(E.MSG_SYNTAX.format(index=exc.start, reason="invalid UTF-8"))
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        reason = "eof" if exc.pos >= len(text) else f"invalid character {text[exc.pos]!r}"
        return E.bad_request(E.MSG_SYNTAX.format(index=exc.pos, reason=reason))
    return None


def _mismatch(what: str, value: object) -> E.ApiError:
    return E.bad_request(E.MSG_BAD_FIELD.format(what=what, kind=E.json_kind(value)))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_messages(messages: list) -> E.ApiError | None:
    for m in messages:
        if not isinstance(m, dict):
            return _mismatch("open_platform_oai.Message", m)
        role = m.get("role")
        if not isinstance(role, str) or not role:
            return E.bad_request(E.MSG_MISSING.format(field="messages.role"))
        if role not in ROLES:
            return E.bad_request(E.MSG_ROLE.format(role=role))
        content = m.get("content")
        if content is not None and not isinstance(content, (str, list)):
            return _mismatch("open_platform_oai.MessageContent", content)
    roles = [m["role"] for m in messages]
    if roles.count("system") > 1:
        return E.bad_request(E.MSG_TWO_SYSTEMS)
    if "system" in roles and roles.index("system") != 0:
        return E.bad_request(E.MSG_ROLE.format(role="system"))
    return None


def _thinking(body: dict, model_id: str) -> tuple[bool, E.ApiError | None]:
    thinking = body.get("thinking")
    disabled = False
    if thinking is not None:
        if not isinstance(thinking, dict):
            return False, E.bad_request(E.MSG_THINKING_TYPE.format(kind=E.json_kind(thinking)))
        kind = thinking.get("type")
        if kind not in THINKING_TYPES:
            return False, E.bad_request(E.MSG_THINKING_VALUE.format(value=kind))
        disabled = kind == "disabled"
    reasoning = body.get("reasoning")
    effort_none = body.get("reasoning_effort") == "none" or (
        isinstance(reasoning, dict) and reasoning.get("effort") == "none")
    mode = api_model.thinking_mode(model_id)
    if mode == "required" and (disabled or effort_none):
        return False, E.bad_request(E.MSG_M31_DISABLED.format(model=model_id))
    return not (mode == "adaptive" and disabled), None


def _max_tokens(body: dict, model_id: str) -> tuple[int | None, E.ApiError | None]:
    limit = None
    for name in ("max_tokens", "max_completion_tokens"):  # the documented field wins when both are sent
        value = body.get(name)
        if value is None:
            continue
        if not _is_int(value) or value < 1:
            return None, E.bad_request(E.MSG_MAX_TOKENS.format(field=name))
        limit = value
    cap = api_model.MAX_OUTPUT.get(model_id)
    if limit is not None and cap is not None and limit > cap:
        return None, E.bad_request(E.MSG_MAX_TOKENS_CAP.format(model=model_id, cap=cap))
    return limit, None


def parse_chat_request(raw: bytes, *, strict_temperature: bool = False, context_limit: int | None = None
                       ) -> tuple[ChatRequest | None, Any, E.ApiError | None]:
    """Parse and validate a request body: ``(request, parsed JSON or None, error)``; exactly one of request/error."""
    err = _syntax_error(raw)
    if err is not None:
        return None, None, err
    body = json.loads(raw.decode("utf-8"))
    if not isinstance(body, dict):
        return None, body, _mismatch("open_platform_oai.ChatCompletionRequest", body)
    model_id = body.get("model")
    if model_id is None or model_id == "":
        return None, body, E.bad_request(E.MSG_MISSING.format(field="model"))
    if not isinstance(model_id, str):
        return None, body, _mismatch("string", model_id)
    messages = body.get("messages")
    if messages is None or messages == []:
        return None, body, E.bad_request(E.MSG_MISSING.format(field="messages"))
    if not isinstance(messages, list):
        return None, body, _mismatch("[]open_platform_oai.Message", messages)
    if model_id not in api_model.MODEL_IDS:
        return None, body, E.bad_request(E.MSG_UNKNOWN_MODEL.format(model=model_id))
    err = _check_messages(messages)
    if err is not None:
        return None, body, err
    for name in ("stream", "reasoning_split"):
        if name in body and not isinstance(body[name], bool):
            return None, body, _mismatch("bool", body[name])
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        return None, body, _mismatch("open_platform_oai.StreamOptions", options)
    thinking, err = _thinking(body, model_id)
    if err is not None:
        return None, body, err
    temperature = body.get("temperature")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
            return None, body, _mismatch("float64", temperature)
        if not 0 <= temperature <= 1 or (strict_temperature and temperature == 0):
            return None, body, E.bad_request(E.MSG_TEMPERATURE.format(value=temperature))
    max_tokens, err = _max_tokens(body, model_id)
    if err is not None:
        return None, body, err
    window = context_limit if context_limit is not None else api_model.context_window(model_id)
    if api_model.prompt_tokens(messages) > window:
        return None, body, E.bad_request(E.MSG_CONTEXT)
    return ChatRequest(
        model=model_id, messages=messages, stream=bool(body.get("stream", False)),
        include_usage=bool((options or {}).get("include_usage", False)),
        reasoning_split=bool(body.get("reasoning_split", False)), thinking=thinking, max_tokens=max_tokens,
        body=body,
    ), body, None
