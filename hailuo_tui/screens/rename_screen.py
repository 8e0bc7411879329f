"""A small modal that asks for a conversation title."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from hailuo_tui.sanitize import clean


class RenameScreen(ModalScreen[str | None]):
    """Returns the new title, or ``None`` when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    DEFAULT_CSS = """
    RenameScreen { align: center middle; }
    RenameScreen > Vertical { width: 60; max-width: 100%; height: auto; max-height: 100%; overflow-y: auto; border: thick $primary; background: $surface; padding: 1 2; }
    RenameScreen Label { margin-bottom: 1; }
    """

    def __init__(self, title: str | None) -> None:
        super().__init__()
        self._title = " ".join(clean(title or "").split())  # a server's title: no escapes into the field

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Rename the conversation (Enter to save, Esc to cancel). A title you set is never replaced by Hailuo's.")
            yield Input(value=self._title, placeholder="Title", id="title", max_length=200)

    def on_mount(self) -> None:
        title = self.query_one("#title", Input)
        title.focus()
        title.select_all()  # typing replaces the old title; arrows keep it

    @on(Input.Submitted)
    def save(self, event: Input.Submitted) -> None:
        title = " ".join(event.value.split())
        self.dismiss(title or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
