"""Make untrusted server text safe to show as text.

Pure module: no textual or rich import. The widgets still have to show the
result as plain text (never parse it as markup); this module only removes
what a terminal or a text layout would act on:

* escape sequences (CSI, OSC incl. OSC 52 clipboard writes and OSC 0/2 title
  changes, DCS, APC, PM, SOS, and two-character ESC sequences), in their
  7-bit and 8-bit (C1) forms;
* other C0 controls except ``\\n`` and ``\\t``; ``\\r\\n`` and lone ``\\r``
  become ``\\n``; DEL and C1 controls (0x80-0x9f) are dropped;
* bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C).
"""

from __future__ import annotations

import re

__all__ = ["StreamSanitizer", "clean"]

# Anything that needs work. Text without any of these is returned unchanged,
# which keeps the common case to one regex scan.
_SUSPECT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

# String-type sequences (OSC, DCS, SOS, PM, APC) end at BEL or ST (ESC \ or
# 0x9c). A missing terminator ends the sequence at the end of the line rather
# than swallowing the rest of the answer.
_STRING_BODY = "[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\\\|\x9c)?"
_ESCAPES = re.compile(
    # 7-bit string sequences: ESC ] / P / X / ^ / _
    "\x1b[\\]PX^_]" + _STRING_BODY
    # 8-bit string sequences: OSC 0x9d, DCS 0x90, SOS 0x98, PM 0x9e, APC 0x9f
    + "|[\x9d\x90\x98\x9e\x9f]" + _STRING_BODY
    # CSI, 7-bit and 8-bit: parameters, intermediates, final byte
    + "|(?:\x1b\\[|\x9b)[0-?]*[ -/]*[@-~]?"
    # Other ESC sequences (nF/Fp/Fe/Fs): intermediates then a final byte
    + "|\x1b[ -/]*[0-~]?"
)
_NEWLINES = re.compile("\r\n?")
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

# A possibly unfinished sequence at the very end of a streamed chunk.
_INCOMPLETE_TAIL = re.compile(
    "(?:"
    "\x1b[\\]PX^_][^\x07\x1b\x9c\n]*\x1b?"
    "|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c\n]*\x1b?"
    "|(?:\x1b\\[|\x9b)[0-?]*[ -/]*"
    "|\x1b[ -/]*"
    "|\r"
    ")\\Z"
)
_TAIL_LIMIT = 4096
"""Longest tail held back while waiting for the rest of a sequence."""


def clean(text: str) -> str:
    """Return `text` with terminal escapes, controls and bidi overrides removed.

    Args:
        text: Untrusted text (server output, titles, error messages).

    Returns:
        Text that only contains printable characters, ``\\n`` and ``\\t``.
        CJK, emoji, combining marks and zero-width joiners are kept.
    """
    if not _SUSPECT.search(text):
        return text
    text = _ESCAPES.sub("", text)
    text = _NEWLINES.sub("\n", text)
    return _CONTROLS.sub("", text)


class StreamSanitizer:
    """Clean text that arrives in pieces, where a sequence may be split.

    A chunk ending inside an escape sequence (or with a ``\\r`` that may be
    half of ``\\r\\n``) keeps that tail back until the next chunk completes it.
    """

    def __init__(self) -> None:
        self._tail = ""

    def feed(self, chunk: str) -> str:
        """Clean the next piece of the stream.

        Args:
            chunk: The next piece of untrusted text.

        Returns:
            The cleaned text that is safe to show now (may be empty).
        """
        if self._tail:
            chunk = self._tail + chunk
            self._tail = ""
        elif not _SUSPECT.search(chunk):
            return chunk
        start = max(
            chunk.rfind("\x1b"),
            chunk.rfind("\r"),
            *(chunk.rfind(c) for c in "\x9b\x9d\x90\x98\x9e\x9f"),
        )
        if start >= 0 and len(chunk) - start <= _TAIL_LIMIT:
            if _INCOMPLETE_TAIL.match(chunk, start):
                self._tail = chunk[start:]
                chunk = chunk[:start]
        return clean(chunk)

    def flush(self) -> str:
        """Return whatever was held back, cleaned, and reset.

        Returns:
            The cleaned remainder.
        """
        tail, self._tail = self._tail, ""
        return clean(tail)
