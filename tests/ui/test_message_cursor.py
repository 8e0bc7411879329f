"""The transcript's keyboard cursor: a highlighted message, the block cursor, copying, message commands."""

from __future__ import annotations

import pytest

from hailuo_tui.domain import MessageCommand, ShownMessage
from hailuo_tui.store import ChatStore
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.message_bubble import MessageBubble
from tests.ui.conftest import Host, paths_under, ready, wait_until

SIZE = (110, 36)

CODE = "def greet(name):\n    return f\"hello {name}\"\n\nprint(greet(\"world\"))"
ANSWER = (
    "Here is a short function that greets someone by name.\n\n"
    f"```python\n{CODE}\n```\n\n"
    "| name | greeting |\n| --- | --- |\n| world | hello world |\n| 世界 | 你好 |\n"
)


def _store_conversation(tmp_path, messages: list[tuple[str, str]]) -> list[int]:
    """A stored conversation (the app opens it at start); returns the messages' ids."""
    store = ChatStore(paths_under(tmp_path).db_path)
    try:
        conversation = store.create_conversation("cursor")
        return [store.add_message(conversation.id, role, text).id for role, text in messages]
    finally:
        store.close()


def _pairs(count: int) -> list[tuple[str, str]]:
    return [m for i in range(count) for m in (("user", f"question {i}"), ("assistant", f"answer {i}\n\n" + "words " * 30))]


def _highlighted(view: ChatView) -> list[MessageBubble]:
    return [bubble for bubble in view.bubbles if bubble.has_class("-cursor")]


def _in_view(view: ChatView, bubble: MessageBubble) -> bool:
    """The bubble's top line is inside the view's visible region."""
    region, top = view.content_region, bubble.region.y
    return bubble.region.height > 0 and region.y <= top < region.bottom


async def _cursor_on(pilot, view: ChatView, message_id: int, what: str) -> MessageBubble:
    await wait_until(pilot, lambda: view.cursor_message is not None and view.cursor_message.id == message_id,
                     what=what)
    bubble = view.cursor_bubble
    await wait_until(pilot, lambda: _in_view(view, bubble), what=f"{what}: the bubble in view")
    assert _highlighted(view) == [bubble]
    return bubble


async def test_f5_arrows_home_and_end_move_the_highlight_through_300_messages(make_app, tmp_path):
    ids = _store_conversation(tmp_path, _pairs(150))
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        await wait_until(pilot, lambda: view.is_vertical_scroll_end and view.max_scroll_y > 0, what="the newest")
        assert view.cursor_message is None and not _highlighted(view)
        await pilot.press("f5")
        assert app.focused is view
        await _cursor_on(pilot, view, ids[-1], "F5: the newest message")
        await pilot.press("up", "up")
        await _cursor_on(pilot, view, ids[-3], "↑ ↑")
        await pilot.press("k")
        await _cursor_on(pilot, view, ids[-4], "k")
        await pilot.press("j", "down")
        await _cursor_on(pilot, view, ids[-2], "j ↓")
        await pilot.press("home")  # every older page is read from the store on the way
        bubble = await _cursor_on(pilot, view, ids[0], "Home: the first message")
        assert bubble.text == "question 0" and not view.has_older and view.held_count == 0
        assert len(view.bubbles) <= ChatView.MOUNTED_MAX
        await pilot.press("down")
        await _cursor_on(pilot, view, ids[1], "↓ from the first")
        await pilot.press("end")
        await _cursor_on(pilot, view, ids[-1], "End: the last message")
        await wait_until(pilot, lambda: view.below_count == 0, what="the newest mounted again")


async def test_the_cursor_climbs_into_older_pages_one_message_at_a_time(make_app, tmp_path):
    ids = _store_conversation(tmp_path, _pairs(75))  # 150 messages: the app reads 60, mounts 24; two more reads
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        await pilot.press("f5")
        await _cursor_on(pilot, view, ids[-1], "the newest")
        for steps in range(1, len(ids)):  # to the very first, one message at a time
            await pilot.press("up")
            await _cursor_on(pilot, view, ids[-1 - steps], f"{steps} presses of ↑")
            assert len(view.bubbles) <= ChatView.MOUNTED_MAX
        assert not view.has_older and view.held_count == 0
        await pilot.press("up")  # at the first message: it stays
        await _cursor_on(pilot, view, ids[0], "↑ on the first message")
        for steps in range(1, 41):
            await pilot.press("down")
            await _cursor_on(pilot, view, ids[steps], f"↓ back, {steps} from the first")


