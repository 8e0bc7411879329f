"""The SQLite conversation store: CRUD, ordering, search, safety, concurrency."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hailuo_tui.store import AsyncChatStore, ChatStore, ConversationRow, MessageRow, StoreError, token_fingerprint
from hailuo_tui.history import export_markdown
from hailuo_tui.store.fts import fts_query
from hailuo_tui.store.migrations import SCHEMA_VERSION
from tests.unit.old_store_files import write_old_database

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "hailuo.sqlite3"


@pytest.fixture
def store(db_path: Path):
    s = ChatStore(db_path)
    yield s
    s.close()


def test_fts5_is_available() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")


# --- conversations ------------------------------------------------------------------


def test_create_get_list_count(store: ChatStore) -> None:
    a = store.create_conversation("First")
    b = store.create_conversation()
    assert isinstance(a, ConversationRow)
    assert a.title == "First" and not a.title_locked and a.message_count == 0
    assert b.title is None
    assert store.get_conversation(a.id) == a
    assert store.get_conversation(9999) is None
    assert store.count_conversations() == 2
    assert [c.id for c in store.list_conversations()] == [b.id, a.id]


def test_list_orders_by_latest_activity_and_pages(store: ChatStore) -> None:
    convs = [store.create_conversation(f"c{i}") for i in range(5)]
    store.add_message(convs[1].id, "user", "bump")
    ids = [c.id for c in store.list_conversations()]
    assert ids[0] == convs[1].id
    assert ids[1:] == [convs[4].id, convs[3].id, convs[2].id, convs[0].id]
    assert [c.id for c in store.list_conversations(limit=2, offset=1)] == ids[1:3]
    assert store.get_conversation(convs[1].id).message_count == 1


def test_rename_locks_title_against_server(store: ChatStore) -> None:
    c = store.create_conversation()
    assert store.apply_server_title(c.id, "Server title") is True
    assert store.get_conversation(c.id).title == "Server title"
    renamed = store.rename(c.id, "Mine")
    assert renamed.title == "Mine" and renamed.title_locked
    assert store.apply_server_title(c.id, "Another server title") is False
    assert store.get_conversation(c.id).title == "Mine"
    assert [r.id for r in store.search("mine")] == [c.id]
    assert store.search("server") == []


def test_delete_conversation_removes_messages_and_index(store: ChatStore) -> None:
    c = store.create_conversation("doomed topic")
    keep = store.create_conversation("kept")
    store.add_message(c.id, "user", "unique pineapple")
    store.add_message(keep.id, "user", "other pineapple")
    store.delete_conversation(c.id)
    assert store.get_conversation(c.id) is None
    assert store.messages(c.id) == []
    assert [r.id for r in store.search("pineapple")] == [keep.id]
    assert store.search("doomed") == []


def test_set_remote_chat(store: ChatStore) -> None:
    c = store.create_conversation()
    store.set_remote_chat(c.id, "chat-123", token_fingerprint("tok"))
    got = store.get_conversation(c.id)
    assert got.chat_id == "chat-123" and got.token_fp == token_fingerprint("tok")
    store.set_remote_chat(c.id, None, None)
    assert store.get_conversation(c.id).chat_id is None


# --- messages ---------------------------------------------------------------------


def test_messages_crud_and_order(store: ChatStore) -> None:
    c = store.create_conversation()
    before = store.get_conversation(c.id).updated_at
    u = store.add_message(c.id, "user", "hi")
    a = store.add_message(c.id, "assistant", "", status="streaming")
    assert isinstance(u, MessageRow) and u.status == "complete"
    assert store.get_conversation(c.id).updated_at >= before
    store.update_message(a.id, content="hello there")
    store.update_message(a.id, status="failed", error="boom")
    got = store.messages(c.id)
    assert [m.id for m in got] == [u.id, a.id]
    assert got[1].content == "hello there" and got[1].status == "failed" and got[1].error == "boom"
    store.update_message(a.id, content="hello there")  # error untouched without error=
    assert store.messages(c.id)[1].error == "boom"
    store.update_message(a.id, status="complete", error=None)
    assert store.messages(c.id)[1].error is None
    assert store.count_messages(c.id) == 2
    assert store.last_message(c.id).id == a.id
    assert store.last_message(c.id, role="user").id == u.id
    store.delete_message(u.id)
    assert [m.id for m in store.messages(c.id)] == [a.id]
    assert store.get_conversation(c.id).message_count == 1
    assert store.last_message(c.id, role="user") is None


def test_rejects_bad_role_and_status(store: ChatStore) -> None:
    c = store.create_conversation()
    with pytest.raises(ValueError):
        store.add_message(c.id, "system", "x")
    with pytest.raises(ValueError):
        store.add_message(c.id, "user", "x", status="done")
    with pytest.raises(KeyError):
        store.add_message(12345, "user", "x")


def test_messages_paging(store: ChatStore) -> None:
    c = store.create_conversation()
    ids = [store.add_message(c.id, "user", f"m{i}").id for i in range(50)]
    last = store.messages(c.id, limit=10)
    assert [m.id for m in last] == ids[-10:]
    older = store.messages(c.id, limit=10, before_id=last[0].id)
    assert [m.id for m in older] == ids[-20:-10]
    assert [m.id for m in store.messages(c.id, limit=100, before_id=ids[3])] == ids[:3]
    assert store.messages(c.id, limit=10, before_id=ids[0]) == []
    assert [m.id for m in store.messages(c.id, before_id=ids[5])] == ids[:5]


def test_recover_interrupted(store: ChatStore) -> None:
    c = store.create_conversation()
    u = store.add_message(c.id, "user", "question", status="pending")
    s = store.add_message(c.id, "assistant", "half an answer about walruses", status="streaming")
    p = store.add_message(c.id, "assistant", "", status="pending")
    done = store.add_message(c.id, "assistant", "done")
    assert store.search("walruses") == []  # not indexed while streaming
    assert store.recover_interrupted() == 2
    by_id = {m.id: m for m in store.messages(c.id)}
    assert by_id[s.id].status == "interrupted" and by_id[s.id].content == "half an answer about walruses"
    assert by_id[p.id].status == "interrupted"
    assert by_id[u.id].status == "pending"
    assert by_id[done.id].status == "complete"
    assert [r.id for r in store.search("walrus")] == [c.id]
    assert store.recover_interrupted() == 0


def test_export_markdown(store: ChatStore) -> None:
    c = store.create_conversation("Trip plan")
    store.add_message(c.id, "user", "Where to?")
    store.add_message(c.id, "assistant", "Kyoto.\n")
    store.add_message(c.id, "assistant", "Also", status="interrupted")
    text = export_markdown(c.title, store.messages(c.id))
    assert text.startswith("# Trip plan\n")
    assert "## You\n\nWhere to?" in text
    assert "## Hailuo\n\nKyoto." in text
    assert "_(interrupted)_" in text
    assert export_markdown(None, []).startswith("# Untitled")


# --- search ----------------------------------------------------------------------


def test_search_english_prefix_and_terms(store: ChatStore) -> None:
    a = store.create_conversation("Python questions")
    b = store.create_conversation("Cooking")
    store.add_message(a.id, "user", "How do generators work?")
    store.add_message(b.id, "user", "A recipe for pancakes, please")
    store.add_message(b.id, "assistant", "Mix flour and eggs; generators not needed.")
    assert {r.id for r in store.search("gen")} == {a.id, b.id}
    assert [r.id for r in store.search("pyth")] == [a.id]
    assert [r.id for r in store.search("generators flo")] == [b.id]
    # every term must be in one message (or in the title)
    assert store.search("generators pancakes") == []
    assert [r.id for r in store.search("PANCAKE")] == [b.id]
    hit = store.search("flour")[0]
    assert hit.snippet and "flour" in hit.snippet
    assert store.search("gen")[0].id == b.id  # most recent activity first
    assert store.search("") == [] and store.search("   ") == []


def test_search_snippets_for_the_first_rows_only(store: ChatStore) -> None:
    ids = []
    for n in range(5):
        conv = store.create_conversation(f"Chat {n}")
        store.add_message(conv.id, "user", f"tea number {n}")
        ids.append(conv.id)
    rows = store.search("tea", snippets=2)
    assert [r.id for r in rows] == ids[::-1]  # the same rows, newest first, as without snippets
    assert [bool(r.snippet) for r in rows] == [True, True, False, False, False]
    assert all(r.snippet is None for r in store.search("tea", snippets=False))
    assert all(r.snippet for r in store.search("tea", snippets=True))


def test_search_cjk_substrings(store: ChatStore) -> None:
    zh = store.create_conversation("中文对话")
    ja = store.create_conversation()
    store.add_message(zh.id, "user", "你好世界，今天天气怎么样？")
    store.add_message(ja.id, "assistant", "東京タワーへようこそ")
    assert [r.id for r in store.search("你好")] == [zh.id]
    assert [r.id for r in store.search("世界")] == [zh.id]
    assert [r.id for r in store.search("天气")] == [zh.id]
    assert [r.id for r in store.search("对话")] == [zh.id]
    assert [r.id for r in store.search("タワー")] == [ja.id]
    assert store.search("世天") == []
    assert "你好世界" in store.search("你好")[0].snippet


@pytest.mark.parametrize(
    "query",
    ['"', '""', "AND", "OR", "NOT", "a AND", "-", "-foo", "*", "foo*", "NEAR(a b)", "NEAR", "(", ")",
     "^", ":", "body:x", "{a b}", "'", "\\", "%", "_", "a\x00b", "🙂", "a OR b", "+", "title:foo"],
)
def test_search_never_raises(store: ChatStore, query: str) -> None:
    c = store.create_conversation("foo AND bar")
    store.add_message(c.id, "user", 'quote " and NEAR(a b) -minus foo*')
    assert isinstance(store.search(query), list)


def test_search_operators_are_plain_words(store: ChatStore) -> None:
    c = store.create_conversation()
    store.add_message(c.id, "user", "salt AND pepper")
    other = store.create_conversation()
    store.add_message(other.id, "user", "salt only")
    assert [r.id for r in store.search("and")] == [c.id]
    assert [r.id for r in store.search("salt AND")] == [c.id]
    assert [r.id for r in store.search('"salt')] == [other.id, c.id]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=30))
def test_search_accepts_any_text(query: str) -> None:
    s = ChatStore(":memory:")
    try:
        c = s.create_conversation("t")
        s.add_message(c.id, "user", "some words 你好")
        assert isinstance(s.search(query), list)
        q = fts_query(query)
        if q is not None:
            s._conn.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (q,)).fetchall()
    finally:
        s.close()


def test_streaming_updates_do_not_touch_the_index_and_are_cheap(store: ChatStore) -> None:
    c = store.create_conversation()
    a = store.add_message(c.id, "assistant", "", status="streaming")
    text = ""
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    try:
        for i in range(50):
            text += ("zebra chunk %d " % i) * 30  # grows to ~20k characters
            store.update_message(a.id, content=text)
    finally:
        store._conn.set_trace_callback(None)
    assert len(text) > 15_000
    # Cheap by construction (timing it here would be a benchmark): per update, the row's role and status
    # are read and the row written; the search index and the old text are never read nor written.
    writes = [sql for sql in statements if sql.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert len(writes) == 50 and all(sql.lstrip().upper().startswith("UPDATE MESSAGES") for sql in writes)
    assert not [sql for sql in statements if "fts" in sql.lower() or "SELECT content" in sql]
    assert store.search("zebra") == []
    store.update_message(a.id, status="complete")
    assert [r.id for r in store.search("zebra")] == [c.id]
    store.update_message(a.id, content="giraffe")  # complete message edited: index follows
    assert store.search("zebra") == [] and [r.id for r in store.search("giraffe")] == [c.id]


# --- the token stays out ------------------------------------------------------------


def test_fingerprint_is_short_stable_and_not_the_token() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.secret-payload.signature"
    fp = token_fingerprint(token)
    assert fp == token_fingerprint(token) and len(fp) == 16
    assert fp != token and fp not in token
    assert token_fingerprint("another") != fp


def test_token_never_reaches_the_database_file(db_path: Path) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.TOPSECRETTOKEN0123456789.sig"
    s = ChatStore(db_path)
    c = s.create_conversation("chat")
    s.set_remote_chat(c.id, "chat-1", token_fingerprint(token))
    s.add_message(c.id, "user", "hello")
    s.close()
    blob = b"".join(p.read_bytes() for p in db_path.parent.iterdir() if p.is_file())
    assert token_fingerprint(token).encode() in blob
    assert token.encode() not in blob
    assert b"TOPSECRETTOKEN" not in blob


# --- files, migrations, damage ------------------------------------------------------


def test_file_and_directory_modes(db_path: Path) -> None:
    s = ChatStore(db_path)
    s.create_conversation("x")
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    for side in db_path.parent.glob("*-wal"):
        assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0
    s.close()


def test_wal_and_pragmas(store: ChatStore) -> None:
    conn = store._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_memory_database() -> None:
    s = ChatStore(":memory:")
    c = s.create_conversation("m")
    assert s.get_conversation(c.id).title == "m"
    s.close()


def test_migrates_an_existing_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    sqlite3.connect(path).close()  # empty file, user_version 0
    s = ChatStore(path)
    assert s._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    s.create_conversation("ok")
    s.close()
    again = ChatStore(path)  # reopening does not migrate twice
    assert again.count_conversations() == 1
    again.close()


_HISTORY = [
    ("Marathon training plan", [("user", "How should I train for a marathon?"), ("assistant", "Run slowly, mostly.")]),
    ("西安旅行计划", [("user", "西安有什么好吃的？"), ("assistant", "肉夹馍和凉皮。Markets at night.")]),
    (None, [("user", "maple syrup or honey"), ("assistant", "Mary prefers maple.")]),
    ("Kyoto", [("user", "Kyoto in March, 京都の桜"), ("assistant", "Book the ryokan early.")]),
]
#: Prefixes of 1, 2 and 3 characters (the prefix indexes), longer ones, several terms, CJK.
_QUERIES = ["m", "ma", "mar", "mara", "marathon", "r", "ry", "ryo", "k", "ky", "kyo", "西", "西安", "西安旅",
            "肉", "肉夹", "京都", "桜", "ma pre", "mar tr", "night", "zz", "有安"]


def _fill(store: ChatStore) -> list[int]:
    ids = []
    for title, messages in _HISTORY:
        row = store.create_conversation(title)
        for role, text in messages:
            store.add_message(row.id, role, text)
        ids.append(row.id)
    return ids


def _results(store: ChatStore) -> dict[str, list[int]]:
    return {q: [r.id for r in store.search(q)] for q in _QUERIES}


def test_fresh_database_has_prefix_indexes_and_finds_short_prefixes(store: ChatStore) -> None:
    sql = store._conn.execute("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").fetchone()[0]
    assert "prefix='1 2 3'" in sql
    marathon, xian, maple, kyoto = _fill(store)
    found = _results(store)
    # "March", "maple", "Markets", "marathon": newest activity first
    assert found["m"] == found["ma"] == found["mar"] == [kyoto, maple, xian, marathon]
    assert found["mara"] == found["marathon"] == [marathon]
    assert found["ry"] == found["ryo"] == [kyoto]
    assert found["k"] == found["ky"] == found["kyo"] == [kyoto]
    assert found["西"] == found["西安"] == found["西安旅"] == [xian]  # title and message
    assert found["肉"] == found["肉夹"] == [xian]
    assert found["京都"] == found["桜"] == [kyoto]
    assert found["ma pre"] == [maple]  # both terms in one message
    assert found["mar tr"] == [marathon]
    assert found["zz"] == [] and found["有安"] == []


def _assert_still_version_1(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").fetchone()[0]
        assert "prefix='1'" in sql
    finally:
        conn.close()


def _make_v1_database(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A database written by the version-1 schema and store (messages_fts with prefix='1' only)."""
    # an answer left streaming by a crash: not in the index yet
    ids = write_old_database(path, 1, _HISTORY, then=[(0, "assistant", "Zucchini smoothies", "streaming")])
    _assert_still_version_1(path)
    return ids


