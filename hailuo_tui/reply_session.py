"""One answer, from a backend into the store and to whoever shows it. No textual here.

The save order is the promise the app makes ("your message is saved before it is
sent; a dropped connection, a crash or Esc keeps what arrived"), written once:

1. the user's message is saved before anything is sent (:meth:`ReplySession.begin`);
2. the answer's row exists from the start, marked ``streaming``;
3. while it streams, its text is saved in batches (every :data:`SAVE_INTERVAL`), beside
   the stream, never holding it up; so are the server chat id and the title;
4. at the end, that background work is awaited, then the final text and status are
   saved under :func:`asyncio.shield`, so a cancel (Esc, quitting) cannot skip it;
5. a ``streaming`` row left by a crash is marked interrupted at the next start
   (``store.recover_interrupted``).

When the disk is the problem (a lock, a full or read-only disk) the text stays in memory,
the host is told (:class:`SaveProblem`; :class:`Saved` when it clears) and the final save is
retried with backoff while the app runs: the answer ends (:class:`ReplyEnded`, the view
marked complete) only once its whole text is on disk. If the user's message cannot be saved,
:meth:`ReplySession.begin` raises :class:`~hailuo_tui.store.StoreError` and nothing is sent.

The session talks to its host (the chat screen, or a test) through :class:`ReplyHost`:
the host chooses the backend, asks the user to log in again, and receives
:class:`ReplyEvent` values, which the chat screen turns into Textual messages. The
text itself goes straight to the attached :class:`ReplyView` (the bubble on screen):
it is the hot path, measured in bench/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from hailuo_tui.domain import MessageStatus
from hailuo_tui.history import first_line_title, provider_messages, server_conversation, usage_record
from hailuo_tui.provider.backend import Backend, ChatRequest
from hailuo_tui.provider.web_backend import WebBackend
from hailuo_tui.provider.errors import AuthError, HailuoError, SiteRefused, StreamInterrupted
from hailuo_tui.redact import redact
from hailuo_tui.provider.models import (
    ChatStarted,
    Finished,
    FollowUps,
    HistoryTrimmed,
    ReasoningDelta,
    SearchSources,
    TextDelta,
    TextReplaced,
    TitleGenerated,
    Usage,
)
from hailuo_tui.reply_events import (
    TitleApplied,
    ErrorReported,
    InternalError,
    HistoryShortened,
    SaveProblem,
    Saved,
    Waiting,
    ExtrasReceived,
    ReplyEnded,
    ReplyView,
    ReplyHost,
)
from hailuo_tui.sanitize import clean
from hailuo_tui.store import StoreError, token_fingerprint

log = logging.getLogger(__name__)

#: How often a streaming answer is written to the database (in the background: see ReplySession.tasks).
SAVE_INTERVAL = 0.5
#: A session reading a backlog of events yields to the loop after this long, so frames get drawn.
TIME_SLICE = 0.008
#: A gap between two events longer than this means the session waited (the loop ran meanwhile).
WAITED = 0.001
#: Pauses between attempts at the final save when the store refuses it (the last one repeats).
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)
#: When the app quits, the final save gets this many more attempts (each waits up to the busy timeout).
ATTEMPTS_WHEN_CLOSING = 2
#: Stands for "after the conversation's leaf" in :meth:`ReplySession.begin` (None means "a first message").
_LEAF: Any = object()


# --- the session ------------------------------------------------------------------------


@dataclass(eq=False)
class ReplySession:
    """The answer to one user message, streaming into the store and (when visible) a view."""

    store: Any
    conversation_id: int
    message_id: int
    #: Everything received so far (authoritative while streaming; saved in batches).
    text: str = ""
    #: The model's reasoning before the answer (API backend), saved with the message.
    reasoning: str = ""
    #: Token counts and timing, once the backend reported them.
    usage: dict[str, Any] | None = None
    #: Whatever shows it, while its conversation is on screen.
    view: ReplyView | None = None
    #: The host's handle to cancel the session with (the chat screen's Textual worker).
    worker: Any = None
    #: Set when the user pressed Stop, so the answer records "stopped", not "cancelled".
    stopped: bool = False
    #: Set when the app quits while it streams.
    closing: bool = False
    #: The final status and error, set (and saved) when it ended; None while it runs.
    final: tuple[MessageStatus, str | None] | None = None
    #: Store work started by the stream (chat id, title, periodic saves), run beside it so the text is never
    #: held up by a database round trip; all of it is awaited before the final save.
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    #: The periodic save in flight, if any (one at a time: a slow disk skips saves, never queues them).
    saving: asyncio.Task[Any] | None = None
    #: How a conversation without a server title gets one (see :meth:`run`).
    titles: str = "model"
    #: Messages left out of the request because the history passed the model's context window.
    left_out: int = 0
    #: Why the text on screen is not all on disk yet ("disk full"…); None when it is.
    unsaved: str | None = None
    #: The final save (shielded from cancels), once the stream ended.
    finishing: asyncio.Task[Any] | None = None
    #: Set to cut a pause between two attempts at the final save short (quitting).
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    #: Web-search sources of the answer ((title, url), cleaned of escapes), saved with it.
    sources: tuple[tuple[str, str], ...] = ()
    #: Follow-up questions the server suggested (cleaned), saved with the answer.
    follow_ups: tuple[str, ...] = ()
    #: True while the answer waits for the account's other answer to end (see :meth:`run`).
    waiting: bool = False

    # --- beginning ---------------------------------------------------------------------

    @classmethod
    async def begin(
        cls, store: Any, conversation_id: int, user_text: str | None = None, *, parent_id: int | None = _LEAF
    ) -> tuple[Any, ReplySession]:
        """Save the user's message (if any) and the answer's ``streaming`` row, in that order.

        The question follows ``parent_id`` (default: the conversation's leaf, the message on screen
        last). Without ``user_text`` the answer is a new version of the answer to ``parent_id``, which
        is then the question. An edit is ``begin(store, cid, text, parent_id=edited.parent_id)``; a
        regenerated answer ``begin(store, cid, None, parent_id=answer.parent_id)``: the older versions stay.

        Returns the saved user row (``None`` without ``user_text``: a regenerated answer) and the session.
        Both rows are written in one transaction: when that fails (:class:`StoreError`) neither is,
        nothing is sent, and the caller still has the text to keep.
        """
        # Saved before it is sent: a crash or a network error never loses it.
        if parent_id is _LEAF:
            user, assistant = await store.add_turn(conversation_id, user_text)
        else:
            user, assistant = await store.add_turn(conversation_id, user_text, parent_id=parent_id)
        return user, cls(store, conversation_id, assistant.id)

    # --- background store work ------------------------------------------------------

    def in_background(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` beside the stream, in call order with the other store calls; see :attr:`tasks`."""
        task = asyncio.ensure_future(coro)
        self.tasks = [t for t in self.tasks if not t.done() or t.cancelled() or t.exception() is not None]
        self.tasks.append(task)
        return task

    async def settle(self) -> list[BaseException]:
        """Wait for the background work; the errors it raised (a stopped task is not an error)."""
        tasks, self.tasks = self.tasks, []
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return [r for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]

    # --- the stream ---------------------------------------------------------------------

    async def run(
        self, host: ReplyHost, *, web_search: bool = False, thinking: bool = True, titles: str = "model"
    ) -> None:
        """Stream the answer to the end; the final state is saved whatever happens (also when cancelled).

        ``titles`` is for a backend whose server sends no title: ``"model"`` asks it for one after the
        first answer, ``"first-line"`` takes the first line of the first question.

        The web chat streams one answer per account at a time (a second one is refused with HTTP 429):
        a host with a ``stream_gate(backend)`` method returning a lock makes answers that need the
        same account wait their turn, reported as :class:`Waiting`, instead of failing.
        """
        self.titles = titles
        status, error = MessageStatus.COMPLETE, None
        try:
            for attempt in range(2):
                row = await self.store.get_conversation(self.conversation_id)
                backend = await host.backend_for(row)
                if backend is None:
                    status, error = MessageStatus.FAILED, "Not logged in."
                    return
                try:
                    async with self._turn(host, backend):
                        await self._stream(host, backend, row, web_search=web_search, thinking=thinking)
                    return
                except (AuthError, SiteRefused) as exc:
                    if attempt or self.text:
                        raise
                    host.reply_event(ErrorReported(self, exc))
                    if not await host.login_again(exc):
                        raise
                    # logged in again: retry the same message once
        except asyncio.CancelledError:
            status, error = MessageStatus.INTERRUPTED, "Stopped." if self.stopped else "Cancelled."
            raise
        except StreamInterrupted as exc:
            status, error = MessageStatus.INTERRUPTED, exc.message
            host.reply_event(ErrorReported(self, exc))
        except HailuoError as exc:
            status, error = (MessageStatus.INTERRUPTED if self.text else MessageStatus.FAILED), exc.message
            host.reply_event(ErrorReported(self, exc))
        except Exception as exc:  # a bug: keep the text, say so, keep the app up
            log.error("reply %s crashed: %r", self.message_id, exc)
            status = MessageStatus.INTERRUPTED if self.text else MessageStatus.FAILED
            error = f"Internal error: {type(exc).__name__}"
            host.reply_event(InternalError(self, exc))
        finally:
            self.finishing = asyncio.ensure_future(self._finish(host, status, error))
            await asyncio.shield(self.finishing)

    @contextlib.asynccontextmanager
    async def _turn(self, host: ReplyHost, backend: Backend) -> Any:
        gate = host.stream_gate(backend)
        if gate is None:
            yield
            return
        if gate.locked():
            self.waiting = True
            host.reply_event(Waiting(self, True))
        try:
            async with gate:
                if self.waiting:
                    self.waiting = False
                    host.reply_event(Waiting(self, False))
                yield
        finally:
            self.waiting = False

    def _take_extras(self, host: ReplyHost, event: SearchSources | FollowUps) -> None:
        """Keep (cleaned) what the server shows under an answer, and pass it to the view."""
        if isinstance(event, SearchSources):
            self.sources = tuple(
                (" ".join(clean(title).split()), "".join(clean(url).split())) for title, url in event.links
            )
        else:
            questions = (" ".join(clean(q).split()) for q in event.questions)
            self.follow_ups = tuple(q for q in questions if q)
        if self.view is not None:
            self.view.set_extras(self.sources, self.follow_ups)
        host.reply_event(ExtrasReceived(self, self.sources, self.follow_ups))

    async def _request(self, backend: Backend, row: Any, *, web_search: bool, thinking: bool) -> ChatRequest:
        # The branch this answer is on, up to its question: the branch on screen when the answer
        # began, whatever the user shows meanwhile.
        stored = [m for m in await self.store.path_to(self.message_id) if m.id != self.message_id]
        history = provider_messages(stored)
        conversation = None
        auth = backend.auth if isinstance(backend, WebBackend) else None  # a server chat continues under its login
        if auth is not None:
            # The server chat must end right before the question (the answer's parent).
            after_question = stored[-2].id if len(stored) >= 2 else None
            conversation = server_conversation(row, auth, token_fingerprint(auth.token), after_question)
        return ChatRequest(
            history,
            model=(row.model if row else None) or None,
            system=(row.system_prompt if row else None) or None,
            thinking=thinking,
            web_search=web_search,
            conversation=conversation,
        )

    async def _stream(self, host: ReplyHost, backend: Backend, row: Any, *, web_search: bool, thinking: bool) -> None:
        store = self.store
        request = await self._request(backend, row, web_search=web_search, thinking=thinking)
        auth = backend.auth if isinstance(backend, WebBackend) else None
        started = last_save = time.monotonic()
        # Only the text is handled inline; store writes run beside the stream (self.tasks), so no
        # database round trip holds the first words back.
        busy_since = idle_at = time.monotonic()
        async for event in backend.stream(request):
            now = time.monotonic()
            if now - idle_at > WAITED:
                busy_since = now  # the stream waited for the network: the app had its turn
            if isinstance(event, TextDelta):
                await self._add_text(event.text)
                if now - last_save >= SAVE_INTERVAL and (self.saving is None or self.saving.done()):
                    last_save = now
                    self.saving = self.in_background(self._save_progress(host))
            elif isinstance(event, TextReplaced):
                await self._replace_text(event.text)
            elif isinstance(event, ReasoningDelta):
                self.reasoning += event.text
                if self.view is not None:
                    await self.view.append_reasoning(event.text)
            elif isinstance(event, ChatStarted) and auth is not None:
                self.in_background(
                    # The server chat now holds this answer: a question after it continues there.
                    store.set_remote_chat(
                        self.conversation_id, event.chat_id, token_fingerprint(auth.token), self.message_id
                    )
                )
            elif isinstance(event, TitleGenerated):
                self.in_background(self.apply_title(host, event.title))
            elif isinstance(event, HistoryTrimmed):
                self.left_out = event.dropped
                host.reply_event(HistoryShortened(self, event.dropped))
            elif isinstance(event, Usage):
                self.usage = usage_record(event, time.monotonic() - started)
            elif isinstance(event, Finished):
                # The whole answer: normally what arrived already; anything it adds is shown too.
                if event.text and event.text != self.text and event.text.startswith(self.text):
                    await self._add_text(event.text[len(self.text):])
                elif event.text and not self.text.startswith(event.text):
                    await self._replace_text(event.text)  # never a splice of old and new
            elif isinstance(event, (SearchSources, FollowUps)):
                self._take_extras(host, event)
            idle_at = time.monotonic()
            if idle_at - busy_since >= TIME_SLICE:
                # A backlog (a burst, or the app was busy) is read without waiting: let the screen
                # draw between slices, or it shows nothing until the backlog is gone.
                await asyncio.sleep(0)
                busy_since = idle_at = time.monotonic()
        if self.usage is not None:
            self.usage["seconds"] = round(time.monotonic() - started, 3)
        if self.left_out:
            # Saved with the answer, so its usage line keeps saying what the model did not see.
            self.usage = {**(self.usage or {}), "left_out": self.left_out}
        if backend.id != "web" and (row is None or not row.title or row.title_provisional):
            self.in_background(self._title_from_backend(host, backend, request))

    async def _add_text(self, text: str) -> None:
        self.text += text
        if self.view is not None:
            await self.view.append(text)

    async def _replace_text(self, text: str) -> None:
        """The server rewrote earlier text: its latest whole text replaces what was kept and shown."""
        log.info("reply %s: the server rewrote its answer (%d -> %d characters)", self.message_id,
                 len(self.text), len(text))
        self.text = text
        if self.view is not None:
            await self.view.replace(text)

    async def _save_progress(self, host: ReplyHost) -> None:
        """One batch: a failure is reported (the text stays in memory), never raised into the stream."""
        fields: dict[str, Any] = {"content": self.text}
        if self.reasoning:
            fields["reasoning"] = self.reasoning
        try:
            await self.store.update_message(self.message_id, **fields)
        except StoreError as exc:
            self._save_failed(host, exc)
        else:
            self._save_succeeded(host)

    def _save_failed(self, host: ReplyHost, exc: StoreError) -> None:
        log.warning("reply %s: not saved yet (%s): %s", self.message_id, exc.reason, exc.message)
        if self.unsaved != exc.reason:
            self.unsaved = exc.reason
            self._show_unsaved()
            host.reply_event(SaveProblem(self, exc))

    def _save_succeeded(self, host: ReplyHost) -> None:
        if self.unsaved is not None:
            self.unsaved = None
            self._show_unsaved()
            host.reply_event(Saved(self))

    def _show_unsaved(self) -> None:
        if self.view is not None and self.view.is_attached:
            self.view.set_unsaved(self.unsaved)

    def wake(self) -> None:
        """Try the final save again now (the app is quitting, or the user asked)."""
        self._wake.set()

    async def _title_from_backend(self, host: ReplyHost, backend: Backend, request: ChatRequest) -> None:
        """A backend whose server sends no title (the API): ask it for one after the answer, or take
        the first question's first line."""
        if self.titles == "first-line":
            title: str | None = first_line_title(request.messages)
        else:
            try:
                title = await backend.title(request, self.text)
            except HailuoError:
                title = None
        if title:
            await self.apply_title(host, title, over_provisional=True)

    async def apply_title(self, host: ReplyHost, title: str, *, over_provisional: bool = False) -> None:
        """Save a title from a server (untrusted: no escapes or controls in the store, sidebar, exports)."""
        title = " ".join(clean(title).split())
        if title and await self.store.apply_server_title(self.conversation_id, title,
                                                         over_provisional=over_provisional):
            host.reply_event(TitleApplied(self, title))

    # --- the end --------------------------------------------------------------------------

    async def _finish(self, host: ReplyHost, status: MessageStatus, error: str | None) -> None:
        if self.closing:
            error = "Stopped when hailuo-tui was closed."
        if self.view is not None and self.view.is_attached:
            # The last words on screen now, not after the store work below: behind the final save (and the
            # title and batch saves it waits for) they came 0.071 s after the last event, now 0.018-0.028 s
            # (bench/api_stream.py, paced). The status still says streaming until the text is on disk.
            await self.view.show_buffered()
        # Saved and shown: a server may have echoed the token or key into its error text.
        error = redact(error) if error else error
        # The chat id, the title and any periodic save first: the final save comes after them.
        for exc in await self.settle():
            log.error("reply %s: background store work failed: %r", self.message_id, exc)
        extra: dict[str, Any] = {}
        if self.reasoning:
            extra["reasoning"] = self.reasoning
        if self.usage is not None:
            extra["usage"] = self.usage
        if self.sources:
            extra["sources"] = self.sources
        if self.follow_ups:
            extra["follow_ups"] = self.follow_ups
        fields = {"content": self.text, "status": status, "error": error, **extra}
        # Shown as ended only now: "complete" on screen means the whole text is on disk.
        if not await self._save_final(host, fields) and self.unsaved is not None:
            # Given up (quitting, or a fault no retry can pass): say so rather than "complete".
            status, error = MessageStatus.INTERRUPTED, f"Not saved: {self.unsaved}."
        self.final = (status, error)
        if self.view is not None and self.view.is_attached:
            await self.view.finish(status, error)
            if self.usage is not None:
                self.view.set_usage(self.usage)
        host.reply_event(ReplyEnded(self, status, error))

    async def _save_final(self, host: ReplyHost, fields: dict[str, Any]) -> bool:
        """Write the final text and status, retrying a refusal that may pass. True once on disk.

        Retried for as long as the app runs; once it quits, :data:`ATTEMPTS_WHEN_CLOSING` more
        times, then the row stays ``streaming`` (its last batch saved) for the next start to mark.
        """
        attempt = closing_attempts = 0
        while True:
            try:
                await self.store.update_message(self.message_id, **fields)
            except StoreError as exc:
                self._save_failed(host, exc)
                if self.closing:
                    closing_attempts += 1
                if not exc.transient or closing_attempts >= ATTEMPTS_WHEN_CLOSING:
                    log.error("reply %s: the final answer was not saved: %s", self.message_id, exc.message)
                    return False
            except Exception as exc:  # the store closed under us (app shutting down): the last batch stands
                log.error("could not save the final answer: %r", exc)
                return False
            else:
                self._save_succeeded(host)
                return True
            self._wake.clear()
            delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
            attempt += 1
            if not self.closing:
                try:
                    await asyncio.wait_for(self._wake.wait(), delay)
                except asyncio.TimeoutError:
                    pass

    async def catch_up(self, view: ReplyView, shown: str, shown_reasoning: str = "") -> None:
        """Bring a view that shows ``shown`` of this reply (and ``shown_reasoning`` of its reasoning) up to date.

        Text that arrived while the view was busy is appended; then the view either receives the
        live deltas, or (the reply ended meanwhile: a short answer, a quick error) shows the final
        status that was saved.
        """
        missed_reasoning = self.reasoning[len(shown_reasoning):]
        if self.final is None:
            self.view = view
        if self.sources or self.follow_ups:
            view.set_extras(self.sources, self.follow_ups)
        if missed_reasoning:
            await view.append_reasoning(missed_reasoning)
        if not self.text.startswith(shown):
            await view.replace(self.text)  # rewritten by the server meanwhile
        elif missed := self.text[len(shown):]:
            await view.append(missed)
        if self.final is not None:
            await view.finish(*self.final)
            if self.usage is not None:
                view.set_usage(self.usage)
        elif self.unsaved is not None:
            view.set_unsaved(self.unsaved)
