"""Key names come from the bindings and the user's keymap: a remapped key shows its new name everywhere."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable

from hailuo_tui.bindings import CHAT_BINDINGS, CHAT_PALETTE, HELP_ENTRY, MESSAGE_BINDINGS, binding, key_label, keys_of
from tests.ui.conftest import wait_until

REMAP = {"conversation.new": "f5", "app.help": "f12"}


def test_palette_descriptions_follow_the_keymap():
    new = next(entry for entry in CHAT_PALETTE if entry.binding_id == "conversation.new")
    assert new.description({}) == "Start a new conversation (Ctrl+N)"
    assert new.description(REMAP) == "Start a new conversation (F5)"
    assert HELP_ENTRY.description(REMAP) == "All keys and their binding ids (F12)"
    # Only the remapped entries change.
    others = [entry for entry in CHAT_PALETTE if entry.binding_id not in REMAP]
    assert [e.description(REMAP) for e in others] == [e.description({}) for e in others]


def test_every_palette_entry_names_a_chat_binding_and_its_action():
    from hailuo_tui.screens.chat_screen import ChatScreen

    # The message cursor's entries name the transcript's bindings; the screen passes them on to it.
    chat_ids = {b.id for b in [*CHAT_BINDINGS, *MESSAGE_BINDINGS]}
    for entry in CHAT_PALETTE:
        assert entry.binding_id in chat_ids, entry
        assert callable(getattr(ChatScreen, f"action_{entry.action}")), entry
    assert len({entry.binding_id for entry in CHAT_PALETTE}) == len(CHAT_PALETTE)


def test_key_labels():
    assert key_label("alt+up,ctrl+pageup") == "Alt+↑, Ctrl+PgUp"
    assert key_label("escape") == "Esc"
    assert keys_of(binding("chat.stop"), {"chat.stop": "escape,ctrl+c"}) == "escape,ctrl+c"
    assert keys_of(binding("chat.stop"), {}) == "escape"


async def test_a_remapped_key_shows_its_new_name_in_palette_help_and_footer(make_app):
    from hailuo_tui.screens.chat_screen import ChatScreen
    from hailuo_tui.screens.help_screen import HelpScreen

    app = await make_app(keymap=dict(REMAP))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen")
        chat = app.screen

        # The commands the palette is built from.
        descriptions = {command.title: command.help for command in app.get_system_commands(chat)}
        assert descriptions["New conversation"] == "Start a new conversation (F5)"
        assert descriptions["Help"] == "All keys and their binding ids (F12)"
        assert not any("Ctrl+N" in text or "(F1)" in text for text in descriptions.values())

        # The palette itself, as the user opens it.
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), what="the command palette")
        results = app.screen.query_one(CommandList)
        await wait_until(pilot, lambda: results.option_count > 0, what="the palette's commands")
        shown = "\n".join(str(results.get_option_at_index(i).prompt) for i in range(results.option_count))
        assert "Start a new conversation (F5)" in shown
        assert "(Ctrl+N)" not in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is chat, what="the palette to close")

        # The footer.
        footer_keys = {key.action: key.key_display for key in chat.query("FooterKey")}
        assert footer_keys["new_conversation"] == "f5"

        # F1 is now F12; the help table shows the new keys.
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen is chat
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help screen")
        table = app.screen.query_one(DataTable)
        rows = {table.get_row_at(i)[2]: table.get_row_at(i)[0] for i in range(table.row_count)}
        assert rows["conversation.new"] == "F5"
        assert rows["app.help"] == "F12"
        assert rows["conversation.rename"] == "F2"  # not remapped: unchanged


async def test_the_retry_hint_names_the_remapped_key(make_app, emu):
    app = await make_app(keymap={"chat.regenerate": "f5"})
    emu.config.fail_next = [503]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.chat_screen
        await wait_until(pilot, lambda: screen is not None and screen.loaded and not app.auth_loading, what="start")
        await pilot.press(*"hello", "enter")
        await wait_until(pilot, lambda: screen.current_id is not None and not screen.replies, 30, "the failure")
        from hailuo_tui.widgets.status_bar import StatusBar

        status = screen.query_one(StatusBar)
        await wait_until(pilot, lambda: status.error_text, what="the error")
        assert status.error_hint == "F5 retries"
