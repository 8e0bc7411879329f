"""What the Hailuo page shows under an answer: why it stopped, its web-search sources, follow-up questions.

Everything here is server text (titles, links, questions, error messages): it is
cleaned with :func:`~hailuo_tui.sanitize.clean` and shown as :class:`Content`, never
parsed as markup. Only http and https links are clickable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from textual.content import Content
from textual.style import Style
from textual.widgets import Static

from hailuo_tui.domain import LIVE_STATUSES, MessageStatus
from hailuo_tui.bindings import key_name
from hailuo_tui.sanitize import clean

#: How many follow-up questions get a key (``chat.follow_up_1`` … ``_3``).
FOLLOW_UP_KEYS = 3
#: Schemes a source link may open.
LINK_SCHEMES = ("http://", "https://")


def _one_line(text: str) -> str:
    return " ".join(clean(text).split())


def note_content(status: str, error: str | None, retry_key: str) -> Content:
    """The note at the end of an answer that did not complete: the whole reason, and the key to retry."""
    reason = clean(error or "").strip()
    if status == MessageStatus.FAILED:
        head, style = "Failed", "bold $error"
    else:
        head, style = "Interrupted", "bold $warning"
    parts: list[str | tuple[str, str]] = [(head, style)]
    if reason:
        parts += [": ", reason]
    if retry_key:
        parts += ["  ", (f"{retry_key} to retry", "italic $text-muted")]
    return Content.assemble(*parts)


def sources_content(sources: Sequence[tuple[str, str]]) -> Content:
    """Numbered source links (``[1] Title  example.com/page``); a link opens only over http(s)."""
    parts: list[str | tuple[str, str] | Content] = [("Sources", "bold")]
    for number, (title, url) in enumerate(sources, 1):
        title, url = _one_line(title), "".join(clean(url).split())
        safe = url.lower().startswith(LINK_SCHEMES)
        shown = url.split("://", 1)[-1] if safe else url
        link = Content(title or shown)
        if safe:
            link = link.stylize(Style.from_meta({"@click": f"open_source({url!r})"}))
            link = link.stylize("underline")
        parts += ["\n", (f"[{number}] ", "$text-muted"), link]
        if title and shown:
            parts += ["  ", (shown, "$text-muted")]
    return Content.assemble(*parts)


def follow_ups_content(questions: Sequence[str], keys: Sequence[str]) -> Content:
    """Suggested follow-up questions, each after the key that sends it (if it has one)."""
    parts: list[str | tuple[str, str]] = [("Suggestions", "bold")]
    for index, question in enumerate(questions):
        key = keys[index] if index < len(keys) else ""
        parts += ["\n", (f"{key:>6}  " if key else "        ", "$accent"), _one_line(question)]
    return Content.assemble(*parts)


class AnswerExtras(Static):
    """Under an answer: the reason it did not complete, its sources and the suggested follow-ups.

    Hidden while it has nothing to show. The bubble gives it the status and the server's
    extras; the keys come from the app's keymap (``user_keymap``), so a remapped key shows.

    Most answers complete with nothing to show, so the bubble mounts this only once
    `has_content` is true: `wanted` is called when that happens while it is not mounted.
    (Mounted always, the hidden widget was a third of the style work of opening a conversation.)
    """

    ALLOW_SELECT = False  # notes about the answer, not its text: a drag across messages leaves them out


    DEFAULT_CSS = """
    AnswerExtras {
        height: auto;
        padding: 0 1;
        margin: 1 0 0 0;
        display: none;
        &.-shown { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None, wanted: Callable[[], None] | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._wanted = wanted
        self.status = MessageStatus.COMPLETE
        self.error: str | None = None
        self.sources: tuple[tuple[str, str], ...] = ()
        self.follow_ups: tuple[str, ...] = ()
        #: The answer waits for another one of the same account to end (the web chat streams one at a time).
        self.waiting = False

    def set_state(
        self,
        status: str,
        error: str | None,
        sources: Sequence[tuple[str, str]] | None = None,
        follow_ups: Sequence[str] | None = None,
    ) -> None:
        """Show what there is (``None`` keeps the sources or follow-ups already shown)."""
        self.status, self.error = status, error
        if sources is not None:
            self.sources = tuple(sources)
        if follow_ups is not None:
            self.follow_ups = tuple(follow_ups)
        self._changed()

    def set_waiting(self, waiting: bool) -> None:
        """Say the answer is queued behind another one (True), or is being sent now (False)."""
        self.waiting = waiting
        self._changed()

    def has_content(self) -> bool:
        """Whether there is anything to show (what `content` would say, without building it)."""
        live = self.status in LIVE_STATUSES
        return bool(
            (self.waiting and live)
            or self.status in (MessageStatus.FAILED, MessageStatus.INTERRUPTED)
            or self.sources
            or (self.follow_ups and not live)
        )

    def _changed(self) -> None:
        if self.is_mounted:
            self._render_now()
        elif self._wanted is not None and self.has_content():
            self._wanted()

    def on_mount(self) -> None:
        self._render_now()

    def _keymap(self) -> Mapping[str, str]:
        return getattr(self.app, "user_keymap", None) or {}

    def content(self) -> Content:
        """What is shown (empty: nothing)."""
        keymap = self._keymap()
        sections: list[Content] = []
        if self.waiting and self.status in LIVE_STATUSES:
            sections.append(Content.assemble(
                ("Waiting", "bold $warning"),
                ": another conversation is answering. Hailuo answers one message at a time per account;"
                " this one is sent when that answer ends.",
            ))
        if self.status in (MessageStatus.FAILED, MessageStatus.INTERRUPTED):
            sections.append(note_content(self.status, self.error, key_name("chat.regenerate", keymap)))
        if self.sources:
            sections.append(sources_content(self.sources))
        if self.follow_ups and self.status not in LIVE_STATUSES:
            keys = [key_name(f"chat.follow_up_{n}", keymap) for n in range(1, FOLLOW_UP_KEYS + 1)]
            sections.append(follow_ups_content(self.follow_ups, keys))
        return Content("\n\n").join(sections) if sections else Content("")

    def _render_now(self) -> None:
        content = self.content()
        self.set_class(bool(content.plain), "-shown")
        self.update(content)

    def action_open_source(self, url: str) -> None:
        """A source was clicked: open it (http and https only)."""
        if url.lower().startswith(LINK_SCHEMES):
            self.app.open_url(url)
