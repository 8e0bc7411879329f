"""Hostile servers on 127.0.0.1: rewrites, endless answers, trickles, silence, broken chunked bodies.

Each server is a small aiohttp app written for the case (the emulator is protocol-faithful, these are
not). Every wait is bounded: the provider's own timeouts are set to a second or two, and each test has
an ``asyncio.wait_for`` around it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from hailuo_tui.provider import (
    AnswerTimedOut,
    AnswerTooLong,
    AuthResult,
    Finished,
    HailuoAI,
    NoResponse,
    StreamInterrupted,
    TextDelta,
    TextReplaced,
)
from hailuo_tui.provider.backend import ChatRequest
from hailuo_tui.provider.minimax import MiniMaxAPI
from hailuo_tui.provider.stream import EventMapper
from hailuo_tui.provider.sse import SSEEvent

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
LIMIT = 20.0


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def sse(kind: str, payload: dict) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def send_result() -> bytes:
    return sse("send_result", {"type": 1, "statusInfo": {"code": 0}, "data": {"sendResult": {"chatID": "9"}}})


def snapshot(content: str, end: int = 1) -> bytes:
    return sse("message_result", {"type": 2, "statusInfo": {"code": 0},
                                  "data": {"messageResult": {"content": content, "isEnd": end}}})


async def collect(events: AsyncIterator, into: list) -> None:
    async for event in events:
        into.append(event)


def web_chat(url: str, **kw) -> AsyncIterator:
    auth = AuthResult("t", "/v4/api/chat/msg?unix=1", 1, base_url=url)
    kw.setdefault("read_timeout", 5.0)
    kw.setdefault("connect_timeout", 2.0)
    return HailuoAI.create_authed("MiniMax", [{"role": "user", "content": "hi"}], auth, **kw)


async def stream_response(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    return response


# --- 1. a rewrite of earlier text ----------------------------------------------------------------


def test_mapper_reports_a_rewrite_as_the_new_whole_text() -> None:
    mapper = EventMapper()
    events = []
    for content, end in (("The cat sat", 1), ("The dog sat on", 1), ("The dog sat on the mat.", 0)):
        payload = {"type": 2, "data": {"messageResult": {"content": content, "isEnd": end}}}
        events += mapper.feed(SSEEvent("message_result", json.dumps(payload)))
    assert [type(e) for e in events] == [TextDelta, TextReplaced, TextDelta, Finished]
    assert events[1].text == "The dog sat on"
    assert mapper.text == "The dog sat on the mat." and mapper.rewrites == 1
    # what a consumer rebuilds is the server's last snapshot, not a splice ("The cat sat on the mat.")
    shown = ""
    for event in events:
        if isinstance(event, TextDelta):
            shown += event.text
        elif isinstance(event, TextReplaced):
            shown = event.text
    assert shown == "The dog sat on the mat."


async def test_web_stream_with_a_rewrite_ends_with_the_server_text() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = await stream_response(request)
        for chunk in (send_result(), snapshot("Alpha beta gamma"), snapshot("Omega beta"),
                      snapshot("Omega beta delta.", 0)):
            await response.write(chunk)
        await response.write(sse("close_chunk", {"type": 8, "data": {}}))
        return response

    runner, url = await serve(handler)
    try:
        events: list = []
        await asyncio.wait_for(collect(web_chat(url), events), LIMIT)
    finally:
        await runner.cleanup()
    shown = ""
    for event in events:
        if isinstance(event, TextDelta):
            shown += event.text
        elif isinstance(event, TextReplaced):
            shown = event.text
    assert shown == "Omega beta delta."
    assert any(isinstance(e, TextReplaced) for e in events)


# --- 2. an answer that never ends ---------------------------------------------------------------


async def endless(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = await stream_response(request)
    await response.write(send_result())
    text = ""
    for _ in range(100_000):  # bounded: the client stops long before
        text += "word " * 200
        await response.write(snapshot(text))
    return response


async def test_an_endless_web_answer_is_stopped_at_the_cap_and_keeps_its_text() -> None:
    runner, url = await serve(endless)
    events: list = []
    try:
        with pytest.raises(AnswerTooLong) as caught:
            await asyncio.wait_for(collect(web_chat(url, max_answer_chars=50_000), events), LIMIT)
    finally:
        await runner.cleanup()
    error = caught.value
    assert isinstance(error, StreamInterrupted)
    assert "Stopped: the answer passed 50,000 characters" in error.message
    assert 50_000 < len(error.partial) < 52_000
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == error.partial


async def api_endless(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = await stream_response(request)
    for _ in range(100_000):
        chunk = {"id": "x", "model": "MiniMax-M3", "choices": [{"index": 0, "delta": {"content": "word " * 200}}]}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    return response


async def test_an_endless_api_answer_is_stopped_at_the_cap() -> None:
    runner, url = await serve(api_endless)
    api = MiniMaxAPI("k", base_url=url, read_timeout=5, connect_timeout=2, max_answer_chars=30_000)
    events: list = []
    try:
        with pytest.raises(AnswerTooLong) as caught:
            await asyncio.wait_for(collect(api.stream(ChatRequest([{"role": "user", "content": "hi"}])), events),
                                   LIMIT)
    finally:
        await runner.cleanup()
    assert 30_000 < len(caught.value.partial) <= 31_000


# --- 3. trickle, silence, a broken chunked body --------------------------------------------------


async def trickle(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = await stream_response(request)
    await response.write(send_result())
    await response.write(snapshot("Some text"))
    for _ in range(200):  # a byte every 0.1 s: never a read timeout
        await response.write(b":")
        await asyncio.sleep(0.1)
    return response


async def test_a_trickling_web_server_hits_the_answer_deadline() -> None:
    runner, url = await serve(trickle)
    try:
        with pytest.raises(AnswerTimedOut) as caught:
            await asyncio.wait_for(collect(web_chat(url, read_timeout=1.0, answer_timeout=1.5), []), LIMIT)
    finally:
        await runner.cleanup()
    assert caught.value.partial == "Some text"
    assert "took longer than 1.5 s" in caught.value.message


async def test_a_trickling_api_server_hits_the_answer_deadline() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = await stream_response(request)
        chunk = {"id": "x", "model": "m", "choices": [{"index": 0, "delta": {"content": "Part"}}]}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        for _ in range(200):
            await response.write(b":\n")
            await asyncio.sleep(0.1)
        return response

    runner, url = await serve(handler)
    api = MiniMaxAPI("k", base_url=url, read_timeout=1, connect_timeout=2, answer_timeout=1.5)
    try:
        with pytest.raises(AnswerTimedOut) as caught:
            await asyncio.wait_for(collect(api.stream(ChatRequest([{"role": "user", "content": "hi"}])), []), LIMIT)
    finally:
        await runner.cleanup()
    assert caught.value.partial == "Part"


async def silent(request: web.Request) -> web.StreamResponse:
    await request.read()
    await asyncio.sleep(5)  # accepted, read, never answered (the client gives up after 1 s)
    return web.Response()


async def test_a_silent_web_server_is_not_reported_as_unreachable() -> None:
    runner, url = await serve(silent)
    try:
        with pytest.raises(NoResponse) as caught:
            await asyncio.wait_for(collect(web_chat(url, read_timeout=1.0), []), LIMIT)
    finally:
        await runner.cleanup()
    assert "accepted the request but sent nothing for 1 s" in caught.value.message
    assert "Could not reach" not in caught.value.message


async def test_a_silent_api_server_is_not_reported_as_unreachable() -> None:
    runner, url = await serve(silent)
    api = MiniMaxAPI("k", base_url=url, read_timeout=1, connect_timeout=2)
    try:
        with pytest.raises(NoResponse) as caught:
            await asyncio.wait_for(collect(api.stream(ChatRequest([{"role": "user", "content": "hi"}])), []), LIMIT)
    finally:
        await runner.cleanup()
    assert "accepted the request but sent nothing" in caught.value.message


async def serve_broken_chunked(body: bytes) -> tuple[asyncio.AbstractServer, str]:
    """A raw HTTP server (aiohttp will not write a malformed body) whose chunked body carries ``body``
    whole, then a chunk header that is not hex."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + b"%x\r\n%s\r\n" % (len(body), body))
        await writer.drain()
        await asyncio.sleep(0.3)  # the client reads the text first, as from a real server
        writer.write(b"zz-not-hex\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.3)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, "http://127.0.0.1:%d" % server.sockets[0].getsockname()[1]


async def test_a_broken_chunked_web_body_keeps_the_text_that_arrived() -> None:
    # the last event's blank line is missing: its text arrived, and must not be dropped
    body = send_result() + snapshot("First part") + snapshot("First part, second part")[:-1]
    server, url = await serve_broken_chunked(body)
    try:
        with pytest.raises(StreamInterrupted) as caught:
            await asyncio.wait_for(collect(web_chat(url, read_timeout=1.5), []), LIMIT)
    finally:
        server.close()
    assert caught.value.partial == "First part, second part"


async def test_a_broken_chunked_api_body_keeps_the_text_that_arrived() -> None:
    chunks = [{"id": "x", "model": "m", "choices": [{"index": 0, "delta": {"content": t}}]} for t in ("One ", "two")]
    body = b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks)[:-1]
    server, url = await serve_broken_chunked(body)
    api = MiniMaxAPI("k", base_url=url, read_timeout=1.5, connect_timeout=2)
    try:
        with pytest.raises(StreamInterrupted) as caught:
            await asyncio.wait_for(collect(api.stream(ChatRequest([{"role": "user", "content": "hi"}])), []), LIMIT)
    finally:
        server.close()
    assert caught.value.partial == "One two"


def test_the_decoder_and_mapper_hold_memory_for_the_text_not_for_the_events() -> None:
    import tracemalloc

    from hailuo_tui.provider.sse import SSEDecoder

    decoder, mapper = SSEDecoder(), EventMapper()
    text = ""
    tracemalloc.start()
    try:
        for _ in range(400):  # 400 cumulative snapshots of up to 200 KB: 40 MB of events in all
            text += "word " * 100
            data = snapshot(text)
            for start in range(0, len(data), 16384):  # as the network cuts it
                for event in decoder.feed(data[start:start + 16384]):
                    mapper.feed(event)
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert mapper.text == text and len(text) == 200_000
    assert held < 8 * len(text), f"{held} bytes held for {len(text)} characters"
