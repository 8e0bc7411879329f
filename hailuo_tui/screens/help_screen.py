"""F1: every key, what it does, and its binding id (for the config's [keymap])."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from hailuo_tui.bindings import APP_BINDINGS, CHAT_BINDINGS


_NAMES = {"escape": "Esc", "enter": "Enter", "pageup": "PgUp", "pagedown": "PgDn", "up": "↑", "down": "↓",
          "left": "←", "right": "→", "delete": "Del", "tab": "Tab"}


def key_label(keys: str) -> str:
    """``"alt+up,ctrl+pageup"`` -> ``"Alt+↑, Ctrl+PgUp"``."""
    labels = []
    for key in keys.split(","):
        parts = key.strip().split("+")
        *mods, name = parts
        name = _NAMES.get(name, name.upper() if len(name) <= 3 else name.capitalize())
        labels.append("+".join([m.capitalize() for m in mods] + [name]))
    return ", ".join(labels)


class HelpScreen(ModalScreen[None]):
    """A table of all bindings, with the user's keymap applied."""

    BINDINGS = [Binding("escape,f1,q", "close", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    HelpScreen Label { margin: 1 0 0 0; }
    HelpScreen DataTable { height: 1fr; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Keys  (Esc closes; remap any of them by id in the config file's [keymap])", markup=False)
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Label("Everything is also in the command palette: Ctrl+P.")

    def on_mount(self) -> None:
        from hailuo_tui.widgets.prompt_input import PromptInput

        table = self.query_one(DataTable)
        table.add_columns("Key", "Action", "Binding id")
        keymap = getattr(self.app, "_keymap", {})
        bindings = [b for b in PromptInput.BINDINGS if isinstance(b, Binding) and b.id]
        for binding in [*CHAT_BINDINGS, *bindings, *APP_BINDINGS]:
            keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
            table.add_row(key_label(keys), binding.description, binding.id or "")
        table.add_row("Ctrl+P", "Command palette", "(textual)")
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