def test_upgrades_a_version_1_database_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data" / "hailuo.sqlite3"
    marathon, xian, maple, kyoto = _make_v1_database(path, monkeypatch)
    reference = ChatStore(tmp_path / "fresh.sqlite3")  # the same history written by today's schema
    reference.add_message(_fill(reference)[0], "assistant", "Zucchini smoothies", status="streaming")

    store = ChatStore(path)
    try:
        conn = store._conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").fetchone()[0]
        assert "prefix='1 2 3'" in sql
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'messages_fts_v2%'").fetchall()
        assert store.count_conversations() == 4 and store.count_messages(marathon) == 3
        assert _results(store) == _results(reference)  # every query, 1-3 character prefixes included
        assert store.search("zucchini") == []  # still streaming: not indexed by the upgrade
        assert store.recover_interrupted() == 1
        assert [r.id for r in store.search("zuc")] == [marathon]
        # Deleting from the rebuilt contentless index repeats exactly the indexed text.
        store.delete_conversation(xian)
        assert store.search("西安") == [] and store.search("肉") == []
        store.update_message(store.last_message(maple).id, content="Mary prefers honey.")
        assert [r.id for r in store.search("hon")] == [maple]
        assert store.search("mar") == [r for r in store.search("mar") if r.id != xian]
        conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 0)")
        conn.execute("PRAGMA integrity_check").fetchone()
    finally:
        store.close()
        reference.close()
    again = ChatStore(path)  # reopening does not migrate again
    try:
        assert again._conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [r.id for r in again.search("ky")] == [kyoto]
    finally:
        again.close()


