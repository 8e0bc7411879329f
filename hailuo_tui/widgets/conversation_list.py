"""The sidebar: conversations as one virtual OptionList."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import on
from textual.content import Content
from textual.css.styles import RulesMap
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.strip import Strip
from textual.style import Style
from textual.timer import Timer
from textual.visual import RenderOptions, Visual
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from hailuo_tui.sanitize import clean
from hailuo_tui.widgets.reply_messages import ReplyFinished, ReplyStarted
from hailuo_tui.widgets.prompt_input import RestingCursor
from hailuo_tui.widgets.timefmt import relative_time

PLACEHOLDER_TITLE = "New conversation…"
BUSY_MARKER = "● "
API_TAG = "API "
"""Shown dim before the time of a conversation on the MiniMax API (web ones have none)."""
SNIPPET_INDENT = "  "
"""Before a search match's snippet (its second line)."""
#: Markdown emphasis and code markers, left out of a snippet (it shows the stored Markdown source).
_MARKERS = re.compile(r"\*\*|__|`+")


def hit_marks(text: str, terms: Sequence[str]) -> list[bool]:
    """For each character of ``text``: whether it is part of a search term (case-insensitive)."""
    marks = [False] * len(text)
    low = text.lower()
    if len(low) != len(text):  # a character whose lower case is longer: no safe positions
        return marks
    for term in terms:
        term = term.lower()
        if not term:
            continue
        at = low.find(term)
        while at >= 0:
            marks[at : at + len(term)] = [True] * len(term)
            at = low.find(term, at + len(term))
    return marks


