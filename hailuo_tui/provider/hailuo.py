"""The Hailuo AI provider: browser login and streaming chat over aiohttp.

The surface follows the gpt4free provider (class attributes, ``on_auth_async``
and ``create_authed`` as async iterators) so code written for one reads like
the other; the behaviour is our own and documented in PROTOCOL.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from hailuo_tui.provider.compat_aiohttp import unread_bytes
from hailuo_tui.provider.errors import (
    AnswerTimedOut,
    AnswerTooLong,
    HailuoError,
    NoResponse,
    ProtocolChanged,
    ServiceError,
    StreamInterrupted,
)
from hailuo_tui.provider.models import (
    AuthResult,
    ChatStarted,
    Conversation,
    LoginProgress,
    LoginRequested,
)
from hailuo_tui.provider.limits import Deadline, DeadlinePassed, flush_pending, line_limit, read_chunk
from hailuo_tui.provider.read_pacing import ReadPacer, transport_of
from hailuo_tui.provider.signing import sign_message, unix_of
from hailuo_tui.provider.sse import DEFAULT_MAX_LINE, SSEDecoder, SSELineTooLong
from hailuo_tui.provider.stream import EventMapper
from hailuo_tui.provider.transport import HAILUO_URL, error_for_status, json_request, unreachable

log = logging.getLogger(__name__)

Message = Mapping[str, Any]


def format_prompt(messages: Sequence[Message]) -> str:
    """Fold a whole history into the one prompt a new chat sends (PROTOCOL.md §4.2).

    A single message goes as it is; otherwise each non-empty message becomes
    ``Role: content`` and ``Assistant:`` is appended for the model to continue.
    """
    useful = [m for m in messages if str(m.get("content") or "").strip()]
    if len(useful) == 1:
        return str(useful[0]["content"])
    lines = [f"{str(m.get('role', 'user')).capitalize()}: {m['content']}" for m in useful]
    return "\n".join(lines) + "\nAssistant:"


def last_user_message(messages: Sequence[Message]) -> str:
    """The trailing user messages, joined by newlines (what a continued chat sends)."""
    tail: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "user":
            break
        tail.append(str(message.get("content") or ""))
    return "\n".join(reversed(tail))


class HailuoAI:
    """Hailuo AI (MiniMax) web chat, with a browser login and a streaming reply."""

    label = "Hailuo AI"
    url = HAILUO_URL
    working = True
    use_nodriver = True
    supports_stream = True
    default_model = "MiniMax"
    models = [default_model]

    # --- login ----------------------------------------------------------------

    @classmethod
    async def on_auth_async(
        cls,
        proxy: str | None = None,
        *,
        base_url: str | None = None,
        headless: bool = False,
        browser_path: str | None = None,
        profile_dir: Path | None = None,
        timeout: float = 300.0,
        **kwargs: Any,
    ) -> AsyncIterator[LoginRequested | LoginProgress | AuthResult]:
        """Log in through a real Chromium and yield progress, then the :class:`AuthResult`.

        If ``G4F_LOGIN_URL`` is set, a :class:`LoginRequested` carrying it comes first.
        """
        from hailuo_tui.provider.login import browser_login  # nodriver is a heavy import

        login_url = os.environ.get("G4F_LOGIN_URL")
        if login_url:
            yield LoginRequested(login_url)
        progress: asyncio.Queue[str] = asyncio.Queue()
        task = asyncio.ensure_future(
            browser_login(
                (base_url or cls.url).rstrip("/"),
                profile_dir=profile_dir,
                headless=headless,
                browser_path=browser_path,
                proxy=proxy,
                timeout=timeout,
                on_progress=progress.put_nowait,
            )
        )
        try:
            while not task.done() or not progress.empty():
                getter = asyncio.ensure_future(progress.get())
                await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield LoginProgress(getter.result())
                else:
                    getter.cancel()
            yield task.result()
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    # --- chat -----------------------------------------------------------------

    @classmethod
    async def create_authed(
        cls,
        model: str,
        messages: Sequence[Message],
        auth_result: AuthResult,
        return_conversation: bool = False,
        conversation: Conversation | None = None,
        *,
        base_url: str | None = None,
        proxy: str | None = None,
        web_search: bool = False,
        session: aiohttp.ClientSession | None = None,
        read_timeout: float = 60.0,
        connect_timeout: float = 15.0,
        answer_timeout: float | None = None,
        max_answer_chars: int | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Send the conversation's new message and yield typed events as the answer streams.

        Yields :class:`ChatStarted`, :class:`TitleGenerated`, the :class:`Conversation`
        (when ``return_conversation``), :class:`TextDelta` pieces (a :class:`TextReplaced`
        when the server rewrites earlier text), optional :class:`SearchSources`/:class:`FollowUps`,
        then :class:`Finished`. Raises a :class:`HailuoError`; a failure mid-answer carries the
        text so far in ``partial``. ``answer_timeout`` (seconds, whole answer) and
        ``max_answer_chars`` stop an answer with :class:`AnswerTimedOut` / :class:`AnswerTooLong`;
        a request delivered but never answered is :class:`NoResponse`, not a :class:`NetworkError`.
        """
        if conversation is not None and conversation.token != auth_result.token:
            conversation = None  # the chat belongs to another login: start a new one
        if conversation is not None:
            prompt, chat_id = last_user_message(messages), conversation.chatID
            character_id = str(conversation.characterID)
        else:
            prompt, chat_id, character_id = format_prompt(messages), "0", "1"
        if not prompt.strip():
            raise HailuoError("There is no message to send.", partial="")

        path_and_query = auth_result.path_and_query
        unix = unix_of(auth_result.query) or str(auth_result.timestamp)
        root = (base_url or auth_result.base_url or cls.url).rstrip("/")
        headers = dict(auth_result.headers)
        headers.update(
            {
                "token": auth_result.token,
                "yy": sign_message(path_and_query, unix, character_id, prompt, chat_id),
                "accept": "text/event-stream",
            }
        )
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("characterID", character_id)
        form.add_field("msgContent", prompt)
        form.add_field("chatID", chat_id)
        form.add_field("searchMode", "1" if web_search else "0")

        own_session = session is None
        if own_session:
            session = aiohttp.ClientSession(
                cookies=auth_result.cookies,
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=read_timeout),
            )
        mapper = EventMapper()
        deadline = Deadline(answer_timeout)
        try:
            log.debug("POST %s (chat %s, %d characters, search %s)", path_and_query.partition("?")[0], chat_id,
                      len(prompt), "on" if web_search else "off")
            try:
                response = await deadline.run(
                    session.post(root + path_and_query, data=form, headers=headers, proxy=proxy))
            except DeadlinePassed:
                raise AnswerTimedOut(answer_timeout or 0, detail="no response headers") from None
            except aiohttp.SocketTimeoutError as exc:
                # connected and sent: the server took the request and said nothing
                raise NoResponse(
                    f"Hailuo at {root} accepted the request but sent nothing for {read_timeout:g} s. The message "
                    "may have reached it; try again later.",
                    detail=repr(exc),
                ) from None
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                log.debug("POST failed: %r", exc)
                raise unreachable(root, exc) from None
            async with response:
                log.debug("HTTP %s %s", response.status, response.headers.get("Content-Type", ""))
                if response.status != 200:
                    body = await response.text(errors="replace")
                    log.debug("error body: %s", body[:500])
                    raise error_for_status(response.status, body, response.headers)
                content_type = response.headers.get("Content-Type", "")
                if "event-stream" not in content_type:
                    body = await response.text(errors="replace")
                    raise cls._non_stream_error(body)
                reading = cls._read_events(response, mapper, read_timeout, deadline, max_answer_chars)
                async for event in reading:
                    yield event
                    if return_conversation and isinstance(event, ChatStarted):
                        yield Conversation(auth_result.token, event.chat_id, int(character_id))
        except HailuoError as exc:
            log.debug("chat failed: %s: %s (%s)", type(exc).__name__, exc.message, exc.detail or "")
            raise
        finally:
            log.debug("stream ended: chat %s, %d characters, final %s, closed %s, %d skipped events",
                      mapper.chat_id or "-", len(mapper.text), mapper.final, mapper.closed, mapper.skipped)
            if own_session:
                await session.close()

    @classmethod
    async def _read_events(
        cls, response: aiohttp.ClientResponse, mapper: EventMapper, read_timeout: float,
        deadline: Deadline | None = None, max_chars: int | None = None,
    ) -> AsyncIterator[Any]:
        deadline = deadline or Deadline(None)
        decoder = SSEDecoder(max_line=line_limit(max_chars))
        pacer = ReadPacer(transport_of(response))

        def checked() -> bool:
            if max_chars and len(mapper.text) > max_chars:
                raise AnswerTooLong(max_chars, partial=mapper.text)
            return mapper.closed

        try:
            while chunk := await pacer.read(lambda: deadline.run(response.content.readany(), idle=read_timeout),
                                            ending=mapper.final):
                events, error, closed = read_chunk(decoder, mapper.feed, chunk, checked)
                for event in events:
                    yield event
                if error is not None:
                    raise error
                if closed:
                    return
            for sse in decoder.close():
                for event in mapper.feed(sse):
                    yield event
        except SSELineTooLong as exc:
            if max_chars and line_limit(max_chars) < DEFAULT_MAX_LINE:
                raise AnswerTooLong(max_chars, partial=mapper.text, detail=str(exc)) from None
            raise ProtocolChanged(str(exc), partial=mapper.text) from None
        except DeadlinePassed:
            for event in flush_pending(decoder, mapper):
                yield event
            raise AnswerTimedOut(deadline.seconds or 0, partial=mapper.text) from None
        except asyncio.TimeoutError:
            for event in flush_pending(decoder, mapper):
                yield event
            raise StreamInterrupted(
                f"Hailuo stopped sending for {read_timeout:g} s; the answer so far was kept.",
                partial=mapper.text,
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            # aiohttp discards bytes it received but had not handed out yet when the
            # connection breaks: read them, so no text that arrived is lost.
            try:
                for chunk in unread_bytes(response.content):
                    for sse in decoder.feed(chunk):
                        for event in mapper.feed(sse):
                            yield event
            except SSELineTooLong:
                pass
            for event in flush_pending(decoder, mapper):
                yield event
            if mapper.final:
                return  # the whole answer arrived; only the closing marker was lost
            raise StreamInterrupted(
                "The connection to Hailuo dropped before the answer finished; the answer so far was kept.",
                detail=repr(exc),
                partial=mapper.text,
            ) from None
        if not mapper.final:
            if not mapper.chat_id and mapper.skipped:
                raise ProtocolChanged(
                    "Hailuo's reply could not be understood; its protocol may have changed.",
                    sample=mapper.last_skipped_sample,
                    partial=mapper.text,
                )
            raise StreamInterrupted(
                "Hailuo ended the answer before it was finished; the answer so far was kept.",
                partial=mapper.text,
            )

    @staticmethod
    def _non_stream_error(body: str) -> HailuoError:
        try:
            info = json.loads(body).get("statusInfo") or {}
        except (ValueError, AttributeError):
            info = None
        if isinstance(info, dict) and info.get("code") not in (0, None):
            return ServiceError.from_status(info)
        return ProtocolChanged(
            "Hailuo answered with something other than an event stream; its protocol may have changed.",
            sample=body,
        )

    # --- other signed calls -------------------------------------------------

    @classmethod
    async def json_request(
        cls,
        method: str,
        path: str,
        auth_result: AuthResult,
        body: Any = None,
        *,
        query: str | None = None,
        base_url: str | None = None,
        proxy: str | None = None,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 15.0,
    ) -> dict[str, Any]:
        """A signed call to a JSON route; returns ``data`` or raises a :class:`HailuoError`.

        See :func:`hailuo_tui.provider.transport.json_request`; the root defaults to the
        login's, then to :attr:`url`.
        """
        return await json_request(
            method, path, auth_result, body, query=query, base_url=base_url, proxy=proxy, session=session,
            timeout=timeout, default_base_url=cls.url,
        )

    @classmethod
    async def user_info(cls, auth_result: AuthResult, **kwargs: Any) -> dict[str, Any]:
        """``GET /v1/api/user/info``: the account's profile (a cheap token check)."""
        data = await cls.json_request("GET", "/v1/api/user/info", auth_result, **kwargs)
        info = data.get("userInfo")
        return info if isinstance(info, dict) else {}

    @classmethod
    async def delete_chat(cls, auth_result: AuthResult, chat_id: str, **kwargs: Any) -> None:
        """``DELETE /v1/api/chat/history/<chatID>``: remove a chat on the server."""
        await cls.json_request("DELETE", f"/v1/api/chat/history/{chat_id}", auth_result, **kwargs)
