"""What Hailuo sends under an answer, shown: sources, suggestions, the full error note; the header's web search;
and the keyring note that no longer covers the conversation. Pilot against the emulator over HTTP."""

from __future__ import annotations

from hailuo_tui.bindings import binding, key_label, keys_of
from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.history import export_markdown
from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.screens.login_screen import LoginScreen
from hailuo_tui.services import TOKEN_ENV
from hailuo_tui.widgets.answer_extras import AnswerExtras
from hailuo_tui.widgets.chat_view import ChatView
from tests.ui.conftest import type_text, wait_until

SIZE = (110, 36)
NO_KEYRING = ("No usable system keyring was found (no keyring backend is available). Your login is kept in memory "
              "for this run only; you will have to log in again next time.")


async def ready(pilot) -> ChatScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen) and pilot.app.screen.loaded,
                     what="the chat screen")
    await pilot.pause()
    return pilot.app.screen


async def send(pilot, text: str) -> None:
    screen = pilot.app.screen
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: screen.current_id is not None and not screen.replies, 20, "the answer")
    await pilot.pause()


def account_text(screen) -> str:
    return str(screen.query_one("#status-account").render())


async def test_sources_and_suggestions_are_shown_saved_exported_and_a_key_sends_one(make_app, emu):
    emu.config.search_links = True
    emu.config.follow_ups = True
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("f9")
        assert "web search on" in screen.sub_title  # the header says so, not only a toast
        await send(pilot, "what happened in Xi'an today")
        assert emu.requests[-1].form["searchMode"] == "1"
        answer = await app.store.last_message(screen.current_id)
        assert answer.sources and answer.follow_ups
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        extras = bubble.query_one(AnswerExtras)
        shown = extras.content().plain
        title, url = answer.sources[0]
        assert "Sources" in shown and f"[1] {title}" in shown and url.split("://", 1)[1] in shown
        assert "Suggestions" in shown and answer.follow_ups[0] in shown and "Alt+1" in shown
        clicks = [span.style for span in extras.content().spans if "open_source" in str(span.style)]
        assert clicks  # the source links are clickable (http/https only)
        # Reopened from the store, the extras are still there.
        await pilot.press("ctrl+n")
        await pilot.press("alt+up")
        await wait_until(pilot, lambda: screen.query_one(ChatView).last_bubble("assistant") is not None
                         and screen.query_one(ChatView).last_bubble("assistant").extras.follow_ups, what="reopened")
        # Alt+2 sends the second suggestion as the next question.
        question = answer.follow_ups[1]
        before = len(emu.requests)
        await pilot.press("alt+2")
        await wait_until(pilot, lambda: len(emu.requests) > before and not screen.replies, 20, "the follow-up")
        messages = await app.store.messages(screen.current_id)
        assert [m.content for m in messages if m.role == "user"][-1] == question
        text = export_markdown("t", messages)
        assert "**Sources**" in text and f"<{url}>" in text and "**Suggestions**" in text and f"- {question}" in text
        await pilot.press("f9")
        assert "web search" not in screen.sub_title


async def test_an_error_is_shown_in_full_with_the_remapped_retry_key(make_app, emu):
    long_reason = "The service is overloaded right now " + "and this explanation goes on " * 8 + "END-OF-REASON"
    emu.config = EmulatorConfig(seed=3, stream_error=0, stream_error_message=long_reason)
    app = await make_app(keymap={"chat.regenerate": "ctrl+y"})
    async with app.run_test(size=(80, 30)) as pilot:
        screen = await ready(pilot)
        await send(pilot, "hello")
        answer = await app.store.last_message(screen.current_id)
        assert answer.status == "failed"
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        extras = bubble.query_one(AnswerExtras)
        key = key_label(keys_of(binding("chat.regenerate"), app.user_keymap))
        assert key == "Ctrl+Y"
        shown = extras.content().plain
        assert "END-OF-REASON" in shown and f"{key} to retry" in shown
        assert extras.size.height >= 3  # wrapped over several lines, not cut to one
        assert "END-OF-REASON" in "".join(line.text for line in extras.render_lines(extras.region.reset_offset))
        assert f"{key} retries" in str(screen.query_one("#status-error").render())


async def test_the_reason_an_answer_was_interrupted_is_shown_at_its_end(make_app, emu):
    emu.config = EmulatorConfig(seed=3, drop_before="mid_answer")
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "write a list")
        answer = await app.store.last_message(screen.current_id)
        assert answer.status == "interrupted" and answer.content
        bubble = screen.query_one(ChatView).last_bubble("assistant")
        children = list(bubble.children)
        extras = bubble.query_one(AnswerExtras)
        assert children.index(extras) > children.index(bubble.body)  # at its end
        shown = extras.content().plain
        assert shown.startswith("Interrupted: ") and answer.error in shown and "Ctrl+R to retry" in shown


async def test_no_keyring_toast_over_the_conversation_the_status_bar_says_it(make_app, emu, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    app = await make_app()
    app.services.vault.warning = NO_KEYRING
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: not app.auth_loading, what="the login")
        await pilot.pause()
        assert not [n for n in app._notifications if "keyring" in str(n.message).lower()]
        assert "not kept: no keyring" in account_text(screen)


async def test_no_keyring_note_with_a_token_from_the_environment(make_app, emu, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, emu.demo_token)
    app = await make_app(logged_in=False)
    app.services.vault.warning = NO_KEYRING
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await wait_until(pilot, lambda: not app.auth_loading and app.auth is not None, what="the login")
        await pilot.pause()
        assert not [n for n in app._notifications if "keyring" in str(n.message).lower()]
        assert "not kept" not in account_text(screen) and "logged in" in account_text(screen)


async def test_the_welcome_screen_says_a_login_will_not_be_kept(make_app, emu, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    app = await make_app(logged_in=False)
    app.services.vault.warning = NO_KEYRING
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the welcome screen")
        await pilot.pause()
        assert "kept in memory for this run only" in str(app.screen.query_one("#keyring-note").render())
        assert not [n for n in app._notifications if "keyring" in str(n.message).lower()]


async def test_server_text_under_an_answer_is_literal_and_only_http_links_click():
    from textual.app import App

    class Host(App):
        def compose(self):
            yield AnswerExtras(id="extras")

    app = Host()
    async with app.run_test(size=(80, 20)) as pilot:
        extras = app.query_one(AnswerExtras)
        extras.set_state("complete", None, [
            ("[@click=app.quit]evil[/] \x1b]52;c;x\x07", "javascript:alert(1)"),
            ("Fine \u202eevil", "https://example.com/ok"),
        ], ["[b]bold[/b]?"])
        await pilot.pause()
        content = extras.content()
        assert "[@click=app.quit]evil[/]" in content.plain and "[b]bold[/b]?" in content.plain
        assert "\x1b" not in content.plain and "\u202e" not in content.plain
        actions = [str(span.style) for span in content.spans if "@click" in str(span.style)]
        assert len(actions) == 1 and "https://example.com/ok" in actions[0]
        await pilot.click(AnswerExtras, offset=(6, 1))
        await pilot.pause()
        assert app.is_running
