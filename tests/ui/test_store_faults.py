"""Damaged, newer and shared databases, and a broken config, through the app and the CLI."""

from __future__ import annotations

import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.screens.confirm_screen import ConfirmScreen
from hailuo_tui.store import ChatStore
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.status_bar import StatusBar
from tests.e2e.test_cli import cli_env, run_cli
from tests.unit.test_store_faults_real import (
    ANSWER,
    damage_middle_page,
    fill,
    fill_store,
    holding_lock,
    remount,
    tmpfs,
)
from tests.ui.conftest import paths_under, ready, send, type_text, wait_until

SIZE = (110, 36)
JUNK = b"this is not an SQLite database at all\x00\x01" * 200


def record_exit(app) -> list[str]:
    """Keep the messages passed to ``app.exit`` (Textual prints and clears them when the run ends)."""
    messages: list[str] = []
    original = app.exit

    def exit(*args, **kwargs):
        if kwargs.get("message"):
            messages.append(str(kwargs["message"]))
        return original(*args, **kwargs)

    app.exit = exit
    return messages


async def test_a_corrupt_database_is_kept_aside_and_a_new_one_started(make_app, emu, tmp_path):
    db = paths_under(tmp_path).db_path
    db.parent.mkdir(parents=True, mode=0o700)
    db.write_bytes(JUNK)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the offer")
        question = str(app.screen.query("Label").first().render())
        assert str(db) in question and "damaged" in question and "corrupt" in question
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen")
        [kept] = list(db.parent.glob("hailuo.sqlite3.corrupt-*"))
        assert kept.read_bytes() == JUNK  # the damaged file is kept, byte for byte
        assert any(str(kept) in str(n.message) for n in app._notifications)
        await send(pilot, "hello after the crash")
        [row] = await app.store.list_conversations()
        assert [m.status for m in await app.store.messages(row.id)] == ["complete", "complete"]


async def test_a_corrupt_database_is_left_alone_when_the_user_declines(make_app, emu, tmp_path):
    db = paths_under(tmp_path).db_path
    db.parent.mkdir(parents=True, mode=0o700)
    db.write_bytes(JUNK)
    app = await make_app()
    said = record_exit(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the offer")
        await pilot.press("n")
        await wait_until(pilot, lambda: said, what="the exit")
    assert app.return_code == 1
    assert str(db) in said[0] and "Nothing was changed" in said[0]
    assert db.read_bytes() == JUNK
    assert not list(db.parent.glob("*.corrupt-*"))


async def test_a_newer_schema_is_refused_with_the_path_and_kept(make_app, emu, tmp_path):
    db = paths_under(tmp_path).db_path
    ChatStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    before = db.read_bytes()
    app = await make_app()
    said = record_exit(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: said, what="the exit")
    assert app.return_code == 1
    text = said[0]
    assert str(db) in text and "newer" in text and "999" in text
    assert db.read_bytes() == before


async def test_a_malformed_config_names_the_file_and_is_kept(tmp_path):
    env = cli_env(tmp_path)
    config = tmp_path / "config" / "hailuo-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('theme = "nord"\nread_timeout = [oops\n')
    before = config.read_bytes()
    for args in (["status", "--demo"], ["ask", "--demo", "hi"], []):
        code, out, err = await run_cli(*args, env=env)
        assert code == 2, (args, out, err)
        assert "config.toml line 2" in out + err and "Fix the TOML" in out + err, out + err
        assert "Traceback" not in err
    config.write_text("read_timout = 5\n")
    code, out, err = await run_cli("status", "--demo", env=env)
    assert code == 2 and "unknown setting 'read_timout'" in err
    config.write_bytes(before)
    assert config.read_bytes() == before


def _writer(path, name: str, count: int, errors: list) -> None:
    try:
        store = ChatStore(path)
        conversation = store.create_conversation(name)
        for i in range(count):
            store.add_message(conversation.id, "user", f"{name} question {i}")
            answer = store.add_message(conversation.id, "assistant", "", status="streaming")
            for part in range(3):  # the periodic saves of a streaming answer
                store.update_message(answer.id, content=f"{name} answer {i} " * (part + 1))
            store.update_message(answer.id, status="complete")
        store.close()
    except Exception as exc:  # pragma: no cover - reported by the test
        errors.append(exc)


async def test_two_instances_on_one_database_lose_nothing(make_app, emu, tmp_path):
    """One app (Pilot) sends messages while another instance and a separate process write to the same file."""
    db = paths_under(tmp_path).db_path
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        errors: list = []
        other = threading.Thread(target=_writer, args=(db, "thread", 60, errors))
        other.start()
        proc = await __import__("asyncio").create_subprocess_exec(
            sys.executable, "-c",
            f"from tests.ui.test_store_faults import _writer; e=[]; _writer({str(db)!r}, 'process', 60, e); "
            "raise SystemExit(1 if e else 0)",
        )
        for i in range(5):
            await send(pilot, f"app message {i}")
        assert await proc.wait() == 0
        other.join(30)
        assert not errors, errors
        app_conversation = screen.current_id
        messages = await app.store.messages(app_conversation)
        assert [m.content for m in messages if m.role == "user"] == [f"app message {i}" for i in range(5)]
        assert all(m.status == "complete" and m.content for m in messages)
    check = ChatStore(db)
    try:
        conn = check._conn
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = {r.title: r for r in check.list_conversations()}
        for name in ("thread", "process"):
            msgs = check.messages(rows[name].id)
            assert len(msgs) == 120
            assert all(m.status == "complete" for m in msgs)
            assert [m.content for m in msgs if m.role == "user"] == [f"{name} question {i}" for i in range(60)]
        assert check.count_conversations() == 3
        assert [r.id for r in check.search("question 42")]  # the index saw both writers
    finally:
        check.close()


# --- storage faults made for real (issue 11): see tests/unit/test_store_faults_real.py for the helpers ---


@pytest.fixture
def short_busy(monkeypatch):
    """A short busy timeout, so a held lock is reported in a fraction of a second."""
    from hailuo_tui.store import connection

    monkeypatch.setattr(connection, "BUSY_TIMEOUT", 0.3)


def _prompt(app):
    from hailuo_tui.widgets.prompt_input import PromptInput

    return app.screen.query_one(PromptInput)


def _status(app) -> str:
    from hailuo_tui.widgets.status_bar import StatusBar

    return app.screen.query_one(StatusBar).error_text


async def _chat(pilot):
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.loaded, what="the chat screen")
    return app.screen


