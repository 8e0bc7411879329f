"""The emulator's MiniMax API routes over real HTTP on 127.0.0.1 (plain aiohttp requests; MINIMAX_API.md)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.emulator import api_errors
from hailuo_tui.emulator.api_config import API_REASONING_SHAPES

TIMEOUT = aiohttp.ClientTimeout(total=30)
HEX32 = re.compile(r"^[0-9a-f]{32}$")
SENSITIVITY = {"input_sensitive": False, "output_sensitive": False, "input_sensitive_type": 0,
               "output_sensitive_type": 0, "output_sensitive_int": 0}
DETAIL_KEYS = {"type": "reasoning.text", "id": "reasoning-text-1", "format": "MiniMax-response-v1", "index": 0}


@dataclass
class Reply:
    status: int
    headers: Any
    raw: bytes = b""
    json: Any = None
    #: SSE ``data:`` payloads in order, parsed as JSON where possible (``"[DONE]"`` stays a string).
    data: list[Any] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def chunks(self) -> list[dict]:
        return [d for d in self.data if isinstance(d, dict) and d.get("choices")]

    @property
    def done(self) -> bool:
        return bool(self.data) and self.data[-1] == "[DONE]"

    def deltas(self) -> list[dict]:
        return [c["choices"][0]["delta"] for c in self.chunks]

    def content(self) -> str:
        return "".join(d.get("content", "") for d in self.deltas())

    def reasoning(self) -> str:
        return "".join(d.get("reasoning_content", "") for d in self.deltas())

    def usage_chunk(self) -> dict | None:
        found = [d for d in self.data if isinstance(d, dict) and d.get("choices") == []]
        return found[-1] if found else None


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


async def call(emu: Emulator, body: Any = None, *, key: str | None = "demo", raw: bytes | None = None,
               path: str = "/chat/completions", method: str = "POST", auth: str | None = None) -> Reply:
    """One request; ``key="demo"`` sends the demo key, ``auth`` overrides the whole Authorization header."""
    headers = {"Content-Type": "application/json"}
    if auth is not None:
        headers["Authorization"] = auth
    elif key is not None:
        headers["Authorization"] = f"Bearer {emu.demo_api_key if key == 'demo' else key}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.request(method, emu.api_base_url + path, data=data, headers=headers) as r:
            rep = Reply(r.status, r.headers)
            buf = b""
            try:
                async for part in r.content.iter_any():
                    buf += part
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
                rep.error = exc
            rep.raw = buf
    text = buf.decode("utf-8", "replace")
    if rep.headers.get("Content-Type", "").startswith("text/event-stream"):
        for block in text.split("\n\n"):
            if block.startswith("data: "):
                rep.data.append(_parse(block[len("data: "):]))
    else:
        rep.json = _parse(text)
    return rep


def chat(content: str = "Hello there", *, model: str = "MiniMax-M3", stream: bool = True, usage: bool = True,
         split: bool = True, **extra: Any) -> dict:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream}
    if stream and usage:
        body["stream_options"] = {"include_usage": True}
    if split:
        body["reasoning_split"] = True
    body.update(extra)
    return body


def assert_error(rep: Reply, status: int, err_type: str, message: str) -> None:
    assert rep.status == status, (rep.status, rep.json)
    assert rep.json["type"] == "error"
    assert rep.json["error"] == {"type": err_type, "message": message, "http_code": str(status)}
    assert HEX32.match(rep.json["request_id"]) and rep.headers["Trace-Id"] == rep.json["request_id"]


# --- models and keys -----------------------------------------------------------------------------------------


async def test_models_route_lists_the_documented_models(emulator: Emulator) -> None:
    assert emulator.api_base_url == emulator.url + "/v1"
    rep = await call(emulator, method="GET", path="/models")
    assert rep.status == 200 and rep.json["object"] == "list"
    ids = [m["id"] for m in rep.json["data"]]
    for mid in ("MiniMax-M3", "MiniMax-M2.7", "MiniMax-M2.7-highspeed", "MiniMax-M2.5", "MiniMax-M2",
                "MiniMax-M3.1-Flash-Preview"):
        assert mid in ids
    m3 = next(m for m in rep.json["data"] if m["id"] == "MiniMax-M3")
    assert m3 == {"id": "MiniMax-M3", "object": "model", "created": 1780272000, "owned_by": "minimax"}


@pytest.mark.parametrize("name", ["server_1000", "not_found_404", "gateway_502"])
async def test_models_route_can_fail(emulator: Emulator, name: str) -> None:
    emulator.config.api_models_fail = name
    rep = await call(emulator, method="GET", path="/models")
    err = api_errors.API_ERRORS[name]
    assert rep.status == err.status
    if err.kind == "html":
        assert "<html>" in rep.json and "nginx" in rep.json
    else:
        assert_error(rep, err.status, err.err_type, err.message)
    emulator.config.api_models_fail = None
    assert (await call(emulator, method="GET", path="/models")).status == 200


@pytest.mark.parametrize("auth", [None, "Bearer ", "Token sk-api-demo", "Bearer sk-api-not-issued"])
@pytest.mark.parametrize("path,method", [("/models", "GET"), ("/chat/completions", "POST")])
async def test_a_bad_key_gets_the_real_401(emulator: Emulator, auth: str | None, path: str, method: str) -> None:
    rep = await call(emulator, chat(), key=None, auth=auth, path=path, method=method)
    assert_error(rep, 401, "authorized_error", api_errors.MSG_AUTH)
    assert emulator.requests[-1].api_key in ("missing", "unknown")


async def test_issued_and_revoked_keys(emulator: Emulator) -> None:
    key = emulator.issue_api_key()
    assert key.startswith("sk-api-emu-") and key != emulator.demo_api_key
    assert (await call(emulator, chat(stream=False), key=key)).status == 200
    assert emulator.requests[-1].api_key.startswith("issued-")
    emulator.revoke_api_key(key)
    assert_error(await call(emulator, chat(), key=key), 401, "authorized_error", api_errors.MSG_AUTH)
    assert emulator.requests[-1].api_key == "revoked"
    assert (await call(emulator, chat(stream=False))).status == 200  # the demo key still works
    emulator.config.api_require_key = False
    assert (await call(emulator, chat(stream=False), key=None)).status == 200


async def test_records_keep_the_body_and_never_the_key(emulator: Emulator) -> None:
    key = emulator.issue_api_key()
    body = chat("record me")
    await call(emulator, body, key=key)
    await call(emulator, body, key="demo")
    await call(emulator, body, key="sk-api-wrong-key-123456")
    for rec, label in zip(emulator.requests[-3:], ["issued-1", "demo", "unknown"]):
        assert rec.json == body and rec.form == body and rec.api_key == label
        assert rec.headers["authorization"] == "Bearer <redacted>"
        dump = repr(rec) + repr(vars(rec))
        for secret in (key, emulator.demo_api_key, "sk-api-wrong-key-123456"):
            assert secret not in dump


# --- validation (§4, §8) --------------------------------------------------------------------------------------

M31 = "MiniMax-M3.1-Flash-Preview"
VALIDATION = [
    ("missing messages", {"model": "MiniMax-M3"}, api_errors.MSG_MISSING.format(field="messages")),
    ("empty messages", {"model": "MiniMax-M3", "messages": []}, api_errors.MSG_MISSING.format(field="messages")),
    ("missing model", {"messages": [{"role": "user", "content": "x"}]}, api_errors.MSG_MISSING.format(field="model")),
    ("unknown model", chat(model="MiniMax-M3-highspeed"), "invalid params, unknown model 'MiniMax-M3-highspeed' (2013)"),
    ("lower-case model", chat(model="minimax-m3"), "invalid params, unknown model 'minimax-m3' (2013)"),
    ("two systems", {"model": "MiniMax-M3", "messages": [{"role": "system", "content": "a"},
                                                         {"role": "system", "content": "b"},
                                                         {"role": "user", "content": "c"}]},
     "invalid params, invalid chat setting (2013)"),
    ("system not first", {"model": "MiniMax-M3", "messages": [{"role": "user", "content": "a"},
                                                              {"role": "system", "content": "b"}]},
     "invalid params, chat content has invalid message role: system (2013)"),
    ("unknown role", {"model": "MiniMax-M3", "messages": [{"role": "robot", "content": "a"}]},
     "invalid params, chat content has invalid message role: robot (2013)"),
    ("thinking bool", chat(thinking=True),
     "invalid params, Mismatch type open_platform_oai.ThinkingConfig with value bool (2013)"),
    ("thinking string", chat(thinking="disabled"),
     "invalid params, Mismatch type open_platform_oai.ThinkingConfig with value string (2013)"),
    ("thinking type", chat(thinking={"type": "sometimes"}), api_errors.MSG_THINKING_VALUE.format(value="sometimes")),
    ("M3.1 disabled", chat(model=M31, thinking={"type": "disabled"}),
     'invalid params, model "MiniMax-M3.1-Flash-Preview" requires adaptive thinking; thinking.type="disabled" '
     "(including reasoning.effort=none) is not allowed (2013)"),
    ("M3.1 effort none", chat(model=M31, reasoning_effort="none"), api_errors.MSG_M31_DISABLED.format(model=M31)),
    ("temperature high", chat(temperature=1.5), api_errors.MSG_TEMPERATURE.format(value=1.5)),
    ("temperature negative", chat(temperature=-0.1), api_errors.MSG_TEMPERATURE.format(value=-0.1)),
    ("max tokens zero", chat(max_completion_tokens=0),
     api_errors.MSG_MAX_TOKENS.format(field="max_completion_tokens")),
    ("max_tokens text", chat(max_tokens="10"), api_errors.MSG_MAX_TOKENS.format(field="max_tokens")),
    ("M3 output cap", chat(max_completion_tokens=524_289),
     "invalid params, model[MiniMax-M3] does not support max tokens > 524288"),
    ("stream not bool", chat(stream="yes"), api_errors.MSG_BAD_FIELD.format(what="bool", kind="string")),
]


@pytest.mark.parametrize("body,message", [v[1:] for v in VALIDATION], ids=[v[0] for v in VALIDATION])
async def test_validation_rules_answer_the_real_400(emulator: Emulator, body: dict, message: str) -> None:
    rep = await call(emulator, body)
    assert_error(rep, 400, "bad_request_error", message)
    rec = emulator.requests[-1]
    assert rec.status == 400 and rec.json == body and rec.error == message and rec.done


async def test_malformed_json_names_the_index(emulator: Emulator) -> None:
    raw = b'{"model":"MiniMax-M3","messages":['
    rep = await call(emulator, raw=raw)
    assert_error(rep, 400, "bad_request_error", f'invalid params, "Syntax error at index {len(raw)}: eof" (2013)')
    assert emulator.requests[-1].json is None and emulator.requests[-1].body == raw.decode()
    rep = await call(emulator, raw=b'{"model": x}')
    assert rep.json["error"]["message"] == "invalid params, \"Syntax error at index 10: invalid character 'x'\" (2013)"
    rep = await call(emulator, raw=b"[1, 2]")
    assert rep.json["error"]["message"] == api_errors.MSG_BAD_FIELD.format(
        what="open_platform_oai.ChatCompletionRequest", kind="array")


async def test_temperature_zero_depends_on_the_strict_switch(emulator: Emulator) -> None:
    assert (await call(emulator, chat(stream=False, temperature=0))).status == 200
    assert (await call(emulator, chat(stream=False, temperature=1))).status == 200
    emulator.config.api_strict_temperature = True
    assert_error(await call(emulator, chat(temperature=0)), 400, "bad_request_error",
                 api_errors.MSG_TEMPERATURE.format(value=0))


async def test_context_window_is_checked(emulator: Emulator) -> None:
    emulator.config.api_context_limit = 50
    assert (await call(emulator, chat("short", stream=False))).status == 200
    assert_error(await call(emulator, chat("x" * 400)), 400, "bad_request_error",
                 "invalid params, context window exceeds limit (2013)")


async def test_accepted_extras_are_ignored(emulator: Emulator) -> None:
    body = chat(stream=False, n=3, stop=["x"], seed=1, presence_penalty=0.5, top_p=0.9, max_tokens=4000,
                thinking={"type": "enabled"})
    body["messages"] = [{"role": "system", "content": "sys"},
                        {"role": "user", "content": [{"type": "text", "text": "parts work"}], "name": "me"}]
    rep = await call(emulator, body)
    assert rep.status == 200 and len(rep.json["choices"]) == 1
    assert "parts work" in rep.json["choices"][0]["message"]["content"]


# --- streaming (§6) and the reasoning shapes (§7) -------------------------------------------------------------


def assert_chunk_fields(rep: Reply, model: str) -> None:
    ids = {c["id"] for c in rep.chunks}
    assert len(ids) == 1 and HEX32.match(ids.pop())
    assert rep.chunks[0]["id"] == rep.headers["Trace-Id"]
    for c in rep.chunks:
        assert c["object"] == "chat.completion.chunk" and c["model"] == model and isinstance(c["created"], int)
        assert c["usage"] is None
        assert {k: c[k] for k in SENSITIVITY} == SENSITIVITY
        assert len(c["choices"]) == 1 and c["choices"][0]["index"] == 0
        d = c["choices"][0]["delta"]
        assert (d["role"], d["name"], d["audio_content"]) == ("assistant", "MiniMax AI", "")
        for detail in d.get("reasoning_details", []):
            assert {k: detail[k] for k in DETAIL_KEYS} == DETAIL_KEYS
    finishes = [c["choices"][0].get("finish_reason") for c in rep.chunks]
    assert finishes[-1] == "stop" and not any(finishes[:-1])
    # the finish_reason chunk carries the last piece of text, it is not an empty terminator
    assert rep.chunks[-1]["choices"][0]["delta"]["content"]


async def test_stream_has_every_chunk_field_the_usage_chunk_and_done(emulator: Emulator) -> None:
    rep = await call(emulator, chat("Tell me about streams"))
    assert rep.status == 200 and rep.headers["Content-Type"].startswith("text/event-stream")
    assert len(rep.chunks) > 5 and rep.done and rep.error is None
    assert_chunk_fields(rep, "MiniMax-M3")
    usage = rep.usage_chunk()
    assert rep.data[-2] is usage and usage["object"] == "chat.completion.chunk" and usage["id"] == rep.chunks[0]["id"]
    assert usage["base_resp"] == {"status_code": 0, "status_msg": ""}
    u = usage["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] and u["total_characters"] == 0
    assert 0 < u["completion_tokens_details"]["reasoning_tokens"] < u["completion_tokens"]
    assert u["prompt_tokens_details"] == {"cached_tokens": 0}
    assert rep.raw.endswith(b"data: [DONE]\n\n")
    assert rep.raw.count(b"\n\n") == len(rep.data) and b"event:" not in rep.raw
    rec = emulator.requests[-1]
    assert rec.done and rec.status == 200 and [json.loads(d) if d != "[DONE]" else d for _, d in rec.events] == rep.data


async def test_without_include_usage_there_is_no_usage_chunk(emulator: Emulator) -> None:
    rep = await call(emulator, chat(usage=False))
    assert rep.usage_chunk() is None and rep.done and all(c["usage"] is None for c in rep.chunks)
    assert_chunk_fields(rep, "MiniMax-M3")


async def test_api_done_off_ends_after_finish_and_usage(emulator: Emulator) -> None:
    emulator.config.api_done = False
    rep = await call(emulator, chat())
    assert not rep.done and rep.error is None and "[DONE]" not in rep.data
    assert rep.data[-1] is rep.usage_chunk() and rep.chunks[-1]["choices"][0]["finish_reason"] == "stop"
    rep = await call(emulator, chat(usage=False))
    assert rep.data[-1]["choices"][0]["finish_reason"] == "stop" and rep.error is None


async def test_split_shape_is_incremental_and_duplicated(emulator: Emulator) -> None:
    rep = await call(emulator, chat("explain SSE"))
    deltas = rep.deltas()
    reasoning = [d for d in deltas if "reasoning_content" in d]
    assert len(reasoning) >= 2 and "content" not in deltas[0] and reasoning[1]["content"] == ""
    for d in reasoning:
        assert d["reasoning_details"][0]["text"] == d["reasoning_content"]
    assert rep.reasoning().startswith('The user is asking: "explain SSE".')
    assert "<think>" not in rep.content() and "</think>" not in rep.reasoning()
    # all reasoning first, then the answer
    kinds = ["r" if "reasoning_content" in d else "c" for d in deltas]
    assert kinds == sorted(kinds, reverse=True)


async def test_without_reasoning_split_the_reasoning_is_inline(emulator: Emulator) -> None:
    rep = await call(emulator, chat("explain SSE", split=False))
    _assert_inline(rep)


def _assert_inline(rep: Reply) -> None:
    texts = [d["content"] for d in rep.deltas()]
    assert all("reasoning_content" not in d and "reasoning_details" not in d for d in rep.deltas())
    assert texts[0] == "<th" and texts[1].startswith("ink>\n")
    assert any(t.endswith("</thi") for t in texts) and any(t.startswith("nk>\n\n") for t in texts)
    content = "".join(texts)
    assert re.match(r"<think>\nThe user is asking: .*\n</think>\n\n# About: ", content, re.DOTALL)
    assert content.count("<think>") == 1


async def test_inline_switch_wins_over_reasoning_split(emulator: Emulator) -> None:
    emulator.config.api_reasoning = "inline"
    _assert_inline(await call(emulator, chat("explain SSE", split=True)))


async def test_details_cumulative_sends_snapshots(emulator: Emulator) -> None:
    emulator.config.api_reasoning = "details_cumulative"
    rep = await call(emulator, chat("explain SSE"))
    snaps = [d["reasoning_details"][0]["text"] for d in rep.deltas() if "reasoning_details" in d]
    assert len(snaps) >= 3 and all("reasoning_content" not in d for d in rep.deltas())
    for before, after in zip(snaps, snaps[1:]):
        assert after.startswith(before) and len(after) > len(before)
    assert snaps[-1].startswith('The user is asking: "explain SSE".') and "<think>" not in rep.content()
    _assert_inline(await call(emulator, chat("explain SSE", split=False)))  # no flag: inline


async def test_split_with_stray_tag_ends_the_reasoning_with_a_cut_close_tag(emulator: Emulator) -> None:
    emulator.config.api_reasoning = "split_with_stray_tag"
    rep = await call(emulator, chat("explain SSE"))
    reasoning = [d["reasoning_content"] for d in rep.deltas() if "reasoning_content" in d]
    joined = "".join(reasoning)
    assert joined.endswith("concise.\n</think>") and not any("</think>" in r for r in reasoning)
    assert "".join(d["reasoning_details"][0]["text"] for d in rep.deltas() if "reasoning_details" in d) == joined
    assert "think>" not in rep.content()


async def test_unknown_shape_is_a_programming_error(emulator: Emulator) -> None:
    assert set(API_REASONING_SHAPES) == {"split", "inline", "details_cumulative", "split_with_stray_tag"}
    emulator.config.api_reasoning = "nonsense"
    rep = await call(emulator, chat())
    assert rep.status == 500


# --- the models' thinking differences ----------------------------------------------------------------------------


async def test_m3_thinking_can_be_disabled(emulator: Emulator) -> None:
    rep = await call(emulator, chat("hi", thinking={"type": "disabled"}))
    assert rep.reasoning() == "" and all("reasoning_details" not in d for d in rep.deltas())
    assert rep.content().startswith("# About: hi")
    assert rep.usage_chunk()["usage"]["completion_tokens_details"]["reasoning_tokens"] == 0
    rep = await call(emulator, chat("hi", split=False, thinking={"type": "disabled"}))
    assert "<think>" not in rep.content() and rep.content().startswith("# About: hi")
    rep = await call(emulator, chat("hi", thinking={"type": "adaptive"}))
    assert rep.reasoning()


@pytest.mark.parametrize("model", ["MiniMax-M2.7", "MiniMax-M2.5-highspeed", "MiniMax-M2"])
async def test_m2_always_thinks(emulator: Emulator, model: str) -> None:
    rep = await call(emulator, chat("hi", model=model, thinking={"type": "disabled"}))
    assert rep.status == 200 and rep.reasoning()
    assert_chunk_fields(rep, model)


async def test_m31_always_thinks(emulator: Emulator) -> None:
    rep = await call(emulator, chat("hi", model=M31, thinking={"type": "adaptive"}))
    assert rep.status == 200 and rep.reasoning()
    assert_chunk_fields(rep, M31)


# --- non-streamed answers (§5) -------------------------------------------------------------------------------------


async def test_whole_answer_inline(emulator: Emulator) -> None:
    rep = await call(emulator, chat("hi", model="MiniMax-M2.7", stream=False, split=False))
    body = rep.json
    assert rep.status == 200 and body["object"] == "chat.completion" and HEX32.match(body["id"])
    assert body["model"] == "MiniMax-M2.7" and "service_tier" not in body
    assert body["base_resp"] == {"status_code": 0, "status_msg": ""}
    assert {k: body[k] for k in SENSITIVITY} == SENSITIVITY
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["index"] == 0
    msg = choice["message"]
    assert (msg["role"], msg["name"], msg["audio_content"]) == ("assistant", "MiniMax AI", "")
    assert msg["content"].startswith("<think>\nThe user is asking") and "\n</think>\n\n# About: hi" in msg["content"]
    assert "reasoning_content" not in msg


async def test_whole_answer_split_matches_the_stream(emulator: Emulator) -> None:
    whole = (await call(emulator, chat("explain SSE", stream=False))).json
    streamed = await call(emulator, chat("explain SSE"))
    msg = whole["choices"][0]["message"]
    assert whole["service_tier"] == "standard"
    assert msg["content"] == streamed.content() and msg["reasoning_content"] == streamed.reasoning()
    assert msg["reasoning_details"] == [{**DETAIL_KEYS, "text": msg["reasoning_content"]}]
    assert whole["usage"] == streamed.usage_chunk()["usage"]


# --- the fake model ------------------------------------------------------------------------------------------------


async def test_answers_prove_the_whole_history_was_seen(emulator: Emulator) -> None:
    first = await call(emulator, chat("What is a monad?", split=False, stream=False))
    answer1 = first.json["choices"][0]["message"]["content"]
    history = [{"role": "system", "content": "You are terse."},
               {"role": "user", "content": "What is a monad?"},
               {"role": "assistant", "content": answer1},
               {"role": "user", "content": "And a functor? Show code"}]
    rep = await call(emulator, {"model": "MiniMax-M3", "messages": history, "stream": True, "reasoning_split": True,
                                "stream_options": {"include_usage": True}})
    text = rep.content()
    assert "You asked me 2 things so far." in text
    assert "Earlier you said \u201cWhat is a monad?\u201d." in text
    assert "My previous answer began \u201c# About: What is a monad" in text  # inline reasoning stripped
    assert "I follow the system prompt \u201cYou are terse.\u201d" in text
    assert "```python" in text
    assert "question 2 of the conversation, and I have answered 1 time(s) before" in rep.reasoning()
    assert 'The system prompt says: "You are terse."' in rep.reasoning()
    assert rep.usage_chunk()["usage"]["prompt_tokens_details"]["cached_tokens"] > 0
    again = await call(emulator, {"model": "MiniMax-M3", "messages": history, "stream": True,
                                  "reasoning_split": True, "stream_options": {"include_usage": True}})
    assert again.content() == text and again.usage_chunk()["usage"] == rep.usage_chunk()["usage"]


async def test_chinese_questions_get_chinese_reasoning_and_answers(emulator: Emulator) -> None:
    rep = await call(emulator, chat("请用表格解释一下流式输出"))
    assert rep.reasoning().startswith("用户问的是：“请用表格解释一下流式输出”。")
    assert rep.content().startswith("# 关于：请用表格解释一下流式输出") and "你到目前为止问了我 1 个问题。" in rep.content()
    assert "| 项目 | 数值 | 说明 |" in rep.content()


async def test_title_requests_get_a_short_title(emulator: Emulator) -> None:
    body = {"model": "MiniMax-M3", "max_completion_tokens": 64, "stream": True, "reasoning_split": True,
            "thinking": {"type": "disabled"},
            "messages": [{"role": "system", "content": "Give a short title (at most 6 words) for this conversation."},
                         {"role": "user", "content": "User: how do I parse server-sent events in Python?\n"
                                                     "Assistant: Use an incremental decoder."}]}
    rep = await call(emulator, body)
    assert rep.content() == "How do I parse server-sent events" and rep.reasoning() == ""
    body["model"] = "MiniMax-M2.7"
    rep = await call(emulator, body)
    assert rep.content() == "How do I parse server-sent events" and rep.reasoning()
    assert rep.chunks[-1]["choices"][0]["finish_reason"] == "stop"
    body["messages"] = [{"role": "user", "content": "为这段对话起一个简短的标题：\n用户：怎么学习编程？"}]
    assert (await call(emulator, body)).content() == "怎么学习编程"
    body["max_completion_tokens"] = 4000  # not a small request: an ordinary answer
    assert (await call(emulator, body)).content().startswith("# 关于")


async def test_max_tokens_cuts_with_finish_reason_length(emulator: Emulator) -> None:
    rep = await call(emulator, chat("tell me a lot", max_completion_tokens=40))
    usage = rep.usage_chunk()["usage"]
    assert rep.chunks[-1]["choices"][0]["finish_reason"] == "length" and usage["completion_tokens"] <= 40
    assert rep.reasoning() and rep.content() == ""  # the reasoning ate the budget, as on M2.x
    rep = await call(emulator, chat("tell me a lot", max_tokens=90, stream=False))
    assert rep.json["choices"][0]["finish_reason"] == "length" and rep.json["usage"]["completion_tokens"] <= 90
    assert rep.json["choices"][0]["message"]["content"]


async def test_fixed_answer_and_echo(emulator: Emulator) -> None:
    rep = await call(emulator, chat("echo: exactly this"))
    assert rep.content() == "exactly this"
    emulator.config.api_answer_text = "Fixed."
    assert (await call(emulator, chat("anything"))).content() == "Fixed."


# --- fault switches ---------------------------------------------------------------------------------------------


async def test_cut_after_n_chunks_interrupts_before_finish(emulator: Emulator) -> None:
    emulator.config.api_cut_after = 3
    rep = await call(emulator, chat())
    assert rep.status == 200 and len(rep.chunks) == 3 and not rep.done
    assert not any(c["choices"][0].get("finish_reason") for c in rep.chunks)
    assert rep.error is not None  # the chunked body never ended
    rec = emulator.requests[-1]
    assert rec.aborted and rec.done and len(rec.events) == 3
    emulator.config.api_cut_after = 10_000  # past the end: cut just before the finish_reason chunk
    rep = await call(emulator, chat(usage=False))
    full = await _full_chunks(emulator)
    assert len(rep.chunks) == full - 1 and not any(c["choices"][0].get("finish_reason") for c in rep.chunks)
    emulator.config.api_cut_after = None
    assert (await call(emulator, chat())).done  # a retry works


async def _full_chunks(emu: Emulator) -> int:
    cut, emu.config.api_cut_after = emu.config.api_cut_after, None
    try:
        return len((await call(emu, chat(usage=False))).chunks)
    finally:
        emu.config.api_cut_after = cut


async def test_filter_after_n_chunks_sends_the_1027_frame(emulator: Emulator) -> None:
    emulator.config.api_filter_after = 4
    rep = await call(emulator, chat())
    assert rep.status == 200 and rep.error is None and len(rep.chunks) == 4 and not rep.done
    frame = rep.data[-1]
    assert frame == {"type": "error", "error": {"type": "unprocessable_entity_error",
                                                "message": "output new_sensitive (1027)", "http_code": "422"},
                     "request_id": rep.chunks[0]["id"]}
    assert len(rep.data) == 5 and rep.usage_chunk() is None
    assert emulator.requests[-1].error == "output new_sensitive (1027)"
    emulator.config.api_filter_after = 0
    rep = await call(emulator, chat())
    assert rep.chunks == [] and rep.data[0]["error"]["http_code"] == "422"


@pytest.mark.parametrize("name", sorted(api_errors.API_ERRORS))
async def test_named_errors(emulator: Emulator, name: str) -> None:
    emulator.config.api_error = name
    rep = await call(emulator, chat())
    err = api_errors.API_ERRORS[name]
    assert rep.status == err.status
    if err.kind == "html":
        assert rep.headers["Content-Type"].startswith("text/html") and "502 Bad Gateway" in rep.json
    elif err.kind == "base_resp":
        assert rep.json == {"base_resp": {"status_code": 1008, "status_msg": "insufficient balance"}}
        assert rep.headers["Content-Type"].startswith("application/json")
    elif name == "usage_2056":
        assert rep.json["error"]["message"].startswith("usage limit exceeded, 5-hour usage limit reached, resets at ")
        assert rep.json["error"]["message"].endswith(" UTC (2056)") and rep.json["error"]["http_code"] == "429"
    else:
        assert_error(rep, err.status, err.err_type, err.message)
    assert emulator.requests[-1].status == err.status and emulator.requests[-1].done


async def test_named_error_texts() -> None:
    e = api_errors.API_ERRORS
    assert (e["auth_1004"].status, e["auth_1004"].message) == (401, api_errors.MSG_AUTH)
    assert (e["balance_1008_http"].status, e["balance_1008_http"].err_type) == (402, "insufficient_balance_error")
    assert e["balance_1008_http"].message == "insufficient balance (1008)"
    assert (e["rate_1002"].status, e["overload_529"].status, e["server_1000"].status) == (429, 529, 500)
    assert e["context_2013"].message == "invalid params, context window exceeds limit (2013)"
    assert e["server_1000"].message == "unknown error, 999 (1000)"
    with pytest.raises(ValueError, match="unknown API error name"):
        api_errors.named_error("nope")


async def test_fail_next_is_consumed_then_the_retry_works(emulator: Emulator) -> None:
    emulator.config.api_fail_next = ["overload_529", "rate_1002"]
    assert (await call(emulator, chat())).status == 529
    assert (await call(emulator, chat())).status == 429
    rep = await call(emulator, chat())
    assert rep.status == 200 and rep.done and emulator.config.api_fail_next == []
    # a bad key is refused before a forced error is spent
    emulator.config.api_fail_next = ["server_1000"]
    assert (await call(emulator, chat(), key="sk-api-nobody")).status == 401
    assert emulator.config.api_fail_next == ["server_1000"]


async def test_chunk_delay_and_first_chunk_delay_pace_the_stream(emulator: Emulator) -> None:
    emulator.config.api_chunk_chars = 400  # few chunks
    t0 = time.monotonic()
    n = len((await call(emulator, chat(usage=False))).chunks)
    fast = time.monotonic() - t0
    emulator.config.api_chunk_delay = 0.1
    emulator.config.api_first_chunk_delay = 0.3
    t0 = time.monotonic()
    rep = await call(emulator, chat(usage=False))
    slow = time.monotonic() - t0
    assert rep.done and len(rep.chunks) == n >= 2
    assert slow >= 0.3 + 0.1 * (n - 1) - 0.02 and slow > fast
    times = emulator.requests[-1].event_times
    assert times[1] - times[0] >= 0.09


async def test_events_per_second_paces_the_stream(emulator: Emulator) -> None:
    emulator.config.api_chunk_chars = 200
    emulator.config.api_events_per_second = 20.0
    t0 = time.monotonic()
    rep = await call(emulator, chat(usage=False))
    took = time.monotonic() - t0
    assert rep.done and took >= (len(rep.chunks) - 1) / 20.0 - 0.05


async def test_stop_ends_a_slow_stream(emulator: Emulator) -> None:
    emulator.config.api_chunk_delay = 50.0
    task = asyncio.create_task(call(emulator, chat()))
    deadline = time.monotonic() + 10
    while not emulator.requests or not emulator.requests[-1].events:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    t0 = time.monotonic()
    await emulator.stop()
    rep = await asyncio.wait_for(task, 10)
    assert time.monotonic() - t0 < 5 and len(rep.chunks) >= 1


async def test_a_stall_holds_the_stream_until_it_ends_or_is_ended(emulator: Emulator) -> None:
    emulator.config.api_chunk_chars = 6
    emulator.config.api_stall_after_chunks = 2
    emulator.config.api_stall_seconds = 60.0
    task = asyncio.create_task(call(emulator, chat()))
    deadline = time.monotonic() + 10
    while not emulator.requests or len(emulator.requests[-1].events) < 2:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    assert not task.done() and len(emulator.requests[-1].events) == 2  # held after two chunks
    emulator.end_stalls()
    rep = await asyncio.wait_for(task, 10)
    assert rep.done and len(rep.chunks) > 3
    emulator.config.api_stall_seconds = 0.5  # a stall without end_stalls() lasts its length
    t0 = time.monotonic()
    assert (await call(emulator, chat())).done
    assert time.monotonic() - t0 >= 0.45


async def test_demo_config_paces_the_api() -> None:
    cfg = EmulatorConfig.demo()
    assert cfg.api_first_chunk_delay > 0 and cfg.api_events_per_second
    assert EmulatorConfig().api_done and EmulatorConfig().api_reasoning == "split"


async def test_standalone_cli_prints_the_api_key_and_base_url() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hailuo_tui.emulator", "--port", "0", "--json", "--api-fail-next", "rate_1002",
        "--no-api-done", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        info = json.loads(line)
        assert info["api_base_url"] == info["url"] + "/v1"
        assert info["demo_api_key"].startswith("sk-api-demo-")
        emu_like = type("E", (), {"api_base_url": info["api_base_url"], "demo_api_key": info["demo_api_key"]})()
        assert (await call(emu_like, chat())).status == 429  # type: ignore[arg-type]
        rep = await call(emu_like, chat())  # type: ignore[arg-type]
        assert rep.status == 200 and not rep.done and rep.chunks
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hailuo_tui.emulator", "--port", "0", stdout=asyncio.subprocess.PIPE)
    try:
        lines = [(await asyncio.wait_for(proc.stdout.readline(), 30)).decode() for _ in range(4)]
        assert lines[2].startswith("MiniMax API base URL: http://127.0.0.1:") and lines[2].strip().endswith("/v1")
        assert lines[3].strip() == "Demo API key: sk-api-demo-0000-not-a-real-key-emulator-only"
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