def test_a_failed_upgrade_leaves_the_version_1_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hailuo_tui.store import migrations

    path = tmp_path / "data" / "hailuo.sqlite3"
    _marathon, xian, _maple, _kyoto = _make_v1_database(path, monkeypatch)

    def broken(conn: sqlite3.Connection) -> None:
        migrations._v2(conn)
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [migrations.MIGRATIONS[0], broken])
        with pytest.raises(StoreError):
            ChatStore(path)
    _assert_still_version_1(path)
    store = ChatStore(path)  # and the next start upgrades it
    try:
        assert [r.id for r in store.search("西安")] == [xian]
    finally:
        store.close()


def test_corrupt_file_raises_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "hailuo.sqlite3"
    junk = os.urandom(8192)
    path.write_bytes(junk)
    with pytest.raises(StoreError) as err:
        ChatStore(path)
    assert err.value.path == str(path) and str(path) in err.value.message
    assert err.value.kind == "corrupt" and "damaged" in err.value.message
    assert path.read_bytes() == junk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hailuo.sqlite3"]
    kept = ChatStore.backup_corrupt(path)
    assert not path.exists() and kept.read_bytes() == junk
    assert kept.name.startswith("hailuo.sqlite3.corrupt-")
    s = ChatStore(path)  # a fresh one can be created after
    assert s.count_conversations() == 0
    s.close()


