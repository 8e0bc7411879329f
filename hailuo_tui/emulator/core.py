"""The emulator's state and the helpers every route shares (PROTOCOL.md §9).

:class:`EmulatorCore` holds the accounts, chats, request records and the
``token``/``yy`` checks; the route mixins (login, JSON, message) build on it and
:class:`~hailuo_tui.emulator.server.Emulator` ties them together with the
server's lifecycle. Never imports textual or rich.

Nothing here prints or logs a token.
"""

from __future__ import annotations

import asyncio
import random
import time
from http import HTTPStatus
from typing import Any

from aiohttp import web

from hailuo_tui.emulator.config import MAX_SLOW_SECONDS, EmulatorConfig
from hailuo_tui.emulator.protocol import (
    CLOUDFLARE_PAGE,
    CODE_BAD_PARAMS,
    CODE_RATE_LIMIT,
    CODE_SERVER,
    CODE_TOKEN,
    MSG_BAD_PARAMS,
    MSG_RATE_LIMIT,
    MSG_SERVER,
    MSG_TOKEN,
    NGINX_PAGE,
    status_info,
)
from hailuo_tui.emulator.records import Account, Chat, RequestRecord
from hailuo_tui.emulator.tokens import decode_payload, make_jwt, verify_signature
from hailuo_tui.provider.signing import compact_json, now_ms, sign, unix_of


class EmulatorCore:
    """State, accounts and shared request helpers of the emulator (the routes live in mixins)."""

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
        self._stalls_end: asyncio.Event | None = None  # set by end_stalls(), then replaced
        self.url = ""
        self.demo_name = "Demo User"
        self.demo_token = self.issue_token(name=self.demo_name)
        self._logins["demo"] = self.demo_token

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
        body: dict[str, Any] = {"statusInfo": status_info(code, message)}
        if data is not None:
            body["data"] = data
        if rec is not None:
            rec.status = status
            rec.error = error if error is not None else (None if code == 0 else message)
            rec.done = True
            rec.finished = time.monotonic()
        return web.Response(status=status, text=compact_json(body), content_type="application/json",
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
                ok = abs(now_ms() - int(unix)) <= cfg.max_unix_skew * 1000
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
            return web.Response(status=403, text=CLOUDFLARE_PAGE, content_type="text/html", charset="utf-8",
                                headers={"Server": "cloudflare", "cf-mitigated": "challenge"})
        if status == 429:
            return self._json(rec, 429, CODE_RATE_LIMIT, MSG_RATE_LIMIT,
                              headers={"Retry-After": str(cfg.retry_after)}, error=rec.error)
        if status == 503:
            return self._json(rec, 503, CODE_SERVER, "Service temporarily unavailable, please try again later",
                              headers={"Retry-After": str(cfg.retry_after)}, error=rec.error)
        if status in (502, 504):
            return web.Response(status=status, text=NGINX_PAGE.format(status=status, reason=phrase),
                                content_type="text/html", charset="utf-8", headers={"Server": "nginx"})
        return self._json(rec, status, CODE_SERVER, MSG_SERVER, error=rec.error)

    def end_stalls(self) -> None:
        """End every stall in progress now (``stall_after_events``, ``api_stall_after_chunks``): its stream goes
        on. Later stalls still stall.

        A test that must act while an answer is still streaming stalls it, long, where it needs it and ends
        the stall once done, instead of betting on how long its own steps take on a loaded machine.
        """
        if self._stalls_end is not None:
            self._stalls_end.set()
            self._stalls_end = None

    async def _stall(self, seconds: float) -> None:
        """A stall of ``seconds`` (none when 0; capped at ``MAX_SLOW_SECONDS``): :meth:`_sleep`, cut short by
        :meth:`end_stalls`."""
        if seconds <= 0:
            return
        seconds = min(seconds, MAX_SLOW_SECONDS)
        if self._stalls_end is None:
            self._stalls_end = asyncio.Event()
        waits = [asyncio.ensure_future(self._stalls_end.wait()), asyncio.ensure_future(self._sleep(seconds))]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

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
