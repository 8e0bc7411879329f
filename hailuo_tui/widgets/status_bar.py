"""The one-line status bar: account, activity, last error."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from hailuo_tui.domain import MessageStatus
from hailuo_tui.sanitize import clean
from hailuo_tui.widgets.reply_messages import ReplyFinished, ReplyProblem
from hailuo_tui.widgets.usage_format import format_count, format_tokens


def _one_line(text: str) -> str:
    return " ".join(clean(text).split())


class StatusBar(Horizontal):
    """Account state (left), what is answering (middle), last error (right).

    All text is shown as plain Content: nothing set here is parsed as markup.
    """

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        background: $panel;
        color: $text-muted;
        & > Static { height: 1; width: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
        & > #status-account { width: auto; max-width: 40%; }
        & > #status-activity { width: 1fr; content-align: center middle; color: $text-accent; }
        & > #status-usage { display: none; text-style: dim; }
        &.-usage > #status-usage { display: block; }
        & > #status-error { width: auto; max-width: 75%; color: $text-error; }
        &.-error > #status-error { background: $error 15%; }
    }
    """

    ERROR_HINT = "F1 help"
    """Key hint shown after an error."""

    def compose(self) -> ComposeResult:
        yield Static(id="status-account", markup=False)
        yield Static(id="status-activity", markup=False)
        yield Static(id="status-usage", markup=False)
        yield Static(id="status-error", markup=False)

    def set_account(self, text: str) -> None:
        """Show the account state, e.g. "Signed in (demo)".

        Args:
            text: Plain text.
        """
        self.query_one("#status-account", Static).update(Content(_one_line(text)))

    def set_activity(self, text: str) -> None:
        """Show what is happening, e.g. "Answering in “Trip to Xi'an”".

        Args:
            text: Plain text ("" to clear).
        """
        self._activity_text = _one_line(text)
        self.query_one("#status-activity", Static).update(Content(self._activity_text))

    @property
    def activity_text(self) -> str:
        """The activity shown now, as plain text."""
        return getattr(self, "_activity_text", "")

    def set_usage_totals(self, prompt_tokens: int, completion_tokens: int) -> None:
        """Show the tokens the open conversation used, e.g. "Σ 12.3k tokens" (0 and 0 hide it).

        Args:
            prompt_tokens: Sum of the answers' prompt tokens.
            completion_tokens: Sum of the answers' completion tokens.
        """
        prompt, completion = max(0, int(prompt_tokens)), max(0, int(completion_tokens))
        total = prompt + completion
        self._usage_text = f"Σ {format_tokens(total)} tokens" if total else ""
        usage = self.query_one("#status-usage", Static)
        usage.update(Content(self._usage_text))
        usage.tooltip = f"{format_count(prompt)} in → {format_count(completion)} out" if total else None
        self.set_class(bool(total), "-usage")

    @property
    def usage_text(self) -> str:
        """The token totals shown now ("" while hidden)."""
        return getattr(self, "_usage_text", "")

    def set_error(self, title: str, message: str = "", hint: str | None = None) -> None:
        """Show the last error in plain words.

        Args:
            title: Short title ("Signed out").
            message: One-sentence explanation.
            hint: Key hint; defaults to `ERROR_HINT`.
        """
        text = _one_line(title)
        if message:
            text = f"{text}: {_one_line(message)}"
        hint = self.ERROR_HINT if hint is None else hint
        self._error_text = text
        self._error_hint = hint
        content = Content(text)
        if hint:
            content = Content.assemble(content, ("  " + hint, "dim"))
        self.query_one("#status-error", Static).update(content)
        self.add_class("-error")

    def clear_error(self) -> None:
        """Remove the error."""
        self._error_text = ""
        self.query_one("#status-error", Static).update(Content(""))
        self.remove_class("-error")

    @property
    def error_text(self) -> str:
        """The error currently shown (plain), for tests and the help screen."""
        return getattr(self, "_error_text", "")

    @property
    def error_hint(self) -> str:
        """The key hint shown after the error ("" when none)."""
        return getattr(self, "_error_hint", "") if self.error_text else ""

    @on(ReplyProblem)
    def _show_problem(self, event: ReplyProblem) -> None:
        self.set_error(event.title, event.message, event.hint)

    @on(ReplyFinished)
    def _clear_after_success(self, event: ReplyFinished) -> None:
        if event.status == MessageStatus.COMPLETE:
            self.clear_error()
