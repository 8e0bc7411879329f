"""An incremental Server-Sent Events decoder: bytes in, events out.

It survives any split of the input, including one inside a multi-byte UTF-8
character or between ``\\r`` and ``\\n``. Pure: no I/O, no asyncio.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

#: A line longer than this is refused (a broken or hostile server).
DEFAULT_MAX_LINE = 64 * 1024 * 1024


class SSELineTooLong(ValueError):
    """A single line exceeded the decoder's limit."""


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its name (``message`` when none was given) and data."""

    event: str
    data: str


class SSEDecoder:
    """Feed it bytes with :meth:`feed`; it returns the events completed so far."""

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buf = ""
        #: Chunks of a line not ended yet, after ``_buf`` (joined once the line ends).
        self._pieces: list[str] = []
        self._pieces_len = 0
        self._skip_lf = False  # the previous chunk ended in "\r"
        self._event = ""
        self._data: list[str] = []
        self._max_line = max_line

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode ``chunk`` and return the events it completed."""
        text = self._utf8.decode(chunk)
        if not text:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if text.startswith("\n"):
                text = text[1:]
        if "\n" not in text and "\r" not in text:
            # Still inside a line (a cumulative snapshot spans many network chunks): keep the pieces and
            # join them once, at the line's end. Joining on every chunk would allocate the growing line
            # again and again, a churn of big strings that fragments the heap (RSS grows per event).
            self._pieces.append(text)
            self._pieces_len += len(text)
            if len(self._buf) + self._pieces_len > self._max_line:
                self._buf, self._pieces, self._pieces_len = "", [], 0
                raise SSELineTooLong(f"an event-stream line exceeded {self._max_line} characters")
            return []
        if self._pieces:
            buf = "".join([self._buf, *self._pieces, text])
            self._pieces, self._pieces_len = [], 0
        else:
            buf = self._buf + text if self._buf else text
        events: list[SSEEvent] = []
        start = 0
        n = len(buf)
        while start < n:
            # find the next line terminator (\n, \r or \r\n)
            lf = buf.find("\n", start)
            cr = buf.find("\r", start, lf if lf != -1 else n)
            if cr != -1:
                end = cr
                if cr + 1 < n:
                    nxt = cr + 2 if buf[cr + 1] == "\n" else cr + 1
                else:
                    nxt = n
                    self._skip_lf = True
            elif lf != -1:
                end, nxt = lf, lf + 1
            else:
                break
            if buf.startswith("data:", start, end):
                # the common case, and the big one (a whole cumulative answer): one copy of the value
                value = start + 6 if buf.startswith(" ", start + 5, end) else start + 5
                self._data.append(buf[value:end])
            else:
                self._line(buf[start:end], events)
            start = nxt
        self._buf = buf[start:]
        if len(self._buf) > self._max_line:
            self._buf = ""
            raise SSELineTooLong(f"an event-stream line exceeded {self._max_line} characters")
        return events

    def close(self) -> list[SSEEvent]:
        """End of input: flush what a well-behaved server would have terminated."""
        events: list[SSEEvent] = []
        tail = self._utf8.decode(b"", final=True)
        rest = "".join([self._buf, *self._pieces, tail])
        self._buf, self._pieces, self._pieces_len = "", [], 0
        if rest:
            self._line(rest, events)
        self._line("", events)
        return events

    @property
    def pending(self) -> str:
        """Undispatched text (a line without its end, and data lines without their blank line)."""
        line = "".join([self._buf, *self._pieces])
        return "\n".join(self._data + ([line] if line else []))

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            if self._data:
                events.append(SSEEvent(self._event or "message", "\n".join(self._data)))
            self._event = ""
            self._data = []
            return
        if line[0] == ":":
            return  # comment
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        # "id" and "retry" are not used by Hailuo; ignore them and unknown fields.
