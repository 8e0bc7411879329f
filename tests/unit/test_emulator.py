"""The Hailuo emulator over real HTTP on 127.0.0.1 (aiohttp client + the signer; no provider class)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from yarl import URL

from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.emulator import model
from hailuo_tui.emulator.config import HICCUP_MESSAGE
from hailuo_tui.provider.signing import (
    build_query,
    compact_json,
    message_body_digest,
    new_uuid,
    now_ms,
    sign,
    sign_json,
)
from hailuo_tui.provider.sse import SSEDecoder

TIMEOUT = aiohttp.ClientTimeout(total=30)
ID_RE = re.compile(r"^[1-9][0-9]{17}$")
UUID = "11111111-2222-4333-8444-555555555555"
DEVICE = "240000000000000001"
Q = ("device_platform=web&biz_id=2&app_id=3001&version_code=22201&lang=en&uuid=11111111-2222-4333-8444-555555555555"
     "&device_id=240000000000000001&os_name=Windows&browser_name=chrome&cpu_core_num=8&browser_language=en-US"
     "&browser_platform=Win32&screen_width=1920&screen_height=1080&unix=1737800000000")


@dataclass
class Reply:
    status: int
    headers: Any
    raw: bytes = b""
    events: list[tuple[str, Any]] = field(default_factory=list)  # (name, parsed JSON or raw text)
    json: Any = None
    error: BaseException | None = None
    times: list[float] = field(default_factory=list)  # arrival time of each event

    def names(self) -> list[str]:
        return [n for n, _ in self.events]

    def messages(self) -> list[dict]:
        return [d for n, d in self.events if n == "message_result" and isinstance(d, dict) and d.get("type") == 2]

    def text(self) -> str:
        ok = [m for m in self.messages() if m["statusInfo"]["code"] == 0]
        return ok[-1]["data"]["messageResult"]["content"] if ok else ""


def _parse(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data


async def send(
    emu: Emulator,
    text: str,
    chat_id: str = "0",
    *,
    token: str | None = "demo",
    yy: str | None = None,
    query: str | None = None,
    form: str | None = None,
    search_mode: str = "0",
    token_header: str = "token",
    session: aiohttp.ClientSession | None = None,
) -> Reply:
    """POST /v4/api/chat/msg like the web page does, and read the whole stream."""
    if token == "demo":
        token = emu.demo_token
    query = query if query is not None else build_query(UUID, DEVICE, now_ms())
    pq = "/v4/api/chat/msg?" + query
    unix = dict(p.partition("=")[::2] for p in query.split("&")).get("unix", "0")
    if yy is None:
        yy = sign(pq, message_body_digest("1", text, chat_id, form), unix)
    fd = aiohttp.FormData(default_to_multipart=True)
    fd.add_field("characterID", "1")
    fd.add_field("msgContent", text)
    fd.add_field("chatID", chat_id)
    fd.add_field("searchMode", search_mode)
    if form is not None:
        fd.add_field("form", form)
    headers = {"accept": "text/event-stream"}
    if token is not None:
        headers[token_header] = token
    if yy:
        headers["yy"] = yy
    own = session is None
    session = session or aiohttp.ClientSession(timeout=TIMEOUT)
    try:
        async with session.post(URL(emu.url + pq, encoded=True), data=fd, headers=headers) as resp:
            rep = Reply(resp.status, resp.headers)
            if resp.content_type != "text/event-stream":
                rep.raw = await resp.read()
                rep.json = _parse(rep.raw.decode("utf-8", "replace"))
                return rep
            dec = SSEDecoder()
            chunks = []
            try:
                async for chunk in resp.content.iter_any():
                    chunks.append(chunk)
                    now = time.monotonic()
                    for ev in dec.feed(chunk):
                        rep.events.append((ev.event, _parse(ev.data)))
                        rep.times.append(now)
            except aiohttp.ClientPayloadError as exc:  # aborted connection
                rep.error = exc
            except aiohttp.ClientConnectionError as exc:
                rep.error = exc
            rep.raw = b"".join(chunks)
            if rep.error is None:
                for ev in dec.close():
                    rep.events.append((ev.event, _parse(ev.data)))
            return rep
    finally:
        if own:
            await session.close()


async def call_json(emu: Emulator, method: str, path: str, body: Any = None, *, token: str | None = "demo",
                    yy: str | None = None, query: str | None = None, raw_body: str | None = None) -> Reply:
    if token == "demo":
        token = emu.demo_token
    query = query if query is not None else build_query(UUID, DEVICE, now_ms())
    pq = path + "?" + query
    unix = dict(p.partition("=")[::2] for p in query.split("&")).get("unix", "0")
    text = raw_body if raw_body is not None else (compact_json(body) if body is not None else None)
    if yy is None:
        yy = sign_json(pq, unix, text)
    headers = {"yy": yy}
    if token is not None:
        headers["token"] = token
    if text is not None:
        headers["content-type"] = "application/json"
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.request(method, URL(emu.url + pq, encoded=True), data=text, headers=headers) as resp:
            raw = await resp.read()
            return Reply(resp.status, resp.headers, raw=raw, json=_parse(raw.decode("utf-8", "replace")))


def assert_well_formed(rep: Reply, answer: str | None = None) -> None:
    """The §9.6 sequence: send_result, cumulative message_results (isEnd 1 ... 0), close_chunk."""
    assert rep.status == 200
    assert rep.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert "Content-Length" not in rep.headers
    assert rep.headers.get("Transfer-Encoding") == "chunked"
    names = rep.names()
    assert names[0] == "send_result" and names[-1] == "close_chunk"
    assert set(names[1:-1]) == {"message_result"}
    sr = rep.events[0][1]
    assert sr["type"] == 1 and sr["statusInfo"]["code"] == 0
    ids = sr["data"]["sendResult"]
    for key in ("chatID", "userMsgID", "systemMsgID"):
        assert isinstance(ids[key], str) and ID_RE.match(ids[key]), key
    msgs = rep.messages()
    prev = ""
    for m in msgs:
        assert m["statusInfo"]["code"] == 0
        r = m["data"]["messageResult"]
        assert r["chatID"] == ids["chatID"] and r["msgID"] == ids["systemMsgID"]
        assert r["content"].startswith(prev)
        prev = r["content"]
    assert [m["data"]["messageResult"]["isEnd"] for m in msgs] == [1] * (len(msgs) - 1) + [0]
    assert rep.events[-1][1] == {"type": 8, "data": {}}
    assert rep.raw.endswith(b'event: close_chunk\ndata: {"type":8,"data":{}}\n\n')
    for line in rep.raw.split(b"\n"):
        if line.startswith(b"data: "):
            json.loads(line[6:])  # every data line is one complete JSON document
    if answer is not None:
        assert prev == answer


# --- the basic sequence ----------------------------------------------------------


async def test_new_chat_event_sequence(emulator: Emulator) -> None:
    rep = await send(emulator, "Hello there!\nHow are you?")
    assert_well_formed(rep)
    ids = rep.events[0][1]["data"]["sendResult"]
    assert ids["chatTitle"] == "Hello there! How are"
    assert len({ids["chatID"], ids["userMsgID"], ids["systemMsgID"]}) == 3
    assert len(rep.messages()) > 3
    assert "Turn 1" in rep.text()
    chat = emulator.chats[ids["chatID"]]
    assert chat.owner == emulator.demo_token and chat.title == ids["chatTitle"]
    assert chat.turns[0].user == "Hello there!\nHow are you?" and chat.turns[0].assistant == rep.text()
    rec = emulator.requests[-1]
    assert rec.method == "POST" and rec.path == "/v4/api/chat/msg" and rec.status == 200 and rec.yy_ok is True
    assert rec.form["msgContent"] == "Hello there!\nHow are you?" and rec.form["chatID"] == "0"
    assert rec.headers["token"] == emulator.demo_token and len(rec.headers["yy"]) == 32
    assert [n for n, _ in rec.events] == rep.names()
    assert rec.chat_id == ids["chatID"] and rec.done
    assert emulator.demo_token not in repr(rec)


async def test_continued_chat_remembers_and_title(emulator: Emulator) -> None:
    first = await send(emulator, "My favourite colour is teal")
    chat_id = first.events[0][1]["data"]["sendResult"]["chatID"]
    second = await send(emulator, "What did I say?", chat_id)
    assert_well_formed(second)
    sr = second.events[0][1]["data"]["sendResult"]
    assert sr["chatID"] == chat_id and sr["chatTitle"] == "My favourite colour"
    assert "Turn 2" in second.text() and "My favourite colour is teal" in second.text()
    assert emulator.requests[-1].form["msgContent"] == "What did I say?"
    assert [t.user for t in emulator.chats[chat_id].turns] == ["My favourite colour is teal", "What did I say?"]
    emulator.config.title_on_continue = False
    third = await send(emulator, "third", chat_id)
    assert "chatTitle" not in third.events[0][1]["data"]["sendResult"]
    assert "Turn 3" in third.text()


async def test_cjk_answer_and_title(emulator: Emulator) -> None:
    rep = await send(emulator, "你好，请介绍一下你自己。\n谢谢！这是一个很长的问题")
    assert_well_formed(rep)
    assert rep.events[0][1]["data"]["sendResult"]["chatTitle"] == "你好，请介绍一下你自己。谢谢！这是一个很"
    assert "第 1 轮" in rep.text()
    assert b"\\u4f60" not in rep.raw  # UTF-8 on the wire, not ASCII escapes


# --- yy ---------------------------------------------------------------------


async def test_wrong_or_missing_yy_is_400(emulator: Emulator) -> None:
    for kwargs in ({"yy": "0" * 32}, {"yy": ""}, {"query": "device_platform=web&app_id=3001"}):
        rep = await send(emulator, "hi", **kwargs)
        assert rep.status == 400
        assert rep.json == {"statusInfo": {**rep.json["statusInfo"], "code": 2,
                                           "message": "Request exception, please check request parameters"}}
        assert emulator.requests[-1].yy_ok is False
    assert not emulator.chats


async def test_yy_is_over_the_raw_target(emulator: Emulator) -> None:
    query = build_query(UUID, DEVICE, now_ms(), {"browser_platform": "Linux x86_64"})
    assert "Linux+x86_64" in query
    unix = query.rsplit("unix=", 1)[1]
    good = await send(emulator, "hi", query=query)
    assert good.status == 200
    # signed over a differently encoded (but equivalent) query: refused
    other = query.replace("Linux+x86_64", "Linux%20x86_64")
    bad_yy = sign("/v4/api/chat/msg?" + other, message_body_digest("1", "hi", "0"), unix)
    assert (await send(emulator, "hi", query=query, yy=bad_yy)).status == 400
    # upper-case hex is accepted
    up = sign("/v4/api/chat/msg?" + query, message_body_digest("1", "hi", "0"), unix).upper()
    assert (await send(emulator, "hi", query=query, yy=up)).status == 200


async def test_protocol_vector_a_is_accepted(emulator: Emulator) -> None:
    rep = await send(emulator, "Hello!\nWhat is 2+2?", query=Q, yy="a2901b84434e32518eed1d4094f38acf")
    assert rep.status == 200 and emulator.requests[-1].yy_ok
    rep = await send(emulator, "Hello!\r\nWhat is 2+2?", query=Q, yy="a2901b84434e32518eed1d4094f38acf")
    assert rep.status == 200
    form = ('[{"name":"","formType":2,"content":"a.png","fileID":"300000000000000001"},'
            '{"name":"","formType":1,"content":"describe"}]')
    rep = await send(emulator, "describe", query=Q, form=form, yy="62eec5a3bfd890a94f427297940c73b9")
    assert rep.status == 200


async def test_json_route_vectors(emulator: Emulator) -> None:
    rep = await call_json(emulator, "GET", "/v1/api/user/info", query=Q, yy="0a5945aed0b358c3b4b5cd006a848106")
    assert rep.status == 200 and rep.json["statusInfo"]["code"] == 0
    q_no_dev = Q.replace("&device_id=240000000000000001", "")
    rep = await call_json(emulator, "POST", "/v1/api/user/device/register", {"uuid": UUID}, query=q_no_dev,
                          yy="792ef2e40eef4b09206b376659231306")
    assert rep.status == 200 and ID_RE.match(rep.json["data"]["deviceIDStr"])
    rep = await call_json(emulator, "DELETE", "/v1/api/chat/history/248123456789012345", query=Q,
                          yy="c42c49472d4ac206f874f7161a909251")
    assert rep.status == 200 and rep.json["statusInfo"]["code"] != 0  # signature fine, chat unknown
    assert emulator.requests[-1].yy_ok is True


async def test_lenient_yy_and_skew(emulator: Emulator) -> None:
    query = build_query(UUID, DEVICE, now_ms(), {"os_name": "Win(10)"}).replace("Win%2810%29", "Win(10)")
    assert "Win(10)" in query
    unix = query.rsplit("unix=", 1)[1]
    pq = "/v4/api/chat/msg?" + query
    py_yy = sign(pq, message_body_digest("1", "hi", "0"), unix, variant="python")
    assert py_yy != sign(pq, message_body_digest("1", "hi", "0"), unix)
    assert (await send(emulator, "hi", query=query, yy=py_yy)).status == 400
    emulator.config.yy_lenient = True
    assert (await send(emulator, "hi", query=query, yy=py_yy)).status == 200
    # unix freshness: off by default, optional
    old = build_query(UUID, DEVICE, 1737800000000)
    assert (await send(emulator, "hi", query=old)).status == 200
    emulator.config.max_unix_skew = 300
    assert (await send(emulator, "hi", query=old)).status == 400
    assert (await send(emulator, "hi")).status == 200


# --- tokens -------------------------------------------------------------------------


async def test_token_errors(emulator: Emulator) -> None:
    other = emulator.issue_token(name="Other")
    expired = emulator.issue_token(name="Old", ttl=-10)
    for token in (None, "nonsense", emulator.demo_token[:-2] + "xx", expired):
        rep = await send(emulator, "hi", token=token)
        assert rep.status == 401
        assert rep.json["statusInfo"]["code"] != 0 and rep.json["statusInfo"]["message"]
    assert (await send(emulator, "hi", token=other, token_header="Token")).status == 200
    emulator.revoke_token(other)
    assert (await send(emulator, "hi", token=other)).status == 401
    emulator.config.token_error_status = 403
    assert (await send(emulator, "hi", token="nonsense")).status == 403
    emulator.config.require_auth = False
    assert (await send(emulator, "hi", token="whatever")).status == 200
    assert (await send(emulator, "hi", token=None)).status == 200


async def test_token_shape(emulator: Emulator) -> None:
    from hailuo_tui.emulator.tokens import decode_payload

    header, payload, sig = emulator.demo_token.split(".")
    assert header.startswith("eyJ") and sig
    data = decode_payload(emulator.demo_token)
    assert data["exp"] > time.time() + 30 * 86400
    assert set(data["user"]) >= {"id", "name", "deviceID", "isAnonymous"}
    assert ID_RE.match(data["user"]["id"]) and ID_RE.match(data["user"]["deviceID"])
    assert emulator.issue_token() != emulator.issue_token()


async def test_json_routes(emulator: Emulator) -> None:
    uid = new_uuid()
    q = build_query(uid, None, now_ms())
    a = await call_json(emulator, "POST", "/v1/api/user/device/register", {"uuid": uid}, query=q)
    assert a.status == 200
    assert a.json["statusInfo"] == {"code": 0, "message": "Success"}
    assert ID_RE.match(a.json["data"]["deviceIDStr"]) and ID_RE.match(a.json["data"]["userID"])
    b = await call_json(emulator, "POST", "/v1/api/user/device/register", {"uuid": uid}, query=q)
    assert b.json["data"]["deviceIDStr"] == a.json["data"]["deviceIDStr"]
    # Python's default json.dumps (spaces) breaks the signature when yy is computed over the compact form
    pq = "/v1/api/user/device/register?" + q
    yy = sign_json(pq, q.rsplit("unix=", 1)[1], compact_json({"uuid": uid}))
    c = await call_json(emulator, "POST", "/v1/api/user/device/register", raw_body=json.dumps({"uuid": uid}),
                        query=q, yy=yy)
    assert c.status == 400 and c.json["statusInfo"]["code"] == 2
    info = await call_json(emulator, "GET", "/v1/api/user/info")
    assert info.status == 200 and isinstance(info.json["data"]["userInfo"], dict)
    assert info.json["data"]["userInfo"]["name"] == "Demo User"
    assert emulator.demo_token.encode() not in info.raw
    bad = await call_json(emulator, "GET", "/v1/api/user/info", token="nope")
    assert bad.status == 401 and bad.json["statusInfo"]["code"] != 0
    wrong = await call_json(emulator, "GET", "/v1/api/user/info", yy="f" * 32)
    assert wrong.status == 400 and wrong.json["statusInfo"]["code"] == 2
    missing = await call_json(emulator, "GET", "/v1/api/nothing/here")
    assert missing.status == 404


# --- chats -----------------------------------------------------------------------------


async def test_delete_then_reuse_fails(emulator: Emulator) -> None:
    rep = await send(emulator, "remember me")
    chat_id = rep.events[0][1]["data"]["sendResult"]["chatID"]
    other = emulator.issue_token(name="Other")
    # another account can neither use nor delete it
    foreign = await send(emulator, "hi", chat_id, token=other)
    assert foreign.status == 200 and foreign.names() == ["message_result"]
    assert foreign.events[0][1]["statusInfo"]["code"] != 0
    d = await call_json(emulator, "DELETE", f"/v1/api/chat/history/{chat_id}", token=other)
    assert d.json["statusInfo"]["code"] != 0 and chat_id in emulator.chats
    d = await call_json(emulator, "DELETE", f"/v1/api/chat/history/{chat_id}")
    assert d.status == 200 and d.json["statusInfo"]["code"] == 0 and chat_id not in emulator.chats
    again = await send(emulator, "still there?", chat_id)
    assert again.status == 200 and again.names() == ["message_result"]
    err = again.events[0][1]
    assert err["type"] == 2 and err["statusInfo"]["code"] != 0 and err["statusInfo"]["message"]
    emulator.config.unknown_chat_error = "http"
    again = await send(emulator, "still there?", chat_id)
    assert again.status == 400 and again.json["statusInfo"]["code"] == 2


async def test_chats_are_per_token(emulator: Emulator) -> None:
    other = emulator.issue_token(name="B")
    a = await send(emulator, "from a")
    b = await send(emulator, "from b", token=other)
    ca, cb = (r.events[0][1]["data"]["sendResult"]["chatID"] for r in (a, b))
    assert ca != cb
    assert emulator.chats[ca].owner == emulator.demo_token and emulator.chats[cb].owner == other


# --- the fake model --------------------------------------------------------------------


def test_model_is_deterministic_and_keyword_driven() -> None:
    assert model.reply(["hello"]) == model.reply(["hello"])
    code = model.reply(["show me code"])
    assert "```python\n" in code and code.count("```") % 2 == 0
    table = model.reply(["a table please"])
    assert "| Item | Value | Notes |" in table and "|---|" in table
    lst = model.reply(["make a list"])
    assert lst.count("\n- ") >= 4
    demo = model.reply(["markdown demo"])
    assert "```python" in demo and "|---|" in demo and "\n- " in demo and "\n\n" in demo
    long = model.reply(["write something long"])
    assert 20_000 <= len(long) < 21_000
    long_zh = model.reply(["写一个很长的回答 long"])
    assert len(long_zh) >= 20_000 and model.has_cjk(long_zh)
    assert model.reply(["echo:  exact text "]) == "exact text"
    assert model.reply(["short please"]).count("\n") == 0
    two = model.reply(["first message here", "second"])
    assert "Turn 2" in two and "first message here" in two


def test_titles() -> None:
    assert model.make_title("  Hello\r\nworld  ") == "Hello world"
    assert model.make_title("x" * 50) == "x" * 20
    assert model.make_title("一二三四五六七八九十一二三四五六七八九十一二三") == "一二三四五六七八九十一二三四五六七八九十"
    assert model.make_title("\n\n") == "New chat"
    assert model.make_title("a" * 19 + " b") == "a" * 19


def test_split_ends() -> None:
    text = "hello world, this is a test of the splitter"
    ends = model.split_ends(text, chunk_chars=5)
    assert ends[-1] == len(text) and ends == sorted(ends) and len(set(ends)) == len(ends)
    assert model.split_ends(text, num_events=7)[-1] == len(text) and len(model.split_ends(text, num_events=7)) == 7
    assert len(model.split_ends("ab", num_events=5)) == 5
    assert model.split_ends("", chunk_chars=5) == [0]


# --- switches ---------------------------------------------------------------------------


async def test_answer_text_and_num_events(emulator: Emulator) -> None:
    emulator.config.answer_text = "0123456789" * 10
    emulator.config.num_events = 7
    rep = await send(emulator, "anything")
    assert_well_formed(rep, "0123456789" * 10)
    assert len(rep.messages()) == 7


async def test_answer_file(emulator: Emulator, tmp_path) -> None:
    path = tmp_path / "answer.md"
    path.write_text("# From a file\n\nBody ✓", encoding="utf-8")
    emulator.config.answer_file = str(path)
    rep = await send(emulator, "anything")
    assert_well_formed(rep, "# From a file\n\nBody ✓")


async def test_heartbeats(emulator: Emulator) -> None:
    emulator.config.heartbeats = True
    emulator.config.heartbeat_every = 2
    rep = await send(emulator, "hello")
    beats = [d for n, d in rep.events if n == "heartbeat"]
    assert len(beats) >= 2
    assert all(b["type"] == 3 and b["statusInfo"]["code"] != 0 for b in beats)
    assert rep.names()[0] == "send_result" and rep.names()[-1] == "close_chunk"
    assert rep.text() == model.reply(["hello"])


async def test_follow_ups_and_search_links(emulator: Emulator) -> None:
    emulator.config.follow_ups = True
    emulator.config.search_links = True
    rep = await send(emulator, "search this", search_mode="1")
    names = rep.names()
    assert names[-2:] == ["follow_up_question_result", "close_chunk"]
    fu = rep.events[-2][1]
    assert fu["type"] == 4 and fu["statusInfo"]["code"] == 0
    assert fu["data"]["messageResult"]["content"] == rep.text()
    assert len(fu["data"]["followUpQuestions"]) == 3
    links = fu["data"]["extra"]["netSearchStatus"]["linkDetail"]
    assert links and all(set(link) == {"detail", "url"} for link in links)
    for m in rep.messages():
        assert m["data"]["messageResult"]["extra"]["netSearchStatus"]["linkDetail"] == links
    plain = await send(emulator, "no search", search_mode="0")
    assert all("extra" not in m["data"]["messageResult"] for m in plain.messages())


async def test_fffd_splits(emulator: Emulator) -> None:
    emulator.config.fffd_splits = True
    emulator.config.answer_text = "abc你好世界def"
    emulator.config.num_events = 10  # one character per event
    rep = await send(emulator, "x")
    contents = [m["data"]["messageResult"]["content"] for m in rep.messages()]
    cut = [c for c in contents if c.endswith("\ufffd")]
    assert len(cut) == 4  # before 你, 好, 世, 界
    assert contents[-1] == "abc你好世界def"
    for a, b in zip(contents, contents[1:]):
        assert b.startswith(a.rstrip("\ufffd"))


async def test_stream_error(emulator: Emulator) -> None:
    emulator.config.stream_error = 2
    rep = await send(emulator, "hello")
    assert rep.status == 200
    msgs = rep.messages()
    assert [m["statusInfo"]["code"] == 0 for m in msgs] == [True, True, False]
    assert msgs[-1]["statusInfo"]["message"] == HICCUP_MESSAGE
    assert "close_chunk" not in rep.names() and rep.error is None
    assert emulator.requests[-1].error == HICCUP_MESSAGE
    emulator.config.stream_error = 0
    zh = await send(emulator, "你好")
    assert zh.names() == ["send_result", "message_result"]
    assert zh.messages()[0]["statusInfo"]["message"].startswith("抱歉")


async def test_one_stream_per_token(emulator: Emulator) -> None:
    emulator.config.one_stream_per_token = True
    emulator.config.num_events = 10
    emulator.config.event_delay = 0.1
    slow = asyncio.create_task(send(emulator, "slow one"))
    await asyncio.sleep(0.3)
    second = await send(emulator, "second")
    assert second.status == 429 and second.headers["Retry-After"] == "2"
    assert second.json["statusInfo"]["code"] != 0
    emulator.config.one_stream_error = "stream"
    third = await send(emulator, "third")
    assert third.names() == ["message_result"] and third.events[0][1]["statusInfo"]["code"] != 0
    other = await send(emulator, "other account", token=emulator.issue_token())
    assert other.status == 200 and other.names()[-1] == "close_chunk"
    first = await asyncio.wait_for(slow, 10)
    assert_well_formed(first)
    emulator.config.event_delay = 0
    assert (await send(emulator, "after")).status == 200


async def test_fail_next(emulator: Emulator) -> None:
    emulator.config.fail_next = [429, 500, 502, 503, 400, 401, 403]
    seen = []
    for _ in range(7):
        rep = await send(emulator, "hi")
        seen.append(rep)
    assert [r.status for r in seen] == [429, 500, 502, 503, 400, 401, 403]
    assert seen[0].headers["Retry-After"] == "2" and seen[0].json["statusInfo"]["code"] != 0
    assert seen[1].json["statusInfo"]["code"] != 0
    assert b"502 Bad Gateway" in seen[2].raw
    assert seen[3].headers["Retry-After"] == "2"
    assert seen[4].json["statusInfo"]["code"] == 2
    assert seen[5].json["statusInfo"]["code"] != 0
    assert emulator.config.fail_next == []
    assert_well_formed(await send(emulator, "hi"))
    emulator.config.fail_403_cloudflare = True
    emulator.config.fail_next = [403]
    cf = await send(emulator, "hi")
    assert cf.status == 403 and b"Just a moment..." in cf.raw


async def test_pacing(emulator: Emulator) -> None:
    emulator.config.num_events = 5
    emulator.config.event_delay = 0.1
    t0 = time.monotonic()
    rep = await send(emulator, "hi")
    assert_well_formed(rep)
    assert time.monotonic() - t0 >= 0.45
    emulator.config.event_delay = 0
    emulator.config.events_per_second = 20
    t0 = time.monotonic()
    await send(emulator, "hi")
    assert time.monotonic() - t0 >= 0.25


async def test_stall(emulator: Emulator) -> None:
    emulator.config.num_events = 4
    emulator.config.stall_after_events = 2
    emulator.config.stall_seconds = 1.0
    rep = await send(emulator, "hi")
    assert_well_formed(rep)
    idx = [i for i, (n, _) in enumerate(rep.events) if n == "message_result"]
    gap = rep.times[idx[2]] - rep.times[idx[1]]
    assert gap >= 0.9
    assert rep.times[idx[1]] - rep.times[0] < 0.5


async def test_end_stalls_lets_a_stalled_stream_go_on(emulator: Emulator) -> None:
    emulator.config.num_events = 4
    emulator.config.stall_after_events = 2
    emulator.config.stall_seconds = 60.0
    sending = asyncio.ensure_future(send(emulator, "hi"))
    for _ in range(200):  # the stream reaches its stall
        if emulator.requests and len([n for n, _ in emulator.requests[-1].events if n == "message_result"]) == 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert not sending.done()
    emulator.end_stalls()
    rep = await asyncio.wait_for(sending, 10)
    assert_well_formed(rep)
    assert rep.names()[-1] == "close_chunk"
    # a later stall still stalls
    emulator.config.stall_seconds = 0.6
    t0 = time.monotonic()
    assert_well_formed(await send(emulator, "again"))
    assert time.monotonic() - t0 >= 0.5


async def test_disconnect_after_bytes(emulator: Emulator) -> None:
    emulator.config.disconnect_after_bytes = 500
    rep = await send(emulator, "hello")
    assert rep.error is not None
    assert len(rep.raw) == 500
    assert "close_chunk" not in rep.names()
    rec = emulator.requests[-1]
    assert rec.aborted and rec.bytes_sent == 500
    emulator.config.disconnect_after_bytes = None
    assert_well_formed(await send(emulator, "again"))  # the server survives


@pytest.mark.parametrize(
    "point, expect",
    [
        ("send_result", []),
        ("after_send_result", ["send_result"]),
        ("mid_answer", ["send_result"] + ["message_result"] * 5),
        ("close_chunk", ["send_result"] + ["message_result"] * 10),
    ],
)
async def test_drop_before(emulator: Emulator, point: str, expect: list[str]) -> None:
    emulator.config.num_events = 10
    emulator.config.drop_before = point
    rep = await send(emulator, "hi")
    assert rep.status == 200 and rep.error is not None
    assert rep.names() == expect
    assert emulator.requests[-1].aborted


async def test_malformed_oversized_unknown(emulator: Emulator) -> None:
    emulator.config.malformed_lines = True
    emulator.config.oversized_line = 300_000
    emulator.config.unknown_event = True
    rep = await send(emulator, "hello")
    assert rep.names()[1] == "unknown_future_event" and rep.events[1][1]["type"] == 42
    junk = [d for _, d in rep.events if not isinstance(d, dict)]
    assert len(junk) >= 3
    assert max(len(line) for line in rep.raw.split(b"\n")) >= 300_000
    assert rep.text() == model.reply(["hello"])
    assert rep.names()[-1] == "close_chunk"


async def test_no_final_and_compact(emulator: Emulator) -> None:
    emulator.config.no_final = True
    emulator.config.num_events = 4
    rep = await send(emulator, "hello")
    assert rep.error is None
    assert rep.names() == ["send_result"] + ["message_result"] * 3
    assert all(m["data"]["messageResult"]["isEnd"] == 1 for m in rep.messages())
    emulator.config.no_final = False
    emulator.config.compact_fields = True
    rep = await send(emulator, "hello")
    assert rep.raw.startswith(b"event:send_result\ndata:{")
    assert rep.names()[-1] == "close_chunk" and rep.text() == model.reply(["hello"])


async def test_chunk_chars(emulator: Emulator) -> None:
    emulator.config.chunk_chars = 40
    few = len((await send(emulator, "hello")).messages())
    emulator.config.chunk_chars = 3
    many = len((await send(emulator, "hello")).messages())
    assert many > 3 * few


async def test_big_stream_performance(emulator: Emulator) -> None:
    emulator.config.answer_text = model.reply(["long"])
    emulator.config.num_events = 4000
    emulator.config.record_events = False
    t0 = time.monotonic()
    rep = await send(emulator, "long")
    elapsed = time.monotonic() - t0
    assert len(rep.messages()) == 4000
    assert rep.text() == emulator.config.answer_text
    assert len(rep.raw) > 35_000_000
    assert elapsed < 20, elapsed
    assert emulator.requests[-1].events == []


async def test_client_going_away_frees_the_stream_slot(emulator: Emulator, caplog) -> None:
    caplog.set_level("DEBUG")
    emulator.config.one_stream_per_token = True
    emulator.config.num_events = 50
    emulator.config.event_delay = 0.05
    query = build_query(UUID, DEVICE, now_ms())
    pq = "/v4/api/chat/msg?" + query
    yy = sign(pq, message_body_digest("1", "bye", "0"), query.rsplit("unix=", 1)[1])
    fd = aiohttp.FormData({"characterID": "1", "msgContent": "bye", "chatID": "0", "searchMode": "0"},
                          default_to_multipart=True)
    async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
        async with s.post(URL(emulator.url + pq, encoded=True), data=fd,
                          headers={"token": emulator.demo_token, "yy": yy}) as r:
            await r.content.readline()  # the first line, then hang up
    rec = emulator.requests[-1]
    for _ in range(100):
        if rec.done:
            break
        await asyncio.sleep(0.05)
    assert rec.done and rec.error == "client went away"
    emulator.config.event_delay = 0
    assert_well_formed(await send(emulator, "next"))
    # abort switches and disconnects leave nothing at ERROR level in the logs
    emulator.config.drop_before = "mid_answer"
    await send(emulator, "drop")
    emulator.config.drop_before = None
    emulator.config.disconnect_after_bytes = 300
    await send(emulator, "cut")
    await asyncio.sleep(0.1)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not [r for r in caplog.records if emulator.demo_token in r.getMessage()]


async def test_stop_ends_a_stalled_stream() -> None:
    emu = Emulator(EmulatorConfig(stall_after_events=1, stall_seconds=100))
    await emu.start()
    task = asyncio.create_task(send(emu, "hi"))
    await asyncio.sleep(0.3)
    t0 = time.monotonic()
    await emu.stop()
    await asyncio.wait_for(task, 5)
    assert time.monotonic() - t0 < 5


# --- login page -------------------------------------------------------------------------


async def test_login_page_and_login(emulator: Emulator) -> None:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
        async with s.get(emulator.url + "/") as r:
            html = await r.text()
            assert r.status == 200 and r.content_type == "text/html"
        assert "<body>" in html and "Log in" in html and "localStorage" in html
        assert "_token" in html and "USER_HARD_WARE_INFO" in html and "UNIQUE_USER_ID" in html
        assert emulator.demo_token not in html
        assert "http://" not in html and "https://" not in html  # nothing external
        async with s.post(emulator.url + "/login", json={"username": "alice"}) as r:
            body = await r.json()
            assert r.status == 200 and body["statusInfo"]["code"] == 0
            assert "hailuo_session" in r.cookies
        data = body["data"]
        assert ID_RE.match(data["deviceID"]) and re.match(r"^[0-9a-f-]{36}$", data["uuid"])
        assert emulator.account_for(data["token"]) is not None
        async with s.post(emulator.url + "/login", json={"username": "alice"}) as r:
            assert (await r.json())["data"]["token"] == data["token"]  # same user, same token
        async with s.post(emulator.url + "/login", data={"username": "bob"}) as r:
            page = await r.text()
            assert r.status == 200 and "<body>" in page
        bob = emulator._logins["bob"]
        assert bob in page
        async with s.post(emulator.url + "/login", json={"username": "  "}) as r:
            assert r.status == 400
    assert_well_formed(await send(emulator, "hi from alice", token=data["token"]))


async def test_login_page_auto_login(emulator: Emulator) -> None:
    emulator.config.auto_login = True
    async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
        async with s.get(emulator.url + "/") as r:
            html = await r.text()
    assert emulator.demo_token in html and "<body>" in html


async def test_login_page_clears_a_revoked_session(emulator: Emulator) -> None:
    async with aiohttp.ClientSession(timeout=TIMEOUT, cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.post(emulator.url + "/login", json={"username": "carol"}) as r:
            token = (await r.json())["data"]["token"]
        emulator.revoke_token(token)
        async with s.get(emulator.url + "/") as r:
            html = await r.text()
    assert '"sessionValid": false' in html
    async with aiohttp.ClientSession(timeout=TIMEOUT) as s:
        async with s.post(emulator.url + "/login", json={"username": "carol"}) as r:
            fresh = (await r.json())["data"]["token"]
    assert fresh != token and emulator.account_for(fresh) is not None


# --- packaging ---------------------------------------------------------------------------


def test_no_textual_or_rich_import() -> None:
    code = ("import sys, hailuo_tui.emulator, hailuo_tui.emulator.__main__; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


async def test_standalone_cli() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hailuo_tui.emulator", "--port", "0", "--heartbeats",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = token = None
        deadline = time.monotonic() + 30
        while (url is None or token is None) and time.monotonic() < deadline:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            if not line:
                break
            if m := re.search(r"(http://127\.0\.0\.1:\d+)", line):
                url = m.group(1)
            if line.startswith("Demo token: "):
                token = line.split(": ", 1)[1].strip()
        assert url and token
        emu_like = type("E", (), {"url": url, "demo_token": token})()
        rep = await send(emu_like, "hello")  # type: ignore[arg-type]
        assert rep.status == 200 and "heartbeat" in rep.names() and rep.names()[-1] == "close_chunk"
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    err = (await proc.stderr.read()).decode()
    assert token not in err


@pytest.mark.browser
async def test_login_page_in_a_real_browser(emulator: Emulator, tmp_path) -> None:
    """The form login stores _token/USER_HARD_WARE_INFO/UNIQUE_USER_ID in a real Chromium."""
    import shutil

    from hailuo_tui.provider.browser_session import BrowserSession

    pytest.importorskip("nodriver")
    exe = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    if exe is None:
        pytest.skip("no Chromium installed")
    session = BrowserSession(exe, tmp_path / "profile", headless=True, proxy=None)
    try:
        await asyncio.wait_for(session.start(), 90)
        page = await session.browser.get(emulator.url + "/")
        for _ in range(40):
            if await page.evaluate("document.readyState") == "complete":
                break
            await page.sleep(0.1)
        assert await page.evaluate("localStorage.getItem('_token')") is None
        await page.evaluate("document.getElementById('username').value = 'zoe'")
        await page.evaluate("document.getElementById('login').click()")
        token = None
        for _ in range(40):
            token = await page.evaluate("localStorage.getItem('_token')")
            if token:
                break
            await page.sleep(0.1)
        assert token and emulator.account_for(token) is not None
        assert ID_RE.match(await page.evaluate("localStorage.getItem('USER_HARD_WARE_INFO')"))
        assert re.match(r"^[0-9a-f-]{36}$", await page.evaluate("localStorage.getItem('UNIQUE_USER_ID')"))
        assert (await page.evaluate("document.getElementById('status').textContent")).startswith("Logged in")
    finally:
        await asyncio.wait_for(session.close(), 60)