async def test_the_block_cursor_walks_an_answer_and_copies_one_code_block(make_app, tmp_path):
    ids = _store_conversation(tmp_path, [("user", "greet me"), ("assistant", ANSWER), ("user", "thanks")])
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        await pilot.press("f5", "up")
        bubble = await _cursor_on(pilot, view, ids[1], "the answer")
        assert view.cursor_block is None
        body = bubble.markdown
        renders = []
        paint = body._painter.render
        body._painter.render = lambda *args, **kwargs: renders.append(args) or paint(*args, **kwargs)
        await pilot.press("shift+down")
        await wait_until(pilot, lambda: view.cursor_block == 0, what="the first block")
        assert body.blocks[0].startswith("Here is")
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: view.cursor_block == 1, what="the code block")
        await pilot.press("c")
        assert app.clipboard == CODE
        notes = [str(n.message) for n in app._notifications]
        assert any(n.startswith("Copied the code block (4 lines)") and "Ctrl+S" in n for n in notes), notes
        await pilot.press("shift+down")
        await wait_until(pilot, lambda: view.cursor_block == 2, what="the table")
        await pilot.press("y")
        assert app.clipboard.splitlines()[1].split() == ["│", "name", "│", "greeting", "│"]  # as shown
        assert "|" not in app.clipboard and "世界" in app.clipboard
        await pilot.press("c")
        assert app.clipboard == ANSWER.split("\n\n")[-1].strip("\n")  # the table's Markdown source
        # The block cursor draws over the stored lines: the code block's rows are marked, no block re-rendered.
        first, end = body.block_rows()[2]
        assert body._marked_rows() == (first, end)
        assert not renders  # moving the block cursor repaints rows; it renders no block again
        await pilot.press("shift+down")  # past the last block: the next message
        await _cursor_on(pilot, view, ids[2], "past the last block")
        assert view.cursor_block is None and body._marked_rows() == (0, 0)
        await pilot.press("shift+up")  # back: the answer's last block
        await wait_until(pilot, lambda: view.cursor_message.id == ids[1] and view.cursor_block == 2,
                         what="back to the table")
        await pilot.press("c")
        await pilot.press("up")  # a message move drops the block cursor
        await _cursor_on(pilot, view, ids[0], "the question")
        assert view.cursor_block is None
        await pilot.press("c")
        assert app.clipboard == "greet me"
        await pilot.press("down")
        await _cursor_on(pilot, view, ids[1], "the answer again")
        await pilot.press("c")
        assert app.clipboard == ANSWER


COMMAND_KEYS = [
    ("e", MessageCommand.EDIT), ("r", MessageCommand.REGENERATE), ("d", MessageCommand.DELETE),
    ("delete", MessageCommand.DELETE), ("f", MessageCommand.FORK),
    ("left", MessageCommand.VERSION_PREVIOUS), ("h", MessageCommand.VERSION_PREVIOUS),
    ("right", MessageCommand.VERSION_NEXT), ("l", MessageCommand.VERSION_NEXT),
]


