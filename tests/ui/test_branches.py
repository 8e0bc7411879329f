"""Every message within reach: edit and regenerate anywhere as new versions, versions, delete, fork, search hits."""

from __future__ import annotations

from pathlib import Path

from hailuo_tui.domain import MessageCommand
from hailuo_tui.screens.confirm_screen import ConfirmScreen
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.prompt_input import PromptInput
from tests.helpers import wait_until
from tests.ui.conftest import answers_finished, ready, send, wait_answered, wait_idle

SIZE = (110, 36)


async def _cursor_to(pilot, view: ChatView, message_id: int) -> None:
    """F5, then ↑ until the message cursor is on ``message_id`` (bounded)."""
    await pilot.press("f5")
    for _ in range(40):
        if view.cursor_message is not None and view.cursor_message.id == message_id:
            return
        await pilot.press("up")
    raise AssertionError(f"the cursor never reached message {message_id}")


async def _edit(pilot, screen, view: ChatView, message, text: str) -> None:
    """E on ``message`` under the cursor, replace its text in the box with ``text``, Enter, wait for the answer."""
    await _cursor_to(pilot, view, message.id)
    await pilot.press("e")  # message.edit
    prompt = screen.query_one(PromptInput)
    await wait_until(pilot, lambda: prompt.text == message.content, what="the question in the box")
    prompt.clear()
    prompt.insert(text)
    before = answers_finished(screen.app)
    await pilot.press("enter")
    await wait_answered(pilot, before)
    await wait_idle(pilot)


async def _contents(app, conversation_id: int) -> list[str]:
    return [m.content for m in await app.store.messages(conversation_id)]


async def test_an_earlier_question_edited_is_a_new_version_and_arrows_switch_branches(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "first question")
        await send(pilot, "second question")
        cid = screen.current_id
        rows = await app.store.messages(cid)
        old_branch = [m.content for m in rows]
        view = screen.query_one(ChatView)
        await _edit(pilot, screen, view, rows[0], "first question, edited")
        rows = await app.store.messages(cid)
        assert [m.content for m in rows][0] == "first question, edited" and len(rows) == 2
        assert (rows[0].version, rows[0].versions) == (2, 2)
        # the web chat: the edited question starts a new server chat (its history is empty here)
        assert emu.requests[-1].form["chatID"] == "0"
        assert emu.requests[-1].form["msgContent"] == "first question, edited"
        assert await app.store.count_messages(cid) == 6  # nothing deleted
        bubble = view.bubble_for(rows[0].id)
        assert bubble is not None and "2/2" in str(bubble.query_one("#header").render())
        # ← on the edited question shows the old branch again, the cursor on its first question
        await _cursor_to(pilot, view, rows[0].id)
        await pilot.press("left")
        await wait_until(pilot, lambda: [b.text for b in view.bubbles][:1] == ["first question"],
                         what="the old version on screen")
        await wait_until(pilot, lambda: len(view.bubbles) == 4, what="the old branch below it")
        assert [b.text for b in view.bubbles] == old_branch
        assert view.cursor_message is not None and view.cursor_message.content == "first question"
        # the next message continues the branch on screen
        await send(pilot, "third question")
        rows = await app.store.messages(cid)
        assert [m.content for m in rows][:4] == old_branch and rows[4].content == "third question"
        # → goes to the edited version and its answer, the newest of that branch
        await _cursor_to(pilot, view, rows[0].id)
        await pilot.press("right")
        await wait_until(pilot, lambda: [b.text for b in view.bubbles][:1] == ["first question, edited"],
                         what="the edited version again")
        assert len(view.bubbles) == 2


async def test_regenerating_any_answer_keeps_the_old_one(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "hello there")
        await send(pilot, "second question")
        cid = screen.current_id
        rows = await app.store.messages(cid)
        first_answer = rows[1]
        view = screen.query_one(ChatView)
        await _cursor_to(pilot, view, first_answer.id)
        before = answers_finished(app)
        await pilot.press("r")  # message.regenerate on an earlier answer
        await wait_answered(pilot, before)
        await wait_idle(pilot)
        rows = await app.store.messages(cid)
        assert [m.role for m in rows] == ["user", "assistant"]  # the new branch ends at the new answer
        assert rows[1].id != first_answer.id and (rows[1].version, rows[1].versions) == (2, 2)
        assert emu.requests[-1].form["chatID"] == "0"  # the server chat held the old answer
        versions = [m for m in await app.store.all_messages(cid) if m.parent_id == rows[0].id]
        assert [m.id for m in versions] == [first_answer.id, rows[1].id]
        # Ctrl+R (the last answer) is a new version too
        before = answers_finished(app)
        await pilot.press("ctrl+g", "ctrl+r")
        await wait_answered(pilot, before)
        await wait_idle(pilot)
        last = (await app.store.messages(cid))[-1]
        assert (last.version, last.versions) == (3, 3)


