"""Pick the backend and model of the open conversation (for its next message)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from hailuo_tui.provider.backend import BACKEND_LABELS
from hailuo_tui.sanitize import clean
from hailuo_tui.screens.breakpoints import breakpoint_classes


class ModelPickerScreen(ModalScreen[tuple[str, str] | None]):
    """Returns the chosen ``(backend id, model id)``, or ``None``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    # On a short terminal the list takes a share of the height, so the whole dialog stays in view.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    DEFAULT_CSS = """
    ModelPickerScreen { align: center middle; }
    ModelPickerScreen > Vertical { width: 90%; max-width: 72; height: auto; max-height: 100%; overflow-y: auto;
                                   border: thick $primary; background: $surface; padding: 1 2; }
    ModelPickerScreen OptionList { height: auto; max-height: 16; }
    ModelPickerScreen.-short OptionList { max-height: 30vh; }
    ModelPickerScreen #picker-note { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, choices: list[tuple[str, str]], current: tuple[str, str], note: str = "") -> None:
        """Args:
            choices: ``(backend id, model id)`` pairs, in the order shown (model ids may come from a server).
            current: The open conversation's pair (highlighted).
            note: A plain line under the list (why a backend is missing, where the list came from).
        """
        super().__init__(classes=breakpoint_classes(ModelPickerScreen, self.app))
        self._choices = choices
        self._current = current
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Backend and model for this conversation (Enter to choose, Esc to cancel)")
            options = []
            for backend, model in self._choices:
                mark = "● " if (backend, model) == self._current else "  "
                label = f"{mark}{BACKEND_LABELS.get(backend, backend)} · {clean(model)}"
                options.append(Option(Content(label)))
            yield OptionList(*options, id="models")
            if self._note:
                yield Static(Content(clean(self._note)), id="picker-note")

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        if self._current in self._choices:
            option_list.highlighted = self._choices.index(self._current)
        option_list.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._choices[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
