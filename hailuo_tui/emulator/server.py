"""The protocol-faithful Hailuo AI web-chat emulator (PROTOCOL.md §9).

An aiohttp server with the routes of the real site, the ``token``/``yy``
checks, server-side chats and the streaming event sequence, plus switches
(:class:`~hailuo_tui.emulator.config.EmulatorConfig`) that reproduce the
failure modes a client must survive. Never imports textual or rich.

Nothing here prints or logs a token.

The code lives in modules by concern: :mod:`~hailuo_tui.emulator.records`
(request records, chats, accounts), :mod:`~hailuo_tui.emulator.protocol`
(routes, codes, envelopes), :mod:`~hailuo_tui.emulator.core` (state, token and
``yy`` checks), :mod:`~hailuo_tui.emulator.login_routes`,
:mod:`~hailuo_tui.emulator.json_routes`, :mod:`~hailuo_tui.emulator.message_route`
and :mod:`~hailuo_tui.emulator.stream_writer`. This module ties them together
and re-exports the names other modules import from here.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from hailuo_tui.emulator.api_routes import CHAT_PATH, MODELS_PATH, ApiRoutes
from hailuo_tui.emulator.config import EmulatorConfig
from hailuo_tui.emulator.json_routes import JsonRoutes
from hailuo_tui.emulator.login_routes import LoginRoutes
from hailuo_tui.emulator.message_route import MessageRoute
from hailuo_tui.emulator.protocol import (
    CODE_BAD_PARAMS,
    CODE_CHAT_NOT_FOUND,
    CODE_HEARTBEAT,
    CODE_OK,
    CODE_RATE_LIMIT,
    CODE_SERVER,
    CODE_TOKEN,
    DELETE_PREFIX,
    MESSAGE_PATH,
    MSG_BAD_PARAMS,
    MSG_BUSY,
    MSG_CHAT_NOT_FOUND,
    MSG_OK,
    MSG_RATE_LIMIT,
    MSG_SERVER,
    MSG_TOKEN,
    REGISTER_PATH,
    USER_INFO_PATH,
)
from hailuo_tui.emulator.records import Account, Chat, RequestRecord, Turn


class Emulator(LoginRoutes, JsonRoutes, MessageRoute, ApiRoutes):
    """A local Hailuo AI server. ``async with Emulator(cfg) as emu:`` or ``await emu.start()``/``await emu.stop()``.

    The same server also speaks the official MiniMax API under ``emu.url + "/v1"`` (:attr:`api_base_url`;
    :mod:`~hailuo_tui.emulator.api_routes`)."""

    @property
    def api_base_url(self) -> str:
        """The OpenAI-compatible base URL of the MiniMax API routes (``url + "/v1"``; empty before :meth:`start`)."""
        return self.url + "/v1" if self.url else ""

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
        app.router.add_get(MODELS_PATH, self._h_api_models)
        app.router.add_post(CHAT_PATH, self._h_api_chat)
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


__all__ = [
    "Account", "Chat", "Emulator", "EmulatorConfig", "RequestRecord", "Turn",
    "CODE_BAD_PARAMS", "CODE_CHAT_NOT_FOUND", "CODE_HEARTBEAT", "CODE_OK", "CODE_RATE_LIMIT", "CODE_SERVER",
    "CODE_TOKEN", "DELETE_PREFIX", "MESSAGE_PATH", "MSG_BAD_PARAMS", "MSG_BUSY", "MSG_CHAT_NOT_FOUND", "MSG_OK",
    "MSG_RATE_LIMIT", "MSG_SERVER", "MSG_TOKEN", "REGISTER_PATH", "USER_INFO_PATH",
]