async def test_delete_a_branch_after_confirmation(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "keep this one")
        await send(pilot, "delete from here")
        cid = screen.current_id
        rows = await app.store.messages(cid)
        view = screen.query_one(ChatView)
        await _cursor_to(pilot, view, rows[2].id)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("escape")  # no: nothing deleted
        await wait_until(pilot, lambda: app.screen is screen, what="back on the chat")
        assert len(await app.store.messages(cid)) == 4
        await _cursor_to(pilot, view, rows[2].id)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        await pilot.press("y")
        await wait_until(pilot, lambda: len(view.bubbles) == 2, what="the branch gone from the screen")
        assert await _contents(app, cid) == [rows[0].content, rows[1].content]
        assert (await app.store.get_conversation(cid)).message_count == 2


async def test_fork_opens_a_new_conversation_with_the_path(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "plan a trip to Kyoto")
        await send(pilot, "and Osaka")
        cid = screen.current_id
        title = (await app.store.get_conversation(cid)).title
        rows = await app.store.messages(cid)
        view = screen.query_one(ChatView)
        await _cursor_to(pilot, view, rows[1].id)
        await pilot.press("f")
        await wait_until(pilot, lambda: screen.current_id not in (None, cid), what="the fork opened")
        fork = await app.store.get_conversation(screen.current_id)
        assert fork.title == f"{title} (fork)" and fork.title_provisional
        assert await _contents(app, fork.id) == [rows[0].content, rows[1].content]
        sidebar = screen.query_one(ConversationList)
        await wait_until(pilot, lambda: fork.id in sidebar.item_ids(), what="the fork in the sidebar")
        assert [b.text for b in view.bubbles] == [rows[0].content, rows[1].content]
        assert await _contents(app, cid) == [m.content for m in rows]  # the original is untouched


async def test_a_search_opens_at_the_first_matching_message(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "tell me about zanzibar spices")
        for n in range(6):
            await send(pilot, f"another question number {n}")
        cid = screen.current_id
        first = (await app.store.messages(cid))[0]
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+f")
        for ch in "zanzibar":
            await pilot.press(ch)
        sidebar = screen.query_one(ConversationList)
        await wait_until(pilot, lambda: sidebar.item_ids() == [cid] and sidebar.hit_of(cid) == first.id,
                         what="the match")
        await pilot.press("enter")
        view = screen.query_one(ChatView)
        await wait_until(pilot, lambda: view.cursor_message is not None and view.cursor_message.id == first.id,
                         what="the cursor on the matching message")
        assert isinstance(screen.focused, PromptInput)  # the next keys typed are a message, as after any pick
        bubble = view.bubble_for(first.id)
        assert bubble is not None and bubble.has_class("-cursor")
        region = view.content_region
        await wait_until(pilot, lambda: region.y <= bubble.region.y < region.bottom, what="the hit in view")
        await pilot.press("f5", "down")  # the cursor goes on from the hit
        await wait_until(pilot, lambda: view.cursor_message is not None and view.cursor_message.id != first.id,
                         what="the next message")
        assert view.cursor_message.role == "assistant"


async def test_export_every_branch(make_app, emu, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "hello there")
        before = answers_finished(app)
        await pilot.press("ctrl+r")
        await wait_answered(pilot, before)
        await wait_idle(pilot)
        await pilot.press("alt+s")
        await wait_until(pilot, lambda: list(Path(tmp_path).glob("hailuo-*.md")), what="the export")
        text = next(Path(tmp_path).glob("hailuo-*.md")).read_text(encoding="utf-8")
        assert "Version 1 of 2" in text and "Version 2 of 2" in text
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(list(Path(tmp_path).glob("hailuo-*.md"))) == 2, what="the export")
        assert screen.current_id is not None


