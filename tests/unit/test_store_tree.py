"""Schema 5: the messages as a tree (edits and regenerated answers keep the older versions), on real files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hailuo_tui.history import export_markdown, export_tree_markdown
from hailuo_tui.store import ChatStore, migrations
from tests.unit.old_store_files import upgrade_fails_leaving_the_file_as_it_was, write_old_database

_V4_HISTORY = [
    ("Marathon training plan", [("user", "How should I train for a marathon?"), ("assistant", "Run slowly, mostly.")]),
    ("西安旅行计划", [("user", "西安有什么好吃的？"), ("assistant", "肉夹馍和凉皮。", "interrupted")]),
    ("Empty", []),
]
# Added afterwards, interleaved: a message's parent is the previous one of its own conversation, not by id.
_THEN = [(0, "user", "And the week before?", "complete"), (1, "user", "还有呢？", "complete"),
         (0, "assistant", "Rest, mostly.", "complete"), (1, "assistant", "", "streaming")]


@pytest.fixture
def store(tmp_path: Path):
    s = ChatStore(tmp_path / "tree.sqlite3")
    try:
        yield s
    finally:
        s.close()


def _v4_file(tmp_path: Path) -> tuple[Path, list[int]]:
    path = tmp_path / "hailuo.sqlite3"
    ids = write_old_database(path, 4, _V4_HISTORY, _THEN)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE conversations SET chat_id = '248123456789012345', token_fp = 'abcd' WHERE id = ?", (ids[0],))
    conn.commit()
    conn.close()
    return path, ids


def _shown(rows) -> list[tuple]:
    return [(m.id, m.role, m.content, m.status) for m in rows]


def test_a_version_4_file_becomes_one_branch_per_conversation_showing_the_same(tmp_path: Path) -> None:
    path, (marathon, xian, empty) = _v4_file(tmp_path)
    conn = sqlite3.connect(path)
    before = {
        cid: conn.execute(
            "SELECT id, role, content, status FROM messages WHERE conversation_id = ? ORDER BY id", (cid,)
        ).fetchall()
        for cid in (marathon, xian, empty)
    }
    counts = conn.execute("SELECT id, message_count FROM conversations ORDER BY id").fetchall()
    conn.close()
    store = ChatStore(path)
    try:
        assert store._conn.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION == 5
        for cid, rows in before.items():
            shown = store.messages(cid)
            assert _shown(shown) == rows
            assert [m.parent_id for m in shown] == ([None] + [m.id for m in shown[:-1]])[: len(shown)]
            assert all((m.version, m.versions) == (1, 1) for m in shown)
            assert store.messages(cid, limit=2) == shown[-2:]
        assert store._conn.execute("SELECT id, message_count FROM conversations ORDER BY id").fetchall() == counts
        rows = {c.id: c for c in store.list_conversations()}
        assert rows[marathon].leaf_id == rows[marathon].remote_leaf_id == before[marathon][-1][0]
        assert rows[xian].leaf_id == before[xian][-1][0] and rows[xian].remote_leaf_id is None  # no server chat
        assert rows[empty].leaf_id is None and store.messages(empty) == []
        assert store.last_message(marathon).content == "Rest, mostly."
        assert store.last_message(xian, role="user").content == "还有呢？"
        assert [r.id for r in store.search("week")] == [marathon]  # the indexes are as they were
        assert [r.id for r in store.search("西安")] == [xian]
        assert store.search("肉夹") and store.recover_interrupted() == 1
        index = [row[1] for row in store._conn.execute("PRAGMA index_list(messages)")]
        assert "messages_by_parent" in index
    finally:
        store.close()


def test_a_failed_upgrade_leaves_the_version_4_file_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, (marathon, _xian, _empty) = _v4_file(tmp_path)
    upgrade_fails_leaving_the_file_as_it_was(path, 4, monkeypatch)
    store = ChatStore(path)  # the next start upgrades it
    try:
        assert [m.content for m in store.messages(marathon)][-1] == "Rest, mostly."
    finally:
        store.close()


def _conversation(store: ChatStore, turns: int, title: str = "tree") -> tuple[int, list]:
    """A conversation of ``turns`` complete question/answer turns; its id and rows."""
    c = store.create_conversation(title)
    for n in range(1, turns + 1):
        _user, answer = store.add_turn(c.id, f"question {n}")
        store.update_message(answer.id, content=f"answer {n}", status="complete")
    return c.id, store.messages(c.id)


def test_a_turn_follows_the_leaf_or_the_parent_given(store: ChatStore) -> None:
    cid, rows = _conversation(store, 2)
    assert [m.parent_id for m in rows] == [None, rows[0].id, rows[1].id, rows[2].id]
    assert store.get_conversation(cid).leaf_id == rows[-1].id
    # an edited second question: a sibling of the old one, the old one stays
    edited, answer = store.add_turn(cid, "question 2, edited", parent_id=rows[1].id)
    assert (edited.parent_id, answer.parent_id) == (rows[1].id, edited.id)
    assert (edited.version, edited.versions) == (2, 2)
    shown = store.messages(cid)
    assert [m.content for m in shown] == ["question 1", "answer 1", "question 2, edited", ""]
    assert [(m.version, m.versions) for m in shown] == [(1, 1), (1, 1), (2, 2), (1, 1)]
    assert store.count_messages(cid) == store.get_conversation(cid).message_count == 6  # every branch
    # a regenerated first answer: no question, the answer follows the question given
    none, again = store.add_turn(cid, None, parent_id=rows[0].id)
    assert none is None and again.parent_id == rows[0].id
    assert [(m.id, m.version, m.versions) for m in store.messages(cid)] == [(rows[0].id, 1, 1), (again.id, 2, 2)]
    assert store.last_message(cid).id == again.id
    assert store.last_message(cid, role="user").id == rows[0].id
    # a first message of its own
    first = store.add_message(cid, "user", "a new start", parent_id=None)
    assert (first.parent_id, first.version, first.versions) == (None, 2, 2)
    other, _ = _conversation(store, 1, "other")
    with pytest.raises(ValueError):
        store.add_message(cid, "user", "x", parent_id=store.messages(other)[0].id)
    with pytest.raises(KeyError):
        store.add_turn(10_000, "x", parent_id=None)


def test_paging_over_a_branch_and_switching_there_and_back(store: ChatStore) -> None:
    cid, rows = _conversation(store, 10)
    # edit question 4, then four more turns on the new branch
    edited, answer = store.add_turn(cid, "question 4b", parent_id=rows[5].id)
    store.update_message(answer.id, content="answer 4b", status="complete")
    for n in range(5, 9):
        store.add_turn(cid, f"question {n}b")
    branch = store.messages(cid)
    assert [m.content for m in branch[:8]] == [m.content for m in rows[:6]] + ["question 4b", "answer 4b"]
    assert len(branch) == 6 + 2 + 8
    # pages: the last ones, then those above the oldest shown, down to the first message
    page = store.messages(cid, limit=5)
    assert page == branch[-5:]
    seen = list(page)
    while older := store.messages(cid, limit=5, before_id=seen[0].id):
        seen = older + seen
    assert seen == branch
    assert store.messages(cid, limit=1, before_id=branch[0].id) == []
    assert store.messages(cid, before_id=edited.id) == branch[:6]
    # back to the first version of question 4: the rest shows as it was on that branch
    old_question = rows[6]
    leaf = store.switch_version(edited.id, -1)
    assert leaf == rows[-1].id == store.get_conversation(cid).leaf_id
    assert _shown(store.messages(cid)) == _shown(store.path_to(rows[-1].id))
    assert [m.content for m in store.messages(cid)] == [m.content for m in rows]
    assert [(m.version, m.versions) for m in store.messages(cid) if m.id == old_question.id] == [(1, 2)]
    assert store.switch_version(old_question.id, -1) is None  # no wrapping around
    assert store.switch_version(old_question.id, 1) == branch[-1].id
    assert store.messages(cid) == branch
    assert store.switch_version(edited.id, 1) is None
    with pytest.raises(KeyError):
        store.switch_version(10_000, 1)


def test_open_at_and_messages_around_show_a_message_on_another_branch(store: ChatStore) -> None:
    cid, rows = _conversation(store, 6)
    edited, _ = store.add_turn(cid, "question 3b", parent_id=rows[3].id)
    new_leaf = store.get_conversation(cid).leaf_id
    assert store.open_at(rows[2].id) == new_leaf  # on the branch shown: nothing changes
    assert store.open_at(rows[8].id) == rows[-1].id  # the old branch: its newest message
    assert store.messages(cid) == store.path_to(rows[-1].id)
    shown, older = store.messages_around(cid, edited.id, 2)  # a search hit on the other branch
    assert store.get_conversation(cid).leaf_id == new_leaf
    assert [m.content for m in shown] == ["question 2", "answer 2", "question 3b", ""]
    assert older is True
    shown, older = store.messages_around(cid, rows[1].id, 5)
    assert shown[0].id == rows[0].id and shown[-1].id == new_leaf and older is False
    assert store.messages_around(cid, rows[0].id, 0) == (store.messages(cid), False)
    assert [m.id for m in store.path_to(rows[4].id)] == [m.id for m in rows[:5]]
    assert store.path_to(10_000) == []


def test_delete_branch_removes_the_subtree_and_moves_the_leaf(store: ChatStore) -> None:
    cid, rows = _conversation(store, 3)
    q2 = rows[2]
    # three versions of question 2, each with an answer
    v2, a2 = store.add_turn(cid, "zucchini version", parent_id=q2.parent_id)
    v3, a3 = store.add_turn(cid, "question 2, third", parent_id=q2.parent_id)
    store.update_message(a2.id, content="kohlrabi answer", status="complete")
    assert store.messages(cid)[-2].id == v3.id
    assert [r.id for r in store.search("kohlrabi")] == [cid]
    # not on the branch shown: the leaf stays
    assert store.delete_branch(v2.id) == a3.id
    assert store.search("zucchini") == [] and store.search("kohlrabi") == []
    assert store.count_messages(cid) == store.get_conversation(cid).message_count == 6 + 2
    # the shown (last) version: the previous one's newest message is shown
    assert store.delete_branch(v3.id) == rows[-1].id
    assert [m.id for m in store.messages(cid)] == [m.id for m in rows]
    # the first version, shown, with a later sibling: the next one is shown
    v4, a4 = store.add_turn(cid, "question 2, fourth", parent_id=q2.parent_id)
    store.switch_version(v4.id, -1)
    assert store.delete_branch(q2.id) == a4.id
    assert store.get_conversation(cid).message_count == 4
    # no sibling left: the parent
    assert store.delete_branch(v4.id) == rows[1].id
    assert [m.id for m in store.messages(cid)] == [rows[0].id, rows[1].id]
    assert store.delete_branch(rows[0].id) is None and store.messages(cid) == []
    assert store.get_conversation(cid).message_count == 0
    with pytest.raises(KeyError):
        store.delete_branch(rows[0].id)


def test_delete_message_splices_and_a_deleted_server_leaf_is_forgotten(store: ChatStore) -> None:
    cid, rows = _conversation(store, 2)
    store.set_remote_chat(cid, "248123456789012345", "abcd", rows[-1].id)
    assert store.get_conversation(cid).remote_leaf_id == rows[-1].id
    store.delete_message(rows[1].id)  # the first answer: the second question follows the first one
    assert [m.id for m in store.messages(cid)] == [rows[0].id, rows[2].id, rows[3].id]
    store.delete_message(rows[3].id)  # the leaf, which the server chat held
    row = store.get_conversation(cid)
    assert row.leaf_id == rows[2].id and row.remote_leaf_id is None and row.chat_id
    store.set_remote_chat(cid, None, None)
    assert store.get_conversation(cid).remote_leaf_id is None


def test_fork_copies_the_path_into_a_new_conversation_found_by_search(store: ChatStore) -> None:
    c = store.create_conversation("Soups", backend="api", model="MiniMax-M2", system_prompt="Be brief.")
    user, answer = store.add_turn(c.id, "How do I make borscht?")
    store.update_message(answer.id, content="Beetroot first.", status="complete", reasoning="think beets",
                         usage={"model": "MiniMax-M2"}, sources=[("Soup", "https://example.com")],
                         follow_ups=["And shchi?"])
    store.add_turn(c.id, "and after that?")
    store.set_remote_chat(c.id, "248123456789012345", "abcd", answer.id)
    fork = store.fork_conversation(answer.id, "Soups (fork)")
    assert fork.id != c.id and (fork.title, fork.title_locked, fork.chat_id, fork.remote_leaf_id) == (
        "Soups (fork)", False, None, None)
    assert (fork.backend, fork.model, fork.system_prompt) == ("api", "MiniMax-M2", "Be brief.")
    copies = store.messages(fork.id)
    assert [(m.role, m.content, m.status) for m in copies] == [
        ("user", "How do I make borscht?", "complete"), ("assistant", "Beetroot first.", "complete")]
    assert copies[1].parent_id == copies[0].id and fork.leaf_id == copies[1].id
    assert (copies[1].reasoning, copies[1].usage, copies[1].sources, copies[1].follow_ups) == (
        "think beets", {"model": "MiniMax-M2"}, (("Soup", "https://example.com"),), ("And shchi?",))
    assert fork.message_count == 2 and store.count_messages(c.id) == 4
    assert {r.id for r in store.search("borscht")} == {c.id, fork.id}
    hit = next(r for r in store.search("beetroot") if r.id == fork.id)
    assert hit.hit_message_id == copies[1].id
    assert store.search("beets", include_reasoning=True)
    assert fork.title_provisional
    # The web chat's title of a replayed history is not the fork's own: kept. A title made from the
    # whole history (the API's) replaces it, once; after that, the fork's title is its own.
    assert store.apply_server_title(fork.id, "User: I want soup") is False
    assert store.apply_server_title(fork.id, "Borscht", over_provisional=True) is True
    row = store.get_conversation(fork.id)
    assert (row.title, row.title_provisional) == ("Borscht", False)
    assert store.apply_server_title(fork.id, "Later", over_provisional=True) is False
    second = store.fork_conversation(answer.id, "Soups (fork)")
    store.rename(second.id, "Mine")
    assert store.apply_server_title(second.id, "Theirs", over_provisional=True) is False
    with pytest.raises(KeyError):
        store.fork_conversation(10_000, "nothing")


def test_a_search_hit_names_the_oldest_matching_message(store: ChatStore) -> None:
    cid, rows = _conversation(store, 4, "Walnut cake")
    store.update_message(rows[3].id, content="use walnuts", status="complete")
    store.update_message(rows[7].id, content="more walnuts", status="complete")
    found = store.search("walnut")
    assert [(r.id, r.hit_message_id) for r in found] == [(cid, rows[3].id)]
    assert store.search("cake")[0].hit_message_id is None  # the title only
    assert store.search("walnuts", snippets=False)[0].hit_message_id == rows[3].id


def test_every_branch_exports_as_nested_sections(store: ChatStore) -> None:
    cid, rows = _conversation(store, 2, "Branches")
    second, _ = store.add_turn(cid, "question 2, again", parent_id=rows[1].id)
    store.add_turn(cid, None, parent_id=second.id)
    text = export_tree_markdown("Branches", store.all_messages(cid))
    assert text.splitlines() == [
        "# Branches", "",
        "## You", "", "question 1", "",
        "## Hailuo", "", "answer 1", "",
        "### Version 1 of 2", "",
        "#### You", "", "question 2", "",
        "#### Hailuo", "", "answer 2", "",
        "### Version 2 of 2", "",
        "#### You", "", "question 2, again", "",
        "##### Version 1 of 2", "",
        "###### Hailuo", "", "_(streaming)_", "",
        "##### Version 2 of 2", "",
        "###### Hailuo", "", "_(streaming)_",
    ]
    # the branch on screen alone, as before
    assert export_markdown("Branches", store.messages(cid)).count("## ") == 4
    assert [m.versions for m in store.all_messages(cid)] == [1, 1, 2, 1, 2, 2, 2]


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_keep_the_tree_whole(store: ChatStore, seed: int) -> None:
    """Whatever is added, switched, opened or deleted, the branch shown is a path from a first message
    to the leaf, every page of it is a slice of it, the counts hold and the index holds what is left."""
    import random

    rnd = random.Random(seed)
    cid = store.create_conversation("random").id
    for step in range(60):
        every = store.all_messages(cid)
        op = rnd.random()
        if not every or op < 0.45:
            parent = rnd.choice([None, *(m.id for m in every)]) if every and rnd.random() < 0.5 else None
            text = f"turn{step} word{rnd.randrange(5)}"
            if parent is None and every and rnd.random() < 0.7:
                store.add_turn(cid, text)  # after the leaf
            else:
                store.add_turn(cid, text, parent_id=parent)
        elif op < 0.65:
            store.switch_version(rnd.choice(every).id, rnd.choice((-1, 1)))
        elif op < 0.8:
            store.open_at(rnd.choice(every).id)
        else:
            store.delete_branch(rnd.choice(every).id)
        every = store.all_messages(cid)
        ids = {m.id for m in every}
        row = store.get_conversation(cid)
        assert row.message_count == store.count_messages(cid) == len(every)
        branch = store.messages(cid)
        assert (branch[-1].id if branch else None) == row.leaf_id
        assert [m.parent_id for m in branch] == ([None] + [m.id for m in branch[:-1]])[: len(branch)]
        assert all(m.parent_id is None or m.parent_id in ids for m in every)  # nothing left hanging
        for m in branch:
            siblings = sorted(s.id for s in every if s.parent_id == m.parent_id)
            assert (m.version, m.versions) == (siblings.index(m.id) + 1, len(siblings))
        size = rnd.randint(1, 4)
        pages = store.messages(cid, limit=size)
        while pages and (older := store.messages(cid, limit=size, before_id=pages[0].id)):
            pages = older + pages
        assert pages == branch
    found = {r.id for r in store.search("word0")} | {r.id for r in store.search("word1")}
    words = {m.content.split()[-1] for m in store.all_messages(cid) if m.role == "user"}
    assert (cid in found) == bool(words & {"word0", "word1"})
