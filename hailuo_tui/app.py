"""The Textual app: services' lifecycle, theme, keymap, first screen. Kept small on purpose."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterable
from typing import Any

from textual.app import App, SystemCommand
from textual.screen import Screen

from hailuo_tui.bindings import APP_BINDINGS, known_ids
from hailuo_tui.config import Config
from hailuo_tui.provider import AuthResult, HailuoError
from hailuo_tui.services import Options, Services


class HailuoApp(App[int]):
    """hailuo-tui: a keyboard-driven chat client for Hailuo AI."""

    CSS_PATH = "app.tcss"
    TITLE = "Hailuo"
    BINDINGS = APP_BINDINGS
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, options: Options, *, config: Config | None = None, services: Services | None = None) -> None:
        super().__init__()
        self.options = options
        self._config = config
        #: Given by tests; otherwise built on mount.
        self.services: Services | None = services
        self.store = None
        self.auth: AuthResult | None = None
        #: Set once the stored login has been read (it is read after the first frame).
        self._auth_loaded: asyncio.Event | None = None
        self._heap_frozen = False

    async def on_mount(self) -> None:
        from hailuo_tui.config import load_config
        from hailuo_tui.store import StoreError

        if self.services is None:
            config = self._config or load_config(self.options.config_path)
            self.services = await Services.start(self.options, config)
        config = self.services.config
        self._apply_config(config)
        try:
            self.store = await self.services.open_store()
        except StoreError as exc:
            if exc.kind == "corrupt":
                self._offer_fresh_store(exc)
            else:
                self.exit(return_code=1, message=f"{exc.title}: {exc.message}")
            return
        await self._open_chat()

    def _offer_fresh_store(self, exc: Any) -> None:
        """A damaged database: keep it under a new name and start a new one, or quit leaving it as it is."""
        from hailuo_tui.screens.confirm_screen import ConfirmScreen
        from hailuo_tui.store import ChatStore, StoreError

        path = exc.path

        async def answer(fresh: bool | None) -> None:
            if not fresh:
                self.exit(return_code=1, message=f"{exc.title}: {exc.message} Nothing was changed.")
                return
            try:
                kept = ChatStore.backup_corrupt(path)
                self.store = await self.services.open_store()
            except (OSError, StoreError) as error:
                self.exit(return_code=1, message=f"{exc.title}: {exc.message} Starting a new one failed: {error}")
                return
            await self._open_chat()
            self.notify(f"The damaged database was kept as {kept}; this is a new one.", severity="warning", timeout=20)

        self.push_screen(
            ConfirmScreen(
                f"{exc.message}\n\nKeep the damaged file as {path}.corrupt-<time> and start a new, empty database?",
                confirm="Keep it and start fresh",
                note="Nothing is deleted. Cancel quits and leaves the file as it is.",
            ),
            answer,
        )

    async def _open_chat(self) -> None:
        from hailuo_tui.screens.chat_screen import ChatScreen

        await self.store.recover_interrupted()
        # The login is read once the chat screen's first frame is drawn: the keyring
        # (its import, backend discovery, a D-Bus round trip) is not needed to show the
        # sidebar and the prompt. Whatever needs the login waits for it (get_auth).
        self._auth_loaded = asyncio.Event()
        screen = ChatScreen()
        await self.push_screen(screen)
        screen.call_after_refresh(self._start_loading_auth)

    def _start_loading_auth(self) -> None:
        self.run_worker(self._load_auth(), group="auth", exit_on_error=False)

    async def _load_auth(self) -> None:
        assert self.services is not None
        try:
            self.auth = await self.services.auth()
        except HailuoError as exc:
            self.auth = None
            self.notify(f"{exc.title}: {exc.message}", severity="error", timeout=10)
        finally:
            if self._auth_loaded is not None:
                self._auth_loaded.set()
        if self.services.vault.warning:
            self.notify(self.services.vault.warning, title="Keyring", severity="warning", timeout=15)
        self._refresh_account()
        if self.auth is None:
            self.run_worker(self._welcome(), exclusive=True, group="welcome")

    def _apply_config(self, config: Config) -> None:
        if config.theme in self.available_themes:
            self.theme = config.theme
        else:
            self.notify(f"Unknown theme {config.theme!r} in the config; using the default.", severity="warning")
        if config.keymap:
            known = known_ids()
            unknown = sorted(set(config.keymap) - known)
            if unknown:
                self.notify(f"Unknown binding ids in [keymap]: {', '.join(unknown)} (see F1).", severity="warning", timeout=10)
            self.set_keymap({k: v for k, v in config.keymap.items() if k in known})

    async def _welcome(self) -> None:
        if not await self.request_login(None, welcome=True):
            self.exit(0)

    async def action_quit(self) -> None:
        """Quit, after saving every answer that is still streaming as interrupted."""
        from hailuo_tui.screens.chat_screen import ChatScreen

        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                await screen.stop_all()
        self.exit()

    def start_up_done(self) -> None:
        """The chat screen is up with its first conversation: keep the start-up heap out of the GC.

        Start-up leaves a few hundred thousand long-lived objects (Textual, styles, the
        sidebar, the first conversation). Python's full collections walk all of them:
        the first one came 60-70 ms into the first search keystroke. Frozen, they are
        no longer scanned; objects made later are collected as usual. Unfrozen on exit,
        so an app run inside a longer process (the tests) leaves nothing behind.
        """
        if not self._heap_frozen:
            self._heap_frozen = True
            gc.freeze()

    async def on_unmount(self) -> None:
        if self._heap_frozen:
            self._heap_frozen = False
            gc.unfreeze()
        if self.store is not None:
            await self.store.close()
        if self.services is not None:
            await self.services.close()

    # --- account --------------------------------------------------------------

    @property
    def auth_loading(self) -> bool:
        """True until the stored login has been read at start."""
        return self._auth_loaded is not None and not self._auth_loaded.is_set()

    def account_label(self) -> str:
        if self.services is not None and self.services.demo:
            return "demo account (emulator)"
        if self.auth_loading:
            return "checking the login…"
        return "logged in" if self.auth is not None else "not logged in"

    async def get_auth(self) -> AuthResult | None:
        """The current login, asking the user to log in first if there is none (worker context)."""
        if self._auth_loaded is not None:
            await self._auth_loaded.wait()
        if self.auth is None:
            await self.request_login("Log in to send messages.")
        return self.auth

    async def request_login(self, reason: str | None, *, welcome: bool = False) -> bool:
        """Show the login screen and wait for it (call from a worker). True when logged in."""
        from hailuo_tui.screens.login_screen import LoginScreen

        auth = await self.push_screen_wait(LoginScreen(reason=reason, welcome=welcome))
        if auth is not None:
            self.auth = auth
            self.notify("Logged in.")
        self._refresh_account()
        return auth is not None

    def _refresh_account(self) -> None:
        for screen in self.screen_stack:
            update = getattr(screen, "update_account", None)
            if update is not None:
                update()

    async def action_logout(self) -> None:
        assert self.services is not None
        await self.services.logout("web")  # the API key has its own logout
        self.auth = None
        self._refresh_account()
        self.notify("Logged out. The stored login was removed from the keyring.")
        self.run_worker(self._welcome(), exclusive=True, group="welcome")

    def action_login(self) -> None:
        self.run_worker(self.request_login("Log in again."), exclusive=True, group="welcome")

    def delete_remote_chat(self, row: Any) -> None:
        """Delete a conversation's chat on the server too (best effort, in the background)."""
        if row is None or not row.chat_id or self.auth is None or self.services is None:
            return
        services, auth, chat_id = self.services, self.auth, row.chat_id

        async def delete() -> None:
            from hailuo_tui.provider.hailuo import HailuoAI

            try:
                await HailuoAI.delete_chat(auth, chat_id, base_url=services.base_url, proxy=services.proxy)
            except HailuoError as exc:
                self.log.warning(f"server-side delete failed: {exc.title}")

        self.run_worker(delete(), group="remote-delete", exit_on_error=False)

    # --- UI -------------------------------------------------------------------

    def action_help(self) -> None:
        from hailuo_tui.screens.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "All keys and their binding ids (F1)", self.action_help)
        if self.auth is not None and not (self.services and self.services.demo):
            yield SystemCommand("Log out", "Forget the stored Hailuo login", self.action_logout)
        yield SystemCommand("Log in", "Log in to Hailuo again (browser or token)", self.action_login)
        chat_commands = [
            ("New conversation", "Start a new conversation (Ctrl+N)", "new_conversation"),
            ("Rename conversation", "Give the conversation your own title (F2)", "rename"),
            ("Delete conversation", "Delete the conversation, after confirmation (F8)", "delete"),
            ("Search conversations", "Filter the sidebar by title and text (Ctrl+F)", "search"),
            ("Stop answer", "Stop the answer; the partial text is kept (Esc)", "stop"),
            ("Regenerate answer", "Ask again for the last answer (Ctrl+R)", "regenerate"),
            ("Edit last message", "Edit and resend your last message (Ctrl+↑)", "edit_last"),
            ("Copy answer", "Copy the last answer to the clipboard (F4)", "copy_answer"),
            ("Copy code block", "Choose a code block to copy (F6)", "copy_code"),
            ("Export conversation", "Write the conversation to a Markdown file (Ctrl+S)", "export"),
            ("Toggle web search", "Let Hailuo search the web for the next messages (F9)", "toggle_web_search"),
            ("Toggle sidebar", "Show or hide the conversation list (Ctrl+B)", "toggle_sidebar"),
        ]
        if hasattr(screen, "action_new_conversation"):
            for title, help_text, action in chat_commands:
                yield SystemCommand(title, help_text, getattr(screen, f"action_{action}"))


def run(options: Options) -> int:
    """Run the app; returns the exit code. Config errors are reported before the screen opens."""
    import sys

    from hailuo_tui.config import ConfigError, load_config

    try:
        config = load_config(options.config_path)
    except ConfigError as exc:
        print(f"Config error: {exc}", file=sys.stderr)
        return 2
    from hailuo_tui.widgets import install_kitty_text_fix

    # Text committed by an input method (e.g. 你好) must arrive as characters.
    install_kitty_text_fix()
    app = HailuoApp(options, config=config)
    result = app.run()
    return app.return_code or (result if isinstance(result, int) else 0)
