"""Everyday comfort (issue 12): search that opens, drafts per conversation, settings that stick, the demo's way in."""

from __future__ import annotations

from pathlib import Path

from hailuo_tui.config import Config, Paths, load_config
from hailuo_tui.provider.login import token_login
from hailuo_tui.screens.chat_actions import EXAMPLE_PROMPTS
from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.screens.login_screen import LoginScreen
from hailuo_tui.services import Options, Services
from hailuo_tui.store import ChatStore
from hailuo_tui.store.vault import TokenVault
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.prompt_input import PromptInput
from tests.helpers import click_shown
from tests.ui.conftest import type_text, wait_until

SIZE = (110, 36)


def seed(root: Path, conversations: list[tuple[str, list[tuple[str, str]]]]) -> list[int]:
    """Write conversations (oldest first) to the database the app under ``root`` opens; their ids."""
    paths = Paths.under(root)
    paths.ensure()
    store = ChatStore(paths.db_path)
    ids = []
    try:
        for title, messages in conversations:
            row = store.create_conversation(title)
            for role, text in messages:
                store.add_message(row.id, role, text)
            ids.append(row.id)
    finally:
        store.close()
    return ids


async def ready(pilot) -> ChatScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.loaded, what="the chat screen")
    await pilot.pause()
    return app.screen


THREE = [
    ("Alpha notes", [("user", "What are the zebra crossing rules in Berlin?"), ("assistant", "Pedestrians first.")]),
    ("Beta", [("user", "hello"), ("assistant", "hi")]),
    ("Gamma", [("user", "newest"), ("assistant", "yes")]),
]


# -- search ---------------------------------------------------------------------------------------


async def test_ctrl_f_type_enter_opens_the_first_match_and_clears_the_filter(make_app, tmp_path):
    alpha, _, gamma = seed(tmp_path, THREE)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert screen.current_id == gamma
        sidebar = screen.query_one(ConversationList)
        await pilot.press("ctrl+f", *"zebra")
        await wait_until(pilot, lambda: sidebar.item_ids() == [alpha], what="the match")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.current_id == alpha, what="the match to open")
        await wait_until(pilot, lambda: sidebar.option_count == 3, what="the filter to clear")
        assert screen.query_one("#search").value == ""
        assert isinstance(screen.focused, PromptInput)
        assert sidebar.highlighted_id == alpha
        bubbles = screen.query_one(ChatView).bubbles
        assert "zebra" in bubbles[0].text


async def test_enter_right_after_typing_opens_the_match_of_the_whole_query(make_app, tmp_path):
    alpha, beta, _ = seed(tmp_path, THREE)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press("ctrl+f", *"hello", "enter")  # no pause: the search of "hello" may still run
        await wait_until(pilot, lambda: screen.current_id == beta, what="the match to open")


async def test_opening_a_match_from_the_list_clears_the_filter(make_app, tmp_path):
    alpha, _, _ = seed(tmp_path, THREE)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        sidebar = screen.query_one(ConversationList)
        await pilot.press("ctrl+f", *"zebra")
        await wait_until(pilot, lambda: sidebar.item_ids() == [alpha], what="the match")
        sidebar.focus()
        sidebar.highlighted = 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.current_id == alpha and sidebar.option_count == 3,
                         what="the match open and the whole list back")
        assert screen.query_one("#search").value == ""


def sidebar_lines(sidebar: ConversationList) -> list[list[tuple[str, object]]]:
    """The sidebar's visible lines as (text, rich style) segments."""
    return [[(seg.text, seg.style) for seg in sidebar.render_line(y)] for y in range(sidebar.size.height)]


