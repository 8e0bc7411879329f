"""A hostile server on 127.0.0.1 that echoes each request's credentials back in its error body.

Some servers and proxies quote the request in an error page: the Authorization header,
the token header, the query string. The app must never store, log or print what it
sent, however the echo is wrapped (JSON inside a JSON string, HTML).
"""

from __future__ import annotations

import json
from typing import Literal

from aiohttp import web

Wrap = Literal["json-in-json", "html"]


def echo_body(request: web.Request, body: str, wrap: Wrap) -> tuple[str, str]:
    """The error body (and its content type) quoting ``request``'s headers, query and body."""
    # The credentials first: the clients quote only the start of an error body.
    credentials = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "token", "cookie")}
    seen = {"headers": credentials, "query": request.query_string, "body": body[:2000]}
    if wrap == "html":
        rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in seen["headers"].items())
        page = f"<html><body><h1>Bad request</h1><table>{rows}</table><pre>{seen['query']}\n{seen['body']}</pre></body></html>"
        return page, "text/html"
    inner = json.dumps({"you_sent": seen})
    # Both shapes the clients read: the MiniMax API's base_resp and the Hailuo web statusInfo.
    outer = {"base_resp": {"status_code": 1000, "status_msg": inner},
             "statusInfo": {"code": 1500001, "message": inner}, "error": {"message": inner}}
    return json.dumps(outer), "application/json"


class EchoServer:
    """``async with EchoServer(status=400, wrap="html") as server``: ``server.url`` answers every request
    with ``status`` and an echo of it; ``server.hits`` counts the requests."""

    def __init__(self, status: int = 400, wrap: Wrap = "json-in-json") -> None:
        self.status = status
        self.wrap = wrap
        self.hits = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _answer(self, request: web.Request) -> web.Response:
        self.hits += 1
        if request.path == "/v1/api/user/device/register":
            # A token login goes through, so the echo comes from the chat itself.
            return web.json_response({"statusInfo": {"code": 0, "message": "Success"}, "data": {"deviceIDStr": "42"}})
        body = await request.text()
        text, content_type = echo_body(request, body, self.wrap)
        return web.Response(status=self.status, text=text, content_type=content_type)

    async def __aenter__(self) -> "EchoServer":
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