def test_newer_schema_raises_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "hailuo.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as err:
        ChatStore(path)
    assert err.value.kind == "newer"
    assert "newer hailuo-tui" in err.value.message and str(SCHEMA_VERSION + 5) in err.value.message
    assert path.read_bytes() == before
    assert not Path(str(path) + "-wal").exists()


# --- two writers ------------------------------------------------------------------


def test_two_instances_on_one_file(db_path: Path) -> None:
    one, two = ChatStore(db_path), ChatStore(db_path)
    c = one.create_conversation("shared")
    errors: list[BaseException] = []

    def write(s: ChatStore, tag: str) -> None:
        try:
            for i in range(100):
                s.add_message(c.id, "user", f"{tag} {i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, t)) for s, t in ((one, "one"), (two, "two"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert two.count_messages(c.id) == 200
    assert one.get_conversation(c.id).message_count == 200
    one.close()
    two.close()


_WRITER = """
import sys
from hailuo_tui.store import ChatStore
s = ChatStore(sys.argv[1])
cid = int(sys.argv[2])
for i in range(150):
    m = s.add_message(cid, "assistant", "", status="streaming")
    s.update_message(m.id, content=f"child {i}", status="complete")
s.close()
"""


def test_another_process_writes_concurrently(db_path: Path) -> None:
    s = ChatStore(db_path)
    c = s.create_conversation("busy")
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(db_path), str(c.id)], cwd=REPO)
    for i in range(150):
        s.add_message(c.id, "user", f"parent {i}")
    assert child.wait(timeout=60) == 0
    rows = s.messages(c.id)
    assert len(rows) == 300 and s.get_conversation(c.id).message_count == 300
    assert {m.content for m in rows} >= {"parent 149", "child 149"}
    assert s._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r.id for r in s.search("child")] == [c.id]
    s.close()


