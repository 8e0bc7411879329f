"""The protocol-faithful Hailuo AI web-chat emulator (PROTOCOL.md §9).

An aiohttp server with the routes of the real site, the ``token``/``yy``
checks, server-side chats and the streaming event sequence, plus switches
(:class:`~hailuo_tui.emulator.config.EmulatorConfig`) that reproduce the
failure modes a client must survive. Never imports textual or rich.

Nothing here prints or logs a token.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid as uuid_mod
from http import HTTPStatus
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from hailuo_tui.emulator import login_page, model
from hailuo_tui.emulator.config import DROP_POINTS, HICCUP_MESSAGE, HICCUP_MESSAGE_ZH, MAX_SLOW_SECONDS, EmulatorConfig
from hailuo_tui.emulator.tokens import decode_payload, make_jwt, verify_signature
from hailuo_tui.provider.signing import message_body_digest, sign, unix_of

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

_EVENT_STREAM = "text/event-stream"

_NGINX_PAGE = ("<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1>"
               "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_CLOUDFLARE_PAGE = ("<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title>"
                    "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"></head>"
                    "<body><div id=\"challenge-error-title\">Enable JavaScript and cookies to continue</div>"
                    "<script>window._cf_chl_opt={cType:'managed'};</script></body></html>")


# --- records and state ---------------------------------------------------------


@dataclass
class RequestRecord:
    """One request as the emulator saw it (tests assert on these)."""

    method: str
    #: The raw request target: path and query exactly as received.
    target: str
    #: Request headers with lower-case names (includes ``token`` and ``yy`` when sent).
    headers: dict[str, str]
    #: Parsed multipart text fields (message route) or the JSON object body (JSON routes).
    form: dict[str, Any] = field(default_factory=dict)
    #: The raw body text of JSON routes ("" otherwise).
    body: str = ""
    #: Whether the ``yy`` check passed (``None``: not checked, e.g. refused earlier).
    yy_ok: bool | None = None
    #: HTTP status sent (0 while not yet decided).
    status: int = 0
    #: Events sent on a stream: ``(event name, data JSON text)``.
    events: list[tuple[str, str]] = field(default_factory=list)
    #: Why the request was refused, in words (``None`` on success).
    error: str | None = None
    #: The chat the message went to (the new id for ``chatID=0``).
    chat_id: str | None = None
    #: Response body bytes written on a stream.
    bytes_sent: int = 0
    #: The emulator cut the connection on purpose (``disconnect_after_bytes``/``drop_before``).
    aborted: bool = False
    #: The handler finished (stream fully written, or refused).
    done: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    @property
    def token(self) -> str | None:
        return self.headers.get("token")

    def event_payloads(self) -> list[tuple[str, Any]]:
        """The events with their data parsed as JSON where possible."""
        out = []
        for name, data in self.events:
            try:
                out.append((name, json.loads(data)))
            except ValueError:
                out.append((name, data))
        return out

    def __repr__(self) -> str:  # never show the token
        return (f"RequestRecord({self.method} {self.path} status={self.status} yy_ok={self.yy_ok} "
                f"events={len(self.events)} error={self.error!r})")


@dataclass
class Turn:
    user: str
    assistant: str
    user_msg_id: str
    system_msg_id: str


@dataclass
class Chat:
    id: str
    title: str
    #: The token that created the chat (chats belong to the token).
    owner: str
    turns: list[Turn] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)

    @property
    def user_messages(self) -> list[str]:
        return [t.user for t in self.turns]

    def __repr__(self) -> str:
        return f"Chat(id={self.id!r}, title={self.title!r}, turns={len(self.turns)})"


@dataclass
class Account:
    token: str
    user_id: str
    name: str
    device_id: str
    exp: int
    anonymous: bool = False
    revoked: bool = False

    def __repr__(self) -> str:
        return f"Account(user_id={self.user_id!r}, name={self.name!r}, revoked={self.revoked})"


class _Aborted(Exception):
    """The emulator cut the connection on purpose."""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _status_info(code: int, message: str) -> dict[str, Any]:
    info: dict[str, Any] = {"code": code, "message": message}
    if code != 0:
        info.update(serviceTime=int(time.time()), requestID=str(uuid_mod.uuid4()), debugInfo=str(code))
    return info


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _escape_json_text(text: str) -> str:
    """JSON string contents (no quotes) on one line, even for parsers that split on U+2028/2029/0085."""
    s = json.dumps(text, ensure_ascii=False)[1:-1]
    if "\u2028" in s or "\u2029" in s or "\x85" in s:
        s = s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085")
    return s


# --- the emulator -------------------------------------------------------------------


class Emulator:
    """A local Hailuo AI server. ``async with Emulator(cfg) as emu:`` or ``await emu.start()``/``await emu.stop()``."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config: EmulatorConfig = config if config is not None else EmulatorConfig()
        self._rng = random.Random(self.config.seed)
        self._secret = self._rng.randbytes(32)
        self._next_id = 240_000_000_000_000_000 + self._rng.randrange(10**16)
        self.accounts: dict[str, Account] = {}
        self.chats: dict[str, Chat] = {}
        self.requests: list[RequestRecord] = []
        #: Device ids handed out by device registration, by uuid.
        self.devices: dict[str, str] = {}
        self._sessions: dict[str, str] = {}  # login cookie -> token
        self._logins: dict[str, str] = {}  # username -> token
        self._active: dict[str, int] = {}  # token -> open streams
        self._tasks: set[asyncio.Task] = set()
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self.url = ""
        self.demo_name = "Demo User"
        self.demo_token = self.issue_token(name=self.demo_name)
        self._logins["demo"] = self.demo_token

    # --- lifecycle ----------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = False) -> str:
        """Start listening; returns :attr:`url` (``http://HOST:PORT``, no trailing slash)."""
        if self._runner is not None:
            return self.url
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self._h_login_page)
        app.router.add_post("/login", self._h_login)
        app.router.add_post(MESSAGE_PATH, self._h_message)
        app.router.add_post(REGISTER_PATH, self._h_register)
        app.router.add_get(USER_INFO_PATH, self._h_user_info)
        app.router.add_delete(DELETE_PREFIX + "{chat_id}", self._h_delete)
        app.router.add_route("*", "/{tail:.*}", self._h_not_found)
        kwargs: dict[str, Any] = {"handler_cancellation": True, "shutdown_timeout": 1.0}
        if not access_log:
            kwargs["access_log"] = None
        self._runner = web.AppRunner(app, **kwargs)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        addr = self._runner.addresses[0]
        bound_port = addr[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        """Stop listening and end any open stream (stalls and slow streams end at once)."""
        if self._closing is not None:
            self._closing.set()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "Emulator":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- accounts -----------------------------------------------------------------

    def _new_id(self) -> str:
        """A fresh 18-digit decimal id (never starts with 0)."""
        self._next_id += self._rng.randrange(1, 4096)
        return str(self._next_id)

    def issue_token(self, name: str = "Hailuo User", *, ttl: float | None = None, anonymous: bool = False) -> str:
        """A new valid token for a new account. ``ttl`` (seconds, may be negative for an already expired token)
        defaults to ``config.token_ttl``."""
        life = self.config.token_ttl if ttl is None else ttl
        exp = int(time.time() + life)
        user_id, device_id = self._new_id(), self._new_id()
        payload = {
            "exp": exp,
            "user": {"id": user_id, "name": name, "avatar": "", "deviceID": device_id, "isAnonymous": anonymous},
        }
        token = make_jwt(payload, self._secret)
        self.accounts[token] = Account(token, user_id, name, device_id, exp, anonymous)
        return token

    def revoke_token(self, token: str) -> None:
        """Later requests with ``token`` get the token error."""
        acc = self.accounts.get(token)
        if acc is not None:
            acc.revoked = True

    def account_for(self, token: str | None) -> Account | None:
        """The account a token is valid for right now (``None``: refused)."""
        if not token:
            return None
        acc = self.accounts.get(token)
        if acc is None or acc.revoked or not verify_signature(token, self._secret):
            return None
        if self.config.check_expiry:
            payload = decode_payload(token) or {}
            exp = payload.get("exp")
            if not isinstance(exp, (int, float)) or exp <= time.time():
                return None
        return acc

    def _anonymous(self, token: str) -> Account:
        acc = self.accounts.get(token)
        if acc is None:
            acc = Account(token, self._new_id(), "Anonymous", self._new_id(), 0, anonymous=True)
            self.accounts[token] = acc
        return acc

    # --- helpers ------------------------------------------------------------------

    def _record(self, request: web.Request) -> RequestRecord:
        rec = RequestRecord(
            method=request.method,
            target=self._raw_target(request),
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        self.requests.append(rec)
        return rec

    @staticmethod
    def _raw_target(request: web.Request) -> str:
        raw = request.raw_path
        if raw.startswith(("http://", "https://")):  # absolute-form target
            rest = raw.split("://", 1)[1]
            raw = "/" + rest.partition("/")[2]
        return raw

    def _json(self, rec: RequestRecord | None, status: int, code: int, message: str,
              data: Any = None, headers: dict[str, str] | None = None, error: str | None = None) -> web.Response:
        body: dict[str, Any] = {"statusInfo": _status_info(code, message)}
        if data is not None:
            body["data"] = data
        if rec is not None:
            rec.status = status
            rec.error = error if error is not None else (None if code == 0 else message)
            rec.done = True
            rec.finished = time.monotonic()
        return web.Response(status=status, text=_dumps(body), content_type="application/json",
                            charset="utf-8", headers=headers)

    def _token_error(self, rec: RequestRecord) -> web.Response:
        return self._json(rec, self.config.token_error_status, CODE_TOKEN, MSG_TOKEN, error="token refused")

    def _bad_params(self, rec: RequestRecord, why: str) -> web.Response:
        return self._json(rec, 400, CODE_BAD_PARAMS, MSG_BAD_PARAMS, error=why)

    def _authenticate(self, request: web.Request) -> Account | None:
        token = request.headers.get("token")
        if not self.config.require_auth:
            return self.account_for(token) or self._anonymous(token or "")
        return self.account_for(token)

    def _yy_ok(self, request: web.Request, target: str, digest: str) -> bool:
        cfg = self.config
        yy = (request.headers.get("yy") or "").strip().lower()
        query = target.partition("?")[2]
        unix = unix_of(query)
        if not yy or unix is None:
            return False
        ok = yy == sign(target, digest, unix)
        if not ok and cfg.yy_lenient:
            ok = yy == sign(target, digest, unix, variant="python")
        if ok and cfg.max_unix_skew is not None:
            try:
                ok = abs(_now_ms() - int(unix)) <= cfg.max_unix_skew * 1000
            except ValueError:
                ok = False
        return ok

    def _fail_response(self, rec: RequestRecord, status: int) -> web.Response:
        cfg = self.config
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        rec.error = f"fail_next {status}"
        rec.status = status
        rec.done = True
        rec.finished = time.monotonic()
        if status == 400:
            return self._json(rec, 400, CODE_BAD_PARAMS, MSG_BAD_PARAMS, error=rec.error)
        if status == 401 or (status == 403 and not cfg.fail_403_cloudflare):
            return self._json(rec, status, CODE_TOKEN, MSG_TOKEN, error=rec.error)
        if status == 403:
            return web.Response(status=403, text=_CLOUDFLARE_PAGE, content_type="text/html", charset="utf-8",
                                headers={"Server": "cloudflare", "cf-mitigated": "challenge"})
        if status == 429:
            return self._json(rec, 429, CODE_RATE_LIMIT, MSG_RATE_LIMIT,
                              headers={"Retry-After": str(cfg.retry_after)}, error=rec.error)
        if status == 503:
            return self._json(rec, 503, CODE_SERVER, "Service temporarily unavailable, please try again later",
                              headers={"Retry-After": str(cfg.retry_after)}, error=rec.error)
        if status in (502, 504):
            return web.Response(status=status, text=_NGINX_PAGE.format(status=status, reason=phrase),
                                content_type="text/html", charset="utf-8", headers={"Server": "nginx"})
        return self._json(rec, status, CODE_SERVER, MSG_SERVER, error=rec.error)

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        closing = self._closing
        if closing is None:
            await asyncio.sleep(seconds)
            return
        try:
            await asyncio.wait_for(closing.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    # --- login page -----------------------------------------------------------------

    def _login_data(self, token: str) -> dict[str, Any]:
        acc = self.accounts[token]
        return {"token": token, "deviceID": acc.device_id, "userID": acc.user_id, "name": acc.name,
                "uuid": str(uuid_mod.uuid4())}

    async def _h_login_page(self, request: web.Request) -> web.Response:
        rec = self._record(request)
        session = request.cookies.get("hailuo_session")
        session_valid: bool | None = None
        if session:
            session_valid = self.account_for(self._sessions.get(session)) is not None
        login = self._login_data(self.demo_token) if self.config.auto_login else None
        if login is not None:
            session_valid = None
        rec.status = 200
        rec.done = True
        html = login_page.render(login=login, session_valid=session_valid)
        resp = web.Response(text=html, content_type="text/html", charset="utf-8",
                            headers={"Cache-Control": "no-store"})
        if login is not None:
            self._set_session(resp, self.demo_token)
        return resp

    def _set_session(self, resp: web.StreamResponse, token: str) -> None:
        sid = uuid_mod.uuid4().hex
        self._sessions[sid] = token
        resp.set_cookie("hailuo_session", sid, path="/", httponly=True, samesite="Lax")

    async def _h_login(self, request: web.Request) -> web.StreamResponse:
        rec = self._record(request)
        wants_json = request.content_type == "application/json"
        try:
            if wants_json:
                data = await request.json()
                username = str(data.get("username", "")) if isinstance(data, dict) else ""
            else:
                post = await request.post()
                username = str(post.get("username", ""))
        except (ValueError, UnicodeDecodeError):
            username = ""
        username = username.strip()
        rec.form = {"username": username}
        if not username or len(username) > 64:
            if wants_json:
                return self._json(rec, 400, CODE_BAD_PARAMS, "Please enter a user name (at most 64 characters)")
            rec.status = 400
            rec.done = True
            return web.Response(status=400, text=login_page.render(username=username), content_type="text/html",
                                charset="utf-8")
        if username in ("demo", self.demo_name) and self.account_for(self.demo_token) is not None:
            token = self.demo_token
        else:
            token = self._logins.get(username) or ""
            if self.account_for(token) is None:
                token = self.issue_token(name=username)
                self._logins[username] = token
        login = self._login_data(token)
        if wants_json:
            resp: web.StreamResponse = self._json(rec, 200, CODE_OK, MSG_OK, data=login)
        else:
            rec.status = 200
            rec.done = True
            resp = web.Response(text=login_page.render(login=login), content_type="text/html", charset="utf-8",
                                headers={"Cache-Control": "no-store"})
        self._set_session(resp, token)
        return resp

    # --- JSON routes --------------------------------------------------------------------

    async def _json_route_prelude(self, request: web.Request, rec: RequestRecord, has_body: bool
                                  ) -> tuple[Account | None, web.Response | None]:
        body = ""
        if has_body:
            raw = await request.read()
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                return None, self._bad_params(rec, "body is not UTF-8")
            rec.body = body
            try:
                parsed = json.loads(body) if body else {}
                rec.form = parsed if isinstance(parsed, dict) else {}
            except ValueError:
                rec.form = {}
        acc = self._authenticate(request)
        if acc is None:
            return None, self._token_error(rec)
        if self.config.check_yy:
            digest = body if (has_body and body) else "{}"
            rec.yy_ok = self._yy_ok(request, rec.target, digest)
            if not rec.yy_ok:
                return None, self._bad_params(rec, "yy mismatch")
        return acc, None

    async def _h_register(self, request: web.Request) -> web.Response:
        rec = self._record(request)
        acc, err = await self._json_route_prelude(request, rec, has_body=True)
        if err is not None:
            return err
        assert acc is not None
        uid = rec.form.get("uuid")
        if not isinstance(uid, str) or not uid:
            return self._bad_params(rec, "uuid missing")
        device = self.devices.get(uid)
        if device is None:
            device = self.devices[uid] = self._new_id()
        return self._json(rec, 200, CODE_OK, MSG_OK, data={"deviceIDStr": device, "userID": acc.user_id})

    async def _h_user_info(self, request: web.Request) -> web.Response:
        rec = self._record(request)
        acc, err = await self._json_route_prelude(request, rec, has_body=False)
        if err is not None:
            return err
        assert acc is not None
        info = {"userID": acc.user_id, "id": acc.user_id, "name": acc.name, "avatar": "",
                "deviceID": acc.device_id, "isAnonymous": acc.anonymous, "expireTime": acc.exp}
        return self._json(rec, 200, CODE_OK, MSG_OK, data={"userInfo": info})

    async def _h_delete(self, request: web.Request) -> web.Response:
        rec = self._record(request)
        acc, err = await self._json_route_prelude(request, rec, has_body=False)
        if err is not None:
            return err
        assert acc is not None
        chat_id = request.match_info["chat_id"]
        rec.chat_id = chat_id
        chat = self.chats.get(chat_id)
        if chat is None or chat.owner != acc.token:
            return self._json(rec, 200, CODE_CHAT_NOT_FOUND, MSG_CHAT_NOT_FOUND)
        del self.chats[chat_id]
        return self._json(rec, 200, CODE_OK, MSG_OK, data={})

    async def _h_not_found(self, request: web.Request) -> web.Response:
        rec = self._record(request)
        return self._json(rec, 404, 404, "Not found", error="no such route")

    # --- the message route ----------------------------------------------------------------

    async def _h_message(self, request: web.Request) -> web.StreamResponse:
        rec = self._record(request)
        cfg = self.config
        is_multipart = request.content_type == "multipart/form-data"
        parse_ok = True
        try:
            post = await request.post()
            form: dict[str, Any] = {}
            for key, value in post.items():
                form[key] = value if isinstance(value, str) else getattr(value, "filename", "<file>")
            rec.form = form
        except Exception:  # noqa: BLE001 - any malformed body is a bad request
            parse_ok = False
        if cfg.fail_next:
            return self._fail_response(rec, int(cfg.fail_next.pop(0)))
        if cfg.headers_delay > 0:
            await self._sleep(min(cfg.headers_delay, MAX_SLOW_SECONDS))
        acc = self._authenticate(request)
        if acc is None:
            return self._token_error(rec)
        if not parse_ok or (cfg.require_multipart and not is_multipart):
            return self._bad_params(rec, "body is not multipart/form-data")
        form = rec.form
        fields = {k: form.get(k) for k in ("characterID", "msgContent", "chatID")}
        if not all(isinstance(v, str) for v in fields.values()):
            if cfg.check_yy:
                rec.yy_ok = False
            return self._bad_params(rec, "missing characterID, msgContent or chatID")
        character_id, text, chat_id = fields["characterID"], fields["msgContent"], fields["chatID"]
        form_field = form.get("form") if isinstance(form.get("form"), str) else None
        if cfg.check_yy:
            digest = message_body_digest(character_id, text, chat_id, form_field)
            rec.yy_ok = self._yy_ok(request, rec.target, digest)
            if not rec.yy_ok:
                return self._bad_params(rec, "yy mismatch")
        if not text.strip():
            return self._bad_params(rec, "empty msgContent")
        if not chat_id.isdigit():
            return self._bad_params(rec, "chatID is not a number")

        # the chat
        chat: Chat | None
        if chat_id == "0":
            chat = None
        else:
            chat = self.chats.get(chat_id)
            if chat is None or chat.owner != acc.token:
                rec.chat_id = chat_id
                if cfg.unknown_chat_error == "http":
                    return self._bad_params(rec, "unknown chat")
                return await self._single_error_stream(request, rec, CODE_CHAT_NOT_FOUND, MSG_CHAT_NOT_FOUND)

        # one stream per token
        if cfg.one_stream_per_token and self._active.get(acc.token, 0) > 0:
            if cfg.one_stream_error == "stream":
                return await self._single_error_stream(request, rec, CODE_RATE_LIMIT, MSG_BUSY)
            return self._json(rec, 429, CODE_RATE_LIMIT, MSG_BUSY, headers={"Retry-After": str(cfg.retry_after)},
                              error="second stream for the token")

        if chat is None:
            chat = Chat(id=self._new_id(), title=model.make_title(text, cfg.title_length), owner=acc.token)
            self.chats[chat.id] = chat
            new_chat = True
        else:
            new_chat = False
        rec.chat_id = chat.id
        user_messages = chat.user_messages + [text]
        answer = self._answer(user_messages)
        turn = Turn(text, answer, self._new_id(), self._new_id())
        chat.turns.append(turn)

        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._active[acc.token] = self._active.get(acc.token, 0) + 1
        try:
            return await self._stream(request, rec, chat, turn, new_chat, user_messages,
                                      form.get("searchMode"))
        finally:
            self._active[acc.token] -= 1
            if task is not None:
                self._tasks.discard(task)
            rec.done = True
            rec.finished = time.monotonic()

    def _answer(self, user_messages: list[str]) -> str:
        cfg = self.config
        if cfg.answer_text is not None:
            return cfg.answer_text
        if cfg.answer_file:
            return Path(cfg.answer_file).read_text(encoding="utf-8")
        return model.reply(user_messages)

    async def _open_stream(self, request: web.Request, rec: RequestRecord) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        resp.content_type = _EVENT_STREAM
        resp.charset = "utf-8"
        resp.enable_chunked_encoding()
        rec.status = 200
        await resp.prepare(request)
        return resp

    async def _single_error_stream(self, request: web.Request, rec: RequestRecord, code: int, message: str
                                   ) -> web.StreamResponse:
        resp = await self._open_stream(request, rec)
        rec.error = message
        data = _dumps({"type": 2, "statusInfo": _status_info(code, message), "data": {}})
        blob = f"event: message_result\ndata: {data}\n\n".encode("utf-8")
        try:
            await resp.write(blob)
            rec.bytes_sent += len(blob)
            if self.config.record_events:
                rec.events.append(("message_result", data))
            await resp.write_eof()
        except ConnectionError:
            pass
        rec.done = True
        rec.finished = time.monotonic()
        return resp

    async def _stream(self, request: web.Request, rec: RequestRecord, chat: Chat, turn: Turn, new_chat: bool,
                      user_messages: list[str], search_mode: Any) -> web.StreamResponse:
        cfg = self.config
        answer = turn.assistant
        transport = request.transport
        if cfg.drop_before is not None and cfg.drop_before not in DROP_POINTS:
            raise ValueError(f"drop_before must be one of {DROP_POINTS}")
        resp = await self._open_stream(request, rec)
        sep = ":" if cfg.compact_fields else ": "
        record = cfg.record_events
        zh = model.has_cjk(user_messages[-1])

        ends = model.split_ends(answer, chunk_chars=cfg.chunk_chars, num_events=cfg.num_events)
        n_msg = len(ends)
        if cfg.no_final:
            ends_to_send = ends[:-1]
        else:
            ends_to_send = ends

        # pacing: the per-event gap, bounded so the whole stream stays under MAX_SLOW_SECONDS
        gap = cfg.event_delay
        if cfg.events_per_second:
            gap = max(gap, 1.0 / cfg.events_per_second)
        total_events = n_msg + 3
        if gap * total_events > MAX_SLOW_SECONDS:
            gap = MAX_SLOW_SECONDS / total_events

        state = {"sent": 0}

        def abort() -> None:
            rec.aborted = True
            if transport is not None:
                transport.abort()
            raise _Aborted()

        async def write(blob: bytes) -> None:
            limit = cfg.disconnect_after_bytes
            if limit is not None and state["sent"] + len(blob) > limit:
                part = blob[: max(0, limit - state["sent"])]
                if part:
                    await resp.write(part)
                    state["sent"] += len(part)
                    rec.bytes_sent = state["sent"]
                abort()
            await resp.write(blob)
            state["sent"] += len(blob)
            rec.bytes_sent = state["sent"]

        async def emit(name: str, data: bytes, *, pace: bool = True) -> None:
            await write(b"".join((b"event", sep.encode(), name.encode(), b"\ndata", sep.encode(), data, b"\n\n")))
            if record:
                rec.events.append((name, data.decode("utf-8")))
            if pace and gap > 0:
                await self._sleep(gap)

        def drop(point: str) -> None:
            if cfg.drop_before == point:
                abort()

        links = None
        if cfg.search_links and str(search_mode) == cfg.search_on_value:
            links = model.search_links(user_messages[-1])

        try:
            drop("send_result")
            send_result: dict[str, Any] = {"chatID": chat.id}
            if new_chat or cfg.title_on_continue:
                send_result["chatTitle"] = chat.title
            send_result.update(userMsgID=turn.user_msg_id, systemMsgID=turn.system_msg_id)
            await emit("send_result", _dumps({"type": 1, "statusInfo": _status_info(0, MSG_OK),
                                              "data": {"sendResult": send_result}}).encode("utf-8"))
            if cfg.unknown_event:
                await emit("unknown_future_event", _dumps({
                    "type": 42, "statusInfo": _status_info(0, MSG_OK),
                    "data": {"futureField": {"note": "an event this client does not know"}}}).encode("utf-8"))
            drop("after_send_result")

            # prebuilt pieces of message_result payloads
            extra = ""
            if links is not None:
                extra = ',"extra":' + _dumps({"netSearchStatus": {"linkDetail": links}})
            common = ('{"type":2,"statusInfo":{"code":0,"message":"' + MSG_OK + '"},"data":{"messageResult":'
                      '{"chatID":"' + chat.id + '","msgID":"' + turn.system_msg_id + '",')
            head_more = (common + '"isEnd":1' + extra + ',"content":"').encode("utf-8")
            head_final = (common + '"isEnd":0' + extra + ',"content":"').encode("utf-8")
            tail = b'"}}}'
            segments: list[bytes] = []
            offsets: list[int] = []
            prev = 0
            total = 0
            for end in ends:
                seg = _escape_json_text(answer[prev:end]).encode("utf-8")
                segments.append(seg)
                total += len(seg)
                offsets.append(total)
                prev = end
            escaped = b"".join(segments)
            del segments
            fffd = "\ufffd".encode("utf-8")

            heartbeat = _dumps({"type": 3, "statusInfo": {"code": CODE_HEARTBEAT, "message": "heartbeat"},
                                "data": {}}).encode("utf-8")
            error_at = cfg.stream_error
            stall_at = cfg.stall_after_events
            mid = max(1, len(ends_to_send) // 2)

            async def maybe_error(i: int) -> bool:
                if error_at is not None and i == error_at:
                    message = cfg.stream_error_message or (HICCUP_MESSAGE_ZH if zh else HICCUP_MESSAGE)
                    rec.error = message
                    await emit("message_result", _dumps({"type": 2, "statusInfo": _status_info(
                        cfg.stream_error_code, message), "data": {}}).encode("utf-8"), pace=False)
                    if cfg.stream_error_close_chunk:
                        await emit("close_chunk", b'{"type":8,"data":{}}', pace=False)
                    return True
                return False

            async def maybe_stall(i: int) -> None:
                if stall_at is not None and i == stall_at and cfg.stall_seconds > 0:
                    await self._sleep(min(cfg.stall_seconds, MAX_SLOW_SECONDS))

            if cfg.heartbeats:
                await emit(cfg.heartbeat_event, heartbeat)
            if cfg.first_event_delay > 0:
                await self._sleep(min(cfg.first_event_delay, MAX_SLOW_SECONDS))
            last = len(ends) - 1
            for i, end in enumerate(ends_to_send):
                await maybe_stall(i)
                if await maybe_error(i):
                    return resp
                final = i == last
                content = escaped[: offsets[i]]
                if cfg.fffd_splits and not final and end < len(answer) and ord(answer[end]) > 0x7F:
                    content = content + fffd
                await emit("message_result", b"".join((head_final if final else head_more, content, tail)))
                n_sent = i + 1
                if n_sent == 1:
                    if cfg.malformed_lines:
                        await write(b'data: {"type":2,"statusInfo":{"code":0,"mess\n\n')
                        await write(b": a comment line from the server\n\n")
                        await write(b"data: this is not JSON at all\n\n")
                        await write(b"event: message_result\ndata: <html><body>502</body></html>\n\n")
                    if cfg.oversized_line:
                        pad = "x" * max(0, int(cfg.oversized_line) - 80)
                        await emit(cfg.heartbeat_event, _dumps({
                            "type": 3, "statusInfo": {"code": CODE_HEARTBEAT, "message": "heartbeat"},
                            "data": {"padding": pad}}).encode("utf-8"), pace=False)
                if cfg.heartbeats and n_sent % max(1, cfg.heartbeat_every) == 0:
                    await emit(cfg.heartbeat_event, heartbeat, pace=False)
                if n_sent == mid:
                    drop("mid_answer")
            n_done = len(ends_to_send)
            if stall_at is not None and stall_at > n_done:
                stall_at = n_done
            await maybe_stall(n_done)
            if error_at is not None and error_at >= n_done:
                await maybe_error(error_at)
                return resp
            if cfg.no_final:
                await resp.write_eof()
                return resp
            if cfg.follow_ups:
                follow: dict[str, Any] = {
                    "messageResult": {"chatID": chat.id, "msgID": turn.system_msg_id, "isEnd": 0, "content": answer},
                    "followUpQuestions": model.follow_up_questions(user_messages),
                }
                if links is not None:
                    follow["extra"] = {"netSearchStatus": {"linkDetail": links}}
                await emit("follow_up_question_result", _dumps({"type": 4, "statusInfo": _status_info(0, MSG_OK),
                                                                "data": follow}).encode("utf-8"))
            drop("close_chunk")
            await emit("close_chunk", b'{"type":8,"data":{}}', pace=False)
            await resp.write_eof()
        except _Aborted:
            pass
        except ConnectionError:
            rec.error = rec.error or "client went away"
        except asyncio.CancelledError:
            rec.error = rec.error or "client went away"
            raise
        return resp
