"""The real error bodies of the MiniMax API (MINIMAX_API.md §8), by name, for the emulator.

OpenAI-compatible routes answer ``{"type":"error","error":{"type":…,"message":"… (NNNN)","http_code":"401"},
"request_id":…}`` with a real HTTP 4xx/5xx (``http_code`` is a string); some account failures come as HTTP 200
with only ``base_resp``. Texts marked *invented* below are not in the reference (the real text is unknown).
Never imports textual or rich.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from aiohttp import web

from hailuo_tui.emulator.protocol import NGINX_PAGE

MSG_AUTH = ("login fail: Please carry the API secret key in the 'Authorization' field of the request header "
            "(1004)")
MSG_MISSING = "invalid params, binding: expr_path={field}, cause=missing required parameter (2013)"
MSG_SYNTAX = 'invalid params, "Syntax error at index {index}: {reason}" (2013)'
MSG_UNKNOWN_MODEL = "invalid params, unknown model '{model}' (2013)"
MSG_CONTEXT = "invalid params, context window exceeds limit (2013)"
MSG_TWO_SYSTEMS = "invalid params, invalid chat setting (2013)"
MSG_ROLE = "invalid params, chat content has invalid message role: {role} (2013)"
MSG_THINKING_TYPE = "invalid params, Mismatch type open_platform_oai.ThinkingConfig with value {kind} (2013)"
MSG_M31_DISABLED = ('invalid params, model "{model}" requires adaptive thinking; thinking.type="disabled" '
                    "(including reasoning.effort=none) is not allowed (2013)")
MSG_MAX_TOKENS_CAP = "invalid params, model[{model}] does not support max tokens > {cap}"
#: Invented (the real texts are unknown).
MSG_THINKING_VALUE = "invalid params, thinking.type must be adaptive or disabled, got '{value}' (2013)"
MSG_TEMPERATURE = "invalid params, temperature must be in (0, 1], got {value} (2013)"
MSG_MAX_TOKENS = "invalid params, {field} must be a positive integer (2013)"
MSG_BAD_FIELD = "invalid params, Mismatch type {what} with value {kind} (2013)"
MSG_OUTPUT_FILTER = "output new_sensitive (1027)"


def json_kind(value: object) -> str:
    """The Go-ish type name the server's binder prints for a JSON value (``bool``, ``string``, ``number``…)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def error_body(err_type: str, message: str, http_code: int, request_id: str) -> dict:
    """The OpenAI-route error envelope of §8 (``http_code`` as a string, as the real server sends it)."""
    return {"type": "error", "error": {"type": err_type, "message": message, "http_code": str(http_code)},
            "request_id": request_id}


@dataclass(frozen=True)
class ApiError:
    """One named error answer: HTTP status, ``error.type`` and message, or a special body kind."""

    status: int
    err_type: str
    message: str
    #: ``"error"``: the §8 envelope; ``"base_resp"``: only ``{"base_resp":{…}}``; ``"html"``: an nginx page.
    kind: str = "error"
    #: ``base_resp.status_code`` for ``kind == "base_resp"``.
    code: int = 0

    def response(self, request_id: str) -> web.Response:
        """The aiohttp response carrying this error (with the ``Trace-Id`` header the real server sends)."""
        headers = {"Trace-Id": request_id, "Minimax-Request-Id": request_id}
        if self.kind == "html":
            reason = "Bad Gateway" if self.status == 502 else "Error"
            return web.Response(status=self.status, text=NGINX_PAGE.format(status=self.status, reason=reason),
                                content_type="text/html", charset="utf-8", headers={"Server": "nginx"})
        if self.kind == "base_resp":
            body: dict = {"base_resp": {"status_code": self.code, "status_msg": self.message}}
        else:
            body = error_body(self.err_type, self.message, self.status, request_id)
        return web.Response(status=self.status, text=json.dumps(body, ensure_ascii=False),
                            content_type="application/json", charset="utf-8", headers=headers)


def _usage_limit_message() -> str:
    reset = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 5 * 3600))
    return f"usage limit exceeded, 5-hour usage limit reached, resets at {reset} UTC (2056)"


#: The named errors of ``api_error`` / ``api_fail_next`` / ``api_models_fail``.
API_ERRORS: dict[str, ApiError] = {
    # 401, the captured body: bad or missing key, or a key of the other region.
    "auth_1004": ApiError(401, "authorized_error", MSG_AUTH),
    # Insufficient balance as HTTP 402 with the error envelope (2026-09 report).
    "balance_1008_http": ApiError(402, "insufficient_balance_error", "insufficient balance (1008)"),
    # Insufficient balance as HTTP 200 with only base_resp (the native-route envelope, 2026-09 report).
    "balance_1008_200": ApiError(200, "", "insufficient balance", kind="base_resp", code=1008),
    # RPM/TPM throttling: status, type and text are [U]; the message follows the official code table.
    "rate_1002": ApiError(429, "rate_limit_error", "rate limit (1002)"),
    # The plan's 5-hour window (seen on /anthropic).
    "usage_2056": ApiError(429, "rate_limit_error", "usage limit exceeded (2056)"),
    # 529 with the recorded text; error.type [U].
    "overload_529": ApiError(529, "overloaded_error", "cluster overloaded"),
    # A generic bad request with a real 2013 text.
    "bad_request_2013": ApiError(400, "bad_request_error", MSG_TWO_SYSTEMS),
    "context_2013": ApiError(400, "bad_request_error", MSG_CONTEXT),
    # Input moderation (HTTP 422 since 2026-07).
    "input_1026": ApiError(422, "unprocessable_entity_error", "input new_sensitive (1026)"),
    # Server error as seen through a gateway; error.type [U].
    "server_1000": ApiError(500, "api_error", "unknown error, 999 (1000)"),
    # A proxy in front of the API failing: an nginx HTML page, not JSON.
    "gateway_502": ApiError(502, "", "", kind="html"),
    # A host without the route (e.g. a gateway without /models): the envelope with HTTP 404 (invented text).
    "not_found_404": ApiError(404, "not_found_error", "not found"),
}


def named_error(name: str) -> ApiError:
    """The error called ``name`` (``usage_2056`` gets a fresh reset time). Raises ValueError for an unknown name."""
    if name == "usage_2056":
        return ApiError(429, "rate_limit_error", _usage_limit_message())
    try:
        return API_ERRORS[name]
    except KeyError:
        raise ValueError(f"unknown API error name {name!r}; known: {', '.join(API_ERRORS)}") from None


def bad_request(message: str) -> ApiError:
    """A 400 ``bad_request_error`` with the server's 2013 text."""
    return ApiError(400, "bad_request_error", message)


def filter_frame(request_id: str) -> dict:
    """The in-stream output-moderation frame (1027, ``http_code`` "422")."""
    return error_body("unprocessable_entity_error", MSG_OUTPUT_FILTER, 422, request_id)
