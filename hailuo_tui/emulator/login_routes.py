"""The emulator's login page and ``POST /login`` (session cookie, demo account).

Part of the emulator (PROTOCOL.md §9). Never imports textual or rich.
"""

from __future__ import annotations

import uuid as uuid_mod
from typing import Any

from aiohttp import web

from hailuo_tui.emulator import login_page
from hailuo_tui.emulator.core import EmulatorCore
from hailuo_tui.emulator.protocol import CODE_BAD_PARAMS, CODE_OK, MSG_OK


class LoginRoutes(EmulatorCore):
    """``GET /`` (the login page) and ``POST /login`` (form or JSON)."""

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
