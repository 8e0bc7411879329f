"""The emulator's MiniMax API routes: ``GET /v1/models`` and ``POST /v1/chat/completions`` (MINIMAX_API.md).

Served by the same :class:`~hailuo_tui.emulator.Emulator` as the web chat, under ``emu.url + "/v1"``, with a
bearer-key check (``emu.demo_api_key``, :meth:`ApiRoutes.issue_api_key`, :meth:`ApiRoutes.revoke_api_key`), the
validation of §4, streamed (§6) and non-streamed (§5) answers from the fake model of
:mod:`~hailuo_tui.emulator.api_model`, and the fault switches of
:class:`~hailuo_tui.emulator.api_config.ApiSwitches`. Never imports textual or rich.

No key is kept in a request record: the ``authorization`` header is redacted and ``rec.api_key`` names the key.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

from aiohttp import web

from hailuo_tui.emulator import api_chunks, api_errors, api_model
from hailuo_tui.emulator.api_config import API_REASONING_SHAPES
from hailuo_tui.emulator.api_errors import ApiError
from hailuo_tui.emulator.api_request import ChatRequest, parse_chat_request
from hailuo_tui.emulator.config import MAX_SLOW_SECONDS, EmulatorConfig
from hailuo_tui.emulator.core import EmulatorCore
from hailuo_tui.emulator.records import RequestRecord

API_PREFIX = "/v1"
MODELS_PATH = "/v1/models"
CHAT_PATH = "/v1/chat/completions"
#: The demo account's API key: fixed and obviously fake (printed by ``python -m hailuo_tui.emulator``).
DEMO_API_KEY = "sk-api-demo-0000-not-a-real-key-emulator-only"
REDACTED = "Bearer <redacted>"


class ApiRoutes(EmulatorCore):
    """API keys, the two MiniMax API routes and their SSE writer."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        super().__init__(config)
        #: Issued API keys and their record labels (``"demo"``, ``"issued-1"``…).
        self._api_keys: dict[str, str] = {}
        self._revoked_api_keys: set[str] = set()
        self.demo_api_key = DEMO_API_KEY
        self._api_keys[DEMO_API_KEY] = "demo"

    # --- keys -------------------------------------------------------------------------

    def issue_api_key(self) -> str:
        """A new valid API key (``sk-api-emu-…``, random) for the API routes."""
        key = "sk-api-emu-" + secrets.token_hex(24)
        self._api_keys[key] = f"issued-{len(self._api_keys)}"
        return key

    def revoke_api_key(self, key: str) -> None:
        """Later requests with ``key`` get the 401 body (1004)."""
        if key in self._api_keys:
            self._revoked_api_keys.add(key)

    def _api_record(self, request: web.Request) -> tuple[RequestRecord, bool]:
        """Record the request with its key redacted; returns the record and whether the key is accepted."""
        rec = self._record(request)
        header = rec.headers.get("authorization")
        scheme, _, key = (header or "").strip().partition(" ")
        key = key.strip() if scheme.lower() == "bearer" else ""
        if header is not None:
            rec.headers["authorization"] = REDACTED
        if not key:
            rec.api_key = "missing"
        elif key in self._revoked_api_keys:
            rec.api_key = "revoked"
        else:
            rec.api_key = self._api_keys.get(key, "unknown")
        ok = rec.api_key not in ("missing", "revoked", "unknown") or not self.config.api_require_key
        return rec, ok

    def _api_fail(self, rec: RequestRecord, err: ApiError, request_id: str) -> web.Response:
        rec.status = err.status
        rec.error = err.message or err.kind
        rec.done = True
        rec.finished = time.monotonic()
        return err.response(request_id)

    @staticmethod
    def _request_id() -> str:
        # not from the seeded generator: API traffic must not shift the web routes' seeded ids
        return secrets.token_hex(16)

    # --- routes -------------------------------------------------------------------------

    async def _h_api_models(self, request: web.Request) -> web.Response:
        rec, ok = self._api_record(request)
        rid = self._request_id()
        if not ok:
            return self._api_fail(rec, api_errors.named_error("auth_1004"), rid)
        if self.config.api_models_fail:
            return self._api_fail(rec, api_errors.named_error(self.config.api_models_fail), rid)
        data = [{"id": mid, "object": "model", "created": created, "owned_by": "minimax"}
                for mid, created in api_model.MODELS]
        rec.status = 200
        rec.done = True
        rec.finished = time.monotonic()
        return web.Response(text=json.dumps({"object": "list", "data": data}), content_type="application/json",
                            charset="utf-8", headers={"Trace-Id": rid})

    async def _h_api_chat(self, request: web.Request) -> web.StreamResponse:
        rec, ok = self._api_record(request)
        cfg = self.config
        rid = self._request_id()
        raw = await request.read()
        rec.body = raw.decode("utf-8", "replace")
        self._keep_json(rec, raw)
        if not ok:
            return self._api_fail(rec, api_errors.named_error("auth_1004"), rid)
        forced = cfg.api_fail_next.pop(0) if cfg.api_fail_next else cfg.api_error
        if forced:
            return self._api_fail(rec, api_errors.named_error(forced), rid)
        req, _, err = parse_chat_request(raw, strict_temperature=cfg.api_strict_temperature,
                                         context_limit=cfg.api_context_limit)
        if err is not None:
            return self._api_fail(rec, err, rid)
        assert req is not None
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if req.stream:
                return await self._api_stream(request, rec, req, rid)
            return self._api_whole(rec, req, rid)
        finally:
            if task is not None:
                self._tasks.discard(task)
            rec.done = True
            rec.finished = time.monotonic()

    @staticmethod
    def _keep_json(rec: RequestRecord, raw: bytes) -> None:
        try:
            rec.json = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            rec.json = None
        rec.form = rec.json if isinstance(rec.json, dict) else {}

    # --- answers ----------------------------------------------------------------------

    def _api_answer(self, req: ChatRequest) -> tuple[str, str, str, dict[str, Any]]:
        """``(reasoning, answer, finish_reason, usage)`` of the fake model for ``req``."""
        done = api_model.complete(req.messages, req.max_tokens)
        reasoning = done.reasoning if req.thinking else ""
        answer = self.config.api_answer_text if self.config.api_answer_text is not None else done.answer
        reasoning, answer, cut = api_model.cut_to_budget(reasoning, answer, req.max_tokens)
        r_tokens = api_model.count_tokens(reasoning)
        usage = api_chunks.usage(api_model.prompt_tokens(req.messages), r_tokens + api_model.count_tokens(answer),
                                 r_tokens, api_model.cached_tokens(req.messages))
        return reasoning, answer, "length" if cut else "stop", usage

    def _api_whole(self, rec: RequestRecord, req: ChatRequest, rid: str) -> web.Response:
        reasoning, answer, finish, usage = self._api_answer(req)
        shape = api_chunks.effective_shape(self.config.api_reasoning, req.reasoning_split)
        body = api_chunks.completion(rid, int(time.time()), req.model, reasoning, answer, shape, finish, usage)
        rec.status = 200
        return web.Response(text=json.dumps(body, ensure_ascii=False), content_type="application/json",
                            charset="utf-8", headers={"Trace-Id": rid, "Minimax-Request-Id": rid})

    async def _api_stream(self, request: web.Request, rec: RequestRecord, req: ChatRequest, rid: str
                          ) -> web.StreamResponse:
        cfg = self.config
        if cfg.api_reasoning not in API_REASONING_SHAPES:
            raise ValueError(f"api_reasoning must be one of {API_REASONING_SHAPES}")
        reasoning, answer, finish, usage = self._api_answer(req)
        shape = api_chunks.effective_shape(cfg.api_reasoning, req.reasoning_split)
        pieces = api_chunks.plan(reasoning, answer, shape, cfg.api_chunk_chars)
        created = int(time.time())
        last = len(pieces) - 1
        # the cut and the filter frame always come before the finish_reason chunk
        cut_at = None if cfg.api_cut_after is None else min(max(0, cfg.api_cut_after), last)
        filter_at = None if cfg.api_filter_after is None else min(max(0, cfg.api_filter_after), last)
        stall_at = None if cfg.api_stall_after_chunks is None else min(max(0, cfg.api_stall_after_chunks), last)
        gap = cfg.api_chunk_delay
        if cfg.api_events_per_second:
            gap = max(gap, 1.0 / cfg.api_events_per_second)
        if gap * (len(pieces) + 1) > MAX_SLOW_SECONDS:
            gap = MAX_SLOW_SECONDS / (len(pieces) + 1)
        resp = web.StreamResponse(status=200, headers={"Cache-Control": "no-cache", "Trace-Id": rid,
                                                       "Minimax-Request-Id": rid})
        resp.content_type = "text/event-stream"
        await resp.prepare(request)
        rec.status = 200
        due = 0.0

        async def emit(data: str, *, pace: bool = True) -> None:
            nonlocal due
            blob = f"data: {data}\n\n".encode("utf-8")
            await resp.write(blob)
            rec.bytes_sent += len(blob)
            if cfg.record_events:
                rec.event_times.append(time.monotonic())
                rec.events.append(("", data))
            if pace and gap > 0:
                if not cfg.api_events_per_second:
                    await self._sleep(gap)
                    return
                # keep to the rate; a delay of over a quarter second restarts the schedule
                now = time.monotonic()
                due = (due if now - due < max(gap, 0.25) else now) + gap
                await self._sleep(due - now)

        try:
            if cfg.api_first_chunk_delay > 0:
                await self._sleep(min(cfg.api_first_chunk_delay, MAX_SLOW_SECONDS))
            so_far = ""
            for i, piece in enumerate(pieces):
                if i == stall_at:
                    await self._stall(cfg.api_stall_seconds)
                if i == cut_at:
                    rec.aborted = True
                    rec.error = f"cut after {i} chunks"
                    if request.transport is not None:
                        request.transport.abort()
                    return resp
                if i == filter_at:
                    rec.error = api_errors.MSG_OUTPUT_FILTER
                    await emit(_dumps(api_errors.filter_frame(rid)), pace=False)
                    await resp.write_eof()
                    return resp
                if piece.kind == "reasoning":
                    so_far += piece.text
                delta = api_chunks.delta(piece, shape, first=i == 0, reasoning_so_far=so_far)
                await emit(_dumps(api_chunks.chunk(rid, created, req.model, delta, finish if i == last else None)),
                           pace=i < last)
            if req.include_usage:
                await emit(_dumps(api_chunks.usage_chunk(rid, created, req.model, usage)), pace=False)
            if cfg.api_done:
                await emit("[DONE]", pace=False)
            await resp.write_eof()
        except ConnectionError:
            rec.error = rec.error or "client went away"
        except asyncio.CancelledError:
            rec.error = rec.error or "client went away"
            raise
        return resp


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
