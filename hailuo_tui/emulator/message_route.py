"""The emulator's message route (``POST /v4/api/chat/msg``): checks, chats, one stream per token.

Part of the emulator (PROTOCOL.md §9). Never imports textual or rich.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from hailuo_tui.emulator import model
from hailuo_tui.emulator.config import MAX_SLOW_SECONDS
from hailuo_tui.emulator.protocol import CODE_CHAT_NOT_FOUND, CODE_RATE_LIMIT, MSG_BUSY, MSG_CHAT_NOT_FOUND
from hailuo_tui.emulator.records import Chat, Turn
from hailuo_tui.emulator.stream_writer import StreamWriter
from hailuo_tui.provider.signing import message_body_digest


class MessageRoute(StreamWriter):
    """The message route: parses and checks the multipart form, then streams the answer."""

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