# --- async -------------------------------------------------------------------------


async def test_async_store_runs_off_the_loop_and_keeps_order(db_path: Path) -> None:
    store = await AsyncChatStore.open(db_path)
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = store.sync.add_message

    def spy(*args, **kwargs):
        seen.append(threading.get_ident())
        return original(*args, **kwargs)

    store.sync.add_message = spy  # type: ignore[method-assign]
    c = await store.create_conversation("async")
    results = await asyncio.gather(*(store.add_message(c.id, "user", f"n{i}") for i in range(30)))
    assert [m.content for m in results] == [f"n{i}" for i in range(30)]
    assert [m.content for m in await store.messages(c.id)] == [f"n{i}" for i in range(30)]
    assert seen and all(t != loop_thread for t in seen) and len(set(seen)) == 1
    a = await store.add_message(c.id, "assistant", "", status="streaming")
    await store.update_message(a.id, content="partial", status="failed", error="x")
    await store.update_message(a.id, error=None)
    assert (await store.last_message(c.id)).error is None
    assert (await store.count_messages(c.id)) == 31
    assert [r.id for r in await store.search("n1")] == [c.id]
    assert (await store.list_conversations())[0].id == c.id
    await store.close()


async def test_async_open_reports_store_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError):
        await AsyncChatStore.open(path)


