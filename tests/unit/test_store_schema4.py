"""Schema 4: the web-search sources and follow-up questions of an answer, and how a version-3 file gets there."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hailuo_tui.store import ChatStore, migrations
from tests.unit.old_store_files import write_old_database

_V3_HISTORY = [
    ("Marathon training plan", [("user", "How should I train for a marathon?"), ("assistant", "Run slowly, mostly.")]),
    ("西安旅行计划", [("user", "西安有什么好吃的？"), ("assistant", "肉夹馍和凉皮。", "interrupted")]),
]


def test_a_version_3_file_upgrades_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "hailuo.sqlite3"
    marathon, xian = write_old_database(path, 3, _V3_HISTORY)
    conn = sqlite3.connect(path)
    before = conn.execute("SELECT * FROM messages ORDER BY id").fetchall()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    conn.close()

    store = ChatStore(path)
    try:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION >= 4
        after = store._conn.execute("SELECT * FROM messages ORDER BY id").fetchall()
        assert [row[: len(before[0])] for row in after] == before
        rows = store.messages(marathon)
        assert [(m.sources, m.follow_ups) for m in rows] == [((), ()), ((), ())]
        answer = rows[1]
        store.update_message(
            answer.id, sources=[("Runner's World", "https://example.com/run")], follow_ups=["How far?", "跑多快？"]
        )
        again = store.messages(marathon)[1]
        assert again.sources == (("Runner's World", "https://example.com/run"),)
        assert again.follow_ups == ("How far?", "跑多快？")
        assert again.content == "Run slowly, mostly."  # nothing else changed
        store.update_message(answer.id, content="Run slowly.")  # not given: kept
        assert store.messages(marathon)[1].follow_ups == ("How far?", "跑多快？")
        assert [r.id for r in store.search("西安")] == [xian]
        assert store.search("跑多快") == []  # the server's suggestions are not the conversation's words
    finally:
        store.close()


def test_a_malformed_cell_shows_the_message_without_extras(tmp_path: Path) -> None:
    store = ChatStore(tmp_path / "hailuo.sqlite3")
    try:
        c = store.create_conversation()
        m = store.add_message(c.id, "assistant", "hello")
        store._conn.execute("UPDATE messages SET sources = '{', follow_ups = '[1, \"ok\"]' WHERE id = ?", (m.id,))
        row = store.messages(c.id)[0]
        assert row.sources == () and row.follow_ups == ("ok",)
    finally:
        store.close()
