"""Copying to the clipboard with the one note every copy key shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hailuo_tui.bindings import key_name


def copy_with_note(app: Any, text: str, what: str, keymap: Mapping[str, str]) -> None:
    """Copy ``text`` through the terminal (OSC 52, the app's `copy_to_clipboard`) and say so.

    Args:
        app: The running app.
        text: What to copy.
        what: The note's start ("Copied the last answer").
        keymap: The user's keymap, for the name of the export key offered to terminals without OSC 52.
    """
    app.copy_to_clipboard(text)
    app.notify(f"{what} (via the terminal's OSC 52). If your terminal does not support it, "
               f"export the conversation with {key_name('conversation.export', keymap)}.")