async def _send(pilot, text: str):
    await type_text(pilot, text)
    await pilot.press("enter")


async def test_enter_while_another_program_holds_the_lock_keeps_the_typed_message(make_app, emu, tmp_path, short_busy):
    db = paths_under(tmp_path).db_path
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _chat(pilot)
        with holding_lock(db):
            await _send(pilot, "please do not lose me")
            await wait_until(pilot, lambda: "not saved" in _status(app), what="the status bar")
            assert _prompt(app).text == "please do not lose me"
            assert "locked by another program" in _status(app)
            assert any("locked by another program" in str(n.title) for n in app._notifications)
            assert not screen.replies
        await pilot.press("enter")  # the lock is gone: the same text is sent
        await wait_until(pilot, lambda: screen.replies or True)
        await wait_until(pilot, lambda: not screen.replies and screen.current_id, what="the answer")
        assert _prompt(app).text == ""
        messages = await app.store.messages(screen.current_id)
        assert [m.content for m in messages if m.role == "user"] == ["please do not lose me"]
        assert all(m.status == "complete" for m in messages)


async def test_an_answer_is_complete_only_once_saved_while_a_lock_is_held_across_its_end(
    make_app, emu, tmp_path, short_busy
):
    db = paths_under(tmp_path).db_path
    emu.config.answer_text, emu.config.num_events, emu.config.events_per_second = ANSWER, 25, 20.0
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _chat(pilot)
        await _send(pilot, "a long answer please")
        await wait_until(pilot, lambda: screen.replies, what="the answer to start")
        reply = next(iter(screen.replies.values()))
        with holding_lock(db):
            bubble = app.screen.query_one(ChatView).bubble_for(reply.message_id)
            await wait_until(
                pilot, lambda: getattr(bubble, "unsaved", None) == "locked by another program", what="the bubble's note"
            )
            await wait_until(pilot, lambda: reply.text == ANSWER, what="the whole answer")
            await pilot.pause(1.0)
            assert bubble.status == "streaming" and screen.replies  # not "complete": not on disk
            assert "not saved yet: locked by another program" in str(bubble.query_one("#header").render())
            assert "Not saved yet: locked by another program" in _status(app)
        await wait_until(pilot, lambda: not screen.replies, what="the save after the lock")
        assert bubble.status == "complete" and bubble.unsaved is None
        assert "Not saved" not in _status(app)
        row = (await app.store.messages(reply.conversation_id))[-1]
        assert row.status == "complete" and row.content == ANSWER


