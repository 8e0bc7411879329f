"""The fault matrix through the whole app: Pilot + the emulator over real HTTP.

For every fault switch of the emulator: the app stays up, the status bar and
the bubble say what happened in plain words, the user's message and any
partial answer are in the database with the right status, and Ctrl+R
regenerates successfully once the fault is switched off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.screens.login_screen import LoginScreen
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.status_bar import StatusBar
from tests.ui.conftest import chat, paste_token_on_login_screen, ready, send, wait_idle, wait_streaming, wait_until

SIZE = (110, 36)
#: A fixed answer with CJK and emoji so fffd splits and mid-answer cuts have multi-byte text to cut.
ANSWER = " ".join(f"Part {i}: tea 茶 café ☕ and more words here." for i in range(12))


@dataclass
class Fault:
    switches: dict[str, Any]
    status: str  # the assistant message's status in the database after the fault
    says: tuple[str, ...] = ()  # plain words expected in the status bar
    partial: bool | None = None  # True: some text must be kept; False: none; None: either
    config: dict[str, Any] = field(default_factory=dict)  # app Config overrides


FAULTS: dict[str, Fault] = {
    "drop-before-send_result": Fault({"drop_before": "send_result"}, "interrupted",
                                     ("Answer interrupted", "connection", "dropped"), partial=False),
    "drop-after-send_result": Fault({"drop_before": "after_send_result"}, "interrupted",
                                    ("Answer interrupted", "dropped"), partial=False),
    "drop-mid-answer": Fault({"drop_before": "mid_answer"}, "interrupted",
                             ("Answer interrupted", "answer so far was kept"), partial=True),
    # The whole answer arrived; only the closing marker was lost: that is a complete answer.
    "drop-before-close_chunk": Fault({"drop_before": "close_chunk"}, "complete"),
    "disconnect-after-1500-bytes": Fault({"disconnect_after_bytes": 1500}, "interrupted",
                                         ("Answer interrupted",), partial=True),
    "stall-longer-than-read-timeout": Fault({"stall_after_events": 2, "stall_seconds": 4}, "interrupted",
                                            ("Answer interrupted", "stopped sending"), partial=True,
                                            config={"read_timeout": 1.0}),
    "slow-but-alive": Fault({"event_delay": 0.3, "num_events": 5, "first_event_delay": 0.3}, "complete",
                            config={"read_timeout": 1.0}),
    "http-400": Fault({"fail_next": [400]}, "failed", ("Request refused", "HTTP 400", "signature")),
    "http-429": Fault({"fail_next": [429], "retry_after": 7}, "failed", ("Rate limited", "HTTP 429", "Wait 7 s")),
    "http-500": Fault({"fail_next": [500]}, "failed", ("Server error", "HTTP 500", "Try again")),
    "http-502-nginx-page": Fault({"fail_next": [502]}, "failed", ("Server error", "HTTP 502")),
    "http-503": Fault({"fail_next": [503]}, "failed", ("Server error", "HTTP 503")),
    "in-stream-error-mid-answer": Fault({"stream_error": 3, "stream_error_message": "The model is overloaded (test)"},
                                        "interrupted", ("Hailuo reported an error", "The model is overloaded (test)"),
                                        partial=True),
    "in-stream-error-at-start": Fault({"stream_error": 0}, "failed",
                                      ("Hailuo reported an error", "server is having a hiccup"), partial=False),
    "heartbeats-with-nonzero-codes": Fault({"heartbeats": True, "heartbeat_every": 1}, "complete"),
    "malformed-json-lines": Fault({"malformed_lines": True}, "complete"),
    "oversized-line-300k": Fault({"oversized_line": 300_000}, "complete"),
    "fffd-splits": Fault({"fffd_splits": True, "num_events": 150}, "complete"),
    "unknown-event": Fault({"unknown_event": True}, "complete"),
    "compact-fields": Fault({"compact_fields": True}, "complete"),
    "no-final-message": Fault({"no_final": True}, "interrupted", ("Answer interrupted", "before it was finished"),
                              partial=True),
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_fault_is_survived_reported_and_retried(make_app, emu, name):
    fault = FAULTS[name]
    emu.config = EmulatorConfig(seed=3, answer_text=ANSWER, chunk_chars=12, **fault.switches)
    app = await make_app(**fault.config)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, f"question for {name}")
        assert [r for r in emu.requests if r.path.startswith("/v4")], "the question was sent"
        assert app.is_running and isinstance(app.screen, ChatScreen)

        conversation_id = screen.current_id
        messages = await app.store.messages(conversation_id)
        assert [m.role for m in messages] == ["user", "assistant"]
        user, answer = messages
        assert user.content == f"question for {name}" and user.status == "complete"
        assert answer.status == fault.status, (answer.status, answer.error)
        assert "\ufffd" not in answer.content
        bar = screen.query_one(StatusBar)
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        assert bubble.status == fault.status
        if fault.status == "complete":
            assert answer.content == ANSWER
            assert not bar.error_text
        else:
            assert ANSWER.startswith(answer.content)  # what was kept is exactly what arrived
            assert bubble.text == answer.content
            if fault.partial is True:
                assert answer.content
            elif fault.partial is False:
                assert not answer.content
            for words in fault.says:
                assert words.lower() in bar.error_text.lower(), bar.error_text
                assert words.lower() in (answer.error or "").lower() + bar.error_text.lower()
            assert answer.error
            if fault.status == "failed":
                assert bubble.has_class("-error")
            else:
                assert bubble.has_class("-interrupted")

        # Switch the fault off and regenerate with one key.
        emu.config = EmulatorConfig(seed=3, answer_text=ANSWER)
        before = len(emu.requests)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(emu.requests) > before, what="the retried request")
        await wait_idle(pilot)
        messages = await app.store.messages(conversation_id)
        assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
        assert messages[1].content == ANSWER
        assert not bar.error_text
        assert screen.query_one(ChatView).last_bubble("assistant").text == ANSWER


async def test_a_cloudflare_page_is_not_an_expired_login_and_offers_the_browser_login(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text=ANSWER, fail_next=[403], fail_403_cloudflare=True)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "are you there", wait=False)
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the browser login offered")
        reason = str(app.screen.query_one("#login-reason").render())
        assert "refused the request" in reason and "browser check" in reason
        assert "expired" not in reason and "Log in again" not in reason
        assert app.screen.focused is app.screen.query_one("#browser")  # the way through
        bar = screen.query_one(StatusBar)
        assert "Site refused the request" in bar.error_text and "Login needed" not in bar.error_text
        assert app.account_label() == "logged in"  # the login is not what failed
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="back to the chat")
        await wait_idle(pilot)
        _, answer = await app.store.messages(screen.current_id)
        assert answer.status == "failed" and "browser check" in answer.error


@pytest.mark.parametrize("status", [403, 401], ids=["403-json", "401"])
async def test_refused_login_asks_to_log_in_then_retries(make_app, emu, status):
    emu.config = EmulatorConfig(seed=3, answer_text=ANSWER, fail_next=[status])
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "are you there", wait=False)
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen")
        assert str(status) in str(app.screen.query_one("#login-reason").render())
        await paste_token_on_login_screen(pilot, emu.demo_token)
        await wait_idle(pilot)
        screen = chat(app)
        messages = await app.store.messages(screen.current_id)
        assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
        assert messages[1].content == ANSWER
        assert [r.status for r in emu.requests if r.path.startswith("/v4")][-2:] == [status, 200]


async def test_refused_login_then_cancelled_keeps_the_message_and_ctrl_r_retries(make_app, emu):
    emu.config = EmulatorConfig(seed=3, answer_text=ANSWER, fail_next=[401])
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await send(pilot, "still there?", wait=False)
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the login screen")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="back to the chat")
        await wait_idle(pilot)
        screen = chat(app)
        user, answer = await app.store.messages(screen.current_id)
        assert user.content == "still there?" and answer.status == "failed" and "Log in" in answer.error
        assert "Login needed" in screen.query_one(StatusBar).error_text
        before = len(emu.requests)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(emu.requests) > before, what="the retried request")
        await wait_idle(pilot)
        assert [m.status for m in await app.store.messages(screen.current_id)] == ["complete", "complete"]


@pytest.mark.parametrize("how", ["http", "stream"])
async def test_a_second_conversation_waits_for_the_accounts_stream_instead_of_failing(make_app, emu, how):
    """The one-stream-per-account limit: a message sent while another conversation answers is queued, says so
    on its bubble and in the status bar, and is sent once the first answer ends (never refused with 429)."""
    emu.config = EmulatorConfig(seed=3, answer_text=ANSWER, chunk_chars=12, event_delay=0.04,
                                one_stream_per_token=True, one_stream_error=how)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "first, long", wait=False)
        await wait_streaming(pilot)
        first_id = screen.current_id
        await pilot.press("ctrl+n")
        await pilot.pause()
        await send(pilot, "second at the same time", wait=False)
        await wait_until(pilot, lambda: screen.current_id not in (first_id, None), what="the second conversation")
        second_id = screen.current_id
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        await wait_until(pilot, lambda: bubble.extras.waiting, what="the waiting state on the bubble")
        assert "Waiting" in bubble.extras.content().plain and "one message at a time" in bubble.extras.content().plain
        assert "waiting" in screen.query_one(StatusBar).activity_text
        assert first_id in screen.replies  # the first is still answering
        await wait_idle(pilot, 30)
        for conversation_id in (first_id, second_id):
            messages = await app.store.messages(conversation_id)
            assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
            assert messages[1].content == ANSWER
        assert not [r for r in emu.requests if r.status == 429 or r.error]
        assert not screen.query_one(StatusBar).error_text
        assert not bubble.extras.waiting and bubble.text == ANSWER