async def test_commands_from_the_view_reach_the_message(make_app, emu):
    """The screen acts on the message the view names (a posted MessageCommandRequested)."""
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "question one")
        rows = await app.store.messages(screen.current_id)
        view = screen.query_one(ChatView)
        view.post_message(ChatView.MessageCommandRequested(view, MessageCommand.EDIT, rows[1].id))
        await pilot.pause()
        assert screen.editing is None  # an answer is not edited: a warning says to regenerate it
        view.post_message(ChatView.MessageCommandRequested(view, MessageCommand.EDIT, rows[0].id))
        prompt = screen.query_one(PromptInput)
        await wait_until(pilot, lambda: prompt.text == "question one", what="the question in the box")
        assert screen.editing == (rows[0].id, None)
        await pilot.press("escape")
        assert screen.editing is None and prompt.text == ""


def _header(view: ChatView, message_id: int) -> str:
    bubble = view.bubble_for(message_id)
    assert bubble is not None, message_id
    return str(bubble.query_one("#header").render())


async def test_edit_the_third_of_five_questions_switch_and_see_the_same_after_a_restart(make_app, emu, tmp_path):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        for n in range(1, 6):
            await send(pilot, f"question {n}")
        cid = screen.current_id
        rows = await app.store.messages(cid)
        third = rows[4]
        assert third.content == "question 3"
        view = screen.query_one(ChatView)
        await _edit(pilot, screen, view, third, "question 3, again")
        rows = await app.store.messages(cid)
        assert [m.content for m in rows if m.role == "user"] == ["question 1", "question 2", "question 3, again"]
        edited = rows[4]
        await wait_until(pilot, lambda: view.bubble_for(edited.id) is not None, what="the new branch shown")
        assert "◀ 2/2 ▶" in _header(view, edited.id)
        # back to the first version: the five questions again; forth: the edited branch
        await _cursor_to(pilot, view, edited.id)
        await pilot.press("left")
        await wait_until(pilot, lambda: view.bubble_for(third.id) is not None and view.bubble_for(rows[-1].id) is None
                         and [b.text for b in view.bubbles][-2] == "question 5", what="the first version and its branch")
        assert "◀ 1/2 ▶" in _header(view, third.id)
        await pilot.press("right")
        await wait_until(pilot, lambda: view.bubble_for(edited.id) is not None
                         and view.bubble_for(rows[-1].id) is not None, what="the edited version and its branch")
        assert [b.text for b in view.bubbles][-2] == "question 3, again"
        await pilot.press("left")
        await wait_until(pilot, lambda: view.bubble_for(third.id) is not None, what="the first version again")
    # A restart opens the conversation on the branch last shown, its counter there.
    app = await make_app(root=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.query_one(ChatView)
        await wait_until(pilot, lambda: screen.current_id == cid and view.bubble_for(third.id) is not None,
                         what="the same branch after the restart")
        assert [b.text for b in view.bubbles if b.role == "user"] == [f"question {n}" for n in range(1, 6)]
        assert "◀ 1/2 ▶" in _header(view, third.id)


async def test_regenerate_twice_and_switch_among_the_three_answers(make_app, emu):
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await send(pilot, "name a colour")
        cid = screen.current_id
        for _ in range(2):
            before = answers_finished(app)
            await pilot.press("ctrl+r")
            await wait_answered(pilot, before)
            await wait_idle(pilot)
        question, answer = await app.store.messages(cid)
        versions = [m for m in await app.store.all_messages(cid) if m.parent_id == question.id]
        assert len(versions) == 3 and (answer.version, answer.versions) == (3, 3)
        view = screen.query_one(ChatView)
        await _cursor_to(pilot, view, answer.id)
        for expected in (versions[1], versions[0]):
            await pilot.press("left")
            await wait_until(pilot, lambda: view.cursor_message is not None and view.cursor_message.id == expected.id,
                             what=f"version {expected.id}")
        await pilot.press("left")  # the first version: nothing further that way
        await pilot.pause(0.2)
        assert view.cursor_message.id == versions[0].id and "◀ 1/3 ▶" in _header(view, versions[0].id)
        await pilot.press("right", "right")
        await wait_until(pilot, lambda: view.cursor_message is not None and view.cursor_message.id == versions[2].id,
                         what="the newest version again")
        assert [b.text for b in view.bubbles][1] == versions[2].content
