"""Damaged, newer and shared databases, and a broken config, through the app and the CLI."""

from __future__ import annotations

import sqlite3
import sys
import threading

from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.screens.confirm_screen import ConfirmScreen
from hailuo_tui.store import ChatStore
from tests.e2e.test_cli import cli_env, run_cli
from tests.ui.conftest import paths_under, ready, send, wait_until

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
