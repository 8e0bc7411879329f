"""Separate a MiniMax answer from its reasoning, whatever shape the reasoning arrives in (MINIMAX_API.md §7).

Pure: no I/O, no asyncio, no aiohttp. Three shapes reach :class:`ReasoningSplitter`:

* **inline**: ``<think>\\n…\\n</think>\\n\\n`` at the start of ``content``, the tags cut anywhere across
  chunks (``"<th"`` + ``"ink>"``, ``"</thi"`` + ``"nk>\\n\\n"``). :class:`ThinkTagParser` reads it statefully.
  Rules (the same for any cut of the stream):

  - whitespace before ``<think>`` is dropped; content whose first non-whitespace text is not ``<think>``
    is all answer, verbatim (a ``<think>`` later in such an answer is the model writing about the tag,
    and it is left alone: only a block at the very start is reasoning);
  - a stray ``</think>`` at the start (the opening tag was never sent) is dropped;
  - the whitespace after ``</think>`` is dropped;
  - a ``<think>`` that never closes makes the rest of the content reasoning.

* **reasoning_details** / **reasoning_content**: split-out reasoning fields of the delta. They carry the
  same text, so only ONE is read per answer: the first that brings text (``reasoning_details`` first when
  a delta has both). Fragments may be incremental (live captures) or cumulative (the official example);
  :class:`FragmentJoiner` tells them apart.

Reasoning, in every shape, is trimmed: leading and trailing whitespace, and one trailing ``</think>``
(M3 has ended split reasoning with a literal ``\\n</think>``, itself cut across deltas), are dropped.
The first shape that brings reasoning in an answer is the one shown: M3 has sent the same reasoning
both inline and in ``reasoning_content``, and it must not be shown twice; the inline block is still
removed from the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hailuo_tui.provider.models import ReasoningDelta, TextDelta

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

#: A fragment that starts with everything received so far is a cumulative snapshot only when that much
#: text was already received: a short incremental piece can repeat the text before it by chance
#: ("\\n" then "\\n\\nNext"), so shorter overlaps count as new text.
MIN_CUMULATIVE_OVERLAP = 8

_PARTIAL_CLOSE = "|".join(re.escape(CLOSE_TAG[:k]) for k in range(1, len(CLOSE_TAG)))
#: What may still turn out to be trailing junk of a reasoning text: whitespace, then ``</think>`` and
#: whitespace, or a start of ``</think>``. Every prefix of such a string is one too, which is what makes
#: holding it back independent of where the stream is cut.
_HELD_TAIL = re.compile(rf"\s*(?:{re.escape(CLOSE_TAG)}\s*|{_PARTIAL_CLOSE})?\Z")
_DROPPED_TAIL = re.compile(rf"\s*(?:{re.escape(CLOSE_TAG)}\s*)?\Z")

Piece = ReasoningDelta | TextDelta


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a proper start of ``tag``."""
    for k in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:k]):
            return k
    return 0


class ReasoningText:
    """Reasoning text as it streams, trimmed: leading whitespace, trailing whitespace and one trailing
    ``</think>`` never come out. What might be such a tail is held back until text follows it."""

    def __init__(self) -> None:
        self._started = False
        self._held = ""

    def feed(self, text: str) -> str:
        """Take the next piece; return what can be shown now."""
        if not text:
            return ""
        buf = self._held + text
        cut = _HELD_TAIL.search(buf).start()
        out, self._held = buf[:cut], buf[cut:]
        if not self._started:
            out = out.lstrip()
            self._started = bool(out)
        return out

    def finish(self) -> str:
        """End of the reasoning: the held tail, unless it is whitespace and ``</think>`` (then dropped)."""
        held, self._held = self._held, ""
        if _DROPPED_TAIL.fullmatch(held):
            return ""
        # A start of "</think>" that never completed (a cut stream): it is text after all.
        return held.lstrip() if not self._started else held