async def test_matches_show_a_snippet_with_the_hit_highlighted(make_app, tmp_path):
    alpha, _, _ = seed(tmp_path, THREE)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        sidebar = screen.query_one(ConversationList)
        await pilot.press("ctrl+f", *"zebra")
        await wait_until(pilot, lambda: sidebar.item_ids() == [alpha], what="the match")
        await pilot.pause()
        lines = sidebar_lines(sidebar)
        texts = ["".join(text for text, _ in line) for line in lines]
        [at] = [i for i, text in enumerate(texts) if "Alpha notes" in text]
        snippet = lines[at + 1]
        assert "zebra crossing" in texts[at + 1]
        [hit] = [style for text, style in snippet if text.lower() == "zebra"]
        [rest] = [style for text, style in snippet if "crossing" in text]
        assert hit != rest and (hit.bold or hit.underline)


def test_a_snippet_keeps_its_first_hit_in_view_and_says_where_it_was_cut():
    from rich.cells import cell_len

    from hailuo_tui.widgets.conversation_list import snippet_cells

    runs = snippet_cells("…" + "words before the hit " * 3 + "then ZEBRA crossing and more words after it", ["zebra"], 30)
    text = "".join(part for part, _ in runs)
    assert [part for part, hit in runs if hit] == ["ZEBRA"]
    assert text.startswith("…") and text.endswith("…") and cell_len(text) == 30
    assert text.index("ZEBRA") <= 12  # near the start: the row shows it
    wide = snippet_cells("一二三四五六七八九十一二三四五六七八九十斑马线", ["斑马"], 20)
    assert [part for part, hit in wide if hit] == ["斑马"] and cell_len("".join(p for p, _ in wide)) <= 20
    assert snippet_cells("short zebra", ["zebra"], 30) == [("short ", False), ("zebra", True)]


# -- drafts and editing ---------------------------------------------------------------------------


async def test_a_draft_stays_with_its_conversation(make_app, tmp_path):
    _, beta, gamma = seed(tmp_path, THREE)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt = screen.query_one(PromptInput)
        await type_text(pilot, "half a thought for gamma")
        await pilot.press("alt+down")
        await wait_until(pilot, lambda: screen.current_id == beta, what="the next conversation")
        assert prompt.text == ""
        await type_text(pilot, "beta's own")
        await pilot.press("alt+up")
        await wait_until(pilot, lambda: screen.current_id == gamma, what="back to the first")
        assert prompt.text == "half a thought for gamma"
        assert prompt.cursor_location == prompt.document.end
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: screen.current_id is None, what="a new conversation")
        assert prompt.text == ""
        await pilot.press("alt+down")
        await wait_until(pilot, lambda: screen.current_id is not None, what="a conversation again")
        await pilot.pause()
        assert prompt.text == {gamma: "half a thought for gamma", beta: "beta's own"}.get(screen.current_id, "")


async def test_editing_the_last_message_puts_the_cursor_at_the_end(make_app, tmp_path):
    seed(tmp_path, [("Lines", [("user", "line one\nline two"), ("assistant", "ok")])])
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        prompt = screen.query_one(PromptInput)
        await pilot.press("ctrl+up")
        await wait_until(pilot, lambda: prompt.text == "line one\nline two", what="the message in the box")
        assert prompt.cursor_location == (1, len("line two"))


# -- settings that stick --------------------------------------------------------------------------

USER_CONFIG = """\
# My settings, with comments that must survive.
theme = "textual-dark"   # the default, for now
proxy = "http://127.0.0.1:3128"  # work proxy

[keymap]
# a remap I like
"conversation.new" = "ctrl+n"
"""