async def test_each_command_key_asks_the_screen_for_its_command_on_the_highlighted_message(make_app, tmp_path):
    ids = _store_conversation(tmp_path, _pairs(3))
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        done: list[tuple] = []

        async def record(command, message_id):  # the screen's own handling is tests/ui/test_branches.py's
            done.append((command, message_id))

        screen.on_message_command = record
        await pilot.press("f5", "up")
        await _cursor_on(pilot, view, ids[-2], "the last question")
        for key, command in COMMAND_KEYS:
            before = len(app.posted.of(ChatView.MessageCommandRequested))
            await pilot.press(key)
            await wait_until(pilot, lambda: len(app.posted.of(ChatView.MessageCommandRequested)) > before,
                             what=f"{key}: a command")
            posted = app.posted.of(ChatView.MessageCommandRequested)[-1]
            assert (posted.command, posted.message_id, posted.chat_view) == (command, ids[-2], view), key
            await wait_until(pilot, lambda: done and done[-1] == (command, ids[-2]), what=f"{key}: handled")
        assert app.focused is view and view.cursor_message.id == ids[-2]
        # The screen handles it as ``on_chat_view_message_command_requested`` or ``@on(ChatView.MessageCommandRequested)``.
        assert ChatView.MessageCommandRequested.handler_name == "on_chat_view_message_command_requested"


async def test_the_command_keys_do_nothing_from_the_message_box(make_app, tmp_path):
    _store_conversation(tmp_path, _pairs(2))
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await pilot.press(*"edrfhl")
        assert not app.posted.of(ChatView.MessageCommandRequested)
        assert screen.query_one("PromptInput").text == "edrfhl"


async def test_a_remapped_message_next_and_the_old_focus_id(make_app, tmp_path):
    ids = _store_conversation(tmp_path, _pairs(3))
    app = await make_app(keymap={"message.next": "n", "focus.messages": "f12"})
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        await pilot.press("f12")  # the old id of F5's binding still works from a user's keymap
        assert app.focused is view
        await pilot.press("up", "up")
        await _cursor_on(pilot, view, ids[-3], "↑ ↑")
        await pilot.press("down")  # no longer message.next
        await pilot.pause()
        assert view.cursor_message.id == ids[-3]
        await pilot.press("n")
        await _cursor_on(pilot, view, ids[-2], "n, the remapped message.next")


def test_the_old_focus_id_is_accepted_with_a_note():
    from hailuo_tui.bindings import is_key, known_ids
    from hailuo_tui.config import Config, config_warnings, usable_keymap

    config = Config(keymap={"focus.messages": "f12"})
    assert usable_keymap(config, binding_ids=known_ids(), is_key=is_key) == {"messages.focus": "f12"}
    [note] = config_warnings(config, themes={"textual-dark"}, binding_ids=known_ids(), is_key=is_key)
    assert "'focus.messages'" in note and "'messages.focus'" in note and "unknown" not in note
    both = Config(keymap={"focus.messages": "f12", "messages.focus": "f11"})
    assert usable_keymap(both, binding_ids=known_ids(), is_key=is_key) == {"messages.focus": "f11"}


async def test_f1_lists_the_message_cursor_ids(make_app):
    from textual.widgets import DataTable

    from hailuo_tui.bindings import MESSAGE_BINDINGS
    from hailuo_tui.screens.help_screen import HelpScreen

    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="F1")
        table = app.screen.query_one(DataTable)
        ids = {table.get_row_at(row)[2] for row in range(table.row_count)}
        expected = {"messages.focus", "message.previous", "message.next", "message.first", "message.last",
                    "message.block_previous", "message.block_next", "message.copy", "message.copy_text",
                    "message.edit", "message.regenerate", "message.delete", "message.fork",
                    "message.version_previous", "message.version_next"}
        assert expected <= ids and {b.id for b in MESSAGE_BINDINGS} == expected - {"messages.focus"}
        assert "focus.messages" not in ids


# --- the view alone -------------------------------------------------------------------------


def _shown(count: int) -> list[ShownMessage]:
    return [ShownMessage(i, "user" if i % 2 == 0 else "assistant", f"message {i}\n\n" + "text " * 20)
            for i in range(1, count + 1)]


async def test_load_with_focus_id_opens_on_that_message():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 24)) as pilot:
        await view.load(_shown(300), focus_id=100)
        await pilot.pause()
        bubble = await _cursor_on(pilot, view, 100, "the message searched for")
        assert not view.is_vertical_scroll_end and view.below_count > 0
        assert view.cursor_message.content.startswith("message 100")
        view.focus()
        for _ in range(60):  # down through the messages kept below the window
            await pilot.press("down")
        await _cursor_on(pilot, view, 160, "60 messages further down")
        await view.load(_shown(5))
        assert view.cursor_message is None and not _highlighted(view)
        assert not bubble.is_attached


