"""Answers on a branch: a regenerated or edited turn is a new version, and the web chat follows the branch.

A plain host, a real store file and the emulator over HTTP, as in test_reply_session.py.
"""

from __future__ import annotations

import asyncio

from hailuo_tui.domain import MessageStatus
from hailuo_tui.provider.login import token_login
from hailuo_tui.provider.minimax import MiniMaxAPI
from hailuo_tui.provider.web_backend import WebBackend
from hailuo_tui.reply_session import ReplySession
from tests.unit import test_reply_session as sessions
from tests.unit.test_reply_session import Host

#: The same fixtures as the reply session's tests: a real store file, the emulator.
store = sessions.store
emu = sessions.emu


async def _ask(store, host, cid, text, **kwargs):
    user, reply = await ReplySession.begin(store, cid, text, **kwargs)
    await asyncio.wait_for(reply.run(host), 30)
    assert reply.final[0] == MessageStatus.COMPLETE
    return user, reply


def _sent(emu) -> list[dict]:
    """The forms of the chat requests the emulator received, oldest first."""
    return [r.form for r in emu.requests if r.form and "msgContent" in r.form]


async def test_web_chat_continues_on_its_line_and_a_new_branch_starts_a_new_chat(store, emu):
    host = Host(WebBackend(await token_login(emu.demo_token, emu.url), base_url=emu.url))
    host.store = store
    cid = (await store.create_conversation()).id
    await _ask(store, host, cid, "first question about rivers")
    first_chat = (await store.get_conversation(cid)).chat_id
    q2, a2 = await _ask(store, host, cid, "second question about lakes")
    row = await store.get_conversation(cid)
    assert _sent(emu)[-1]["chatID"] == first_chat == row.chat_id  # the current line: the same server chat
    assert row.remote_leaf_id == a2.message_id

    # regenerate the second answer: a new version beside the old one, asked in a new server chat
    _, again = await _ask(store, host, cid, None, parent_id=q2.id)
    form = _sent(emu)[-1]
    assert form["chatID"] == "0"
    assert form["msgContent"].startswith("User: first question about rivers\nAssistant: ")
    assert form["msgContent"].endswith("User: second question about lakes\nAssistant:")
    assert a2.text not in form["msgContent"]  # the old version is not on this branch
    rows = await store.messages(cid)
    assert [m.id for m in rows][-1] == again.message_id
    assert [(rows[-1].version, rows[-1].versions)] == [(2, 2)]
    assert (await store.count_messages(cid)) == 5  # the old answer is kept
    second_chat = (await store.get_conversation(cid)).chat_id
    assert second_chat != first_chat

    # going on from the new version continues the new chat
    await _ask(store, host, cid, "third question about seas")
    assert _sent(emu)[-1]["chatID"] == second_chat and _sent(emu)[-1]["msgContent"] == "third question about seas"

    # back to the first version of the answer, and a question after it: a new chat with that branch folded
    assert await store.switch_version(again.message_id, -1) == a2.message_id
    await _ask(store, host, cid, "fourth question about ponds")
    form = _sent(emu)[-1]
    assert form["chatID"] == "0" and a2.text.splitlines()[0] in form["msgContent"]
    assert "third question" not in form["msgContent"]
    shown = await store.messages(cid)
    assert [m.content for m in shown if m.role == "user"] == [
        "first question about rivers", "second question about lakes", "fourth question about ponds"]


async def test_an_edited_question_is_a_new_version_and_the_api_gets_its_branch(store, emu):
    host = Host(MiniMaxAPI(emu.demo_api_key, base_url=emu.api_base_url))
    host.store = store
    cid = (await store.create_conversation(backend="api")).id
    q1, _ = await _ask(store, host, cid, "Say hello in one line")
    q2, _ = await _ask(store, host, cid, "Now about the weather")
    edited, _ = await _ask(store, host, cid, "Now about cooking", parent_id=q2.parent_id)
    sent = [r.json for r in emu.requests if r.path.endswith("/chat/completions")][-1]["messages"]
    contents = [m["content"] for m in sent if m["role"] == "user"]
    assert contents == ["Say hello in one line", "Now about cooking"]  # the old question is not sent
    rows = await store.messages(cid)
    assert rows[2].id == edited.id and (rows[2].version, rows[2].versions) == (2, 2)
    assert await store.switch_version(edited.id, -1) is not None
    assert [m.content for m in await store.messages(cid)][2] == "Now about the weather"
    assert q1.parent_id is None


def test_server_conversation_continues_only_from_the_chats_last_message():
    from types import SimpleNamespace

    from hailuo_tui.history import server_conversation
    from hailuo_tui.provider.models import AuthResult

    auth = AuthResult("tok-abc", "/v4/api/chat/msg?x=1", 1)
    fp = "fingerprint"

    def row(**kw):
        return SimpleNamespace(**{"chat_id": "248", "token_fp": fp, "remote_leaf_id": 7, **kw})

    assert server_conversation(row(), auth, fp, 7).chatID == "248"
    assert server_conversation(row(), auth, fp, 6) is None  # another branch, or an older message
    assert server_conversation(row(), auth, fp, None) is None  # a new first question
    assert server_conversation(row(remote_leaf_id=None), auth, fp, None) is None
    assert server_conversation(row(token_fp="other"), auth, fp, 7) is None
    assert server_conversation(row(chat_id=None), auth, fp, 7) is None
    assert server_conversation(None, auth, fp, 7) is None