class FragmentJoiner:
    """Turns reasoning fragments, incremental or cumulative, into new text only.

    A fragment that starts with everything received so far (and that is at least
    :data:`MIN_CUMULATIVE_OVERLAP` characters) is a snapshot: only its new end is text. Once the
    stream proved cumulative, every such fragment is read that way.
    """

    def __init__(self) -> None:
        self.received = ""
        self.cumulative = False

    def feed(self, fragment: str) -> str:
        """Return the new text of ``fragment``."""
        received = self.received
        if received and fragment.startswith(received) and (
            self.cumulative or len(received) >= MIN_CUMULATIVE_OVERLAP
        ):
            self.cumulative = True
            new = fragment[len(received):]
        else:
            new = fragment
        self.received = received + new
        return new


class ThinkTagParser:
    """Reads ``content`` with an inline ``<think>`` block at its start, cut anywhere across chunks."""

    def __init__(self) -> None:
        self._state = "start"  # start -> thinking -> after -> answer, or start -> answer
        self._pending = ""

    @property
    def in_reasoning(self) -> bool:
        """Whether the content is inside its ``<think>`` block."""
        return self._state == "thinking"

    @property
    def answering(self) -> bool:
        """Whether everything fed from now on is answer, as it is (nothing is held back then)."""
        return self._state == "answer"

    def feed(self, text: str) -> tuple[str, str]:
        """Take the next piece of ``content``; return ``(reasoning, answer)`` that can be shown now."""
        if not text:
            return "", ""
        buf = self._pending + text
        self._pending = ""
        reasoning = answer = ""
        while buf:
            if self._state == "answer":
                answer += buf
                break
            if self._state == "start":
                head = buf.lstrip()
                if head.startswith(OPEN_TAG):
                    self._state, buf = "thinking", head[len(OPEN_TAG):]
                elif head.startswith(CLOSE_TAG):
                    self._state, buf = "after", head[len(CLOSE_TAG):]
                elif not head or OPEN_TAG.startswith(head) or CLOSE_TAG.startswith(head):
                    self._pending = buf  # not yet known: wait for more
                    break
                else:
                    self._state, buf = "answer", head
            elif self._state == "thinking":
                end = buf.find(CLOSE_TAG)
                if end >= 0:
                    reasoning += buf[:end]
                    self._state, buf = "after", buf[end + len(CLOSE_TAG):]
                else:
                    keep = _partial_suffix(buf, CLOSE_TAG)
                    reasoning += buf[: len(buf) - keep]
                    self._pending = buf[len(buf) - keep:]
                    break
            else:  # after: drop the whitespace between </think> and the answer
                buf = buf.lstrip()
                if buf:
                    self._state = "answer"
        return reasoning, answer

    def finish(self) -> tuple[str, str]:
        """End of the content: what was held back, as ``(reasoning, answer)``."""
        pending, self._pending = self._pending, ""
        if self._state == "thinking":
            return pending, ""
        if self._state == "start":
            return "", pending.lstrip()  # "<thi" alone: never a tag, so text
        return "", ""


def _joined(pieces: list[str]) -> str:
    """``pieces`` as one string, kept as the only piece (read again, it costs nothing)."""
    if len(pieces) > 1:
        pieces[:] = ["".join(pieces)]
    return pieces[0] if pieces else ""


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