@pytest.mark.parametrize(("version", "versions", "badge"), [(2, 3, "◀ 2/3 ▶"), (1, 1, None)])
async def test_the_version_badge(version, versions, badge):
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 24)) as pilot:
        await view.load([ShownMessage(1, "assistant", "an answer", version=version, versions=versions)])
        await pilot.pause()
        [bubble] = view.bubbles
        header = str(bubble.query_one("#header").render())
        assert (badge in header) if badge else "◀" not in header
        bubble.set_version(3, 3)
        await pilot.pause()
        assert "◀ 3/3 ▶" in str(bubble.query_one("#header").render())
        assert view.bubbles[0].versions == 3 and view._shown_of(bubble).version == 3


async def test_the_highlight_moves_nothing_and_the_palette_reaches_the_cursor(make_app, tmp_path):
    ids = _store_conversation(tmp_path, [("user", "greet me"), ("assistant", ANSWER), ("user", "thanks")])
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        before = [(b.region, b.content_region) for b in view.bubbles]
        await pilot.press("f5", "up", "shift+down")
        await wait_until(pilot, lambda: view.cursor_block == 0, what="a block highlighted")
        await pilot.pause()
        assert [(b.region, b.content_region) for b in view.bubbles] == before  # a border that changes, no shift
        body = view.cursor_bubble.markdown
        dark = body._marked[1]
        app.theme = "textual-light"
        await wait_until(pilot, lambda: body._marked[1] != dark, what="the block's colour in the new theme")
        assert body._marked[1] == view.get_component_rich_style("chat-view--block-cursor")
        screen.query_one("PromptInput").focus()
        await pilot.pause()
        assert view.cursor_message.id == ids[1] and _highlighted(view) == [view.cursor_bubble]
        # The command palette calls the screen's actions, which act on the message under the cursor.
        screen.action_message_copy()
        assert app.clipboard == "Here is a short function that greets someone by name."
        screen.action_message_fork()
        await wait_until(pilot, lambda: app.posted.of(ChatView.MessageCommandRequested), what="the fork command")
        posted = app.posted.of(ChatView.MessageCommandRequested)[-1]
        assert (posted.command, posted.message_id) == (MessageCommand.FORK, ids[1])


async def test_the_block_cursor_scrolls_to_keep_its_block_in_view():
    answer = "\n\n".join(f"Paragraph {i}: " + "words " * 30 for i in range(60))
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 24)) as pilot:
        await view.load([ShownMessage(1, "user", "a long one"), ShownMessage(2, "assistant", answer)])
        await pilot.pause()
        view.focus()
        view.set_cursor(2)
        await pilot.pause()
        body = view.bubbles[1].markdown
        for block in range(45):
            await pilot.press("shift+down")
            await wait_until(pilot, lambda: view.cursor_block == block, what=f"block {block}")
            first, end = body.block_rows()[block]

            def shown() -> bool:
                top = body.content_region.y + first
                return view.content_region.y <= top and top + (end - first) <= view.content_region.bottom

            await wait_until(pilot, shown, what=f"block {block} in view")
        assert view.cursor_message.id == 2 and view.scroll_y > 0
        for block in range(43, 39, -1):  # and back up
            await pilot.press("shift+up")
            await wait_until(pilot, lambda: view.cursor_block == block, what=f"block {block} going up")
            first, end = body.block_rows()[block]
            await wait_until(pilot, lambda: body.content_region.y + first >= view.content_region.y,
                             what=f"block {block} in view going up")


async def test_a_click_puts_the_cursor_on_the_clicked_message(make_app, tmp_path):
    ids = _store_conversation(tmp_path, _pairs(3))
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        target = view.bubble_for(ids[-3])  # the last question but one, above the newest answer
        assert target is not None and not _highlighted(view)
        await pilot.click(target.body, offset=(2, 0))
        await _cursor_on(pilot, view, ids[-3], "the clicked message")
        assert app.focused is view
