"""The Hailuo web chat behind the backend contract (:mod:`hailuo_tui.provider.backend`).

A thin adapter over the seed provider :class:`~hailuo_tui.provider.hailuo.HailuoAI`,
which keeps its public surface unchanged. aiohttp is imported on the first stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

from hailuo_tui.provider.backend import BACKEND_LABELS, ChatRequest
from hailuo_tui.provider.models import AuthResult

#: HailuoAI.default_model, without importing aiohttp to read it.
WEB_MODEL = "MiniMax"


class WebBackend:
    """One login on the Hailuo web chat. The web chat has no system role and no model choice."""

    id: ClassVar[str] = "web"
    label: ClassVar[str] = BACKEND_LABELS["web"]
    login_kind: ClassVar[str] = "token"
    default_model: ClassVar[str] = WEB_MODEL
    supports_system: ClassVar[bool] = False

    def __init__(
        self,
        auth: AuthResult,
        *,
        base_url: str,
        proxy: str | None = None,
        read_timeout: float = 60.0,
        connect_timeout: float = 15.0,
        answer_timeout: float | None = None,
        max_answer_chars: int | None = None,
    ) -> None:
        self.auth = auth
        self.base_url = base_url
        self.proxy = proxy
        self.read_timeout = read_timeout
        self.connect_timeout = connect_timeout
        self.answer_timeout = answer_timeout
        self.max_answer_chars = max_answer_chars

    def stream(self, request: ChatRequest) -> AsyncIterator[Any]:
        from hailuo_tui.provider.hailuo import HailuoAI

        return HailuoAI.create_authed(
            HailuoAI.default_model,
            request.messages,
            self.auth,
            return_conversation=True,
            conversation=request.conversation,
            base_url=self.base_url,
            proxy=self.proxy,
            web_search=request.web_search,
            read_timeout=self.read_timeout,
            connect_timeout=self.connect_timeout,
            answer_timeout=self.answer_timeout,
            max_answer_chars=self.max_answer_chars,
        )

    async def models(self) -> list[str]:
        return [WEB_MODEL]

    async def title(self, request: ChatRequest, answer: str) -> str | None:
        return None  # the server sends its own title in the stream (TitleGenerated)
