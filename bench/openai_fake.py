"""The benchmarks' own OpenAI-compatible fake server: one long answer as ``chat.completion.chunk`` deltas.

Usage (a child process; ``FakeServer`` below starts it):
    python bench/openai_fake.py [--rate N] [--reasoning] [--lifetime S]

It listens on 127.0.0.1 (an ephemeral port), prints ``{"url": "http://127.0.0.1:PORT/v1"}`` and serves:

* ``POST /v1/chat/completions`` with ``"stream": true``: ``stream_bubble.make_answer()`` (~20,000
  characters of Markdown) in :data:`EVENTS` content deltas, OpenAI's SSE framing (``data: {...}`` per
  event, ``data: [DONE]`` at the end), one write per event; the last content delta carries
  ``finish_reason: "stop"`` (as MiniMax sends it); a usage chunk only when ``stream_options.include_usage``
  asks for one (elia's litellm and oterm's pydantic-ai do not; a ``choices: []`` chunk stops elia's loop).
  With ``--reasoning``, :data:`REASONING_EVENTS` reasoning deltas come first: as ``reasoning_content`` plus
  ``reasoning_details`` (MiniMax's split form) when the request has ``reasoning_split: true``, otherwise
  inline in ``content`` between ``<think>`` tags (MiniMax's default form, and what a client that knows
  nothing of MiniMax receives). Paced at ``--rate`` events/s on a schedule, or a burst without it.
* ``POST /v1/chat/completions`` without streaming: a short whole ``chat.completion`` (hailuo-tui's title
  request after the answer).
* ``POST /api/chat``: the same deltas as an Ollama NDJSON stream (``{"message": {...}, "done": false}``
  lines, reasoning in ``message.thinking``), for a client that only speaks Ollama.
* ``GET /v1/models`` (and ``/v1/models/{id}``): one model, :data:`MODEL`.

A ``status`` line on stdin makes it print at once whether the last stream was sent in full; any other line
makes it print the record of the last streamed answer (``time.monotonic()`` after each
event was written, per kind; CLOCK_MONOTONIC is one clock for every process on Linux) and its own CPU
seconds; end of stdin or ``--lifetime`` seconds end it (it never outlives a stuck benchmark for long).
Never run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

EVENTS = 4000
REASONING_EVENTS = 1000
MODEL = "bench-model"
TITLE = "Trip write-up"
MAX_BODY = 4 * 1024 * 1024


def make_reasoning(target: int = 6_000) -> str:
    """The thinking before the answer: plain sentences, none of the answer's marker texts in them."""
    sentence = ("The user wants a written account of the journey, so I should order the steps, add code for "
                "each of them and finish with a budget table. ")
    text = ""
    n = 0
    while len(text) < target:
        n += 1
        text += f"Thought {n}: {sentence}"
        if n % 4 == 0:
            text += "\n\n"
    return text.rstrip()


