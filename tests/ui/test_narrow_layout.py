"""Small terminals: the sidebar collapses below 100 columns (Ctrl+B shows it over the conversation), dialogs fit 60x15."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widgets import Button, DataTable, Input, OptionList, TextArea

from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.prompt_input import PromptInput
from tests.ui.conftest import wait_until
from tests.ui.test_comfort import THREE, ready, seed


async def test_below_100_columns_the_sidebar_collapses_and_ctrl_b_shows_it_over_the_conversation(make_app, tmp_path):
    alpha, beta, gamma = seed(tmp_path, THREE)
    app = await make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        sidebar, main = screen.query_one("#sidebar"), screen.query_one("#main")
        assert not sidebar.display
        assert main.region.x == 0 and main.region.width == 80
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert sidebar.display and sidebar.region.x == 0 and sidebar.region.width >= 30
        assert main.region.x == 0 and main.region.width == 80  # over the conversation, not beside it
        assert isinstance(screen.focused, ConversationList)
        screen.query_one(ConversationList).highlighted = 1  # the second newest: beta
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.current_id == beta, what="the chosen conversation")
        await wait_until(pilot, lambda: not sidebar.display, what="the overlay to close")
        await pilot.press("ctrl+b")
        await pilot.pause()
        await pilot.press("escape")  # closes the overlay
        await pilot.pause()
        assert not sidebar.display and isinstance(screen.focused, PromptInput)
        await pilot.press("ctrl+l")  # focusing the sidebar shows it too
        await pilot.pause()
        assert sidebar.display and isinstance(screen.focused, ConversationList)


async def test_ctrl_f_on_a_narrow_screen_shows_the_search(make_app, tmp_path):
    alpha, _, _ = seed(tmp_path, THREE)
    app = await make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+f", *"zebra")
        sidebar = screen.query_one("#sidebar")
        assert sidebar.display and screen.focused is screen.query_one("#search")
        await wait_until(pilot, lambda: screen.query_one(ConversationList).item_ids() == [alpha], what="the match")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.current_id == alpha and not sidebar.display, what="the match open")


async def test_wide_screens_keep_the_sidebar_and_ctrl_b_still_hides_it(make_app, tmp_path):
    seed(tmp_path, THREE)
    app = await make_app()
    async with app.run_test(size=(110, 30)) as pilot:
        screen = await ready(pilot)
        sidebar, main = screen.query_one("#sidebar"), screen.query_one("#main")
        assert sidebar.display and main.region.x >= sidebar.region.right
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not sidebar.display and main.region.x == 0
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert sidebar.display and main.region.x >= sidebar.region.right
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not sidebar.display and main.region.x == 0


# -- dialogs in 60x15 -----------------------------------------------------------------------------

SMALL = Region(0, 0, 60, 15)


def dialogs(app):
    from hailuo_tui.screens.code_picker_screen import CodePickerScreen
    from hailuo_tui.screens.confirm_screen import ConfirmScreen
    from hailuo_tui.screens.help_screen import HelpScreen
    from hailuo_tui.screens.login_screen import LoginScreen
    from hailuo_tui.screens.model_picker_screen import ModelPickerScreen
    from hailuo_tui.screens.rename_screen import RenameScreen
    from hailuo_tui.screens.system_prompt_screen import SystemPromptScreen

    return {
        "help": lambda: HelpScreen(app.user_keymap),
        "code picker": lambda: CodePickerScreen([("python", f"print({n})\n" * 3) for n in range(12)]),
        "model picker": lambda: ModelPickerScreen(
            [("web", "Hailuo")] + [("api", f"MiniMax-M{n}") for n in range(12)], ("web", "Hailuo"),
            "No MiniMax API key yet: choosing an API model asks for one."),
        "rename": lambda: RenameScreen("A conversation about something rather long"),
        "confirm": lambda: ConfirmScreen("Delete “A conversation about something rather long” and all its messages?",
                                         confirm="Delete"),
        "system prompt": lambda: SystemPromptScreen("You are terse.", "Sent first with every message."),
        "welcome": lambda: LoginScreen(app.services, welcome=True),
        "login": lambda: LoginScreen(app.services, reason="Your login expired. Log in again."),
    }


@pytest.mark.parametrize("name", ["help", "code picker", "model picker", "rename", "confirm", "system prompt",
                                  "welcome", "login"])
async def test_every_dialog_fits_a_60x15_terminal(make_app, name):
    app = await make_app()
    async with app.run_test(size=(60, 15)) as pilot:
        await ready(pilot)
        await app.push_screen(dialogs(app)[name]())
        await pilot.pause()
        dialog = app.screen
        assert not isinstance(dialog, ChatScreen)
        box = dialog.children[0]
        assert SMALL.contains_region(box.region), (name, box.region)
        controls = [w for w in dialog.query("Button, Input, OptionList, TextArea, DataTable")
                    if isinstance(w, (Button, Input, OptionList, TextArea, DataTable)) and w.display
                    and w.parent.display]
        assert controls, name
        for control in controls:  # each one reachable: focused, it is in view, inside the box
            control.focus()
            await pilot.pause()
            region = control.region
            assert region.width > 0 and region.height > 0, (name, control)
            assert box.region.contains_region(region), (name, control, region, box.region)
            if isinstance(control, Button):
                label = str(control.label)
                assert region.width >= min(len(label), 8), (name, label, region)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_chat_screen_has_its_breakpoint_class_before_its_first_frame(make_app, size):
    """Textual gives a screen its breakpoint class at its first resize, which restyled every widget in the
    middle of the first frame; the chat screen starts with the class Textual then finds it has."""
    app = await make_app()
    async with app.run_test(size=size) as pilot:
        screen = await ready(pilot)
        expected = {"-narrow" if size[0] < 100 else "-wide"}
        assert screen.classes == expected  # Textual's
        assert ChatScreen(app.services, app.store, app).classes == expected  # from the constructor on