def snippet_cells(text: str, terms: Sequence[str], width: int) -> list[tuple[str, bool]]:
    """``text`` cut to ``width`` cells around its first hit, as runs of (text, is a hit).

    The first hit is kept in view: text before it is cut (with an ellipsis) when the
    hit would otherwise start past the first third of the row.
    """
    text = " ".join(text.split())
    marks = hit_marks(text, terms)
    first = marks.index(True) if True in marks else 0
    lead = max(0, width // 3)
    if first > lead and cell_len(text[:first]) > lead:
        cut = first
        while cut > 0 and cell_len(text[cut - 1 : first]) < lead - 1:
            cut -= 1
        text, marks = "…" + text[cut:], [False] + marks[cut:]
    runs: list[tuple[str, bool]] = []
    used = 0
    cut = cell_len(text) > width
    if cut:  # room for the ellipsis that says the text goes on
        width -= 1
    for char, mark in zip(text, marks):
        size = cell_len(char)
        if used + size > width:
            break
        used += size
        if runs and runs[-1][1] == mark:
            runs[-1] = (runs[-1][0] + char, mark)
        else:
            runs.append((char, mark))
    if cut and width >= 0:
        runs.append(("…", False))
    return runs


class ConversationLike(Protocol):
    """What the list needs from a row (store.ConversationRow fits)."""

    id: Any
    title: str | None
    updated_at: float | int | str | datetime | None
    # Optional: ``backend`` ("web" when absent, or "api"), read with getattr.


def _fit_plain(title: str, right: str, width: int) -> tuple[str, str]:
    """`title` cut to fit (by cell width, with an ellipsis) and the gap before `right`."""
    right_width = cell_len(right)
    room = max(0, width - right_width - (1 if right else 0))
    if cell_len(title) > room:
        title = set_cell_size(title, room - 1) + "…" if room else ""
    return title, " " * max(0, width - cell_len(title) - right_width)


def fit_row(title: str, right: str, width: int) -> Content:
    """Lay out one row: `title` cut to fit by cell width, `right` flush right.

    Args:
        title: The (plain) title; wide CJK characters count as two cells.
        right: The right-hand text (a relative time).
        width: The row width in cells.

    Returns:
        Content exactly `width` cells wide (when width allows).
    """
    left, gap = _fit_plain(title, right, width)
    return Content.assemble(left, gap, (right, "$text-muted"))


class ConversationRowVisual(Visual):
    """One sidebar row, laid out at render time for the real width.

    A list holds hundreds of rows (500 on every search keystroke) but renders only
    the few in view, so the title is cleaned and the time formatted on first use.
    """

    def __init__(self, row: ConversationLike, busy: bool, now: float, terms: Sequence[str] = ()) -> None:
        self._row = row
        self.terms = tuple(terms)
        snippet = getattr(row, "snippet", None)
        #: The matched text of a search result (a second line, hits highlighted), or None.
        self.snippet = _MARKERS.sub("", clean(snippet)) if snippet and terms else None
        self._now = now
        self.busy = busy
        self.api = getattr(row, "backend", "web") == "api"
        self._title: str | None = None
        self._when: str | None = None

    @property
    def title(self) -> str:
        """The title as shown: cleaned, on one line, or the placeholder."""
        if self._title is None:
            title = clean(self._row.title or "").replace("\n", " ").replace("\t", " ").strip()
            self._title = title or PLACEHOLDER_TITLE
        return self._title

    @property
    def when(self) -> str:
        """The relative time of the row's last activity ("5m")."""
        if self._when is None:
            self._when = relative_time(self._row.updated_at, self._now)
        return self._when

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        # Segments built directly (what Content would make of fit_row's output, without
        # its general machinery): a search redraws every visible row on each keystroke.
        if width <= 0:
            return []
        when = self.when
        tag = API_TAG if self.api else ""
        left, gap = _fit_plain(self.title, tag + when, width - (2 if self.busy else 0))
        segments = []
        if self.busy:
            segments.append(Segment(BUSY_MARKER, (style + options.get_style("$accent")).rich_style))
        segments.append(Segment(left + gap, style.rich_style))
        if tag:
            segments.append(Segment(tag, (style + options.get_style("$text-muted italic")).rich_style))
        if when:
            segments.append(Segment(when, (style + options.get_style("$text-muted")).rich_style))
        strips = [Strip(segments)]
        if self.snippet is not None:
            muted = (style + options.get_style("$text-muted")).rich_style
            hit = (style + options.get_style("bold $text-accent underline")).rich_style
            room = max(0, width - len(SNIPPET_INDENT))
            line = [Segment(SNIPPET_INDENT, style.rich_style)]
            line += [Segment(text, hit if mark else muted) for text, mark in snippet_cells(self.snippet, self.terms, room)]
            used = sum(cell_len(segment.text) for segment in line)
            if used < width:
                line.append(Segment(" " * (width - used), style.rich_style))
            strips.append(Strip(line))
        return strips

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return container_width

    def get_height(self, rules: RulesMap, width: int) -> int:
        return 1 if self.snippet is None else 2


class ConversationList(OptionList):
    """Conversations, newest first, one line each.

    Rows are `Option`s whose id is `str(conversation_id)`; the original id
    objects are kept so messages carry them unchanged.
    """

    DEFAULT_CSS = """
    ConversationList {
        height: 1fr;
        border-title-align: left;
    }
    """

    # OptionList sets virtual_size (the row count) whenever its options change, and
    # Widget declares that reactive with layout=True: a search keystroke that changed
    # the number of matches laid out the whole screen (every bubble of the open
    # conversation). The list's own size never depends on its rows (it fills the
    # sidebar); when its scrollbar comes or goes, that reactive still asks for a layout.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    # Rows hold no links: skip the per-row link styling pass (a third of a row's render).
    auto_links: Reactive[bool] = Reactive(False)

    @dataclass
    class Selected(Message):
        """The user chose a conversation (Enter or click)."""

        conversation_list: ConversationList
        conversation_id: Any

        @property
        def control(self) -> ConversationList:
            return self.conversation_list

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False)
        self._rows: dict[str, ConversationLike] = {}
        self._ids: dict[str, Any] = {}
        self._busy: set[str] = set()
        self._tick: Timer | None = None
        self._total: int | None = None
        self._label = "Conversations"
        self._terms: tuple[str, ...] = ()

    def on_mount(self) -> None:
        self._update_title()
        # Relative times age ("now", "5m"): once a minute, redraw the rows whose text changed.
        self._tick = self.set_interval(60, self.refresh_times)

    # -- public API -------------------------------------------------------

    @property
    def highlighted_id(self) -> Any:
        """The id of the highlighted conversation, or None."""
        option = self.highlighted_option
        return None if option is None else self._ids.get(option.id or "")

    def set_items(
        self,
        rows: Iterable[ConversationLike],
        *,
        total: int | None = None,
        label: str = "Conversations",
        terms: Sequence[str] = (),
    ) -> None:
        """Replace all rows, keeping the highlighted conversation if present.

        Args:
            rows: Conversations in display order (newest first).
            total: The count shown in the border (default: the number of rows).
            label: The border's word ("Conversations", or "Matches" while searching).
            terms: The search's words: a row with a ``snippet`` shows it under the title, these highlighted.
        """
        self._total = total
        self._label = label
        rows = list(rows)
        terms = tuple(terms)
        same = terms == self._terms and len(rows) == len(self._rows) and rows == list(self._rows.values())
        self._terms = terms
        if same and self.item_ids() == [row.id for row in rows]:
            # The same rows (a search keystroke that did not change the result): nothing to redraw,
            # and the list keeps its scroll position and highlight.
            self._update_title()
            return
        keep = self.highlighted_id
        self._rows = {str(row.id): row for row in rows}
        self._ids = {str(row.id): row.id for row in rows}
        self._busy &= set(self._rows)
        now = time.time()
        self.set_options(Option(self._visual(row, now), id=str(row.id)) for row in rows)
        if keep is not None and str(keep) in self._rows:
            self.highlighted = self.get_option_index(str(keep))
        self._update_title()

    def update_item(self, row: ConversationLike) -> None:
        """Update (or add at the top) one row without moving the highlight.

        Args:
            row: The changed conversation.
        """
        key = str(row.id)
        self._rows[key] = row
        self._ids[key] = row.id
        visual = self._visual(row, time.time())
        if self._has(key):
            self.replace_option_prompt(key, visual)
        else:
            self.set_items(
                [row, *(self._rows[o.id] for o in self.options if o.id and o.id != key)]
            )

    def title_of(self, conversation_id: Any) -> str | None:
        """The (cleaned) title shown for a conversation, or None if it has none or is not listed."""
        row = self._rows.get(str(conversation_id))
        title = " ".join(clean(row.title).split()) if row is not None and row.title else ""
        return title or None

    def hit_of(self, conversation_id: Any) -> int | None:
        """While the list shows search results: the conversation's first matching message (None: none,
        a title match, or not a search)."""
        if not self._terms:
            return None
        row = self._rows.get(str(conversation_id))
        return getattr(row, "hit_message_id", None) if row is not None else None

    def item_ids(self) -> list[Any]:
        """The conversation ids in display order."""
        return [self._ids[option.id] for option in self.options if option.id in self._ids]

    def remove_item(self, conversation_id: Any) -> None:
        """Remove a row if present.

        Args:
            conversation_id: The conversation to remove.
        """
        key = str(conversation_id)
        if self._has(key):
            self.remove_option(key)
        self._rows.pop(key, None)
        self._ids.pop(key, None)
        self._busy.discard(key)
        self._update_title()

    def select_id(self, conversation_id: Any) -> None:
        """Highlight a conversation (without posting `Selected`).

        Args:
            conversation_id: The conversation to highlight.
        """
        key = str(conversation_id)
        if self._has(key):
            self.highlighted = self.get_option_index(key)

    def set_busy(self, conversation_id: Any, busy: bool) -> None:
        """Show or hide the "answering" marker of a conversation.

        Args:
            conversation_id: The conversation.
            busy: True while it is answering.
        """
        key = str(conversation_id)
        if busy:
            self._busy.add(key)
        else:
            self._busy.discard(key)
        if key in self._rows and self._has(key):
            self.replace_option_prompt(key, self._visual(self._rows[key], time.time()))

    @on(ReplyStarted)
    def _mark_answering(self, event: ReplyStarted) -> None:
        self.set_busy(event.conversation_id, True)

    @on(ReplyFinished)
    def _unmark_answering(self, event: ReplyFinished) -> None:
        self.set_busy(event.conversation_id, False)

    def refresh_times(self) -> None:
        """Redraw the rows whose relative time changed (one repaint, whatever the count)."""
        now = time.time()
        for index, option in enumerate(self.options):
            row = self._rows.get(option.id or "")
            visual = option.prompt
            if row is None or not isinstance(visual, ConversationRowVisual):
                continue
            if visual._when is None:
                visual._now = now  # not drawn yet: it is formatted with this time when it is
            elif relative_time(row.updated_at, now) != visual.when:
                self.replace_option_prompt_at_index(index, self._visual(row, now))

    # -- internals --------------------------------------------------------

    def _has(self, key: str) -> bool:
        try:
            self.get_option(key)
        except OptionDoesNotExist:
            return False
        return True

    def _visual(self, row: ConversationLike, now: float) -> ConversationRowVisual:
        return ConversationRowVisual(row, str(row.id) in self._busy, now, self._terms)

    def _update_title(self) -> None:
        count = self.option_count if self._total is None else max(self._total, self.option_count)
        title = f"{self._label} ({count})"
        if self.border_title != title:  # setting it, even unchanged, redraws the whole list
            self.border_title = title

    @on(OptionList.OptionSelected)
    def _post_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or ""
        if key in self._ids:
            self.post_message(self.Selected(self, self._ids[key]))


class SearchBox(RestingCursor, Input):
    """The sidebar's search box: an Input whose typing does not reflow the screen.

    Input sets its ``virtual_size`` (the text's width) on every change, and Widget
    declares that reactive with ``layout=True``: each keystroke laid out the whole
    screen (every bubble of the open conversation) before the search even started.
    The box has a fixed size, so a repaint is enough; horizontal scrolling reads
    ``virtual_size`` directly and is unaffected. Its cursor rests like the prompt's.
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