async def test_a_disk_that_fills_mid_answer_says_so_and_saves_when_space_returns(make_app, emu):
    emu.config.answer_text, emu.config.num_events, emu.config.events_per_second = ANSWER, 25, 20.0
    with tmpfs("8m") as disk:
        app = await make_app(root=disk)
        async with app.run_test(size=SIZE) as pilot:
            screen = await _chat(pilot)
            await _send(pilot, "fill the disk")
            await wait_until(pilot, lambda: screen.replies, what="the answer to start")
            reply = next(iter(screen.replies.values()))
            junk = fill(disk)
            bubble = app.screen.query_one(ChatView).bubble_for(reply.message_id)
            await wait_until(pilot, lambda: getattr(bubble, "unsaved", None) == "disk full", what="the bubble's note")
            await wait_until(pilot, lambda: reply.text == ANSWER, what="the whole answer")
            assert "Not saved yet: disk full" in _status(app) and bubble.status == "streaming"
            junk.unlink()
            await wait_until(pilot, lambda: not screen.replies, what="the save once there is space")
            assert bubble.status == "complete" and bubble.unsaved is None
            row = (await app.store.messages(reply.conversation_id))[-1]
            assert row.status == "complete" and row.content == ANSWER
            # The disk fills again before the next message: it stays in the box, with the reason.
            junk = fill(disk)
            await _send(pilot, "the next one")
            await wait_until(pilot, lambda: "disk full" in _status(app), what="the status bar")
            assert _prompt(app).text == "the next one" and not screen.replies
            junk.unlink()


async def test_a_read_only_data_dir_or_database_gives_a_message_at_start(make_app, emu):
    with tmpfs("8m") as disk:
        remount(disk, "ro")  # nothing there yet: the data directory cannot be made
        app = await make_app(root=disk)
        said = record_exit(app)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: said, what="the exit")
        assert app.return_code == 1 and "read-only" in said[0].lower() and str(disk) in said[0], said
        remount(disk, "rw")
        fill_store(paths_under(disk).db_path, conversations=2, per=2)
        remount(disk, "ro")  # a database that exists but cannot be written
        app = await make_app(root=disk)
        said = record_exit(app)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: said, what="the exit")
        assert app.return_code == 1
        assert str(paths_under(disk).db_path) in said[0] and "read-only" in said[0].lower(), said
        remount(disk, "rw")


async def test_a_page_damaged_in_the_middle_is_offered_to_be_kept_aside_at_start(make_app, emu, tmp_path):
    db = paths_under(tmp_path).db_path
    fill_store(db)
    damage_middle_page(db)
    before = db.read_bytes()
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the offer")
        assert "damaged" in str(app.screen.query("Label").first().render())
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen")
    [kept] = list(db.parent.glob("hailuo.sqlite3.corrupt-*"))
    assert kept.read_bytes() == before


async def test_another_programs_database_is_refused_and_left_untouched(make_app, emu, tmp_path):
    db = paths_under(tmp_path).db_path
    db.parent.mkdir(parents=True, mode=0o700)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE bookmarks (url TEXT)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    app = await make_app()
    said = record_exit(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: said, what="the exit")
    assert app.return_code == 1 and "another program" in said[0] and str(db) in said[0]
    assert db.read_bytes() == before and not db.with_name(db.name + "-wal").exists()


