"""The emulator's JSON routes: device registration, user info, chat deletion and the 404 fallback.

Part of the emulator (PROTOCOL.md §9). Never imports textual or rich.
"""

from __future__ import annotations

import json

from aiohttp import web

from hailuo_tui.emulator.core import EmulatorCore
from hailuo_tui.emulator.protocol import CODE_CHAT_NOT_FOUND, CODE_OK, MSG_CHAT_NOT_FOUND, MSG_OK
from hailuo_tui.emulator.records import Account, RequestRecord


class JsonRoutes(EmulatorCore):
    """The JSON routes, each behind the same token and ``yy`` checks."""

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
