"""The Textual app: services' lifecycle, theme, keymap, first screen. Kept small on purpose."""

from __future__ import annotations

import asyncio
import contextlib
import os
import logging
import signal
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen

from hailuo_tui.bindings import APP_BINDINGS, CHAT_PALETTE, HELP_ENTRY, known_ids
from hailuo_tui.config import Config
from hailuo_tui.idle_gc import CHECK_EVERY, DEFER_AT_MOST, IDLE_GC_ENV, IdleCollector, resume_collections
from hailuo_tui.markdown.code import warm_highlighting
from hailuo_tui.provider import AuthResult, HailuoError
from hailuo_tui.sanitize import clean
from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.services import Options, Services
from hailuo_tui.textual_compat import (
    allow_draw_soon,
    allow_draw_when_laid_out,
    draw_scroll_bars_with_layout,
    keep_full_map_after_reflow,
    lazy_line_caches,
    resume_only_after_suspend,
    survive_a_closed_terminal,
)
from hailuo_tui.app_guards import AppGuards

if TYPE_CHECKING:
    from hailuo_tui.store import AsyncChatStore


log = logging.getLogger(__name__)

#: At most this many seconds for the first conversation to open before the welcome screen comes over it.
WELCOME_WAIT = 10.0
#: Seconds after the start is done before a big database is checked (AsyncChatStore.needs_check).
STORE_CHECK_DELAY = 1.0
#: Set (to anything) to make the app quit once it has started with a login: CI runs the README's quick start so.
SMOKE_ENV = "HAILUO_TUI_SMOKE"
#: Set to 0 to leave Textual's layout as it is (textual_compat.keep_full_map_after_reflow), for comparison.
FULL_MAP_ENV = "HAILUO_TUI_KEEP_FULL_MAP"
#: Set to 0 to let a scroll view's bars ask for a frame of their own after each layout
#: (textual_compat.draw_scroll_bars_with_layout), for comparison.
BARS_ENV = "HAILUO_TUI_BARS_WITH_LAYOUT"
#: Set to 0 to let every drawn line make its seven caches as it is made (textual_compat.lazy_line_caches),
#: for comparison.
LAZY_LINES_ENV = "HAILUO_TUI_LAZY_LINES"
#: Set to 0 to draw a page of messages at Textual's next frame tick, as any change, rather than as soon as it is
#: laid out (textual_compat.draw_when_laid_out), for comparison.
DRAW_PAGES_ENV = "HAILUO_TUI_DRAW_PAGES_AT_ONCE"
#: Set to 0 to draw an answer's last words and its end at Textual's next frame tick, rather than as soon as they
#: are laid out (textual_compat.draw_soon), for comparison.
DRAW_LAST_WORDS_ENV = "HAILUO_TUI_DRAW_LAST_WORDS_AT_ONCE"


