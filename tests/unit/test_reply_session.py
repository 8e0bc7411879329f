"""The reply session without Textual: a real store file, the emulator over HTTP, a plain host object.

What it proves is the save order (user message before sending, partial text in batches, the final
status saved even when cancelled) and that both backends plug into the same session.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from hailuo_tui.domain import MessageStatus
from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.provider import AuthError
from hailuo_tui.provider.login import token_login
from hailuo_tui.provider.minimax import MiniMaxAPI
from hailuo_tui.provider.web_backend import WebBackend
from hailuo_tui.reply_session import (
    ErrorReported,
    ReplyEnded,
    ReplySession,
    TitleApplied,
    first_line_title,
)
from hailuo_tui.store import AsyncChatStore


class Host:
    """A ReplyHost that records what it is told; ``backend`` may be a callable (per call)."""

    def __init__(self, backend, *, relogin: bool = False) -> None:
        self.backend = backend
        self.relogin = relogin
        self.events: list = []
        self.logins: list[AuthError] = []
        self.stored_before_send: list[list[str]] = []
        self.store = None
        self.conversation_id = None

    async def backend_for(self, conversation):
        # Called right before sending: the user's message must already be on disk.
        rows = await self.store.messages(conversation.id)
        self.stored_before_send.append([m.content for m in rows if m.role == "user"])
        return self.backend() if callable(self.backend) else self.backend

    async def login_again(self, error: AuthError) -> bool:
        self.logins.append(error)
        return self.relogin

    def reply_event(self, event) -> None:
        self.events.append(event)

    def stream_gate(self, backend):
        return None

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


class View:
    """A ReplyView that keeps what it was given."""

    is_attached = True

    def __init__(self) -> None:
        self.text = ""
        self.reasoning = ""
        self.finished: tuple | None = None
        self.shown_all = False

    async def show_buffered(self) -> None:
        self.shown_all = True

    async def append(self, delta: str) -> None:
        self.text += delta

    async def append_reasoning(self, delta: str) -> None:
        self.reasoning += delta

    async def replace(self, text: str) -> None:
        self.text = text

    async def finish(self, status: str = "complete", error: str | None = None) -> None:
        self.finished = (status, error)

    def set_usage(self, usage) -> None:
        self.usage = usage

    def set_unsaved(self, reason) -> None:
        self.unsaved = reason

    def set_extras(self, sources, follow_ups) -> None:
        self.extras = (sources, follow_ups)


@pytest.fixture
async def store(tmp_path):
    store = await AsyncChatStore.open(tmp_path / "chat.db")
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def emu():
    async with Emulator(EmulatorConfig(seed=5)) as emulator:
        yield emulator


async def _web(emu) -> WebBackend:
    return WebBackend(await token_login(emu.demo_token, emu.url), base_url=emu.url)


async def _start(store, host, text: str, backend: str = "web"):
    conversation = await store.create_conversation(backend=backend)
    host.store = store
    user, reply = await ReplySession.begin(store, conversation.id, text)
    return conversation, user, reply


async def test_web_answer_saved_in_order_with_title_and_server_chat(store, emu):
    host = Host(await _web(emu))
    conversation, user, reply = await _start(store, host, "hello there, first turn")
    view = reply.view = View()
    await asyncio.wait_for(reply.run(host), 30)
    assert host.stored_before_send == [["hello there, first turn"]]
    rows = await store.messages(conversation.id)
    assert [(m.role, m.status) for m in rows] == [("user", "complete"), ("assistant", "complete")]
    assert rows[1].content == reply.text == view.text and len(reply.text) > 20
    assert view.finished == ("complete", None)
    assert host.of(ReplyEnded)[-1].status == MessageStatus.COMPLETE
    row = await store.get_conversation(conversation.id)
    assert row.chat_id and row.title and host.of(TitleApplied)[0].title == row.title


async def test_the_last_words_are_drawn_before_the_final_save_and_the_end_after_it(store, emu):
    host = Host(await _web(emu))
    conversation, _user, reply = await _start(store, host, "a short answer please")
    seen: list[tuple[str, str, str]] = []  # (call, status on disk, text given to the view so far)

    class OrderView(View):
        async def _on_disk(self) -> str:
            return (await store.messages(conversation.id))[-1].status

        async def show_buffered(self) -> None:
            seen.append(("show_buffered", await self._on_disk(), self.text))

        async def finish(self, status="complete", error=None) -> None:
            seen.append(("finish", await self._on_disk(), self.text))
            await super().finish(status, error)

    view = reply.view = OrderView()
    await asyncio.wait_for(reply.run(host), 30)
    assert [call for call, _, _ in seen] == ["show_buffered", "finish"]
    assert seen[0][1] == MessageStatus.STREAMING and seen[0][2] == reply.text  # all of it, before the save
    assert seen[1][1] == MessageStatus.COMPLETE  # "complete" shown once it is on disk
    assert view.finished == ("complete", None)


async def test_partial_text_is_saved_while_it_streams(store, emu):
    emu.config.events_per_second = 20.0
    emu.config.chunk_chars = 3
    host = Host(await _web(emu))
    conversation, _, reply = await _start(store, host, "write a long essay please")
    task = asyncio.ensure_future(reply.run(host))
    deadline = time.monotonic() + 20
    saved = ""
    while not saved and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        row = (await store.messages(conversation.id))[-1]
        if row.status == MessageStatus.STREAMING:
            saved = row.content
    assert saved, "no batch was saved while the answer streamed"
    assert reply.text.startswith(saved)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("stopped", [True, False])
async def test_cancel_keeps_the_text_and_saves_the_final_status(store, emu, stopped):
    emu.config.events_per_second = 20.0
    host = Host(await _web(emu))
    conversation, _, reply = await _start(store, host, "tell me a long story")
    task = asyncio.ensure_future(reply.run(host))
    deadline = time.monotonic() + 20
    while not reply.text and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    reply.stopped = stopped
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    last = (await store.messages(conversation.id))[-1]
    assert last.status == MessageStatus.INTERRUPTED
    assert last.error == ("Stopped." if stopped else "Cancelled.")
    assert last.content == reply.text and reply.text


async def test_a_dropped_stream_keeps_the_partial_answer(store, emu):
    emu.config.disconnect_after_bytes = 1500
    host = Host(await _web(emu))
    conversation, _, reply = await _start(store, host, "write a long essay please")
    await asyncio.wait_for(reply.run(host), 30)
    last = (await store.messages(conversation.id))[-1]
    assert last.status == MessageStatus.INTERRUPTED and last.content == reply.text
    assert host.of(ErrorReported)


async def test_a_refused_login_asks_once_and_retries_the_same_message(store, emu):
    good = await _web(emu)
    bad = WebBackend(await token_login(emu.issue_token(), emu.url), base_url=emu.url)
    emu.revoke_token(bad.auth.token)
    backends = iter([bad, good])
    host = Host(lambda: next(backends), relogin=True)
    conversation, _, reply = await _start(store, host, "hello")
    await asyncio.wait_for(reply.run(host), 30)
    assert len(host.logins) == 1
    last = (await store.messages(conversation.id))[-1]
    assert last.status == MessageStatus.COMPLETE and last.content


async def test_no_login_fails_without_sending(store, emu):
    host = Host(None)
    conversation, _, reply = await _start(store, host, "hello")
    await asyncio.wait_for(reply.run(host), 30)
    last = (await store.messages(conversation.id))[-1]
    assert (last.status, last.error) == (MessageStatus.FAILED, "Not logged in.")
    assert not emu.requests


async def test_api_answer_saves_reasoning_usage_and_a_title_and_sends_the_history(store, emu):
    api = MiniMaxAPI(emu.demo_api_key, base_url=emu.api_base_url)
    host = Host(api)
    conversation, _, first = await _start(store, host, "Say hello in one line", backend="api")
    view = first.view = View()
    await asyncio.wait_for(first.run(host), 30)
    rows = await store.messages(conversation.id)
    answer = rows[-1]
    assert answer.status == MessageStatus.COMPLETE and answer.content == view.text
    assert answer.reasoning and answer.reasoning == view.reasoning
    assert "<think>" not in answer.content
    assert answer.usage["completion_tokens"] > 0 and answer.usage["model"]
    title = (await store.get_conversation(conversation.id)).title
    assert title and host.of(TitleApplied)
    # The second turn carries the whole history: the fake model quotes the first question back.
    _, second = await ReplySession.begin(store, conversation.id, "And now in French?")
    await asyncio.wait_for(second.run(host), 30)
    assert "Say hello in one line" in second.text
    assert (await store.get_conversation(conversation.id)).title == title  # a title is asked for once


def test_first_line_title_cleans_and_cuts():
    class M:
        def __init__(self, role, content):
            self.role, self.content = role, content

    assert first_line_title([M("user", "\n  \x1b[31mHello\x1b[0m   world\nmore")]) == "Hello world"
    assert len(first_line_title([M("user", "x" * 200)])) == 48
    assert first_line_title([{"role": "assistant", "content": "no"}, {"role": "user", "content": "Hi\nthere"}]) == "Hi"


async def test_first_line_titles_ask_no_second_request(store, emu):
    host = Host(MiniMaxAPI(emu.demo_api_key, base_url=emu.api_base_url))
    conversation, _, reply = await _start(store, host, "Plan a trip to Xi'an\nwith details", backend="api")
    await asyncio.wait_for(reply.run(host, titles="first-line"), 30)
    assert (await store.get_conversation(conversation.id)).title == "Plan a trip to Xi'an"
    assert len([r for r in emu.requests if r.path.endswith("/chat/completions")]) == 1


async def test_a_replayed_history_keeps_the_conversation_title(store, emu):
    """A chat started again from the local history (another login, an edit) gets a server title made from
    the folded prompt ("User: …"): the conversation keeps the title it has."""
    host = Host(await _web(emu))
    conversation, _user, reply = await _start(store, host, "hello there, first turn")
    await asyncio.wait_for(reply.run(host), 30)
    title = (await store.get_conversation(conversation.id)).title
    assert title == "hello there, first t"
    await store.set_remote_chat(conversation.id, None, None)  # as after a login to another account
    _user, again = await ReplySession.begin(store, conversation.id, "and a second one")
    await asyncio.wait_for(again.run(host), 30)
    row = await store.get_conversation(conversation.id)
    assert emu.requests[-1].form["chatID"] == "0" and emu.chats[row.chat_id].title.startswith("User:")
    assert row.title == title and len(host.of(TitleApplied)) == 1


async def test_sources_and_follow_ups_are_cleaned_shown_and_saved(store, emu):
    emu.config.search_links = True
    emu.config.follow_ups = True
    host = Host(await _web(emu))
    conversation, _user, reply = await _start(store, host, "what is new in Xi'an")

    class ExtrasView(View):
        extras = None

        def set_extras(self, sources, follow_ups):
            self.extras = (sources, follow_ups)

    view = reply.view = ExtrasView()
    await asyncio.wait_for(reply.run(host, web_search=True), 30)
    answer = (await store.messages(conversation.id))[-1]
    assert answer.status == "complete"
    assert answer.sources and all(url.startswith("http") for _title, url in answer.sources)
    assert answer.follow_ups and all(q.strip() for q in answer.follow_ups)
    assert view.extras == (answer.sources, answer.follow_ups)


async def test_an_answer_waits_for_the_accounts_other_answer(store, emu):
    """The web chat streams one answer per account: with a gate, the second waits instead of failing (HTTP 429)."""
    emu.config.one_stream_per_token = True
    emu.config.event_delay = 0.02
    gate = asyncio.Lock()
    host = Host(await _web(emu))
    host.stream_gate = lambda backend: gate
    _c1, _u1, first = await _start(store, host, "first")
    _c2, _u2, second = await _start(store, host, "second")
    from hailuo_tui.reply_session import Waiting

    await asyncio.wait_for(asyncio.gather(first.run(host), second.run(host)), 60)
    assert first.final[0] == second.final[0] == MessageStatus.COMPLETE
    assert [e.waiting for e in host.of(Waiting)] == [True, False]
    assert host.of(Waiting)[0].reply is second
