"""What the chat screen tells its widgets about answers: posted to each widget, never bubbling.

The chat screen's reply worker forwards the reply session's events as these
messages; the sidebar, the prompt and the status bar each react to the ones
they care about (instead of the screen calling each of them in turn).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class ReplyStarted(Message, bubble=False):
    """A conversation started answering. ``shown``: it is the open one."""

    conversation_id: int
    shown: bool


@dataclass
class ReplyFinished(Message, bubble=False):
    """A conversation's answer ended (its final state is saved)."""

    conversation_id: int
    shown: bool
    status: str
    error: str | None


@dataclass
class ReplyProblem(Message, bubble=False):
    """Something to show in the status bar: an error's title, message and the key that helps."""

    title: str
    message: str
    hint: str = ""
