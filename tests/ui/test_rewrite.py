"""A server that rewrites text it already sent: the bubble and the store end with the server's latest
text, never a splice of old and new (a hostile aiohttp server on 127.0.0.1, a real store, a real bubble)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from hailuo_tui.domain import MessageStatus
from hailuo_tui.provider import AuthResult
from hailuo_tui.provider.web_backend import WebBackend
from hailuo_tui.reply_session import ReplySession
from hailuo_tui.store import AsyncChatStore
from hailuo_tui.widgets.message_bubble import MessageBubble
from tests.unit.test_hostile_streams import send_result, serve, snapshot, sse, stream_response

FINAL = "The dog sat on the mat, **happily**."


async def rewriting(request: web.Request) -> web.StreamResponse:
    await request.read()
    response = await stream_response(request)
    for chunk in (send_result(), snapshot("The cat sat"), snapshot("The cat sat on a chair and"),
                  snapshot("The dog sat on"), snapshot("The dog sat on the mat,"), snapshot(FINAL, 0),
                  sse("close_chunk", {"type": 8, "data": {}})):
        await response.write(chunk)
        await asyncio.sleep(0.05)
    return response


class Host:
    def __init__(self, backend) -> None:
        self.backend = backend
        self.events: list = []

    async def backend_for(self, conversation):
        return self.backend

    async def login_again(self, error) -> bool:
        return False

    def reply_event(self, event) -> None:
        self.events.append(event)

    def stream_gate(self, backend):
        return None


class BubbleApp(App):
    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="log")


async def test_a_rewritten_answer_is_shown_and_saved_as_the_server_sent_it(tmp_path):
    runner, url = await serve(rewriting)
    store = await AsyncChatStore.open(tmp_path / "chat.db")
    app = BubbleApp()
    try:
        async with app.run_test(size=(80, 20)) as pilot:
            conversation = await store.create_conversation(backend="web")
            _, reply = await ReplySession.begin(store, conversation.id, "hi")
            bubble = MessageBubble("assistant", status="streaming")
            await app.query_one("#log").mount(bubble)
            reply.view = bubble
            backend = WebBackend(AuthResult("t", "/v4/api/chat/msg?unix=1", 1, base_url=url), base_url=url)
            await asyncio.wait_for(reply.run(Host(backend)), 20)
            await pilot.pause()
            rows = await store.messages(conversation.id)
            assert (rows[-1].status, rows[-1].content) == (MessageStatus.COMPLETE, FINAL)
            assert reply.text == FINAL
            assert bubble.text == FINAL and bubble.markdown.source == FINAL
            shown = "\n".join(line.text for line in bubble.markdown._lines + bubble.markdown._open_lines)
            assert "The dog sat on the mat, happily." in " ".join(shown.split())
            assert "cat" not in shown and "chair" not in shown
    finally:
        await store.close()
        await runner.cleanup()
