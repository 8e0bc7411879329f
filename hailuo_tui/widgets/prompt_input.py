"""The message box: a growing multi-line TextArea that submits on Enter."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import TextArea

from hailuo_tui.widgets.kitty_parser import repair_leaked_text, translate_kitty_text

PLACEHOLDER = "Message Hailuo…  (Enter to send, Shift+Enter for a new line)"
BUSY_HINT = "Hailuo is answering; wait, or press Esc to stop"


class PromptInput(TextArea):
    """Multi-line prompt: Enter sends, Shift+Enter or Ctrl+J add a line.

    Set `busy` while the conversation answers: submission is then refused
    and a hint says why (the text stays, so nothing typed is lost).
    """

    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        min-height: 3;
        max-height: 10;
        border: tall $border-blurred;
        padding: 0 1;
        &:focus { border: tall $border; }
        &.-busy { border: tall $warning 60%; }
        & .text-area--cursor-line { background: transparent; }
    }
    """

    BINDINGS = [
        # Priority: TextArea would otherwise take Enter as a new line first.
        Binding("enter", "submit", "Send", id="chat.send", priority=True, show=False),
        Binding("shift+enter,ctrl+j,alt+enter", "newline", "New line", id="chat.newline", priority=True, show=False),
    ]

    busy: reactive[bool] = reactive(False)
    """True while the conversation answers; Enter is refused."""

    @dataclass
    class Submitted(Message):
        """The user pressed Enter on a non-empty prompt."""

        prompt_input: PromptInput
        text: str

        @property
        def control(self) -> PromptInput:
            return self.prompt_input

    def __init__(
        self,
        text: str = "",
        *,
        placeholder: str = PLACEHOLDER,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """Create the prompt.

        Args:
            text: Initial text.
            placeholder: Shown while empty.
            id: DOM id.
            classes: Extra CSS classes.
        """
        super().__init__(
            text,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            highlight_cursor_line=False,
            placeholder=placeholder,
            id=id,
            classes=classes,
        )

    def watch_busy(self, busy: bool) -> None:
        self.set_class(busy, "-busy")
        if not busy and self.border_subtitle == BUSY_HINT:
            self.border_subtitle = ""

    def action_submit(self) -> None:
        """Post `Submitted` with the text and clear, unless empty or busy."""
        text = self.text
        if not text.strip():
            return
        if self.busy:
            self.border_subtitle = BUSY_HINT
            return
        self.border_subtitle = ""
        self.post_message(self.Submitted(self, text.rstrip()))
        self.clear()

    def action_newline(self) -> None:
        """Insert a line break at the cursor."""
        self.insert("\n")

    async def _on_key(self, event: events.Key) -> None:
        if event.character == "u":
            # TextArea._on_key (called next, by MRO dispatch) inserts the "u".
            self.call_next(self._repair_kitty_leak)

    async def _on_paste(self, event: events.Paste) -> None:
        # Normalise line endings and any kitty text sequences in pasted data.
        text = translate_kitty_text(event.text).replace("\r\n", "\n").replace("\r", "\n")
        if text != event.text:
            event.prevent_default()
            event.stop()
            if not self.read_only:
                result = self.replace(text, *self.selection)
                self.move_cursor(result.end_location)
        # Otherwise TextArea._on_paste (next in the MRO) inserts it.

    def _repair_kitty_leak(self) -> None:
        """Replace a kitty CSI-u text sequence typed as characters with its text."""
        row, column = self.cursor_location
        found = repair_leaked_text(self.document[row][:column])
        if found is None:
            return
        length, text = found
        self.replace(text, (row, column - length), (row, column))
