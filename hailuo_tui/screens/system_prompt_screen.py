"""Edit the system prompt of the open conversation."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from hailuo_tui.sanitize import clean


class SystemPromptScreen(ModalScreen[str | None]):
    """Returns the new system prompt ("" for none), or ``None`` when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+s", "save", "Save", id="dialog.save", priority=True),
    ]
    DEFAULT_CSS = """
    SystemPromptScreen { align: center middle; }
    SystemPromptScreen > Vertical { width: 90%; max-width: 90; height: auto; max-height: 100%; overflow-y: auto;
                                    border: thick $primary; background: $surface; padding: 1 2; }
    SystemPromptScreen TextArea { height: 8; }
    SystemPromptScreen #prompt-note { color: $text-muted; }
    SystemPromptScreen Horizontal { height: auto; margin-top: 1; }
    SystemPromptScreen Button { margin-right: 2; }
    """

    def __init__(self, text: str, note: str) -> None:
        super().__init__()
        self._text = text
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("System prompt for this conversation (Ctrl+S saves, Esc cancels)")
            yield Static(clean(self._note), id="prompt-note", markup=False)
            yield TextArea(self._text, id="system-prompt", soft_wrap=True, show_line_numbers=False)
            with Horizontal():
                yield Button("Save", id="save", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text.strip())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
