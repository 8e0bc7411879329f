"""Pick one of the conversation's code blocks to copy."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from hailuo_tui.sanitize import clean
from hailuo_tui.screens.breakpoints import breakpoint_classes


class CodePickerScreen(ModalScreen[int | None]):
    """Returns the index of the chosen block, or ``None``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    # On a short terminal the list takes a share of the height, so the whole dialog stays in view.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    DEFAULT_CSS = """
    CodePickerScreen { align: center middle; }
    CodePickerScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 80%; overflow-y: auto;
                                  border: thick $primary; background: $surface; padding: 1 2; }
    CodePickerScreen OptionList { height: auto; max-height: 20; }
    CodePickerScreen.-short OptionList { max-height: 50vh; }
    """

    def __init__(self, blocks: list[tuple[str, str]]) -> None:
        super().__init__(classes=breakpoint_classes(CodePickerScreen, self.app))
        self._blocks = blocks

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Copy which code block? (Enter to copy, Esc to cancel)")
            options = []
            for number, (language, code) in enumerate(self._blocks, 1):
                lines = code.strip("\n").splitlines() or [""]
                preview = clean(lines[0])[:70]
                label = Content(f"{number:>2}. [{clean(language)[:20] or 'text'}] {preview}  ({len(lines)} lines)")
                options.append(Option(label))
            yield OptionList(*options, id="blocks")

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        option_list.highlighted = len(self._blocks) - 1
        option_list.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)
