"""Schema 3: per-conversation backend settings, reasoning and usage, and how a version-2 file gets there."""

from __future__ import annotations

import ast
import inspect
import json
import os
import sqlite3
import threading
from pathlib import Path

import pytest

from hailuo_tui.domain import MessageStatus, Role
from hailuo_tui.store import AsyncChatStore, ChatStore, migrations
from tests.unit.old_store_files import upgrade_fails_leaving_the_file_as_it_was, write_old_database

STORE_DIR = Path(__file__).resolve().parents[2] / "hailuo_tui" / "store"

_V2_HISTORY = [
    ("Marathon training plan", [("user", "How should I train for a marathon?"), ("assistant", "Run slowly, mostly.")]),
    ("西安旅行计划", [("user", "西安有什么好吃的？"), ("assistant", "肉夹馍和凉皮。", "interrupted")]),
    (None, [("user", "maple syrup or honey"), ("assistant", "", "failed")]),
    ("Kyoto", [("user", "Kyoto in March, 京都の桜", "pending"), ("assistant", "Book the ryokan early.")]),
]


@pytest.fixture
def store(tmp_path: Path):
    s = ChatStore(tmp_path / "hailuo.sqlite3")
    yield s
    s.close()


def _v2_file(tmp_path: Path) -> tuple[Path, list[int]]:
    path = tmp_path / "data" / "hailuo.sqlite3"
    ids = write_old_database(path, 2, _V2_HISTORY, then=[(0, "assistant", "Zucchini smoothies", "streaming")])
    return path, ids


