"""The emulator's event-stream writer and its fault switches (PROTOCOL.md §9).

Writes the ``send_result`` / ``message_result`` / ``follow_up_question_result`` /
``close_chunk`` sequence with the pacing, heartbeats, stalls, drops, mid-stream
errors and malformed lines that :class:`~hailuo_tui.emulator.config.EmulatorConfig`
switches on. Never imports textual or rich.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from hailuo_tui.emulator import model
from hailuo_tui.emulator.config import DROP_POINTS, HICCUP_MESSAGE, HICCUP_MESSAGE_ZH, MAX_SLOW_SECONDS
from hailuo_tui.emulator.core import EmulatorCore
from hailuo_tui.emulator.protocol import CODE_HEARTBEAT, EVENT_STREAM, MSG_OK, escape_json_text, status_info
from hailuo_tui.emulator.records import Chat, RequestRecord, Turn
from hailuo_tui.provider.signing import compact_json


class _Aborted(Exception):
    """The emulator cut the connection on purpose."""



class StreamWriter(EmulatorCore):
    """Writes the streaming answer of the message route, or a stream that carries only an error."""

    async def _open_stream(self, request: web.Request, rec: RequestRecord) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        resp.content_type = EVENT_STREAM
        resp.charset = "utf-8"
        resp.enable_chunked_encoding()
        rec.status = 200
        await resp.prepare(request)
        return resp

    async def _single_error_stream(self, request: web.Request, rec: RequestRecord, code: int, message: str
                                   ) -> web.StreamResponse:
        resp = await self._open_stream(request, rec)
        rec.error = message
        data = compact_json({"type": 2, "statusInfo": status_info(code, message), "data": {}})
        blob = f"event: message_result\ndata: {data}\n\n".encode("utf-8")
        try:
            await resp.write(blob)
            rec.bytes_sent += len(blob)
            if self.config.record_events:
                rec.event_times.append(time.monotonic())
                rec.events.append(("message_result", data))
            await resp.write_eof()
        except ConnectionError:
            pass
        rec.done = True
        rec.finished = time.monotonic()
        return resp

    async def _stream(self, request: web.Request, rec: RequestRecord, chat: Chat, turn: Turn, new_chat: bool,
                      user_messages: list[str], search_mode: Any) -> web.StreamResponse:
        cfg = self.config
        answer = turn.assistant
        transport = request.transport
        if cfg.drop_before is not None and cfg.drop_before not in DROP_POINTS:
            raise ValueError(f"drop_before must be one of {DROP_POINTS}")
        resp = await self._open_stream(request, rec)
        sep = ":" if cfg.compact_fields else ": "
        record = cfg.record_events
        zh = model.has_cjk(user_messages[-1])

        ends = model.split_ends(answer, chunk_chars=cfg.chunk_chars, num_events=cfg.num_events)
        n_msg = len(ends)
        if cfg.no_final:
            ends_to_send = ends[:-1]
        else:
            ends_to_send = ends

        # pacing: the per-event gap, bounded so the whole stream stays under MAX_SLOW_SECONDS
        gap = cfg.event_delay
        if cfg.events_per_second:
            gap = max(gap, 1.0 / cfg.events_per_second)
        total_events = n_msg + 3
        if gap * total_events > MAX_SLOW_SECONDS:
            gap = MAX_SLOW_SECONDS / total_events

        state = {"sent": 0, "due": 0.0}

        def abort() -> None:
            rec.aborted = True
            if transport is not None:
                transport.abort()
            raise _Aborted()

        async def write(blob: bytes) -> None:
            limit = cfg.disconnect_after_bytes
            if limit is not None and state["sent"] + len(blob) > limit:
                part = blob[: max(0, limit - state["sent"])]
                if part:
                    await resp.write(part)
                    state["sent"] += len(part)
                    rec.bytes_sent = state["sent"]
                abort()
            await resp.write(blob)
            state["sent"] += len(blob)
            rec.bytes_sent = state["sent"]

        async def emit(name: str, data: bytes, *, pace: bool = True) -> None:
            await write(b"".join((b"event", sep.encode(), name.encode(), b"\ndata", sep.encode(), data, b"\n\n")))
            if record:
                rec.event_times.append(time.monotonic())
                rec.events.append((name, data.decode("utf-8")))
            if pace and gap > 0:
                if not cfg.events_per_second:
                    await self._sleep(gap)
                    return
                # keep to the rate: writing counts toward the gap, and a hiccup is caught up on (a delay of
                # over a quarter second, such as a stall, restarts the clock instead)
                now = time.monotonic()
                state["due"] = (state["due"] if now - state["due"] < max(gap, 0.25) else now) + gap
                await self._sleep(state["due"] - now)

        def drop(point: str) -> None:
            if cfg.drop_before == point:
                abort()

        links = None
        if cfg.search_links and str(search_mode) == cfg.search_on_value:
            links = model.search_links(user_messages[-1])

        try:
            drop("send_result")
            send_result: dict[str, Any] = {"chatID": chat.id}
            if new_chat or cfg.title_on_continue:
                send_result["chatTitle"] = chat.title
            send_result.update(userMsgID=turn.user_msg_id, systemMsgID=turn.system_msg_id)
            await emit("send_result", compact_json({"type": 1, "statusInfo": status_info(0, MSG_OK),
                                              "data": {"sendResult": send_result}}).encode("utf-8"))
            if cfg.unknown_event:
                await emit("unknown_future_event", compact_json({
                    "type": 42, "statusInfo": status_info(0, MSG_OK),
                    "data": {"futureField": {"note": "an event this client does not know"}}}).encode("utf-8"))
            drop("after_send_result")

            # prebuilt pieces of message_result payloads
            extra = ""
            if links is not None:
                extra = ',"extra":' + compact_json({"netSearchStatus": {"linkDetail": links}})
            common = ('{"type":2,"statusInfo":{"code":0,"message":"' + MSG_OK + '"},"data":{"messageResult":'
                      '{"chatID":"' + chat.id + '","msgID":"' + turn.system_msg_id + '",')
            head_more = (common + '"isEnd":1' + extra + ',"content":"').encode("utf-8")
            head_final = (common + '"isEnd":0' + extra + ',"content":"').encode("utf-8")
            tail = b'"}}}'
            segments: list[bytes] = []
            offsets: list[int] = []
            prev = 0
            total = 0
            for end in ends:
                seg = escape_json_text(answer[prev:end]).encode("utf-8")
                segments.append(seg)
                total += len(seg)
                offsets.append(total)
                prev = end
            escaped = b"".join(segments)
            del segments
            fffd = "\ufffd".encode("utf-8")

            heartbeat = compact_json({"type": 3, "statusInfo": {"code": CODE_HEARTBEAT, "message": "heartbeat"},
                                "data": {}}).encode("utf-8")
            error_at = cfg.stream_error
            stall_at = cfg.stall_after_events
            mid = max(1, len(ends_to_send) // 2)

            async def maybe_error(i: int) -> bool:
                if error_at is not None and i == error_at:
                    message = cfg.stream_error_message or (HICCUP_MESSAGE_ZH if zh else HICCUP_MESSAGE)
                    rec.error = message
                    await emit("message_result", compact_json({"type": 2, "statusInfo": status_info(
                        cfg.stream_error_code, message), "data": {}}).encode("utf-8"), pace=False)
                    if cfg.stream_error_close_chunk:
                        await emit("close_chunk", b'{"type":8,"data":{}}', pace=False)
                    return True
                return False

            async def maybe_stall(i: int) -> None:
                if stall_at is not None and i == stall_at:
                    await self._stall(cfg.stall_seconds)

            if cfg.heartbeats:
                await emit(cfg.heartbeat_event, heartbeat)
            if cfg.first_event_delay > 0:
                await self._sleep(min(cfg.first_event_delay, MAX_SLOW_SECONDS))
            last = len(ends) - 1
            for i, end in enumerate(ends_to_send):
                await maybe_stall(i)
                if await maybe_error(i):
                    return resp
                final = i == last
                content = escaped[: offsets[i]]
                if cfg.fffd_splits and not final and end < len(answer) and ord(answer[end]) > 0x7F:
                    content = content + fffd
                await emit("message_result", b"".join((head_final if final else head_more, content, tail)))
                n_sent = i + 1
                if n_sent == 1:
                    if cfg.malformed_lines:
                        await write(b'data: {"type":2,"statusInfo":{"code":0,"mess\n\n')
                        await write(b": a comment line from the server\n\n")
                        await write(b"data: this is not JSON at all\n\n")
                        await write(b"event: message_result\ndata: <html><body>502</body></html>\n\n")
                    if cfg.oversized_line:
                        pad = "x" * max(0, int(cfg.oversized_line) - 80)
                        await emit(cfg.heartbeat_event, compact_json({
                            "type": 3, "statusInfo": {"code": CODE_HEARTBEAT, "message": "heartbeat"},
                            "data": {"padding": pad}}).encode("utf-8"), pace=False)
                if cfg.heartbeats and n_sent % max(1, cfg.heartbeat_every) == 0:
                    await emit(cfg.heartbeat_event, heartbeat, pace=False)
                if n_sent == mid:
                    drop("mid_answer")
            n_done = len(ends_to_send)
            if stall_at is not None and stall_at > n_done:
                stall_at = n_done
            await maybe_stall(n_done)
            if error_at is not None and error_at >= n_done:
                await maybe_error(error_at)
                return resp
            if cfg.no_final:
                await resp.write_eof()
                return resp
            if cfg.follow_ups:
                follow: dict[str, Any] = {
                    "messageResult": {"chatID": chat.id, "msgID": turn.system_msg_id, "isEnd": 0, "content": answer},
                    "followUpQuestions": model.follow_up_questions(user_messages),
                }
                if links is not None:
                    follow["extra"] = {"netSearchStatus": {"linkDetail": links}}
                await emit("follow_up_question_result", compact_json({"type": 4, "statusInfo": status_info(0, MSG_OK),
                                                                "data": follow}).encode("utf-8"))
            drop("close_chunk")
            await emit("close_chunk", b'{"type":8,"data":{}}', pace=False)
            await resp.write_eof()
        except _Aborted:
            pass
        except ConnectionError:
            rec.error = rec.error or "client went away"
        except asyncio.CancelledError:
            rec.error = rec.error or "client went away"
            raise
        return resp