class ReasoningSplitter:
    """All three reasoning shapes of one answer in, :class:`ReasoningDelta` / :class:`TextDelta` out.

    Feed each ``choices[0].delta`` with :meth:`feed_delta` (or the pieces with :meth:`feed_reasoning_field`
    and :meth:`feed_content`); call :meth:`finish` once at the end of the answer. ``reasoning`` and
    ``answer`` hold everything emitted so far.
    """

    def __init__(self) -> None:
        # What was emitted, as pieces joined when read: ``answer += text`` on each of a burst's 4,000 deltas
        # copied the growing answer every time (O(n²): bench/decode_burst.py).
        self._answers: list[str] = []
        self._reasonings: list[str] = []
        #: Characters emitted so far, answer and reasoning (what a size cap counts).
        self.size = 0
        self._field: str | None = None  # "details" or "content", once one brought text
        self._details: dict[Any, FragmentJoiner] = {}
        self._content_field = FragmentJoiner()
        self._inline = ThinkTagParser()
        self._source: str | None = None  # "fields" or "inline": the shape that is shown
        self._text = ReasoningText()

    @property
    def answer(self) -> str:
        """The answer emitted so far."""
        return _joined(self._answers)

    @property
    def reasoning(self) -> str:
        """The reasoning emitted so far."""
        return _joined(self._reasonings)

    def feed_delta(self, delta: Mapping[str, Any]) -> list[Piece]:
        """Take one ``delta`` (or non-streamed ``message``) object."""
        out: list[Piece] = []
        if "reasoning_details" in delta or "reasoning_content" in delta:  # neither: no reasoning text, in any state
            self._reason(self._field_text(delta), "fields", out)
        self._content(_text_of(delta.get("content")), out)
        return out

    def feed_reasoning_field(self, details: Any = None, content: Any = None) -> list[Piece]:
        """Take the split reasoning fields of a delta (``reasoning_details``, ``reasoning_content``)."""
        out: list[Piece] = []
        self._reason(self._field_text({"reasoning_details": details, "reasoning_content": content}), "fields", out)
        return out

    def feed_content(self, text: str) -> list[Piece]:
        """Take a piece of ``content`` (which may hold an inline ``<think>`` block)."""
        out: list[Piece] = []
        self._content(text, out)
        return out

    def finish(self) -> list[Piece]:
        """End of the answer: flush what was held back (a partial tag, trailing reasoning)."""
        out: list[Piece] = []
        reasoning, answer = self._inline.finish()
        self._reason(reasoning, "inline", out)
        if self._source is not None:
            self._emit_reasoning(self._text.finish(), out)
        self._answer(answer, out)
        return out

    # --- the pieces -----------------------------------------------------------------------------

    def _field_text(self, delta: Mapping[str, Any]) -> str:
        details = delta.get("reasoning_details")
        texts: list[tuple[Any, str]] = []
        if isinstance(details, list):
            for item in details:
                if isinstance(item, Mapping) and isinstance(item.get("text"), str):
                    key = item.get("index", 0)
                    texts.append((key if isinstance(key, (int, str)) else 0, item["text"]))
        content = _text_of(delta.get("reasoning_content"))
        if self._field is None:
            if any(text for _, text in texts):
                self._field = "details"
            elif content:
                self._field = "content"
        if self._field == "details":
            return "".join(self._details.setdefault(key, FragmentJoiner()).feed(text) for key, text in texts)
        if self._field == "content":
            return self._content_field.feed(content)
        return ""

    def _content(self, text: str, out: list[Piece]) -> None:
        if not text:
            return
        if self._inline.answering:  # the usual delta: past any <think> block, all of it is answer
            self._answer(text, out)
            return
        reasoning, answer = self._inline.feed(text)
        self._reason(reasoning, "inline", out)
        self._answer(answer, out)

    def _reason(self, text: str, source: str, out: list[Piece]) -> None:
        if not text:
            return
        if self._source is None:
            self._source = source
        elif self._source != source:
            return  # the same reasoning in a second shape (M3 quirk): shown once
        self._emit_reasoning(self._text.feed(text), out)

    def _emit_reasoning(self, text: str, out: list[Piece]) -> None:
        if text:
            self._reasonings.append(text)
            self.size += len(text)
            out.append(ReasoningDelta(text))

    def _answer(self, text: str, out: list[Piece]) -> None:
        if not text:
            return
        if not self._answers and self._source is not None:
            # The answer starts: the reasoning is over, so what it held back comes out now, before the
            # answer (not after it at the very end).
            self._emit_reasoning(self._text.finish(), out)
        self._answers.append(text)
        self.size += len(text)
        out.append(TextDelta(text))