def _raw(path: Path) -> tuple[list[tuple], list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        convs = conn.execute(
            "SELECT id, title, title_locked, chat_id, token_fp, created_at, updated_at, message_count "
            "FROM conversations ORDER BY id"
        ).fetchall()
        msgs = conn.execute(
            "SELECT id, conversation_id, role, content, status, error, created_at, updated_at FROM messages ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return convs, msgs


def _fts_integrity(conn: sqlite3.Connection) -> None:
    for table in ("messages_fts", "reasoning_fts", "titles_fts"):
        conn.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 0)")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# --- upgrading a version-2 file -------------------------------------------------------


def test_a_version_2_file_upgrades_in_place_with_every_row_unchanged(tmp_path: Path) -> None:
    path, (marathon, xian, maple, kyoto) = _v2_file(tmp_path)
    convs_before, msgs_before = _raw(path)
    inode = path.stat().st_ino
    assert len(msgs_before) == 9

    store = ChatStore(path)
    try:
        conn = store._conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION >= 3
        assert path.stat().st_ino == inode  # the same file, not a copy moved into place
        convs = sorted(store.list_conversations(), key=lambda c: c.id)
        assert [(c.id, c.title, c.title_locked, c.chat_id, c.token_fp, c.created_at, c.updated_at, c.message_count)
                for c in convs] == [(*row[:2], bool(row[2]), *row[3:]) for row in convs_before]
        assert {(c.backend, c.model, c.system_prompt) for c in convs} == {("web", None, None)}
        msgs = [m for cid in (marathon, xian, maple, kyoto) for m in store.messages(cid)]
        assert [(m.id, m.conversation_id, m.role, m.content, m.status, m.error, m.created_at, m.updated_at)
                for m in sorted(msgs, key=lambda m: m.id)] == msgs_before
        assert {(m.reasoning, m.usage) for m in msgs} == {("", None)}
        # schema 5: each conversation is one branch, each message after the one before it, one version each
        for cid in (marathon, xian, maple, kyoto):
            branch = store.messages(cid)
            assert [m.parent_id for m in branch] == [None, *(m.id for m in branch[:-1])]
            assert {(m.version, m.versions) for m in branch} == {(1, 1)}
            assert store.get_conversation(cid).leaf_id == branch[-1].id
        # the indexes the version-2 store wrote still answer, and still match on delete
        assert [r.id for r in store.search("西安")] == [xian]
        assert [r.id for r in store.search("ryo")] == [kyoto]
        assert store.search("zucchini") == []  # still streaming
        assert store.search("zucchini", include_reasoning=True) == []
        assert store.recover_interrupted() == 1
        assert [r.id for r in store.search("zuc")] == [marathon]
        store.delete_conversation(xian)
        assert store.search("肉") == []
        _fts_integrity(conn)
    finally:
        store.close()
    again = ChatStore(path)  # reopening does not migrate again
    try:
        assert again._conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
        assert again.count_conversations() == 3
    finally:
        again.close()


def test_a_failed_upgrade_leaves_the_version_2_file_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, (_marathon, xian, _maple, _kyoto) = _v2_file(tmp_path)
    upgrade_fails_leaving_the_file_as_it_was(path, 2, monkeypatch)
    store = ChatStore(path)  # the next start upgrades it
    try:
        assert store.get_conversation(xian).backend == "web"
        assert [r.id for r in store.search("西安")] == [xian]
    finally:
        store.close()


# --- settings, reasoning, usage -------------------------------------------------------------


def test_conversation_settings_round_trip(store: ChatStore) -> None:
    web = store.create_conversation("plain")
    assert (web.backend, web.model, web.system_prompt) == ("web", None, None)
    api = store.create_conversation("api chat", backend="api", model="MiniMax-M2", system_prompt="Be brief.")
    assert store.get_conversation(api.id) == api
    assert (api.backend, api.model, api.system_prompt) == ("api", "MiniMax-M2", "Be brief.")

    row = store.set_conversation_settings(api.id, model=None)  # only model changes, to "the default"
    assert (row.backend, row.model, row.system_prompt) == ("api", None, "Be brief.")
    row = store.set_conversation_settings(api.id, system_prompt="Answer in French.", model="MiniMax-M1")
    assert (row.backend, row.model, row.system_prompt) == ("api", "MiniMax-M1", "Answer in French.")
    row = store.set_conversation_settings(api.id, backend="web", system_prompt=None)
    assert (row.backend, row.model, row.system_prompt) == ("web", "MiniMax-M1", None)
    assert store.set_conversation_settings(api.id) == row  # nothing given: nothing changes
    assert store.get_conversation(api.id) == row
    assert {c.id: c.model for c in store.list_conversations()} == {api.id: "MiniMax-M1", web.id: None}
    assert [c.model for c in store.search("api")] == ["MiniMax-M1"]

    with pytest.raises(ValueError):
        store.create_conversation("x", backend="carrier-pigeon")
    with pytest.raises(ValueError):
        store.set_conversation_settings(api.id, backend="")
    with pytest.raises(KeyError):
        store.set_conversation_settings(9999, model="m")
    assert store.get_conversation(api.id) == row


def test_usage_and_reasoning_round_trip(store: ChatStore) -> None:
    c = store.create_conversation()
    usage = {"model": "MiniMax-M2", "prompt_tokens": 12, "completion_tokens": 340,
             "reasoning_tokens": 200, "seconds": 4.25}
    a = store.add_message(c.id, "assistant", "", status="streaming")
    assert (a.reasoning, a.usage) == ("", None)
    store.update_message(a.id, reasoning="Let me think… 先想一想", content="Forty-two.")
    store.update_message(a.id, status="complete", usage=usage)
    got = store.last_message(c.id)
    assert got.usage == usage and got.reasoning == "Let me think… 先想一想" and got.content == "Forty-two."
    assert got.status is MessageStatus.COMPLETE and got.role is Role.ASSISTANT
    store.update_message(a.id, content="Forty-three.")  # usage=None leaves it as it is
    assert store.last_message(c.id).usage == usage
    stored = store._conn.execute("SELECT usage FROM messages WHERE id = ?", (a.id,)).fetchone()[0]
    assert json.loads(stored) == usage
    b = store.add_message(c.id, "assistant", "hi", reasoning="greeting", usage={"seconds": 0.5})
    assert store.messages(c.id)[-1] == b
    # A cell another program spoiled does not hide the message.
    store._conn.execute("UPDATE messages SET usage = '[1, 2' WHERE id = ?", (b.id,))
    assert store.messages(c.id)[-1].usage is None


def test_reasoning_is_searched_only_when_asked(store: ChatStore) -> None:
    c = store.create_conversation("numbers")
    other = store.create_conversation("other")
    a = store.add_message(c.id, "assistant", "", status="streaming")
    store.update_message(a.id, reasoning="pondering quaternions and 四元数", content="The answer is i.")
    # streaming: in no index
    assert store.search("quatern", include_reasoning=True) == []
    store.update_message(a.id, status="complete")
    assert store.search("quatern") == [] and store.search("四元") == []
    found = store.search("quatern", include_reasoning=True)
    assert [r.id for r in found] == [c.id] and "quaternions" in found[0].snippet
    assert [r.id for r in store.search("四元", include_reasoning=True)] == [c.id]
    assert [r.id for r in store.search("answer", include_reasoning=True)] == [c.id]  # answers too
    assert "answer" in store.search("answer", include_reasoning=True)[0].snippet
    # a complete message's reasoning edited: the index follows, the old words leave it
    store.update_message(a.id, reasoning="now about octonions")
    assert store.search("quatern", include_reasoning=True) == []
    assert [r.id for r in store.search("octo", include_reasoning=True)] == [c.id]
    # added complete, and recovered after a crash
    store.add_message(other.id, "assistant", "fine", reasoning="tesseract")
    s = store.add_message(other.id, "assistant", "half", status="streaming", reasoning="hypercube")
    assert store.search("hypercube", include_reasoning=True) == []
    assert store.recover_interrupted() == 1
    assert [r.id for r in store.search("hyper", include_reasoning=True)] == [other.id]
    store.delete_message(s.id)
    assert store.search("hyper", include_reasoning=True) == []
    store.delete_conversation(c.id)
    assert store.search("octo", include_reasoning=True) == []
    assert [r.id for r in store.search("tess", include_reasoning=True)] == [other.id]
    _fts_integrity(store._conn)


# --- shape ---------------------------------------------------------------------------


def _store_imports(module: Path) -> set[str]:
    """Modules of hailuo_tui.store that ``module`` imports anywhere (functions and TYPE_CHECKING too)."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [node.module] if node.module else [a.name for a in node.names]
                found.update(f"hailuo_tui.store.{n.split('.')[0]}" for n in names)
            elif node.module and node.module.startswith("hailuo_tui.store."):
                found.add(".".join(node.module.split(".")[:3]))
        elif isinstance(node, ast.Import):
            found.update(".".join(a.name.split(".")[:3]) for a in node.names if a.name.startswith("hailuo_tui.store."))
    return found


def test_store_modules_import_no_cycle_and_stay_small() -> None:
    graph = {f"hailuo_tui.store.{p.stem}": _store_imports(p) for p in STORE_DIR.glob("*.py") if p.stem != "__init__"}
    assert graph["hailuo_tui.store.migrations"] == {"hailuo_tui.store.fts"}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    assert [m for m in graph if reaches(m, m, set())] == []
    sizes = {p.name: len(p.read_text().splitlines()) for p in STORE_DIR.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes


def test_the_async_store_offers_every_query_with_the_same_signature() -> None:
    # The store's own calls and those of the parts it is made of (store/branches.py).
    own = {n: f for cls in reversed(ChatStore.__mro__[:-1]) for n, f in vars(cls).items()}
    public = {n for n, f in own.items() if callable(f) and not n.startswith("_")}
    assert public - {"close", "backup_corrupt"} == {
        n for n, f in vars(AsyncChatStore).items() if callable(f) and not n.startswith("_")
    } - {"close", "open"}
    for name in public - {"close", "backup_corrupt"}:
        method = getattr(AsyncChatStore, name)
        assert inspect.iscoroutinefunction(method), name
        assert inspect.signature(method) == inspect.signature(getattr(ChatStore, name)), name


async def test_async_settings_and_search_run_on_the_one_worker(tmp_path: Path) -> None:
    store = await AsyncChatStore.open(tmp_path / "a.sqlite3")
    threads: set[int] = set()
    original = store.sync.set_conversation_settings

    def spy(*args, **kwargs):
        threads.add(threading.current_thread().name)
        return original(*args, **kwargs)

    store.sync.set_conversation_settings = spy  # type: ignore[method-assign]
    try:
        c = await store.create_conversation("t", backend="api")
        row = await store.set_conversation_settings(c.id, model="MiniMax-M2")
        assert (row.backend, row.model) == ("api", "MiniMax-M2")
        m = await store.add_message(c.id, "assistant", "ok", reasoning="deliberation")
        await store.update_message(m.id, usage={"seconds": 1.0})
        assert (await store.last_message(c.id)).usage == {"seconds": 1.0}
        assert await store.search("deliber") == []
        assert [r.id for r in await store.search("deliber", include_reasoning=True)] == [c.id]
        assert len(threads) == 1 and threads.pop().startswith("hailuo-store")
    finally:
        await store.close()
    assert not os.path.exists(tmp_path / "a.sqlite3-wal")
