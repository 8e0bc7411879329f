"""An incremental Server-Sent Events decoder: bytes in, events out.

It survives any split of the input, including one inside a multi-byte UTF-8
character or between ``\\r`` and ``\\n``. Pure: no I/O, no asyncio.

Lines are found in the bytes and each is decoded on its own: in UTF-8 the bytes
of ``\\r`` and ``\\n`` never occur inside a multi-byte character, so this gives the
text that decoding the whole stream first would (a property test holds it to
that). Decoding each network read whole made a string of up to 256 KiB per read
and a second one joining it to the line left over from the read before; a burst
of cumulative snapshots (43 MB) went through both, each in fresh pages
(``bench/web_burst.py``).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

#: A line longer than this many bytes is refused (a broken or hostile server).
DEFAULT_MAX_LINE = 64 * 1024 * 1024

_decode = codecs.utf_8_decode
#: Lines shorter than this are decoded from a copy (quicker for the many short ones); longer ones from a view
#: of the read, with no copy of the bytes (a cumulative snapshot: tens of KB and up).
_SLICE = 4096


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
        #: The bytes of a line not ended yet (joined once the line ends).
        self._pieces: list[bytes] = []
        self._pieces_len = 0
        self._skip_lf = False  # the previous chunk ended in "\r"
        self._event = ""
        self._data: list[str] = []
        self._max_line = max_line

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode ``chunk`` and return the events it completed."""
        if not chunk:
            return []
        start = 0
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                start = 1
        n = len(chunk)
        if start >= n:
            return []
        lf = chunk.find(b"\n", start)
        cr = chunk.find(b"\r", start, lf if lf != -1 else n)
        if lf == -1 and cr == -1:
            # Still inside a line (a cumulative snapshot spans many network chunks): keep the pieces and
            # join them once, at the line's end. Joining on every chunk would allocate the growing line
            # again and again, a churn of big strings that fragments the heap (RSS grows per event).
            self._hold(chunk[start:] if start else chunk)
            return []
        events: list[SSEEvent] = []
        view = None
        while True:
            # the next line terminator (\n, \r or \r\n)
            if cr != -1:
                end = cr
                if cr + 1 < n:
                    nxt = cr + 2 if chunk[cr + 1] == 0x0A else cr + 1
                else:
                    nxt = n
                    self._skip_lf = True
            else:
                end, nxt = lf, lf + 1
            if self._pieces:  # the line began in an earlier read
                self._pieces.append(chunk[start:end])
                line = b"".join(self._pieces)
                self._pieces, self._pieces_len = [], 0
                self._joined(line, events)
            elif start == end:
                self._line("", events)
            elif chunk.startswith(b"data:", start, end):
                # the common case, and the big one (a whole cumulative answer)
                value = start + 6 if chunk.startswith(b" ", start + 5, end) else start + 5
                if end - value < _SLICE:
                    self._data.append(chunk[value:end].decode("utf-8", "replace"))
                else:
                    if view is None:
                        view = memoryview(chunk)
                    self._data.append(_decode(view[value:end], "replace", True)[0])
            else:
                self._line(chunk[start:end].decode("utf-8", "replace"), events)
            start = nxt
            if start >= n:
                break
            if lf != -1 and lf < start:  # (none left: the rest is \r-ended lines, not searched again)
                lf = chunk.find(b"\n", start)
            cr = chunk.find(b"\r", start, lf if lf != -1 else n)
            if lf == -1 and cr == -1:
                self._hold(chunk[start:])
                break
        return events

    def _joined(self, line: bytes, events: list[SSEEvent]) -> None:
        """A line joined from the pieces of several reads."""
        if line.startswith(b"data:"):
            value = 6 if line.startswith(b" ", 5) else 5
            self._data.append(_decode(memoryview(line)[value:], "replace", True)[0])
        else:
            self._line(line.decode("utf-8", "replace"), events)

    def _hold(self, piece: bytes) -> None:
        """Keep ``piece`` as part of the line not ended yet, within the limit."""
        self._pieces.append(piece)
        self._pieces_len += len(piece)
        if self._pieces_len > self._max_line:
            self._pieces, self._pieces_len = [], 0
            raise SSELineTooLong(f"an event-stream line exceeded {self._max_line} bytes")

    def close(self) -> list[SSEEvent]:
        """End of input: flush what a well-behaved server would have terminated."""
        events: list[SSEEvent] = []
        rest = b"".join(self._pieces)
        self._pieces, self._pieces_len = [], 0
        if rest:
            self._line(_decode(rest, "replace", True)[0], events)
        self._line("", events)
        return events

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
