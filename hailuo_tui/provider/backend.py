"""The one contract every backend speaks (in the spirit of harlequin's ``adapter.py``).

A *backend* is a way to reach a model: the Hailuo web chat (``"web"``, the seed
provider :class:`~hailuo_tui.provider.hailuo.HailuoAI`) or the official MiniMax
API (``"api"``, OpenAI-compatible chat completions with an API key). The reply
session, the app and the CLI only ever talk to a :class:`Backend`; nothing above
the provider knows which protocol is behind it.

What a backend must provide:

- ``id``, ``label``, ``login_kind`` (``"token"``: a web login; ``"api_key"``),
  ``default_model`` and ``supports_system`` (whether a system prompt reaches the model);
- :meth:`Backend.stream`: send a history and yield typed events
  (:mod:`hailuo_tui.provider.models`): :class:`~.ReasoningDelta` and
  :class:`~.TextDelta` pieces, optionally :class:`~.ChatStarted`,
  :class:`~.TitleGenerated`, :class:`~.HistoryTrimmed`, :class:`~.SearchSources`,
  :class:`~.FollowUps`, :class:`~.Usage`, then one :class:`~.Finished`. It raises
  only errors of the one family (:class:`~.HailuoError`); a failure after some text
  carries that text in ``partial``;
- :meth:`Backend.models`: the model ids the login can use (never raising for a
  failed listing: a documented list is the fallback);
- :meth:`Backend.title`: a short conversation title for a backend whose server
  sends none (``None`` where titles arrive in the stream, or on any failure).

No textual or rich here, and no aiohttp at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from hailuo_tui.provider.models import Conversation
from hailuo_tui.sanitize import clean

BackendId = Literal["web", "api"]
#: Every backend id, in the order the UI offers them.
BACKEND_IDS: tuple[BackendId, ...] = ("web", "api")
#: What each backend is called on screen.
BACKEND_LABELS: dict[str, str] = {"web": "Hailuo web", "api": "MiniMax API"}


def settings_label(backend: str, model: str | None) -> str:
    """How a conversation's backend and model are named on screen: "MiniMax API · MiniMax-M3"."""
    label = BACKEND_LABELS.get(backend, backend)
    return f"{label} · {clean(model)}" if backend == "api" and model else label


@dataclass(frozen=True)
class ChatRequest:
    """One answer to ask for.

    ``messages`` is the history, oldest first, ending with the user's new message:
    mappings with ``role`` (``"user"``/``"assistant"``) and ``content``; an assistant
    turn may carry ``reasoning`` (its saved thinking), which a backend may send back
    or leave out. The system prompt is *not* in ``messages``: it is ``system``.
    """

    messages: Sequence[Mapping[str, Any]]
    model: str | None = None
    system: str | None = None
    #: Ask the model to reason first (where the model lets a client choose).
    thinking: bool = True
    #: Web backend: search the web for this answer.
    web_search: bool = False
    #: Web backend: the server chat to continue (``None``: fold the history into a new chat).
    conversation: Conversation | None = None
    #: Extra, backend-specific options (documented by each backend).
    options: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """What the reply session, the app and the CLI need from a way to reach a model."""

    id: ClassVar[str]
    label: ClassVar[str]
    login_kind: ClassVar[str]
    default_model: ClassVar[str]
    supports_system: ClassVar[bool]

    def stream(self, request: ChatRequest) -> AsyncIterator[Any]:
        """Send ``request`` and yield typed events until one :class:`~.Finished`."""
        ...

    async def models(self) -> list[str]:
        """The model ids this login can use (a documented fallback when listing fails)."""
        ...

    async def title(self, request: ChatRequest, answer: str) -> str | None:
        """A short title for a conversation whose first answer is ``answer`` (``None``: none)."""
        ...