async def test_the_theme_and_the_web_search_default_are_written_to_the_config(make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(USER_CONFIG, encoding="utf-8")
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        app.theme = "nord"  # what Ctrl+T's theme picker does
        await pilot.pause()
        await pilot.press("f9")
        await pilot.pause()
        assert screen.web_search
    text = path.read_text(encoding="utf-8")
    expected = USER_CONFIG.replace('theme = "textual-dark"   #', 'theme = "nord"   #')
    lines = text.splitlines(keepends=True)
    assert "web_search = true\n" in lines
    lines.remove("web_search = true\n")
    assert "".join(lines) == expected  # only the changed key differs, byte for byte
    config = load_config(path)
    assert (config.theme, config.web_search, config.proxy) == ("nord", True, "http://127.0.0.1:3128")
    assert config.keymap == {"conversation.new": "ctrl+n"}


async def test_a_config_that_cannot_be_written_is_left_alone_with_a_warning(make_app, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("theme = [unclosed\n", encoding="utf-8")  # broken after the app read it
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f9")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("not valid TOML" in m and "not saved" in m for m in messages), messages
    assert path.read_text(encoding="utf-8") == "theme = [unclosed\n"


async def test_the_unknown_binding_warning_names_the_file(emu, tmp_path):
    from hailuo_tui.app import HailuoApp

    path = tmp_path / "config.toml"
    path.write_text('[keymap]\n"bogus.id" = "f12"\n"chat.stop" = "escape"\n', encoding="utf-8")
    config = load_config(path)
    config.base_url = emu.url
    services = Services(config, Paths.under(tmp_path), Options(base_url=emu.url), vault=TokenVault.in_memory())
    # Logged in: without a login the welcome screen comes over the chat screen as soon as the login is read.
    await services.vault.save(await token_login(emu.demo_token, emu.url))
    app = HailuoApp(services.options, services=services)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        [warning] = [n for n in app._notifications if "bogus.id" in n.message]
        assert str(path) in warning.message
        assert "[keymap]" in warning.message and not warning.markup  # shown as written, not eaten as markup


# -- the demo ---------------------------------------------------------------------------------------


async def demo_app(root: Path):
    from hailuo_tui.app import HailuoApp

    services = Services(Config(), Paths.under(root), Options(), vault=TokenVault.in_memory())
    await services.switch_to_demo()
    return HailuoApp(services.options, services=services)


async def test_the_demo_offers_example_prompts_that_a_key_sends(tmp_path):
    app = await demo_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        empty = str(screen.query_one("#empty-state").render())
        for key, prompt in zip("PEMC", EXAMPLE_PROMPTS):
            assert f"Alt+{key}  {prompt}" in empty
        await pilot.press("alt+m")
        await wait_until(pilot, lambda: screen.current_id is not None and not screen.replies, timeout=30,
                         what="the example's answer")
        messages = await app.store.messages(screen.current_id)
        assert [(m.role, m.content) for m in messages][0] == ("user", EXAMPLE_PROMPTS[2])
        assert messages[-1].status == "complete"
        await pilot.press("alt+p")  # not an empty conversation any more: nothing is sent
        await pilot.pause(0.2)
        assert len(await app.store.messages(screen.current_id)) == 2


async def test_outside_the_demo_there_are_no_examples_and_their_keys_send_nothing(make_app, tmp_path):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        assert "Alt+P" not in str(screen.query_one("#empty-state").render())
        await pilot.press("alt+p")
        await pilot.pause(0.2)
        assert screen.current_id is None and not screen.replies
    assert not (tmp_path / "config.toml").exists()  # starting (and setting the configured theme) writes nothing


async def test_the_welcome_screen_offers_the_demo_and_switches_to_it(make_app, tmp_path):
    app = await make_app(logged_in=False)
    own_db = app.services.paths.db_path
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the welcome screen")
        await click_shown(pilot, "#demo")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.loaded and app.auth,
                         timeout=20, what=f"the demo's chat screen (on {app.screen!r})")
        screen = app.screen
        assert app.services.demo and "demo" in app.account_label()
        assert app.services.paths.db_path != own_db
        await pilot.press("alt+p")
        await wait_until(pilot, lambda: screen.current_id is not None and not screen.replies, timeout=30,
                         what="the demo's answer")
        [answer] = [m for m in await app.store.messages(screen.current_id) if m.role == "assistant"]
        assert answer.status == "complete" and answer.content
    own = ChatStore(own_db)
    try:
        assert own.list_conversations() == []  # the user's own database holds none of the demo
    finally:
        own.close()
