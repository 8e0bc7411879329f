"""The private names of aiohttp the provider relies on, checked in the installed version.

Written against aiohttp 3.14.5. When one of these fails after an upgrade, the workaround in
hailuo_tui/provider/compat_aiohttp.py no longer does its job: adapt it there (or use the public API the new
release offers) instead of loosening the test. nodriver needs no such module: the login starts Chromium itself
and hands nodriver only the port (tests/unit/test_browser_session.py), so no private name of it is read.
"""

from __future__ import annotations

import ast
import asyncio
import collections
from pathlib import Path

import aiohttp
import pytest

from hailuo_tui.provider.compat_aiohttp import STREAM_READER_PRIVATE_NAMES, unread_bytes

PACKAGE = Path(__file__).resolve().parents[2] / "hailuo_tui"
COMPAT_MODULES = {PACKAGE / "provider" / "compat_aiohttp.py"}


class _Protocol:
    """The little of aiohttp's ``BaseProtocol`` a ``StreamReader`` calls while it is fed and read."""

    _reading_paused = False

    def pause_reading(self) -> None:
        self._reading_paused = True

    def resume_reading(self) -> None:
        self._reading_paused = False


# --- aiohttp ---------------------------------------------------------------------------


async def test_stream_reader_buffer_has_the_shape_unread_bytes_reads() -> None:
    reader = aiohttp.StreamReader(_Protocol(), 2**16, loop=asyncio.get_running_loop())
    for name in STREAM_READER_PRIVATE_NAMES:
        assert hasattr(reader, name), f"aiohttp.StreamReader has no {name}"
    reader.feed_data(b"data: one\n")
    reader.feed_data(b"data: two\n\n")
    assert reader.read_nowait(3) == b"dat"
    assert isinstance(reader._buffer, collections.deque)
    assert [type(chunk) for chunk in reader._buffer] == [bytes, bytes]
    assert reader._buffer_offset == 3


async def test_a_broken_stream_reader_hides_its_bytes_from_the_public_api() -> None:
    """Why compat_aiohttp exists: once the connection broke, every public read raises."""
    reader = aiohttp.StreamReader(_Protocol(), 2**16, loop=asyncio.get_running_loop())
    reader.feed_data(b"data: one\n")
    reader.feed_data(b"data: two\n\n")
    assert reader.read_nowait(3) == b"dat"
    reader.set_exception(aiohttp.ClientPayloadError("connection cut"))
    with pytest.raises(aiohttp.ClientPayloadError):
        reader.read_nowait()
    with pytest.raises(aiohttp.ClientPayloadError):
        await asyncio.wait_for(reader.read(), 5)

    assert unread_bytes(reader) == [b"a: one\n", b"data: two\n\n"]
    assert unread_bytes(reader) == []  # taken, not copied


def test_unread_bytes_of_something_else_is_empty() -> None:
    assert unread_bytes(object()) == []


# --- nobody else touches them -------------------------------------------------------------


def _private_uses(path: Path, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in names:
            found.append(f"{path}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and node.value in names:
            found.append(f"{path}:{node.lineno}: {node.value!r}")
    return found


def test_only_the_compat_modules_use_these_private_names() -> None:
    names = set(STREAM_READER_PRIVATE_NAMES) | {"_process"}  # nodriver's: no longer read anywhere
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) if path not in COMPAT_MODULES
             for hit in _private_uses(path, names)]
    assert found == []


def test_the_scan_finds_a_private_use(tmp_path) -> None:
    """The scan above can fail: it sees an attribute and a getattr string, and not a comment."""
    sample = tmp_path / "sample.py"
    sample.write_text("proc = browser._process  # _buffer\nbuf = getattr(reader, '_buffer', None)\n")
    hits = sorted(hit.split(": ", 1)[1] for hit in _private_uses(sample, {"_process", "_buffer"}))
    assert hits == ["'_buffer'", "._process"]
