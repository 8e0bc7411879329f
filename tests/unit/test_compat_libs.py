"""The private names of aiohttp and nodriver the provider relies on, checked in the installed versions.

Written against aiohttp 3.14.5 and nodriver 0.50.99. When one of these fails after an upgrade, the workaround
in hailuo_tui/provider/compat_aiohttp.py or compat_nodriver.py no longer does its job: adapt it there (or use
the public API the new release offers) instead of loosening the test.
"""

from __future__ import annotations

import ast
import asyncio
import collections
from pathlib import Path

import aiohttp
import pytest

from hailuo_tui.provider.compat_aiohttp import STREAM_READER_PRIVATE_NAMES, unread_bytes
from hailuo_tui.provider.compat_nodriver import BROWSER_PRIVATE_NAMES, browser_process
from hailuo_tui.provider.errors import BrowserNotFound
from hailuo_tui.provider.login import find_browser

PACKAGE = Path(__file__).resolve().parents[2] / "hailuo_tui"
COMPAT_MODULES = {PACKAGE / "provider" / "compat_aiohttp.py", PACKAGE / "provider" / "compat_nodriver.py"}


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


# --- nodriver --------------------------------------------------------------------------


async def test_browser_keeps_its_process_in_the_private_attribute(tmp_path) -> None:
    import nodriver as uc

    assert "_process" in uc.Browser.__annotations__
    config = uc.Config(user_data_dir=str(tmp_path), headless=True, browser_executable_path="/bin/true",
                       sandbox=False)
    browser = uc.Browser(config)  # not started: no process yet
    for name in BROWSER_PRIVATE_NAMES:
        assert hasattr(browser, name), f"nodriver.Browser has no {name}"
    assert browser_process(browser) is None


@pytest.mark.browser
@pytest.mark.timeout(90)
async def test_browser_process_is_the_started_chromium(tmp_path) -> None:
    from hailuo_tui.provider.browser_session import BrowserSession

    try:
        executable = find_browser()
    except BrowserNotFound:
        pytest.skip("no Chromium/Chrome installed")
    session = BrowserSession(executable, tmp_path / "profile", headless=True, proxy=None)
    try:
        await asyncio.wait_for(session.start(), 60)
        proc = session.proc
        assert isinstance(proc, asyncio.subprocess.Process)
        assert proc is browser_process(session.browser)
        assert proc.returncode is None
    finally:
        await asyncio.wait_for(session.close(), 60)
    # close() stops its pipe readers; read both pipes to their end so that asyncio closes the process
    # transport in this loop, not in a garbage collection after the loop is gone ("Event loop is closed").
    await asyncio.wait_for(asyncio.gather(proc.stdout.read(), proc.stderr.read()), 30)
    assert proc.returncode is not None
    assert browser_process(session.browser) is None  # stop() forgets it: close() relies on its own copy


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
    names = set(STREAM_READER_PRIVATE_NAMES) | set(BROWSER_PRIVATE_NAMES)
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) if path not in COMPAT_MODULES
             for hit in _private_uses(path, names)]
    assert found == []


def test_the_scan_finds_a_private_use(tmp_path) -> None:
    """The scan above can fail: it sees an attribute and a getattr string, and not a comment."""
    sample = tmp_path / "sample.py"
    sample.write_text("proc = browser._process  # _buffer\nbuf = getattr(reader, '_buffer', None)\n")
    hits = sorted(hit.split(": ", 1)[1] for hit in _private_uses(sample, {"_process", "_buffer"}))
    assert hits == ["'_buffer'", "._process"]
