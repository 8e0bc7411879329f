"""The official MiniMax API (OpenAI-compatible chat completions, an API key) behind the backend contract.

MINIMAX_API.md is the protocol. The byte stream goes through the shared SSE decoder
(:mod:`~hailuo_tui.provider.sse`) and the pure chunk mapper (:mod:`~hailuo_tui.provider.openai_stream`);
this module only speaks HTTP: it builds the request, fits the history to the model's context window,
and turns what goes wrong on the wire into the error family. The key is never logged, never put in an
exception and never in a ``repr``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar

import aiohttp

from hailuo_tui.provider.backend import BACKEND_LABELS, ChatRequest
from hailuo_tui.provider.errors import (
    AnswerTimedOut,
    AnswerTooLong,
    AuthError,
    BadRequest,
    HailuoError,
    NetworkError,
    NoResponse,
    ProtocolChanged,
    StreamInterrupted,
)
from hailuo_tui.provider.compat_aiohttp import unread_bytes
from hailuo_tui.provider.limits import Deadline, DeadlinePassed, flush_pending, line_limit, read_chunk
from hailuo_tui.provider.read_pacing import ReadPacer, transport_of
from hailuo_tui.provider.models import HistoryTrimmed
from hailuo_tui.provider.openai_stream import ChunkMapper, api_error, error_info
from hailuo_tui.provider.reasoning import ReasoningSplitter
from hailuo_tui.provider.sse import SSEDecoder, SSELineTooLong
from hailuo_tui.redact import remember_secret, remember_url
from hailuo_tui.sanitize import clean

log = logging.getLogger(__name__)

#: The OpenAI-compatible base URL of each region (a key only works in its own region).
API_HOSTS: dict[str, str] = {"international": "https://api.minimax.io/v1", "china": "https://api.minimaxi.com/v1"}
DEFAULT_API_MODEL = "MiniMax-M3"
#: The models of the documentation (§2, §3), the fallback when ``GET /models`` fails.
DOCUMENTED_MODELS: tuple[str, ...] = (
    "MiniMax-M3", "MiniMax-M3.1-Flash-Preview", "MiniMax-M2.7", "MiniMax-M2.7-highspeed", "MiniMax-M2.5",
    "MiniMax-M2.5-highspeed", "MiniMax-M2.1", "MiniMax-M2.1-highspeed", "MiniMax-M2",
)
#: Context window in tokens per model (§3).
CONTEXT_WINDOWS: dict[str, int] = {
    "MiniMax-M3": 1_000_000,
    "MiniMax-M3.1-Flash-Preview": 1_000_000,
    "MiniMax-M3.1-Flash": 1_000_000,
    **{m: 204_800 for m in DOCUMENTED_MODELS if m.startswith("MiniMax-M2")},
}
#: The window assumed for a model not in :data:`CONTEXT_WINDOWS` (a gateway's, a future one): small on purpose.
DEFAULT_CONTEXT_WINDOW = 128_000
#: Tokens each message costs beyond its text (role and separators).
MESSAGE_OVERHEAD = 4
#: Room for the title request's visible answer, and for reasoning on models that always think
#: (below ~1024 M2.x often spends everything on reasoning and answers nothing, §4).
TITLE_TOKENS = 64
TITLE_REASONING_ROOM = 1024
TITLE_MAX_CHARS = 60
TITLE_INSTRUCTION = (
    "You name conversations. The user shows you the start of a conversation. Reply with a title for it: 3 to 6 "
    "words, in the language of the conversation, without quotes and without final punctuation. Reply with the "
    "title only."
)
_TITLE_PREFIX = re.compile(r"^\s*(title|标题|標題|タイトル)\s*[:：]\s*", re.IGNORECASE)
_TITLE_STRIP = "\"'`*#_“”‘’「」『』《》 \t"
_TITLE_TRAILING = ".。!！?？,，;；:：、…-— \t"


def context_window(model: str) -> int:
    """The context window of ``model`` in tokens (:data:`DEFAULT_CONTEXT_WINDOW` for an unknown one)."""
    return CONTEXT_WINDOWS.get(model, DEFAULT_CONTEXT_WINDOW)


def can_disable_thinking(model: str) -> bool:
    """Whether ``thinking: {"type": "disabled"}`` may be sent: M3 only (M2.x ignores it, M3.1 answers 400)."""
    name = model.lower()
    return name.startswith("minimax-m3") and not name.startswith("minimax-m3.")


def estimate_tokens(text: str) -> int:
    """A cheap, generous token estimate: UTF-8 bytes / 3.

    That counts an ASCII character as a third of a token (real tokenizers: about a quarter) and a CJK
    character (3 bytes) as one token, so it errs towards leaving a turn out rather than overflowing.
    """
    return -(-len(text.encode("utf-8", "replace")) // 3)


def fit_history(messages: Sequence[Mapping[str, Any]], budget: int) -> int:
    """How many of the oldest ``messages`` to leave out so the rest fit in ``budget`` tokens.

    The last user message and what follows it are never left out, even when they alone do not fit (the
    server then says the context is too long), and the kept part never starts with an assistant turn.
    """
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=len(messages) - 1)
    costs = [estimate_tokens(str(m.get("content") or "")) + MESSAGE_OVERHEAD for m in messages]
    total, start = sum(costs), 0
    while total > budget and start < last_user:
        total -= costs[start]
        start += 1
    if start:
        while start < last_user and messages[start].get("role") != "user":
            start += 1
    return start


def clean_title(text: str) -> str | None:
    """A model's answer to the title prompt as a title: no reasoning, quotes, prefix, final punctuation or
    control characters, one line, at most :data:`TITLE_MAX_CHARS` characters. ``None`` when nothing is left."""
    splitter = ReasoningSplitter()
    splitter.feed_content(text)
    splitter.finish()
    lines = [line for line in clean(splitter.answer).splitlines() if line.strip(_TITLE_STRIP)]
    if not lines:
        return None
    title = " ".join(_TITLE_PREFIX.sub("", lines[0]).split()).strip(_TITLE_STRIP)
    if len(title) > TITLE_MAX_CHARS:
        cut = title[:TITLE_MAX_CHARS]
        title = cut.rsplit(" ", 1)[0] if " " in cut[TITLE_MAX_CHARS // 2:] else cut
    title = title.rstrip(_TITLE_TRAILING).strip(_TITLE_STRIP)
    return title or None


class MiniMaxAPI:
    """One API key on the MiniMax API (or another OpenAI-compatible host with the same protocol).

    ``request.options`` may hold ``"context_window"`` (tokens; overrides :data:`CONTEXT_WINDOWS`).
    """

    id: ClassVar[str] = "api"
    label: ClassVar[str] = BACKEND_LABELS["api"]
    login_kind: ClassVar[str] = "api_key"
    default_model: ClassVar[str] = DEFAULT_API_MODEL
    supports_system: ClassVar[bool] = True

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = API_HOSTS["international"],
        proxy: str | None = None,
        read_timeout: float = 60.0,
        connect_timeout: float = 15.0,
        max_tokens: int = 8192,
        answer_timeout: float | None = None,
        max_answer_chars: int | None = None,
    ) -> None:
        self._key = (api_key or "").strip()
        self.base_url = base_url.rstrip("/")
        remember_secret(self._key)  # an echo of the key in an error body is redacted everywhere
        remember_url(self.base_url)
        remember_url(proxy)
        self.proxy = proxy
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self.max_tokens = max_tokens
        self.answer_timeout = answer_timeout
        self.max_answer_chars = max_answer_chars
        self._models: list[str] | None = None

    def __repr__(self) -> str:  # never print the key
        return f"MiniMaxAPI(base_url={self.base_url!r}, key=<hidden>)"

    # --- requests ---------------------------------------------------------------------------------

    def request_body(self, request: ChatRequest, *, stream: bool = True) -> tuple[dict[str, Any], int]:
        """The JSON body for ``request`` and how many of its oldest messages were left out to fit the window."""
        model = request.model or self.default_model
        turns = [m for m in request.messages if m.get("role") in ("user", "assistant")]
        if not turns or not str(turns[-1].get("content") or "").strip() or turns[-1].get("role") != "user":
            raise HailuoError("There is no message to send.", partial="")
        window = int(request.options.get("context_window") or context_window(model))
        system = (request.system or "").strip()
        budget = window - self.max_tokens - (estimate_tokens(system) + MESSAGE_OVERHEAD if system else 0)
        dropped = fit_history(turns, budget)
        messages: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
        for turn in turns[dropped:]:
            content = str(turn.get("content") or "")
            if content.strip():  # a failed, empty answer says nothing to the model
                messages.append({"role": str(turn["role"]), "content": content})
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": stream,
                                "reasoning_split": True, "max_completion_tokens": self.max_tokens}
        if stream:
            body["stream_options"] = {"include_usage": True}
        if not request.thinking and can_disable_thinking(model):
            body["thinking"] = {"type": "disabled"}
        return body, dropped

    def _headers(self) -> dict[str, str]:
        if not self._key:
            err = AuthError("No MiniMax API key is set. Log in with `hailuo-tui login --api-key`.")
            err.retryable = False
            raise err
        if not self._key.isascii() or not self._key.isprintable() or any(c.isspace() for c in self._key):
            err = AuthError("The MiniMax API key contains characters an API key cannot have. Log in again with "
                            "`hailuo-tui login --api-key`.")
            err.retryable = False
            raise err
        return {"Authorization": f"Bearer {self._key}", "Content-Type": "application/json"}

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "<key>") if self._key else text

    def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=self.connect_timeout, sock_read=self.read_timeout))

    def _network_error(self, exc: BaseException) -> NetworkError:
        log.debug("request to %s failed: %s", self.base_url, self._redact(repr(exc)))
        return NetworkError(
            f"Could not reach the MiniMax API at {self.base_url}: {type(exc).__name__}. Check your connection, "
            "proxy or the API base URL.",
            detail=self._redact(repr(exc)),
        )

    async def _error_of(self, response: aiohttp.ClientResponse) -> HailuoError:
        text = await response.text(errors="replace")
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        log.debug("HTTP %s from %s (trace %s): %s", response.status, response.url.path,
                  response.headers.get("Trace-Id", "-"), self._redact(clean(text[:300])))
        return api_error(response.status, payload, secret=self._key)

    async def _json(self, method: str, path: str, body: Any = None) -> Any:
        """A non-streamed call: the parsed JSON answer, or the error it stands for."""
        headers = self._headers()
        async with self._session() as session:
            try:
                async with session.request(method, self.base_url + path, headers=headers, proxy=self.proxy,
                                           data=None if body is None else json.dumps(body)) as response:
                    if response.status != 200:
                        raise await self._error_of(response)
                    text = await response.text(errors="replace")
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                raise self._network_error(exc) from None
        try:
            payload = json.loads(text)
        except ValueError:
            raise ProtocolChanged("The MiniMax API answered with something that is not JSON.",
                                  sample=self._redact(text)) from None
        if error_info(payload) is not None:
            raise api_error(200, payload, secret=self._key)
        return payload

    # --- the backend contract ---------------------------------------------------------------------

    async def stream(self, request: ChatRequest) -> AsyncIterator[Any]:
        """Send ``request`` and yield :class:`~.HistoryTrimmed` (when the history was cut), then
        :class:`~.ReasoningDelta`, :class:`~.TextDelta`, :class:`~.Usage`, and one :class:`~.Finished`.

        Raises:
            HailuoError: one of the family; a failure after some answer text carries it in ``partial``.
        """
        body, dropped = self.request_body(request)
        headers = self._headers()
        if dropped:
            yield HistoryTrimmed(dropped)
        mapper = ChunkMapper(body["model"], secret=self._key)
        deadline = Deadline(self.answer_timeout)
        log.debug("POST %s/chat/completions: model %s, %d messages (%d left out), thinking %s",
                  self.base_url, body["model"], len(body["messages"]), dropped, "off" if "thinking" in body else "on")
        try:
            async with self._session() as session:
                try:
                    response = await deadline.run(session.post(
                        self.base_url + "/chat/completions", data=json.dumps(body), headers=headers, proxy=self.proxy))
                except DeadlinePassed:
                    raise AnswerTimedOut(self.answer_timeout or 0, detail="no response headers") from None
                except aiohttp.SocketTimeoutError as exc:
                    raise NoResponse(
                        f"The MiniMax API at {self.base_url} accepted the request but sent nothing for "
                        f"{self.read_timeout:g} s. The message may have reached it; try again later.",
                        detail=self._redact(repr(exc)),
                    ) from None
                except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                    raise self._network_error(exc) from None
                async with response:
                    log.debug("HTTP %s %s (trace %s)", response.status, response.headers.get("Content-Type", ""),
                              response.headers.get("Trace-Id", "-"))
                    if response.status != 200:
                        raise await self._error_of(response)
                    if "event-stream" in response.headers.get("Content-Type", ""):
                        async for event in self._read_stream(response, mapper, deadline):
                            yield event
                    else:
                        for event in await self._read_whole(response, mapper):
                            yield event
        except HailuoError as exc:
            log.debug("chat failed: %s: %s (%s)", type(exc).__name__, self._redact(exc.message),
                      self._redact(exc.detail or ""))
            raise
        finally:
            log.debug("stream ended: %d chunks, %d answer and %d reasoning characters, finish %s, done %s, "
                      "%d skipped", mapper.chunks, len(mapper.text), len(mapper.reasoning), mapper.finish_reason,
                      mapper.done, mapper.skipped)

    async def _read_stream(
        self, response: aiohttp.ClientResponse, mapper: ChunkMapper, deadline: Deadline | None = None
    ) -> AsyncIterator[Any]:
        deadline = deadline or Deadline(None)
        limit = self.max_answer_chars
        decoder = SSEDecoder(max_line=line_limit(limit))
        head = bytearray()  # the body's start, while no chunk came: it may be a JSON error under an SSE type
        pacer = ReadPacer(transport_of(response))

        def over_limit() -> bool:
            if limit and mapper.size > limit:
                raise AnswerTooLong(limit, partial=mapper.text)
            return False

        try:
            while chunk := await pacer.read(lambda: deadline.run(response.content.readany(), idle=self.read_timeout),
                                            ending=mapper.complete):
                if not mapper.chunks and len(head) < 65536:
                    head += chunk
                events, error, _ = read_chunk(decoder, mapper.feed, chunk, over_limit)
                for event in events:
                    yield event
                if error is not None:
                    raise error
                if mapper.done:
                    break
            else:
                for sse in decoder.close():
                    for event in mapper.feed(sse):
                        yield event
        except SSELineTooLong as exc:
            raise ProtocolChanged(str(exc), partial=mapper.text) from None
        except DeadlinePassed:
            for event in flush_pending(decoder, mapper):
                yield event
            raise AnswerTimedOut(deadline.seconds or 0, partial=mapper.text) from None
        except asyncio.TimeoutError:
            for event in flush_pending(decoder, mapper):
                yield event
            if not mapper.complete:
                raise StreamInterrupted(
                    f"The MiniMax API stopped sending for {self.read_timeout:g} s; the answer so far was kept.",
                    partial=mapper.text,
                ) from None
        except (aiohttp.ClientError, OSError) as exc:
            try:  # bytes aiohttp held back: text that arrived
                for sse in [sse for chunk in unread_bytes(response.content) for sse in decoder.feed(chunk)]:
                    for event in mapper.feed(sse):
                        yield event
            except (SSELineTooLong, HailuoError):
                pass
            for event in flush_pending(decoder, mapper):
                yield event
            if not mapper.complete:  # after finish_reason only the usage chunk or [DONE] was lost
                raise StreamInterrupted(
                    "The connection to the MiniMax API dropped before the answer finished; the answer so far "
                    "was kept.",
                    detail=self._redact(repr(exc)),
                    partial=mapper.text,
                ) from None
        if not mapper.chunks and not mapper.done:
            try:
                payload = json.loads(head.decode("utf-8", "replace"))
            except ValueError:
                payload = None
            if error_info(payload) is not None:
                raise api_error(200, payload, secret=self._key)
        for event in mapper.close():
            yield event

    async def _read_whole(self, response: aiohttp.ClientResponse, mapper: ChunkMapper) -> list[Any]:
        """A 200 answer that is not an event stream: an error body (``base_resp`` 1008…), a whole
        ``chat.completion``, or SSE under another content type."""
        try:
            text = await response.text(errors="replace")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise StreamInterrupted("The connection to the MiniMax API dropped before the answer arrived.",
                                    detail=self._redact(repr(exc))) from None
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        if payload is not None:
            if error_info(payload) is not None:
                raise api_error(200, payload, secret=self._key)
            if isinstance(payload, dict) and isinstance(payload.get("choices"), list):
                return mapper.feed_payload(payload) + mapper.close()
        elif "data:" in text:
            decoder = SSEDecoder()
            events = [e for sse in decoder.feed(text.encode()) + decoder.close() for e in mapper.feed(sse)]
            return events + mapper.close()
        raise ProtocolChanged("The MiniMax API answered with something other than a chat completion.",
                              sample=self._redact(text))

    async def list_models(self) -> list[str]:
        """``GET {base}/models``: the model ids the key can use, in the server's order.

        Raises:
            HailuoError: AuthError for a refused key, NetworkError, ProtocolChanged for an unreadable list…
        """
        payload = await self._json("GET", "/models")
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise ProtocolChanged("The MiniMax API's model list could not be read.",
                                  sample=self._redact(json.dumps(payload)[:2000]))
        ids: list[str] = []
        for item in data:
            model = item.get("id") if isinstance(item, dict) else None
            if isinstance(model, str):
                model = clean(model).strip()
                if model and len(model) <= 128 and not any(c.isspace() for c in model) and model not in ids:
                    ids.append(model)
        return ids

    async def models(self) -> list[str]:
        """The model ids this key can use; :data:`DOCUMENTED_MODELS` when the listing fails. Never raises."""
        if self._models is None:
            try:
                listed = await self.list_models()
            except HailuoError as exc:
                log.debug("model list failed (%s); using the documented models", type(exc).__name__)
                return list(DOCUMENTED_MODELS)
            if not listed:
                return list(DOCUMENTED_MODELS)
            self._models = listed
        return list(self._models)

    async def title(self, request: ChatRequest, answer: str) -> str | None:
        """A 3-6 word title from a second, small, non-streamed request; ``None`` on any failure."""
        model = request.model or self.default_model
        question = next((str(m.get("content") or "") for m in request.messages if m.get("role") == "user"), "")
        if not question.strip():
            return None
        messages = [{"role": "system", "content": TITLE_INSTRUCTION},
                    {"role": "user", "content": f"User: {question[:1500]}\n\nAssistant: {answer[:1500]}"}]
        quiet = can_disable_thinking(model)
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": False,
                                "reasoning_split": True,
                                "max_completion_tokens": TITLE_TOKENS if quiet else TITLE_TOKENS + TITLE_REASONING_ROOM}
        if quiet:
            body["thinking"] = {"type": "disabled"}
        try:
            payload = await self._json("POST", "/chat/completions", body)
            mapper = ChunkMapper(model)
            if not isinstance(payload, dict):
                return None
            mapper.feed_payload(payload)
            mapper.splitter.finish()
        except HailuoError as exc:
            log.debug("title request failed: %s", type(exc).__name__)
            return None
        return clean_title(mapper.text)

    async def check(self) -> None:
        """Check the key with ``GET {base}/models``.

        A host without that route (HTTP 404, some gateways) cannot tell: that passes.

        Raises:
            AuthError: the key was refused (wrong key or wrong region).
            HailuoError: the host could not be reached or failed.
        """
        try:
            await self.list_models()
        except BadRequest as exc:
            if "HTTP 404" not in (exc.detail or ""):
                raise
