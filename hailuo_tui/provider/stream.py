"""Maps decoded Hailuo events to typed chat events (pure: no I/O).

The server's ``content`` is cumulative: every ``message_result`` carries the
whole answer so far. :class:`EventMapper` turns that into text deltas, holding
back a trailing U+FFFD (half a multi-byte character cut by the server) until a
later snapshot completes it. A snapshot that rewrites text already emitted
becomes a :class:`TextReplaced` carrying the whole new text.

Memory: the mapper keeps the latest snapshot's text (and, for the decoding fast
path, its JSON prefix), never a history of events.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring
from typing import Any

from hailuo_tui.provider.errors import ProtocolChanged, ServiceError
from hailuo_tui.provider.models import (
    ChatStarted,
    Finished,
    FollowUps,
    SearchSources,
    TextDelta,
    TextReplaced,
    TitleGenerated,
)
from hailuo_tui.provider.sse import SSEEvent

TYPE_SEND_RESULT = 1
TYPE_MESSAGE_RESULT = 2
TYPE_HEARTBEAT = 3
TYPE_FOLLOW_UP = 4
TYPE_CLOSE = 8

_EVENT_TYPES = {
    "send_result": TYPE_SEND_RESULT,
    "message_result": TYPE_MESSAGE_RESULT,
    "follow_up_question_result": TYPE_FOLLOW_UP,
    "close_chunk": TYPE_CLOSE,
}
_REPLACEMENT = "\ufffd"
#: Where a ``"content"`` key's string starts (a quote inside a JSON string is escaped: never a match there).
_CONTENT_KEY = re.compile(r'"content"\s*:\s*"')
#: After this many snapshots that do not extend the last one, the cumulative fast path is given up.
_FAST_MISSES = 8


def _message_result_of(payload: Any) -> dict[str, Any] | None:
    """``payload["data"]["messageResult"]`` when that is a dict."""
    if not isinstance(payload, dict):
        return None
    data = payload.get("data")
    result = data.get("messageResult") if isinstance(data, dict) else None
    return result if isinstance(result, dict) else None


def _sample(event: SSEEvent) -> str:
    return f"event: {event.event}\ndata: {event.data[:1500]}"


class EventMapper:
    """Feed it :class:`SSEEvent` objects; it returns the chat events they mean.

    Raises :class:`ServiceError` for a non-zero ``statusInfo.code`` (heartbeats
    excepted) and :class:`ProtocolChanged` for a known event whose shape is
    not understood. Unknown event types and non-JSON data lines are skipped
    (and remembered in :attr:`skipped`), so a server that adds events keeps
    working.
    """

    def __init__(self) -> None:
        #: The assistant text emitted so far (what the user has seen).
        self.text = ""
        self.chat_id = ""
        self.title: str | None = None
        #: The final ``message_result`` (``isEnd == 0``) arrived.
        self.final = False
        #: ``close_chunk`` arrived: nothing more will come.
        self.closed = False
        #: How many events were skipped as malformed or unknown.
        self.skipped = 0
        self.last_skipped_sample = ""
        #: How many snapshots rewrote text already emitted (each gave a :class:`TextReplaced`).
        self.rewrites = 0
        self._links: tuple[tuple[str, str], ...] = ()
        # The cumulative fast path (see _decode): the last message_result's data up to the end of its
        # escaped content, where that content starts in it, and the content itself.
        self.fast = True
        self._prefix = ""
        self._content_start = 0
        self._content = ""
        self._misses = 0

    def feed(self, event: SSEEvent) -> list[Any]:
        if self.closed:
            return []
        try:
            payload = self._decode(event.data)
        except ValueError:
            return self._skip(event)
        if not isinstance(payload, dict):
            return self._skip(event)
        kind = payload.get("type")
        if not isinstance(kind, int):
            kind = _EVENT_TYPES.get(event.event)
        if kind == TYPE_HEARTBEAT:
            return []
        if kind == TYPE_CLOSE:
            self.closed = True
            return []
        if kind not in (TYPE_SEND_RESULT, TYPE_MESSAGE_RESULT, TYPE_FOLLOW_UP):
            return self._skip(event)
        self._check_status(payload, event)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise self._changed(event, "an event without its data object")
        if kind == TYPE_SEND_RESULT:
            return self._send_result(data, event)
        if kind == TYPE_MESSAGE_RESULT:
            return self._message_result(data, event)
        return self._follow_up(data)

    # --- decoding -------------------------------------------------------------

    def _decode(self, data: str) -> Any:
        """``json.loads(data)``, without re-reading the whole answer when ``data`` extends the last snapshot.

        Each ``message_result`` repeats the answer so far, so a stream of N characters carries O(N²) of
        JSON. When ``data`` starts with the previous snapshot's bytes up to the end of its escaped content,
        only the new escapes are decoded (``scanstring`` from there) and the rest of the object is parsed
        with the content emptied; the result is what ``json.loads`` would return. Anything else (the first
        snapshot, a changed field before the content, a rewrite, a surrogate pair cut in two) takes the
        full parse.
        """
        prefix = self._prefix
        if prefix and self.fast:
            if data.startswith(prefix):
                try:
                    more, end = scanstring(data, len(prefix))
                    small = json.loads(data[: self._content_start] + data[end - 1 :])
                except ValueError:
                    small = None
                result = _message_result_of(small)
                if result is not None and result.get("content") == "":
                    content = self._content + more
                    result["content"] = content
                    self._remember(data[: end - 1], self._content_start, content)
                    return small
            self._misses += 1
            if self._misses >= _FAST_MISSES:
                self.fast = False
                self._prefix = ""
        payload = json.loads(data)
        if self.fast:
            self._learn(data, payload)
        return payload

    def _learn(self, data: str, payload: Any) -> None:
        """Find where a fully parsed message_result's content lies in ``data`` (for the next snapshot)."""
        self._prefix = ""
        result = _message_result_of(payload)
        content = result.get("content") if result is not None else None
        if not isinstance(content, str) or not content:
            return
        for match in reversed(list(_CONTENT_KEY.finditer(data))):
            try:
                value, end = scanstring(data, match.end())
            except ValueError:
                continue
            if value == content:
                self._remember(data[: end - 1], match.end(), content)
                return

    def _remember(self, prefix: str, content_start: int, content: str) -> None:
        if "\ud800" <= content[-1:] <= "\udbff":
            self._prefix = ""  # half a surrogate pair: its other half must be decoded with it
            return
        self._prefix, self._content_start, self._content = prefix, content_start, content

    # --- pieces -------------------------------------------------------------

    def _skip(self, event: SSEEvent) -> list[Any]:
        self.skipped += 1
        self.last_skipped_sample = _sample(event)
        return []

    def _changed(self, event: SSEEvent, what: str) -> ProtocolChanged:
        return ProtocolChanged(
            f"Hailuo sent {what}; its protocol may have changed. "
            "The partial answer was kept. Please report this with `hailuo-tui --debug`.",
            sample=_sample(event),
            partial=self.text,
        )

    def _check_status(self, payload: dict[str, Any], event: SSEEvent) -> None:
        status = payload.get("statusInfo")
        if status is None:
            return
        if not isinstance(status, dict):
            raise self._changed(event, "a malformed status")
        if status.get("code", 0) not in (0, "0", None):
            raise ServiceError.from_status(status, partial=self.text)

    def _send_result(self, data: dict[str, Any], event: SSEEvent) -> list[Any]:
        result = data.get("sendResult")
        if not isinstance(result, dict) or not result.get("chatID"):
            raise self._changed(event, "a send_result without a chat id")
        out: list[Any] = []
        self.chat_id = str(result["chatID"])
        out.append(
            ChatStarted(
                chat_id=self.chat_id,
                user_msg_id=str(result.get("userMsgID") or ""),
                system_msg_id=str(result.get("systemMsgID") or ""),
            )
        )
        title = result.get("chatTitle")
        if isinstance(title, str) and title.strip() and title != self.title:
            self.title = title
            out.append(TitleGenerated(title))
        return out

    def _message_result(self, data: dict[str, Any], event: SSEEvent) -> list[Any]:
        result = data.get("messageResult")
        if not isinstance(result, dict):
            raise self._changed(event, "a message_result without its message")
        content = result.get("content")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise self._changed(event, "a message whose content is not text")
        if not self.chat_id and result.get("chatID"):
            self.chat_id = str(result["chatID"])
        try:
            is_end = int(result.get("isEnd", 1))
        except (TypeError, ValueError):
            raise self._changed(event, "a message with an unreadable end marker") from None
        final = is_end == 0
        out: list[Any] = []
        links = self._links_of(result.get("extra"))
        if links and links != self._links:
            self._links = links
            out.append(SearchSources(links))
        visible = content if final else content.rstrip(_REPLACEMENT)
        emitted = self.text
        if len(visible) > len(emitted) and visible.startswith(emitted):
            delta = visible[len(emitted):]
            self.text = visible
            out.append(TextDelta(delta))
        elif not (visible.startswith(emitted) or emitted.startswith(visible)):
            # The server rewrote text already shown (a corrected U+FFFD mid-text, an edited answer). The
            # content is cumulative, so this snapshot is the truth: say so, never splice old and new.
            self.text = visible
            self.rewrites += 1
            out.append(TextReplaced(visible))
        # else: nothing new, or a shorter snapshot: keep what was shown
        if final:
            self.final = True
            out.append(Finished(text=content, chat_id=self.chat_id))
        return out

    def _follow_up(self, data: dict[str, Any]) -> list[Any]:
        # Type 4 carries a "final summary" in messageResult.content (not shown: the
        # answer already is) and, on some servers, suggested questions. The field
        # name of the questions is not documented; accept the likely spellings.
        out: list[Any] = []
        result = data.get("messageResult")
        for extra in (data.get("extra"), result.get("extra") if isinstance(result, dict) else None):
            links = self._links_of(extra)
            if links and links != self._links:
                self._links = links
                out.append(SearchSources(links))
        raw = data.get("followUpQuestions") or data.get("questions")
        if isinstance(raw, list):
            questions = tuple(str(q).strip() for q in raw if isinstance(q, (str, int, float)) and str(q).strip())
            if questions:
                out.append(FollowUps(questions))
        return out

    @staticmethod
    def _links_of(extra: Any) -> tuple[tuple[str, str], ...]:
        if not isinstance(extra, dict):
            return ()
        status = extra.get("netSearchStatus")
        if not isinstance(status, dict):
            return ()
        details = status.get("linkDetail")
        if not isinstance(details, list):
            return ()
        links = []
        for item in details:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                links.append((str(item.get("detail") or item["url"]), item["url"]))
        return tuple(links)
