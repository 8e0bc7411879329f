"""The services the CLI and the app share: config, account, store, chat.

No textual or rich here: screens call these from async workers, and the CLI
calls them directly.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hailuo_tui.config import API_HOSTS, Config, Paths, load_config
from hailuo_tui.provider import AuthError, AuthResult, Conversation, LoginProgress, LoginRequested
from hailuo_tui.redact import remember_secret, remember_url

if TYPE_CHECKING:
    from hailuo_tui.emulator import Emulator
    from hailuo_tui.model_cache import ModelCache, ModelList
    from hailuo_tui.provider.minimax import MiniMaxAPI
    from hailuo_tui.provider.web_backend import WebBackend
    from hailuo_tui.store import AsyncChatStore
    from hailuo_tui.store.async_store import PendingStore
    from hailuo_tui.store.vault import ApiKeyVault, TokenVault

log = logging.getLogger(__name__)

#: Environment variable whose token overrides the stored login (for scripts).
TOKEN_ENV = "HAILUO_TOKEN"
#: Environment variable whose MiniMax API key overrides the stored one for one run.
API_KEY_ENV = "MINIMAX_API_KEY"
#: What the first message needs and start-up does not: aiohttp and the two backends. Imported on the
#: first send, they held its request back by ~0.1 s of CPU (``python -X importtime``: 139 ms for
#: the API backend's 123 modules); `Services.preload_backends` imports them beside the idle app.
BACKEND_MODULES = ("hailuo_tui.provider.minimax", "hailuo_tui.provider.web_backend")


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
    backend: str | None = None
    """``"web"`` or ``"api"``: the backend of ``ask`` and of new conversations."""
    api_base_url: str | None = None
    """Another OpenAI-compatible host for the API backend."""


#: Set to 0 to open the database only once the app is up (`start_opening_store`), for comparison.
EARLY_STORE_ENV = "HAILUO_TUI_EARLY_STORE"


def start_opening_store(options: Options) -> "PendingStore | None":
    """Start opening the app's database on its worker thread now, before Textual's imports (the two overlap:
    SQLite creates or opens the file without holding Python's lock); `Services.open_store` takes it."""
    if os.environ.get(EARLY_STORE_ENV) == "0":
        return None
    return _opening(_paths_for(options))


def _paths_for(options: Options) -> Paths:
    """The places the app uses for ``options`` (the same for the early opening and `Services.start`)."""
    paths = Paths.default(demo=options.demo)
    if options.config_path is not None:
        paths.config_file = options.config_path
    return paths


def _opening(paths: Paths) -> "PendingStore":
    from hailuo_tui.store.async_store import PendingStore
    from hailuo_tui.store.connection import os_error

    def ensure() -> None:
        try:
            paths.ensure()
        except OSError as exc:  # a read-only or full disk: a message, not a traceback
            raise os_error(str(paths.db_path), exc) from exc

    return PendingStore(paths.db_path, before=ensure)


class Services:
    """Config, paths, token vault and (in demo mode) the in-process emulator."""

    def __init__(self, config: Config, paths: Paths, options: Options, *, vault: "TokenVault | None" = None) -> None:
        self.config = config
        self.paths = paths
        self.options = options
        self.demo = options.demo
        self.emulator: Emulator | None = None
        self._vault: TokenVault | None = vault
        self._api_vault: ApiKeyVault | None = None
        self._env_auth: AuthResult | None = None
        self._preload: threading.Thread | None = None
        #: Set once the preload thread has imported the backends (what follows them is not waited for).
        self._backends_imported = threading.Event()
        self.base_url = (options.base_url or config.base_url).rstrip("/")
        self.proxy = options.proxy if options.proxy is not None else config.proxy
        self.headless = options.headless if options.headless is not None else config.headless
        self.browser_path = options.browser or config.browser_path
        # URL passwords are secrets too: no error or log line quotes them from here on.
        for url in (self.base_url, self.proxy, options.api_base_url, config.api_base_url):
            remember_url(url)

    # --- lifecycle ------------------------------------------------------------

    @classmethod
    async def start(cls, options: Options, config: Config | None = None) -> "Services":
        """Load the config (raising :class:`~hailuo_tui.config.ConfigError`) and, with ``--demo``, start the emulator."""
        if config is None:
            config = load_config(options.config_path)
        services = cls(config, _paths_for(options), options)
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
        from hailuo_tui.store.vault import ApiKeyVault

        self._api_vault = ApiKeyVault.in_memory("hailuo-tui-demo", why="demo account")

    async def switch_to_demo(self) -> None:
        """Use the built-in emulator from now on (the welcome screen's "Try the demo"), as ``--demo`` does.

        Its account lives in memory and its conversations in a database of their own (under ``demo/``
        in the data directory), so the user's own data is never mixed with the demo's. The config file
        stays the user's.
        """
        if self.demo:
            return
        from dataclasses import replace

        await self._start_demo()
        self.demo = self.options.demo = True
        demo_dir = self.paths.data_dir / "demo"
        self.paths = replace(
            self.paths, data_dir=demo_dir, db_path=demo_dir / "demo.sqlite3", profile_dir=demo_dir / "browser-profile",
            log_file=demo_dir / "hailuo-tui.log", cache_dir=self.paths.cache / "demo",
        )

    async def close(self) -> None:
        if self.emulator is not None:
            await self.emulator.stop()
            self.emulator = None

    @property
    def vault(self) -> "TokenVault":
        if self._vault is None:
            from hailuo_tui.store.vault import TokenVault

            self._vault = TokenVault(service=_keyring_service(), account="default")
        return self._vault

    @property
    def api_key_vault(self) -> "ApiKeyVault":
        """The MiniMax API key's keyring entry (beside the web login, under the same service)."""
        if self._api_vault is None:
            from hailuo_tui.store.vault import ApiKeyVault

            self._api_vault = ApiKeyVault(service=_keyring_service())
        return self._api_vault

    async def open_store(self, pending: "PendingStore | None" = None) -> "AsyncChatStore":
        """The database, opened now or taken from ``pending`` (`start_opening_store`) when it is the same file."""
        if pending is not None and pending.path != self.paths.db_path:
            pending.abandon()
            pending = None
        return await (pending or _opening(self.paths)).result()

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

    async def logout(self, which: str = "all") -> None:
        """Forget the web login (``"web"``), the API key (``"api"``) or both (``"all"``)."""
        if which not in ("web", "api", "all"):
            raise ValueError(f"logout: {which!r} is not web, api or all")
        if which in ("web", "all"):
            await self.vault.clear()
        if which in ("api", "all"):
            await self.api_key_vault.clear()
            self.model_cache.clear()

    async def check(self, auth: AuthResult) -> dict[str, Any]:
        """Ask the server who we are (raises :class:`AuthError` when the token is refused)."""
        from hailuo_tui.provider.hailuo import HailuoAI

        return await HailuoAI.user_info(auth, base_url=self.base_url, proxy=self.proxy)

    # --- chat -----------------------------------------------------------------

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
            answer_timeout=self.config.answer_timeout,
            max_answer_chars=self.config.max_answer_chars,
        )

    # --- the MiniMax API backend ------------------------------------------------

    @property
    def default_backend(self) -> str:
        """``"web"`` or ``"api"``: ``--backend``, else the config's ``default_backend``."""
        return self.options.backend or self.config.default_backend

    @property
    def api_base_url(self) -> str:
        """The API host: the emulator's in demo mode, else ``--api-base-url``, ``api_base_url``, the region's host."""
        if self.demo and self.emulator is not None:
            return self.emulator.url + "/v1"
        url = (self.options.api_base_url or self.config.api_base_url).strip()
        if url:
            return url.rstrip("/")
        return API_HOSTS[self.config.api_region]

    async def api_key(self) -> str | None:
        """The API key to use now: the demo key (demo mode), else ``$MINIMAX_API_KEY``, else the vault's."""
        if self.demo and self.emulator is not None:
            return self.emulator.demo_api_key
        key = os.environ.get(API_KEY_ENV, "").strip() or await self.api_key_vault.load()
        remember_secret(key)
        return key or None

    async def api_key_source(self) -> str | None:
        """Where :meth:`api_key` finds the key: ``"env"``, ``"demo"``, ``"keyring"``, ``"memory"`` or ``None``.

        Like ``$HAILUO_TOKEN``, ``$MINIMAX_API_KEY`` is ignored in demo mode: the
        emulator knows only its demo key.
        """
        if self.demo and self.emulator is not None:
            return "demo"
        if os.environ.get(API_KEY_ENV, "").strip():
            return "env"
        vault = self.api_key_vault
        if await vault.load() is None:
            return None
        return "keyring" if vault.persistent else "memory"

    async def login_with_api_key(self, key: str) -> None:
        """Check ``key`` against the API host and store it; a refused key is not stored.

        Raises:
            AuthError: the key is empty or the server refused it (wrong key or wrong region).
            HailuoError: the check could not be made (network, server).
        """
        key = key.strip()
        if not key:
            raise AuthError("No API key given.")
        if not key.isascii() or any(ch.isspace() for ch in key):
            # it could not travel in an HTTP header anyway; most likely a paste went wrong
            raise AuthError("That is not an API key: it has spaces or non-ASCII characters in it. Paste it again.")
        await self.api_backend(key).check()
        await self.api_key_vault.save(key)

    def web_backend(self, auth: AuthResult) -> "WebBackend":
        """The Hailuo web chat for ``auth``, with this run's host, proxy and timeouts."""
        self._backends_loaded()
        from hailuo_tui.provider.web_backend import WebBackend

        return WebBackend(
            auth,
            base_url=self.base_url,
            proxy=self.proxy,
            read_timeout=self.config.read_timeout,
            connect_timeout=self.config.connect_timeout,
            answer_timeout=self.config.answer_timeout,
            max_answer_chars=self.config.max_answer_chars,
        )

    def preload_backends(self, modules: Sequence[str] = BACKEND_MODULES,
                         then: Callable[[], object] | None = None) -> None:
        """Import the backends' modules in a thread, once (the app calls this after its first screen);
        then run ``then`` in that thread (the app warms its code highlighting there).

        A backend built meanwhile waits for those imports first (`_backends_loaded`), not for ``then``: two
        threads importing one chain of modules at once could meet Python's import deadlock detection.
        """
        if self._preload is not None:
            return

        def load() -> None:
            for name in modules:
                try:
                    importlib.import_module(name)
                except Exception as exc:  # imported again, and reported, when a backend is built
                    log.warning("could not preload %s: %r", name, exc)
            self._backends_imported.set()
            if then is not None:
                try:
                    then()
                except Exception as exc:  # only a head start: the same work happens when it is needed
                    log.warning("preloading failed: %r", exc)

        self._preload = threading.Thread(target=load, name="hailuo-preload", daemon=True)
        self._preload.start()

    def _backends_loaded(self) -> None:
        if self._preload is not None:
            self._backends_imported.wait()  # at most the import itself, only when a message is sent right at start

    def api_backend(self, api_key: str) -> "MiniMaxAPI":
        """The MiniMax API for ``api_key``, with this run's host, proxy, timeouts and ``max_tokens``."""
        self._backends_loaded()
        from hailuo_tui.provider.minimax import MiniMaxAPI

        return MiniMaxAPI(
            api_key,
            base_url=self.api_base_url,
            proxy=self.proxy,
            read_timeout=self.config.read_timeout,
            connect_timeout=self.config.connect_timeout,
            answer_timeout=self.config.answer_timeout,
            max_answer_chars=self.config.max_answer_chars,
            max_tokens=self.config.max_tokens,
        )

    @property
    def model_cache(self) -> "ModelCache":
        from hailuo_tui.model_cache import ModelCache

        return ModelCache(self.paths.cache / "models.json")

    async def api_models(self, api_key: str, *, refresh: bool = False) -> "ModelList":
        """The models the API lists for ``api_key`` (cached for a day; ``refresh`` asks again).

        When the listing fails for another reason than the key, the documented
        list comes back with ``source="documented"`` and the reason in ``note``.

        Raises:
            AuthError: the server refused the key.
        """
        from hailuo_tui.model_cache import ModelList
        from hailuo_tui.provider import HailuoError

        base_url, cache = self.api_base_url, self.model_cache
        if not refresh:
            cached = cache.load(base_url, api_key)
            if cached:
                return ModelList(cached, "cache")
        try:
            models = [m for m in await self.api_backend(api_key).list_models() if m]
        except AuthError:
            raise
        except HailuoError as exc:
            return ModelList(_documented_models(), "documented", f"{exc.title}: {exc.message}")
        if not models:
            return ModelList(_documented_models(), "documented", "The server listed no models.")
        cache.save(base_url, api_key, models)
        return ModelList(models, "server")


def _keyring_service() -> str:
    # HAILUO_TUI_KEYRING_SERVICE keeps a second login apart (another account, or tests).
    return os.environ.get("HAILUO_TUI_KEYRING_SERVICE", "").strip() or "hailuo-tui"


def _documented_models() -> list[str]:
    from hailuo_tui.provider.minimax import DOCUMENTED_MODELS

    return [m if isinstance(m, str) else str(getattr(m, "id", m)) for m in DOCUMENTED_MODELS]