class HailuoApp(AppGuards, App[int]):
    """hailuo-tui: a keyboard-driven chat client for Hailuo AI."""

    CSS_PATH = "app.tcss"
    TITLE = "Hailuo"
    BINDINGS = APP_BINDINGS
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, options: Options, *, config: Config | None = None, services: Services | None = None,
                 pending_store: Any = None) -> None:
        super().__init__()
        keep_full_map_after_reflow(os.environ.get(FULL_MAP_ENV, "1") != "0")
        draw_scroll_bars_with_layout(os.environ.get(BARS_ENV, "1") != "0")
        lazy_line_caches(os.environ.get(LAZY_LINES_ENV, "1") != "0")
        allow_draw_when_laid_out(os.environ.get(DRAW_PAGES_ENV, "1") != "0")
        allow_draw_soon(os.environ.get(DRAW_LAST_WORDS_ENV, "1") != "0")
        survive_a_closed_terminal()
        resume_only_after_suspend()
        self.options = options
        self._config = config
        #: Given by tests; otherwise built on mount.
        self.services: Services | None = services
        self.store = None
        self.auth: AuthResult | None = None
        #: The main screen, once the store is open.
        self.chat_screen: ChatScreen | None = None
        #: Whether a MiniMax API key is available (keyring, environment or demo), once the logins are read.
        self.api_key_known = False
        #: Set once the stored login has been read (it is read after the first frame).
        self._auth_loaded: asyncio.Event | None = None
        #: Freezes the heap after start-up and after each full collection; the long one at quiet moments.
        self._idle_gc = IdleCollector()
        #: The signal that asked the app to close (SIGTERM, SIGHUP), once one came.
        self.closing_signal: int | None = None
        #: The database opening since before Textual's imports (services.start_opening_store), until taken.
        self._pending_store = pending_store

    def on_mount(self) -> None:
        self._handle_close_signals()
        # Collections deferred for the start come back with start_up_done; at the latest, now.
        self.set_timer(DEFER_AT_MOST, resume_collections)
        # Textual handles the app's Mount inside batch_update: nothing reaches the terminal until Mount
        # returns. Opened here, the chat screen's first frame was drawn and thrown away, and the work it
        # defers with call_after_refresh (the first conversation, the login, the backends' import in a
        # thread) began before any frame was shown and held the real one back: first written ~100 ms
        # after the chat screen's first layout (bench/floor.py, a timeline of App._display). Started from
        # the app's queue instead, after the batch, that first frame is the one the terminal gets.
        self.call_later(self._start)

    async def _start(self) -> None:
        from hailuo_tui.config import load_config
        from hailuo_tui.store import StoreError

        if self.services is None:
            config = self._config or load_config(self.options.config_path)
            self.services = await Services.start(self.options, config)
        config = self.services.config
        self._apply_config(config)
        pending, self._pending_store = self._pending_store, None
        try:
            self.store = await self.services.open_store(pending)
        except StoreError as exc:
            if exc.kind == "corrupt":
                self._offer_fresh_store(exc)
            else:
                self.exit(return_code=1, message=_plain(f"{exc.title}: {exc.message}"))
            return
        await self._open_chat()

    def _offer_fresh_store(self, exc: Any) -> None:
        """A damaged database: keep it under a new name and start a new one, or quit leaving it as it is."""
        from hailuo_tui.screens.confirm_screen import ConfirmScreen
        from hailuo_tui.store import ChatStore, StoreError

        path = exc.path

        async def answer(fresh: bool | None) -> None:
            if not fresh:
                self.exit(return_code=1, message=_plain(f"{exc.title}: {exc.message} Nothing was changed."))
                return
            try:
                kept = ChatStore.backup_corrupt(path)
                self.store = await self.services.open_store()
            except (OSError, StoreError) as error:
                self.exit(return_code=1,
                          message=_plain(f"{exc.title}: {exc.message} Starting a new one failed: {error}"))
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
        from hailuo_tui.store import StoreError

        assert self.services is not None
        try:
            await self.store.recover_interrupted()
        except StoreError as exc:  # the first write: a read-only file or disk, a lock held on
            self.exit(return_code=1, message=f"{exc.title}: {exc.message}")
            return
        # The login is read once the chat screen's first frame is drawn: the keyring
        # (its import, backend discovery, a D-Bus round trip) is not needed to show the
        # sidebar and the prompt. Whatever needs the login waits for it (get_auth).
        self._auth_loaded = asyncio.Event()
        screen = self.chat_screen = ChatScreen(self.services, self.store, self)
        await self.push_screen(screen)
        screen.call_after_refresh(self._start_loading_auth)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollUp, events.MouseScrollDown, events.Paste)):
            self._idle_gc.activity()  # not a quiet moment for a collection
        await super().on_event(event)

    def _tick_gc(self) -> None:
        screen = self.chat_screen
        done = self._idle_gc.tick(busy=bool(screen is not None and screen.replies))
        if done is not None:
            log.debug("idle_gc: %s", done)  # "quick", "deep" (collections) or "busy" (freezing as it goes)

    def _start_checking_store(self) -> None:
        store = self.store
        if store is not None and store.needs_check:  # too big to check before the first frame, and not recorded sound
            self.run_worker(self._check_store(store), group="store-check", exit_on_error=False)

    async def _check_store(self, checked: AsyncChatStore) -> None:
        """Check a big database beside the app; a damaged one gets the offer made at start for small ones."""
        damaged = await checked.check_beside()
        if damaged is None or self.chat_screen is None or self.store is not checked:
            return
        screen, store = self.chat_screen, self.store
        await screen.stop_all()
        self.chat_screen = self.store = None
        await self.pop_screen()  # its workers end with it, before the store closes under them
        await store.close()
        self._offer_fresh_store(damaged)

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
        self._refresh_account()
        # The API key is looked up after the web login counts as read: a send waits for the web login
        # only, never for a second keyring round trip (which can take long where no keyring answers).
        try:
            self.api_key_known = bool(await self.services.api_key())
        except Exception as exc:  # a keyring that fails oddly must not cost the start: no key, then
            self.log.warning(f"the API key could not be read: {type(exc).__name__}")
            self.api_key_known = False
        # No keyring toast: it covered the answer on every start, even when nothing could be lost.
        # The status bar says "this run only" while a login would be lost; the login screen says why.
        self._refresh_account()
        if self.auth is None and not self.api_key_known:
            if self.chat_screen is not None:
                # After the first conversation is mounted, as when the start ran inside Textual's Mount
                # batch: once the start left it (on_mount), a welcome screen pushed while that mount ran
                # had its on_mount find none of its buttons (NoMatches), once in a full-suite run and once
                # in ~30 runs of the welcome tests on busy cores; not seen in 24 such runs since. The cause
                # in Textual is not found. The first conversation takes milliseconds; 10 s bounds the wait.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.chat_screen.first_opened.wait(), WELCOME_WAIT)
            self.run_worker(self._welcome(), exclusive=True, group="welcome")

    def _apply_config(self, config: Config) -> None:
        from hailuo_tui.bindings import is_key
        from hailuo_tui.config import config_warnings, usable_keymap

        known = known_ids()
        for warning in config_warnings(config, themes=self.available_themes, binding_ids=known, is_key=is_key):
            self.notify(warning, title="Config", severity="warning", timeout=15)
        if config.theme in self.available_themes:
            self.theme = config.theme
        # From now on a theme chosen with Ctrl+T (or the palette) is written back to the config.
        self._saved_theme = self.theme
        self.theme_changed_signal.subscribe(self, self._theme_chosen)
        if config.keymap:
            self.set_keymap(usable_keymap(config, binding_ids=known, is_key=is_key))

    _saved_theme: str | None = None

    def _theme_chosen(self, theme: Any) -> None:
        if self.services is None or theme.name == self._saved_theme:
            return
        self._saved_theme = theme.name
        self.services.config.theme = theme.name
        self.save_setting("theme", theme.name)

    def save_setting(self, key: str, value: Any) -> bool:
        """Write one setting the user changed in the app to the config file (comments and other keys kept).

        A failure is shown as a warning; the setting still applies until the app quits.
        """
        from hailuo_tui.config_writer import ConfigWriteError, save_settings

        if self.services is None:
            return False
        try:
            save_settings(self.services.paths.config_file, {key: value})
        except ConfigWriteError as exc:
            self.notify(exc.message, title="Settings", severity="warning", timeout=10, markup=False)
            return False
        return True

    # --- keymap ---------------------------------------------------------------

    _user_keymap: Mapping[str, str] = MappingProxyType({})

    @property
    def user_keymap(self) -> Mapping[str, str]:
        """The keys the user set: binding id -> keys, as written (key names shown in F1 and the palette)."""
        return self._user_keymap

    def set_keymap(self, keymap: Mapping[str, str]) -> None:
        self._user_keymap = MappingProxyType(dict(keymap))
        super().set_keymap(keymap)

    def update_keymap(self, keymap: Mapping[str, str]) -> None:
        self._user_keymap = MappingProxyType({**self._user_keymap, **keymap})
        super().update_keymap(keymap)

    async def _welcome(self) -> None:
        if not await self.request_login(None, welcome=True):
            self.exit(0)

    async def action_quit(self) -> None:
        """Quit, after saving every answer that is still streaming as interrupted."""
        if self.chat_screen is not None:
            await self.chat_screen.stop_all()
        self.exit()

    def start_up_done(self) -> None:
        """The chat screen is up with its first conversation: keep the start-up heap out of the GC.

        Start-up leaves a few hundred thousand long-lived objects (Textual, styles, the
        sidebar, the first conversation). Python's full collections walk all of them:
        the first one came 60-70 ms into the first search keystroke. Frozen, they are
        no longer scanned; objects made later go through Python's young collections as usual,
        and the full ones run at quiet moments (hailuo_tui.idle_gc, which also frees cyclic garbage
        among frozen objects). Unfrozen on exit, so an app run inside a longer process (the tests)
        leaves nothing behind.
        """
        if not self._idle_gc.held:
            looks = os.environ.get(IDLE_GC_ENV) != "0"
            self._idle_gc.hold(take_over=looks)  # freezes the start-up heap; full collections at quiet moments
            if looks:
                self.set_interval(CHECK_EVERY, self._tick_gc)
            # A big database's integrity check (0.5 s of one core for 221 MB) runs once the first conversation
            # is on screen and the start has settled, not beside the first frames it would slow down.
            self.set_timer(STORE_CHECK_DELAY, self._start_checking_store)
            if self.services is not None:
                # The first message then does not wait for aiohttp's import, nor its first code block
                # for Pygments to build a highlighter.
                self.services.preload_backends(then=self._preloaded(asyncio.get_running_loop()))
        if os.environ.get(SMOKE_ENV):
            self.run_worker(self._smoke_exit(), group="smoke", exit_on_error=False)

    def _preloaded(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        """What the preload thread does after the backends' imports: warm code highlighting, then have the
        event loop freeze what they made (IdleCollector.absorb: long-lived, not to be walked again)."""

        def then() -> None:
            warm_highlighting()
            with contextlib.suppress(RuntimeError):  # the app ended meanwhile: its loop is closed
                loop.call_soon_threadsafe(self._idle_gc.absorb)

        return then

    async def _smoke_exit(self) -> None:
        """``HAILUO_TUI_SMOKE=1``: quit once started, exit code 0 only with a login (CI proves the quick start)."""
        if self._auth_loaded is not None:
            await self._auth_loaded.wait()
        logged_in = self.auth is not None or self.api_key_known
        self.exit(return_code=0 if logged_in else 1, message=None if logged_in else "Smoke test: no login.")

    async def on_unmount(self) -> None:
        self._idle_gc.release()  # nothing if the start never finished
        if self._pending_store is not None:  # the app ended before it mounted
            self._pending_store.abandon()
        if self.store is not None:
            await self.store.close()
        if self.services is not None:
            await self.services.close()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

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
        web = "logged in" if self.auth is not None else "not logged in"
        if self.login_not_kept():
            web += " · not kept: no keyring"  # short: the account slot has 40% of the bar
        return f"{web} · API key" if self.api_key_known else web

    def login_not_kept(self) -> bool:
        """True while there is a login that no keyring keeps: it is lost when the app quits.

        A token from ``$HAILUO_TOKEN`` or the demo account is not lost (it never needed the keyring), and a
        vault made to live in memory (no ``warning``: tests, scenes) is not a keyring that failed.
        """
        from hailuo_tui.services import TOKEN_ENV

        services = self.services
        if services is None or self.auth is None or services.demo or os.environ.get(TOKEN_ENV, "").strip():
            return False
        return not services.vault.persistent and bool(services.vault.warning)

    async def get_auth(self) -> AuthResult | None:
        """The current login, asking the user to log in first if there is none (worker context)."""
        if self._auth_loaded is not None:
            await self._auth_loaded.wait()
        if self.auth is None:
            await self.request_login("Log in to send messages.")
        return self.auth

    async def request_login(self, reason: str | None, *, welcome: bool = False, api: bool = False) -> bool:
        """Show the login screen and wait for it (call from a worker). True when logged in.

        ``api``: ask for a MiniMax API key first (the screen offers every kind of login).
        """
        from hailuo_tui.screens.login_screen import API_KEY_LOGIN, DEMO_LOGIN, LoginScreen

        assert self.services is not None
        result = await self.push_screen_wait(LoginScreen(self.services, reason=reason, welcome=welcome, api=api))
        if result == DEMO_LOGIN:
            await self._switch_to_demo()
            return True
        if result == API_KEY_LOGIN:
            self.api_key_known = True
            self.notify("MiniMax API key saved. New conversations can use the MiniMax API (F3 picks the model).")
        elif result is not None:
            self.auth = result
            self.notify("Logged in.")
        self._refresh_account()
        return result is not None

    async def _switch_to_demo(self) -> None:
        """"Try the demo": the running app moves to the emulator's account and the demo database (no restart)."""
        assert self.services is not None
        await self.services.switch_to_demo()
        old_store, old_screen = self.store, self.chat_screen
        if old_screen is not None:
            await old_screen.stop_all()
        self.store = await self.services.open_store()
        await self.store.recover_interrupted()
        self.auth = await self.services.auth()
        self.api_key_known = bool(await self.services.api_key())
        screen = self.chat_screen = ChatScreen(self.services, self.store, self)
        if old_screen is not None and self.screen is old_screen:
            await self.switch_screen(screen)
        else:
            await self.push_screen(screen)
        if old_store is not None:
            await old_store.close()
        self.notify("This is the demo: answers come from the built-in emulator. "
                    "Start hailuo-tui again to log in with your own account.", markup=False)

    def has_web_login(self) -> bool | None:
        return None if self.auth_loading else self.auth is not None

    def has_api_key(self) -> bool:
        return self.api_key_known

    def _refresh_account(self) -> None:
        if self.chat_screen is not None and self.chat_screen.is_attached:
            self.chat_screen.update_account()

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

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Show a toast whose text is always plain: never parsed as markup, escapes and controls removed.

        Every notification of the app (``Screen.notify`` and ``Widget.notify`` end here, and they
        pass ``markup=True`` by default) may carry a server's text: a title, an error message.
        Read as markup, ``[@click=...]`` would run an action and ``x[/nope]y`` would crash the app.
        ``markup`` is accepted for the signature's sake and ignored.
        """
        super().notify(clean(str(message)), title=clean(str(title)), severity=severity, timeout=timeout,
                       markup=False)

    def copy_to_clipboard(self, text: str) -> None:
        """Copy ``text`` as the screen shows it: a server's escapes (``\\x1b[201~`` would end a
        shell's bracketed paste), C1 controls and bidi overrides are removed; newlines, tabs and
        CJK are kept."""
        super().copy_to_clipboard(clean(text))

    def action_help(self) -> None:
        from hailuo_tui.screens.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.user_keymap))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        keymap = self.user_keymap
        yield SystemCommand(HELP_ENTRY.title, HELP_ENTRY.description(keymap), self.action_help)
        if self.auth is not None and not (self.services and self.services.demo):
            yield SystemCommand("Log out", "Forget the stored Hailuo login", self.action_logout)
        yield SystemCommand("Log in", "Log in to Hailuo again (browser or token)", self.action_login)
        if isinstance(screen, ChatScreen):
            for entry in CHAT_PALETTE:
                yield SystemCommand(entry.title, entry.description(keymap), getattr(screen, f"action_{entry.action}"))


def _plain(text: str) -> Any:
    """An exit message printed as it is (a str would be read as Rich markup when the app ends)."""
    from rich.text import Text

    return Text(clean(text))


def run(options: Options, pending_store: Any = None) -> int:
    """Run the app; returns the exit code. Config errors are reported before the screen opens.

    ``pending_store``: the database already opening (`services.start_opening_store`).
    """
    import sys

    from hailuo_tui.config import ConfigError, load_config

    try:
        config = load_config(options.config_path)
    except ConfigError as exc:
        if pending_store is not None:
            pending_store.abandon()
        print(f"Config error: {exc}", file=sys.stderr)
        return 2
    from hailuo_tui.widgets import install_kitty_text_fix

    # Text committed by an input method (e.g. 你好) must arrive as characters.
    if not install_kitty_text_fix():
        logging.getLogger(__name__).warning("kitty text fix not installed: long IME commits may arrive as escape codes")
    app = HailuoApp(options, config=config, pending_store=pending_store)
    result = app.run()
    return app.return_code or (result if isinstance(result, int) else 0)
