"""The services the CLI and the app share: config, account, store, chat.

No textual or rich here: screens call these from async workers, and the CLI
calls them directly.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hailuo_tui.config import Config, Paths, load_config
from hailuo_tui.provider import AuthError, AuthResult, Conversation, LoginProgress, LoginRequested

if TYPE_CHECKING:
    from hailuo_tui.emulator import Emulator
    from hailuo_tui.provider.web_backend import WebBackend
    from hailuo_tui.store import AsyncChatStore
    from hailuo_tui.store.vault import TokenVault

log = logging.getLogger(__name__)

#: Environment variable whose token overrides the stored login (for scripts).
TOKEN_ENV = "HAILUO_TOKEN"


@dataclass
class Options:
    """Command-line options shared by every command (``None`` = take the config's value)."""

    demo: bool = False
    base_url: str | None = None
    proxy: str | None = None
    headless: bool | None = None
    browser: str | None = None
    config_path: Path | None = None
    debug: bool = False


class Services:
    """Config, paths, token vault and (in demo mode) the in-process emulator."""

    def __init__(self, config: Config, paths: Paths, options: Options, *, vault: "TokenVault | None" = None) -> None:
        self.config = config
        self.paths = paths
        self.options = options
        self.demo = options.demo
        self.emulator: Emulator | None = None
        self._vault: TokenVault | None = vault
        self._env_auth: AuthResult | None = None
        self.base_url = (options.base_url or config.base_url).rstrip("/")
        self.proxy = options.proxy if options.proxy is not None else config.proxy
        self.headless = options.headless if options.headless is not None else config.headless
        self.browser_path = options.browser or config.browser_path

    # --- lifecycle ------------------------------------------------------------

    @classmethod
    async def start(cls, options: Options, config: Config | None = None) -> "Services":
        """Load the config (raising :class:`~hailuo_tui.config.ConfigError`) and, with ``--demo``, start the emulator."""
        if config is None:
            config = load_config(options.config_path)
        paths = Paths.default(demo=options.demo)
        if options.config_path is not None:
            paths.config_file = options.config_path
        services = cls(config, paths, options)
        if options.demo:
            await services._start_demo()
        return services

    async def _start_demo(self) -> None:
        from hailuo_tui.emulator import Emulator, EmulatorConfig
        from hailuo_tui.store.vault import TokenVault

        self.emulator = Emulator(EmulatorConfig.demo(auto_login=True))
        await self.emulator.start()
        self.base_url = self.emulator.url
        self.proxy = None
        # The demo account lives in memory only: it never touches the keyring.
        self._vault = TokenVault.in_memory("hailuo-tui-demo", "demo", why="demo account")

    async def close(self) -> None:
        if self.emulator is not None:
            await self.emulator.stop()
            self.emulator = None

    @property
    def vault(self) -> "TokenVault":
        if self._vault is None:
            from hailuo_tui.store.vault import TokenVault

            # HAILUO_TUI_KEYRING_SERVICE keeps a second login apart (another account, or tests).
            service = os.environ.get("HAILUO_TUI_KEYRING_SERVICE", "").strip() or "hailuo-tui"
            self._vault = TokenVault(service=service, account="default")
        return self._vault

    async def open_store(self) -> "AsyncChatStore":
        from hailuo_tui.store import AsyncChatStore

        self.paths.ensure()
        return await AsyncChatStore.open(self.paths.db_path)

    # --- account --------------------------------------------------------------

    async def auth(self) -> AuthResult | None:
        """The login to use now: ``$HAILUO_TOKEN``, the demo account, or the vault."""
        token = os.environ.get(TOKEN_ENV, "").strip()
        if token and not self.demo:
            if self._env_auth is None or self._env_auth.token != token:
                stored = await self.vault.load()
                if stored is not None and (stored.base_url or self.base_url).rstrip("/") == self.base_url:
                    # reuse the stored fingerprint query with the overriding token
                    self._env_auth = AuthResult(
                        token, stored.path_and_query, stored.timestamp, stored.cookies, stored.headers, self.base_url
                    )
                else:
                    self._env_auth = await self._token_auth(token)
            return self._env_auth
        auth = await self.vault.load()
        if auth is None and self.demo and self.emulator is not None:
            auth = await self.login_with_token(self.emulator.demo_token)
        return auth

    async def _token_auth(self, token: str) -> AuthResult:
        from hailuo_tui.provider.login import token_login

        return await token_login(token, self.base_url, proxy=self.proxy)

    async def login_with_token(self, token: str) -> AuthResult:
        """Log in with a token copied from the web page (registers a device) and store it."""
        auth = await self._token_auth(token.strip())
        await self.vault.save(auth)
        return auth

    async def login_with_browser(self, on_progress: Callable[[str], None] | None = None) -> AuthResult:
        """Run the Chromium login and store the result."""
        from hailuo_tui.provider.hailuo import HailuoAI

        if self.demo and self.emulator is not None:
            return await self.login_with_token(self.emulator.demo_token)
        result: AuthResult | None = None
        async for event in HailuoAI.on_auth_async(
            self.proxy,
            base_url=self.base_url,
            headless=self.headless,
            browser_path=self.browser_path,
            profile_dir=self.paths.profile_dir,
            timeout=self.config.login_timeout,
        ):
            if isinstance(event, LoginRequested) and on_progress:
                on_progress(f"Log in at {event.url}")
            elif isinstance(event, LoginProgress) and on_progress:
                on_progress(event.message)
            elif isinstance(event, AuthResult):
                result = event
        if result is None:  # pragma: no cover - on_auth_async always ends with a result or raises
            raise AuthError("The login did not produce a token.")
        await self.vault.save(result)
        return result

    async def logout(self) -> None:
        await self.vault.clear()

    async def check(self, auth: AuthResult) -> dict[str, Any]:
        """Ask the server who we are (raises :class:`AuthError` when the token is refused)."""
        from hailuo_tui.provider.hailuo import HailuoAI

        return await HailuoAI.user_info(auth, base_url=self.base_url, proxy=self.proxy)

    # --- chat -----------------------------------------------------------------

    def web_backend(self, auth: AuthResult) -> "WebBackend":
        """The Hailuo web chat for one login, with the configured site, proxy and timeouts."""
        from hailuo_tui.provider.web_backend import WebBackend

        return WebBackend(
            auth,
            base_url=self.base_url,
            proxy=self.proxy,
            read_timeout=self.config.read_timeout,
            connect_timeout=self.config.connect_timeout,
        )

    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        auth: AuthResult,
        conversation: Conversation | None = None,
        *,
        web_search: bool | None = None,
    ) -> AsyncIterator[Any]:
        """Stream one answer (see :meth:`HailuoAI.create_authed`)."""
        from hailuo_tui.provider.hailuo import HailuoAI

        return HailuoAI.create_authed(
            HailuoAI.default_model,
            messages,
            auth,
            return_conversation=True,
            conversation=conversation,
            base_url=self.base_url,
            proxy=self.proxy,
            web_search=self.config.web_search if web_search is None else web_search,
            read_timeout=self.config.read_timeout,
            connect_timeout=self.config.connect_timeout,
        )
