"""F1: every key, what it does, and its binding id (for the config's [keymap])."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from hailuo_tui.bindings import APP_BINDINGS, CHAT_BINDINGS, MESSAGE_BINDINGS, key_label, keys_of, prompt_bindings

__all__ = ["HelpScreen", "key_label"]


class HelpScreen(ModalScreen[None]):
    """A table of all bindings, with the user's keymap applied."""

    BINDINGS = [Binding("escape,f1,q", "close", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90; max-width: 100%; height: 90%; max-height: 100%; border: thick $primary; background: $surface; padding: 0 1; }
    HelpScreen Label { margin: 1 0 0 0; }
    HelpScreen DataTable { height: 1fr; margin-top: 1; }
    """

    def __init__(self, keymap: Mapping[str, str] | None = None) -> None:
        """Create the screen.

        Args:
            keymap: The user's keymap (binding id -> keys), applied to the keys shown.
        """
        super().__init__()
        self.user_keymap: Mapping[str, str] = dict(keymap or {})

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Keys  (Esc closes; remap any of them by id in the config file's [keymap])", markup=False)
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Label("Everything is also in the command palette: Ctrl+P.")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Binding id")
        for binding in [*CHAT_BINDINGS, *MESSAGE_BINDINGS, *prompt_bindings(), *APP_BINDINGS]:
            table.add_row(key_label(keys_of(binding, self.user_keymap)), binding.description, binding.id or "")
        table.add_row("Ctrl+P", "Command palette", "(textual)")
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
