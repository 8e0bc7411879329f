"""The emulator's routes, ``statusInfo`` codes and messages, error pages, and the JSON envelope helpers.

Part of the emulator (PROTOCOL.md §9). Never imports textual or rich. Compact JSON and the clock are
:func:`hailuo_tui.provider.signing.compact_json` and :func:`~hailuo_tui.provider.signing.now_ms`, so
client and server agree on both.
"""

from __future__ import annotations

import json
import time
import uuid as uuid_mod
from typing import Any

MESSAGE_PATH = "/v4/api/chat/msg"
REGISTER_PATH = "/v1/api/user/device/register"
USER_INFO_PATH = "/v1/api/user/info"
DELETE_PREFIX = "/v1/api/chat/history/"

#: ``statusInfo.code`` values the emulator uses. Only 0 (success) and 2 (bad parameters, video site) are known
#: from the real service; the others are guesses.
CODE_OK = 0
CODE_BAD_PARAMS = 2
CODE_TOKEN = 1004
CODE_RATE_LIMIT = 1002
CODE_SERVER = 1000
CODE_CHAT_NOT_FOUND = 1200012
CODE_HEARTBEAT = 1

MSG_OK = "Success"
MSG_BAD_PARAMS = "Request exception, please check request parameters"
MSG_TOKEN = "Login has expired, please log in again"
MSG_RATE_LIMIT = "Too many requests, please try again later"
MSG_BUSY = "Another answer is still being generated for this account, please try again after it finishes"
MSG_CHAT_NOT_FOUND = "The conversation does not exist or has been deleted"
MSG_SERVER = "Internal server error"

#: The content type of the message route's answer.
EVENT_STREAM = "text/event-stream"

#: The bodies the real site's front servers send for 502/504 (``str.format`` with status and reason) and for a
#: Cloudflare challenge (403).
NGINX_PAGE = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1>"
              "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
CLOUDFLARE_PAGE = ("<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>"
                   "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"></head>"
                   "<body><div id=\"challenge-error-title\">Enable JavaScript and cookies to continue</div>"
                   "<script>window._cf_chl_opt={cType:'managed'};</script></body></html>")


def status_info(code: int, message: str) -> dict[str, Any]:
    """The ``statusInfo`` object of a reply; an error one carries the extra fields the real service adds."""
    info: dict[str, Any] = {"code": code, "message": message}
    if code != 0:
        info.update(serviceTime=int(time.time()), requestID=str(uuid_mod.uuid4()), debugInfo=str(code))
    return info


def escape_json_text(text: str) -> str:
    """JSON string contents (no quotes) on one line, even for parsers that split on U+2028/2029/0085."""
    s = json.dumps(text, ensure_ascii=False)[1:-1]
    if "\u2028" in s or "\u2029" in s or "\x85" in s:
        s = s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085")
    return s
