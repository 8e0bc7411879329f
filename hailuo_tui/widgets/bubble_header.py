"""A bubble's header line (who, which version, the status badge, notes) and its usage line."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from hailuo_tui.domain import LIVE_STATUSES, MessageStatus
from hailuo_tui.widgets.repaint import KeepLinesOnGrow

ROLE_LABELS: dict[str, str] = {"user": "You", "assistant": "Hailuo"}
"""Header label per role."""

STATUS_CLASSES = ("-streaming", "-interrupted", "-error")
#: The statuses of an answer that ended early: its extras say why.
STOPPED = frozenset({MessageStatus.FAILED, MessageStatus.INTERRUPTED})


class BubbleHeader(KeepLinesOnGrow, Static):
    """The header line of a bubble: a Static that does not ask for a second layout when first sized."""

    ALLOW_SELECT = False  # "You", "Hailuo", the badge: a drag across messages copies their text only


class UsageLine(Static):
    """The usage line under a finished answer (not part of a selection)."""

    ALLOW_SELECT = False


def status_class(status: str) -> str:
    """The bubble's CSS class for a status ("" for a complete message)."""
    if status in LIVE_STATUSES:
        return "-streaming"
    if status == MessageStatus.INTERRUPTED:
        return "-interrupted"
    if status == MessageStatus.FAILED:
        return "-error"
    return ""


def badge(status: str) -> tuple[str, str]:
    """The status badge's words and style ("" for a complete message)."""
    if status in LIVE_STATUSES:
        return "answering…", "$accent italic"
    if status == MessageStatus.INTERRUPTED:
        return "interrupted", "$warning"
    if status == MessageStatus.FAILED:
        return "failed", "$error"  # the reason, in full, is under the answer (AnswerExtras)
    return "", ""


def header_content(
    role: str, status: str, version: int, versions: int, plain_size: str | None, unsaved: str | None
) -> Content:
    """The header line: "Hailuo  ◀ 2/3 ▶  interrupted  shown as plain text: 1.2 MB  not saved yet: disk full".

    Args:
        role: "user" or "assistant".
        status: The message's status (its badge).
        version, versions: Which version this is, of how many (the arrows show only with more than one).
        plain_size: The size of a message shown as plain text (None: shown as Markdown or as typed).
        unsaved: Why the message is not saved yet (None: saved).
    """
    parts: list[tuple[str, str] | str] = [(ROLE_LABELS.get(role, role.title()), "bold")]
    if versions > 1:
        parts += ["  ", (f"◀ {version}/{versions} ▶", "$text-accent")]
    words, style = badge(status)
    if words:
        parts += ["  ", (words, style)]
    if plain_size is not None:
        parts += ["  ", (f"shown as plain text: {plain_size}", "italic")]
    if unsaved:
        parts += ["  ", (f"not saved yet: {unsaved}", "$error bold")]
    return Content.assemble(*parts)