def _chunk(model: str, delta: dict, finish: str | None = None) -> bytes:
    payload = {"id": "bench-0001", "object": "chat.completion.chunk", "created": 1790000000, "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


def sse_events(model: str, split_reasoning: bool, reasoning: bool, include_usage: bool) -> list[tuple[str, bytes]]:
    """The whole stream, event by event: ``(kind, bytes)``, kind ``reasoning``, ``answer`` or ``end``."""
    from stream_bubble import make_answer, split

    out: list[tuple[str, bytes]] = []
    role = {"role": "assistant"}
    answer = split(make_answer(), EVENTS)
    if reasoning:
        thinking = split(make_reasoning(), REASONING_EVENTS)
        for i, piece in enumerate(thinking):
            if split_reasoning:
                detail = {"type": "reasoning.text", "id": "reasoning-text-1", "format": "MiniMax-response-v1",
                          "index": 0, "text": piece}
                delta = {**role, "reasoning_content": piece, "reasoning_details": [detail]}
            else:
                first, last = i == 0, i == len(thinking) - 1
                delta = {**role, "content": ("<think>\n" if first else "") + piece + ("\n</think>\n\n" if last else "")}
            out.append(("reasoning", _chunk(model, delta)))
    for i, piece in enumerate(answer):
        finish = "stop" if i == len(answer) - 1 else None
        out.append(("answer", _chunk(model, {**role, "content": piece}, finish)))
    if include_usage:
        usage = {"id": "bench-0001", "object": "chat.completion.chunk", "created": 1790000000, "model": model,
                 "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 6000, "total_tokens": 6020}}
        out.append(("end", b"data: " + json.dumps(usage).encode() + b"\n\n"))
    out.append(("end", b"data: [DONE]\n\n"))
    return out


def ndjson_events(model: str, reasoning: bool) -> list[tuple[str, bytes]]:
    """The same deltas as Ollama's ``/api/chat`` stream."""
    from stream_bubble import make_answer, split

    def line(message: dict, done: bool = False, **extra) -> bytes:
        payload = {"model": model, "created_at": "2026-01-01T00:00:00Z", "message": message, "done": done, **extra}
        return json.dumps(payload, ensure_ascii=False).encode() + b"\n"

    out: list[tuple[str, bytes]] = []
    if reasoning:
        for piece in split(make_reasoning(), REASONING_EVENTS):
            out.append(("reasoning", line({"role": "assistant", "content": "", "thinking": piece})))
    for piece in split(make_answer(), EVENTS):
        out.append(("answer", line({"role": "assistant", "content": piece})))
    out.append(("end", line({"role": "assistant", "content": ""}, True, done_reason="stop",
                            prompt_eval_count=20, eval_count=6000)))
    return out


class Fake:
    """The aiohttp application and the record of the last streamed answer."""

    def __init__(self, rate: float | None, reasoning: bool) -> None:
        self.rate = rate
        self.reasoning = reasoning
        #: Of the last streamed answer: kind -> send times; and what the request asked for.
        self.times: dict[str, list[float]] = {}
        self.request: dict = {}
        self.streams = 0
        self.done = asyncio.Event()

    async def _send(self, request, response, events: list[tuple[str, bytes]]) -> None:
        self.streams += 1
        self.done.clear()
        times: dict[str, list[float]] = {"reasoning": [], "answer": [], "end": []}
        self.times = times
        t0 = time.monotonic()
        try:
            for i, (kind, data) in enumerate(events):
                if self.rate and kind != "end":
                    delay = t0 + i / self.rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                await response.write(data)
                times[kind].append(time.monotonic())
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.done.set()

    async def chat(self, request):
        from aiohttp import web

        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": {"message": "not JSON", "type": "invalid_request_error"}}, status=400)
        model = str(body.get("model") or MODEL)
        if not body.get("stream"):
            message = {"role": "assistant", "content": TITLE}
            return web.json_response({
                "id": "bench-title", "object": "chat.completion", "created": 1790000000, "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24}})
        split_reasoning = bool(body.get("reasoning_split"))
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.request = {"path": request.path, "model": model, "reasoning_split": split_reasoning,
                        "include_usage": include_usage, "messages": len(body.get("messages") or [])}
        events = sse_events(model, split_reasoning, self.reasoning, include_usage)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        await self._send(request, response, events)
        return response

    async def ollama_chat(self, request):
        from aiohttp import web

        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "not JSON"}, status=400)
        model = str(body.get("model") or MODEL)
        self.request = {"path": request.path, "model": model, "messages": len(body.get("messages") or [])}
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        await self._send(request, response, ndjson_events(model, self.reasoning))
        return response

    async def models(self, request):
        from aiohttp import web

        entry = {"id": MODEL, "object": "model", "created": 1790000000, "owned_by": "bench"}
        if "id" in request.match_info:
            if request.match_info["id"] != MODEL:
                return web.json_response({"error": {"message": "no such model"}}, status=404)
            return web.json_response(entry)
        return web.json_response({"object": "list", "data": [entry]})

    def app(self):
        from aiohttp import web

        app = web.Application(client_max_size=MAX_BODY)
        for prefix in ("/v1", ""):
            app.router.add_post(prefix + "/chat/completions", self.chat)
            app.router.add_get(prefix + "/models", self.models)
            app.router.add_get(prefix + "/models/{id}", self.models)
        app.router.add_post("/api/chat", self.ollama_chat)
        return app

    def report(self) -> dict:
        return {"times": self.times, "request": self.request, "streams": self.streams, "cpu_s": time.process_time()}


async def serve(rate: float | None, reasoning: bool, lifetime: float) -> None:
    from aiohttp import web

    fake = Fake(rate, reasoning)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(json.dumps({"url": f"http://127.0.0.1:{port}/v1"}), flush=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime
    try:
        while loop.time() < deadline:
            line = await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), deadline - loop.time())
            if not line:
                break
            if line.strip() == "status":  # answered at once: has the last stream been sent in full?
                print(json.dumps({"done": bool(fake.streams) and fake.done.is_set()}), flush=True)
                continue
            if fake.streams:  # a report asked for mid-stream waits (bounded) for the stream's end
                try:
                    await asyncio.wait_for(fake.done.wait(), 30)
                except asyncio.TimeoutError:
                    pass
            print(json.dumps(fake.report()), flush=True)
    except asyncio.TimeoutError:
        pass
    finally:
        await runner.cleanup()


#: How errors name the child process.
WHO = "the fake OpenAI server"


class FakeServer:
    """:func:`serve` in a child process (its own interpreter: the screen poller never delays it)."""

    def __init__(self, rate: float | None, reasoning: bool = False, lifetime: float = 900.0) -> None:
        argv = [sys.executable, __file__, "--lifetime", str(lifetime)]
        if rate:
            argv += ["--rate", str(rate)]
        if reasoning:
            argv.append("--reasoning")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     cwd=HERE.parent)
        self.url: str = self._line(20.0)["url"]
        #: The Ollama-style root (``/api/chat`` lives under it).
        self.root_url = self.url.removesuffix("/v1")

    def _line(self, timeout: float) -> dict:
        from terminal_stream import read_json_line  # bench/ is on sys.path (run.py, or this script's folder)

        return read_json_line(self.proc, timeout, WHO)

    def _ask(self, command: str, timeout: float) -> dict:
        from terminal_stream import ask_child

        return ask_child(self.proc, command, timeout, WHO)

    def report(self) -> dict:
        """The last streamed answer: ``times`` (kind -> send times), ``request``, ``streams``, ``cpu_s``."""
        return self._ask("report", 40.0)

    def sent_all(self) -> bool:
        """Whether a streamed answer has been written in full (answered at once)."""
        return bool(self._ask("status", 10.0)["done"])

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # type: ignore[union-attr]
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, help="events per second (default: a burst)")
    parser.add_argument("--reasoning", action="store_true", help=f"{REASONING_EVENTS} reasoning events first")
    parser.add_argument("--lifetime", type=float, default=900.0, help="exit after this many seconds at most")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(serve(args.rate, args.reasoning, args.lifetime))


if __name__ == "__main__":
    main()
