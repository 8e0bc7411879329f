"""The message box: a growing multi-line TextArea that submits on Enter."""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import TextArea

from hailuo_tui.widgets.kitty_parser import repair_leaked_text, translate_kitty_text
from hailuo_tui.widgets.reply_messages import ReplyFinished, ReplyStarted

PLACEHOLDER = "Message Hailuo…  (Enter to send, Ctrl+J or Alt+Enter for a new line)"
BUSY_HINT = "Hailuo is answering; wait, or press Esc to stop"


class RestingCursor:
    """Mixin for a text widget (TextArea, Input): the cursor stops blinking when the user rests.

    A blinking cursor redraws the screen twice a second, for as long as the app is
    open. After `BLINK_REST` seconds without a key, paste, click or focus, the
    cursor stays shown without blinking, and an idle app draws nothing; the next
    input starts the blink again. Only a blink this mixin stopped is restarted: a
    widget whose ``cursor_blink`` was turned off elsewhere stays steady.
    """

    BLINK_REST = 2.5
    """Seconds without input after which the cursor stops blinking."""

    _last_input = 0.0
    _rest_timer: Timer | None = None
    _blink_rested = False

    cursor_blink: bool

    def _note_input(self) -> None:
        """The user did something: blink (again), and rest after `BLINK_REST` seconds of quiet."""
        self._last_input = time.monotonic()
        if self._blink_rested:
            self._blink_rested = False
            self.cursor_blink = True
        if self._rest_timer is None and self.cursor_blink:
            self._rest_timer = self.set_timer(self.BLINK_REST, self._rest_cursor)  # type: ignore[attr-defined]

    def _rest_cursor(self) -> None:
        self._rest_timer = None
        left = self._last_input + self.BLINK_REST - time.monotonic()
        if left > 0.05:  # input came meanwhile: wait for the rest of the quiet time
            self._rest_timer = self.set_timer(left, self._rest_cursor)  # type: ignore[attr-defined]
        elif self.cursor_blink:
            self._blink_rested = True
            self.cursor_blink = False  # the widget shows the cursor steadily while focused

    @property
    def cursor_resting(self) -> bool:
        """True while the blink is stopped for lack of input."""
        return self._blink_rested

    def watch_cursor_blink(self, blink: bool) -> None:
        if blink:  # turned on (by us, or elsewhere): not resting any more
            self._blink_rested = False

    def on_focus(self) -> None:
        self._note_input()

    def on_key(self) -> None:
        self._note_input()

    def on_paste(self) -> None:
        self._note_input()

    def on_mouse_down(self) -> None:
        self._note_input()


class PromptInput(RestingCursor, TextArea):
    """Multi-line prompt: Enter sends; Ctrl+J, Alt+Enter or (where the terminal reports it) Shift+Enter add a line.

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
        # Priority: TextArea would otherwise take Enter as a new line first. A priority binding runs
        # in the app's queue, ahead of keys already forwarded here: the actions wait for those (below).
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

    @on(ReplyStarted)
    def _answering(self, event: ReplyStarted) -> None:
        if event.shown:
            self.busy = True

    @on(ReplyFinished)
    def _answered(self, event: ReplyFinished) -> None:
        if event.shown:
            self.busy = False

    def action_submit(self) -> None:
        """Post `Submitted` with the text and clear, unless empty or busy.

        Keys typed before Enter in the same burst (tmux, a paste without brackets, an IME commit)
        still wait in this widget's queue: the text is taken once they are inserted.
        """
        self._note_input()  # a priority binding: the key never reaches on_key
        self.call_later(self._submit_now)

    def _submit_now(self) -> None:
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
        """Insert a line break at the cursor, after the keys queued before it."""
        self._note_input()
        self.call_later(self.insert, "\n")

    # Handlers of this class run before TextArea's (Textual calls them in MRO
    # order), so TextArea has not inserted the key or the paste yet.

    @on(events.Key)
    def _repair_kitty_leak_after_u(self, event: events.Key) -> None:
        if event.character == "u":
            # TextArea's key handler (called next) inserts the "u".
            self.call_next(self._repair_kitty_leak)

    @on(events.Paste)
    def _normalise_paste(self, event: events.Paste) -> None:
        # Normalise line endings and any kitty text sequences in pasted data.
        text = translate_kitty_text(event.text).replace("\r\n", "\n").replace("\r", "\n")
        if text != event.text:
            event.prevent_default()
            event.stop()
            if not self.read_only:
                result = self.replace(text, *self.selection)
                self.move_cursor(result.end_location)
        # Otherwise TextArea's paste handler (next in the MRO) inserts it.

    def _repair_kitty_leak(self) -> None:
        """Replace a kitty CSI-u text sequence typed as characters with its text."""
        row, column = self.cursor_location
        found = repair_leaked_text(self.document[row][:column])
        if found is None:
            return
        length, text = found
        self.replace(text, (row, column - length), (row, column))