async def test_a_store_opened_before_the_loop_runs_is_taken_by_services(tmp_path: Path, monkeypatch) -> None:
    """cli.run_app starts opening the database before Textual's imports (services.start_opening_store, on the
    store's own thread, no event loop yet); Services.open_store takes that one when it is the same file."""
    from hailuo_tui.config import Config, Paths
    from hailuo_tui.services import EARLY_STORE_ENV, Options, Services, _opening, start_opening_store
    from hailuo_tui.store.async_store import PendingStore

    paths = Paths.under(tmp_path / "data")
    pending = _opening(paths)  # creates the data directory too, on the worker
    services = Services(Config(), paths, Options())
    store = await services.open_store(pending)
    assert store._executor is pending._executor and paths.db_path.exists()
    c = await store.create_conversation("early")
    assert [r.id for r in await store.list_conversations()] == [c.id]
    await store.close()
    # Another file than the one pending: the pending one is closed, the right one opened.
    other = PendingStore(tmp_path / "other.sqlite3")
    store = await services.open_store(other)
    assert store.sync is not None and other._executor._shutdown
    assert [r.id for r in await store.list_conversations()] == [c.id]
    await store.close()
    monkeypatch.setenv(EARLY_STORE_ENV, "0")
    assert start_opening_store(Options()) is None


async def test_a_pending_store_abandoned_or_failed_closes_cleanly(tmp_path: Path) -> None:
    from hailuo_tui.store.async_store import PendingStore

    pending = PendingStore(tmp_path / "a.sqlite3")
    pending.abandon()  # the app ended before it took the store: closed on its thread, the thread gone
    assert pending._executor._shutdown
    with pytest.raises(sqlite3.ProgrammingError):  # its connection is closed
        pending._future.result()._conn.execute("SELECT 1")
    ChatStore(tmp_path / "a.sqlite3").close()  # the file is whole and free
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database at all" * 100)
    failing = PendingStore(bad)
    with pytest.raises(StoreError):
        await failing.result()
    PendingStore(bad).abandon()  # nothing opened: nothing to close
    blocked = PendingStore(tmp_path / "x.sqlite3", before=lambda: (_ for _ in ()).throw(StoreError("x", "no")))
    with pytest.raises(StoreError):
        await blocked.result()


def test_store_imports_no_ui_and_does_nothing_at_import(tmp_path: Path) -> None:
    code = (
        "import sys, hailuo_tui.store, hailuo_tui.config;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')];"
        "assert not bad, bad"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "d"),
           "XDG_CONFIG_HOME": str(tmp_path / "c")}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)
    assert list(tmp_path.iterdir()) == []