async def test_store_errors_in_the_sidebar_rename_delete_search_and_export_are_said_not_raised(
    make_app, emu, tmp_path, short_busy, monkeypatch
):
    """Writes refused by a held lock (rename, delete), then reads of a page damaged while the app runs
    (moving through conversations, search, export): a message each time, the app stays up."""
    monkeypatch.chdir(tmp_path)  # an export would land here
    db = paths_under(tmp_path).db_path
    fill_store(db)
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _chat(pilot)
        with holding_lock(db):
            await pilot.press("f2")
            await wait_until(pilot, lambda: app.screen is not screen, what="the rename dialog")
            await pilot.press(*"new name", "enter")
            await wait_until(pilot, lambda: "locked by another program" in _status(app), what="the rename error")
            app.screen.query_one(StatusBar).clear_error()
            await pilot.press("f8")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the delete dialog")
            await pilot.press("y")
            await wait_until(pilot, lambda: "locked by another program" in _status(app), what="the delete error")
            app.screen.query_one(StatusBar).clear_error()
            await pilot.press("ctrl+r")  # an action that writes (it deletes the last answer first)
            await wait_until(pilot, lambda: "locked by another program" in _status(app), what="the regenerate error")
            assert not screen.replies
        assert app.screen is screen and await app.store.count_conversations() == 60
        damage_middle_page(db, "messages")
        # A write by another process makes this one drop its page cache (quick_check at start read
        # every page): from now on its reads meet the damaged page.
        other = sqlite3.connect(db)
        other.execute("PRAGMA user_version = 3")
        other.close()
        seen = set()
        for _ in range(60):
            await pilot.press("alt+down")
            await pilot.pause()
            if "damaged" in _status(app):
                seen.add("open")
                break
        assert "open" in seen, "moving through the conversations never reached the damaged page"
        screen.query_one(StatusBar).clear_error()
        await pilot.press("ctrl+s")  # the export reads the same damaged conversation
        await wait_until(pilot, lambda: "damaged" in _status(app), what="the export error")
        assert not list(tmp_path.glob("*.md"))
        screen.query_one(StatusBar).clear_error()
        # The search falls back to titles when its index is damaged; the conversations table it reads then is not.
        damage_middle_page(db, "conversations", every=True)
        other = sqlite3.connect(db)
        other.execute("PRAGMA user_version = 3")
        other.close()
        screen.query_one("#search").value = "message"
        await wait_until(pilot, lambda: "damaged" in _status(app), what="the search error")
        assert app.screen is screen and app.is_running


async def test_a_big_damaged_database_is_checked_after_the_first_frame(make_app, emu, tmp_path, monkeypatch):
    from hailuo_tui.store import connection

    monkeypatch.setattr(connection, "CHECK_AT_OPEN_BYTES", 0)  # every file counts as big
    db = paths_under(tmp_path).db_path
    fill_store(db)
    damage_middle_page(db)
    before = db.read_bytes()
    app = await make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the offer")
        assert "damaged" in str(app.screen.query("Label").first().render())
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen) and app.screen.loaded, what="a new chat")
        assert await app.store.count_conversations() == 0
    [kept] = list(db.parent.glob("hailuo.sqlite3.corrupt-*"))
    assert kept.read_bytes() == before


async def test_a_big_database_checked_sound_is_recorded_and_not_checked_at_the_next_start(make_app, emu, tmp_path,
                                                                                        monkeypatch):
    """The record of the last check (store/check_record.py) through the app: the first start checks a big
    file put in place and records it sound at exit; the next start does not check it again."""
    from hailuo_tui import app as app_module
    from hailuo_tui.app import HailuoApp
    from hailuo_tui.store import AsyncChatStore, check_record, connection

    monkeypatch.setattr(connection, "CHECK_AT_OPEN_BYTES", 0)  # every file counts as big
    monkeypatch.setattr(app_module, "STORE_CHECK_DELAY", 0.05)
    monkeypatch.delenv(check_record.EVERY_START_ENV, raising=False)
    db = paths_under(tmp_path).db_path
    fill_store(db)
    check_record.forget(str(db))  # copied in: never checked here
    checks, looked = [], []
    check_beside, start_checking = AsyncChatStore.check_beside, HailuoApp._start_checking_store

    async def counting(self):
        checks.append(1)
        return await check_beside(self)

    def looking(self):
        looked.append(1)
        return start_checking(self)

    monkeypatch.setattr(AsyncChatStore, "check_beside", counting)
    monkeypatch.setattr(HailuoApp, "_start_checking_store", looking)
    for start, expected in ((1, [1]), (2, [1])):
        app = await make_app()
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            await wait_until(pilot, lambda: len(looked) == start, what="the look at the file")
            await wait_until(pilot, lambda: not app.store.needs_check, what="the check")
            await pilot.press("ctrl+q")
        assert checks == expected, f"start {start}"
        assert Path(check_record.record_path(str(db))).exists()


async def test_a_read_only_database_file_in_a_writable_folder_gives_a_message_at_start(make_app, emu, tmp_path):
    """Root ignores file modes: the file is made immutable (``chattr +i``) instead of chmod 0444."""
    import subprocess

    db = paths_under(tmp_path).db_path
    fill_store(db, conversations=2, per=2)
    done = subprocess.run(["chattr", "+i", str(db)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not possible here: {done.stderr.strip()}")
    try:
        before = db.read_bytes()
        app = await make_app()
        said = record_exit(app)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: said, what="the exit")
        assert app.return_code == 1 and str(db) in said[0] and "read-only" in said[0], said
        assert db.read_bytes() == before
    finally:
        subprocess.run(["chattr", "-i", str(db)], capture_output=True)
