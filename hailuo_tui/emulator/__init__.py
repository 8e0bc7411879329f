"""A protocol-faithful local emulator of the Hailuo AI web chat (PROTOCOL.md §9).

``from hailuo_tui.emulator import Emulator, EmulatorConfig``. Never imports textual or rich.
"""

from hailuo_tui.emulator.config import EmulatorConfig
from hailuo_tui.emulator.server import Chat, Emulator, RequestRecord, Turn

__all__ = ["Chat", "Emulator", "EmulatorConfig", "RequestRecord", "Turn"]
