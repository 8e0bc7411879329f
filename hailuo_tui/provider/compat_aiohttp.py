"""The one place that touches aiohttp's private names.

aiohttp has no public way to read what a ``StreamReader`` still buffers once its
connection broke: every read method (``read_nowait`` included) re-raises the
stored exception. The bytes are in ``StreamReader._buffer`` (a deque of bytes)
and ``StreamReader._buffer_offset`` (how much of the first chunk was already
handed out). tests/unit/test_compat_libs.py checks both exist, and that the
public methods still refuse, in the installed aiohttp, so an upgrade that moves
them fails a test instead of silently losing the tail of an answer.
"""

from __future__ import annotations

from typing import Any

#: The private attributes of ``aiohttp.StreamReader`` read by :func:`unread_bytes`.
STREAM_READER_PRIVATE_NAMES = ("_buffer", "_buffer_offset")


def unread_bytes(content: Any) -> list[bytes]:
    """Take the bytes an aiohttp ``StreamReader`` holds but can no longer return.

    Best effort at run time: ``[]`` if aiohttp's internals differ (the compat test is
    what notices that). The buffer is emptied, so a second call returns ``[]``.

    Args:
        content: ``response.content`` of an aiohttp response.

    Returns:
        The buffered chunks, in order, the first one without its already-read part.
    """
    buffer = getattr(content, "_buffer", None)
    if not buffer:
        return []
    try:
        chunks = [bytes(chunk) for chunk in buffer]
        offset = int(getattr(content, "_buffer_offset", 0) or 0)
        buffer.clear()
    except (TypeError, ValueError):
        return []
    if chunks and offset:
        chunks[0] = chunks[0][offset:]
    return chunks
