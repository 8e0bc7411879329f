"""Maps decoded Hailuo events to typed chat events (pure: no I/O).

The server's ``content`` is cumulative: every ``message_result`` carries the
whole answer so far. :class:`EventMapper` turns that into text deltas, holding
back a trailing U+FFFD (half a multi-byte character cut by the server) until a
later snapshot completes it.
"""

from __future__ import annotations

import json
from typing import Any

from hailuo_tui.provider.errors import ProtocolChanged, ServiceError
from hailuo_tui.provider.models import (
    ChatStarted,
    Finished,
    FollowUps,
    SearchSources,
    TextDelta,
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
        self._links: tuple[tuple[str, str], ...] = ()

    def feed(self, event: SSEEvent) -> list[Any]:
        if self.closed:
            return []
        try:
            payload = json.loads(event.data)
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
        elif visible.startswith(emitted) or emitted.startswith(visible):
            delta = ""  # nothing new (or a shorter snapshot; keep what was shown)
        else:
            # The server rewrote text already shown (e.g. a U+FFFD mid-text that a
            # later snapshot corrected). Show what is new past the emitted length;
            # Finished.text carries the authoritative whole answer.
            delta = visible[len(emitted):]
        if delta:
            self.text = emitted + delta
            out.append(TextDelta(delta))
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
