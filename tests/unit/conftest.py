"""Shared fixtures for unit tests."""

from __future__ import annotations

import pytest

from hailuo_tui.emulator import Emulator, EmulatorConfig


@pytest.fixture
async def emulator():
    """A started :class:`Emulator` with the default (realistic) config on a free 127.0.0.1 port."""
    emu = Emulator(EmulatorConfig())
    await emu.start(host="127.0.0.1", port=0)
    try:
        yield emu
    finally:
        await emu.stop()
