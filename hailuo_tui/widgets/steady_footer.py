"""Textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer


class SteadyFooter(Footer):
    """A `Footer` that skips its rebuild when the shown keys are the ones already shown.

    Textual's Footer recomposes (a FooterKey widget per key, each styled and laid out) on every
    change of the screen's bindings, which a focus change makes. Picking a conversation in the
    sidebar moves the focus to the message box, and that rebuild was a third of the CPU of opening a
    conversation (0.05 s of 0.17 s, cProfile; tests/ui/test_comfort.py pins the focus move), for
    a footer that shows the same keys before and after.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None

    def shown_keys(self, screen: Screen) -> tuple:
        """What the footer would show for ``screen``'s bindings now (everything its compose reads)."""
        palette = self.app.COMMAND_PALETTE_BINDING
        return tuple(
            (key, binding.key, binding.key_display, binding.description, binding.action, enabled, tooltip,
             binding.group)
            for key, (_node, binding, enabled, tooltip) in screen.active_bindings.items()
            if binding.show or key == palette
        )

    def bindings_changed(self, screen: Screen) -> None:
        shown = self.shown_keys(screen)
        if shown == self._shown:
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._shown = shown  # what the rebuild Footer schedules now will show
        super().bindings_changed(screen)
