"""Welcome and login: explains, runs the browser login in a worker, or takes a pasted token."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, LoadingIndicator, Static
from textual.worker import WorkerState

from hailuo_tui.provider import AuthResult, HailuoError
from hailuo_tui.config import hide_password
from hailuo_tui.sanitize import clean
from hailuo_tui.screens.breakpoints import breakpoint_classes

if TYPE_CHECKING:
    from hailuo_tui.services import Services

WELCOME = (
    "hailuo-tui talks to Hailuo AI with your own account. Log in once: hailuo-tui opens "
    "Chromium at {site}, you log in there as usual, and the window closes by itself. "
    "The login is kept in your system keyring, never in a plain file."
)


#: What LoginScreen returns when the user stored a MiniMax API key (not a web login).
API_KEY_LOGIN = "api-key"
#: What LoginScreen returns when the user chose "Try the demo" (the app switches to the emulator).
DEMO_LOGIN = "demo"


class LoginScreen(ModalScreen["AuthResult | str | None"]):
    """Returns the new web login, :data:`API_KEY_LOGIN` for a stored API key, or ``None`` if the user gave up."""

    # Below 90 columns the buttons go two to a row (one row of them would be cut off).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (90, "-wide")]
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="login.cancel"),
        Binding("ctrl+t", "paste_token", "Paste a token", id="login.token", show=False),
    ]
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical { width: 76; max-width: 100%; height: auto; max-height: 100%; overflow-y: auto; border: thick $primary; background: $surface; padding: 1 2; }
    LoginScreen #login-title { text-style: bold; margin-bottom: 1; }
    LoginScreen #login-reason { color: $warning; margin-bottom: 1; }
    LoginScreen #keyring-note { color: $text-muted; margin-top: 1; }
    LoginScreen #login-buttons { height: auto; margin-top: 1; }
    LoginScreen #login-buttons Button { margin-right: 2; }
    LoginScreen.-narrow #login-buttons { layout: grid; grid-size: 2; grid-rows: 3; grid-gutter: 0 1; }
    LoginScreen.-narrow #login-buttons Button { width: 100%; margin-right: 0; }
    LoginScreen #login-demo-row { height: auto; margin-top: 1; }
    LoginScreen #login-demo { width: 1fr; height: auto; margin-left: 2; color: $text-muted; }
    LoginScreen.-working #login-demo-row { display: none; }
    LoginScreen #login-progress { height: auto; margin-top: 1; color: $text-muted; }
    LoginScreen #login-error { height: auto; margin-top: 1; color: $error; }
    LoginScreen LoadingIndicator { height: 1; display: none; }
    LoginScreen.-working LoadingIndicator { display: block; }
    LoginScreen.-working #login-buttons { display: none; }
    LoginScreen #token, LoginScreen #api-key-input { display: none; margin-top: 1; }
    LoginScreen.-token #token { display: block; }
    LoginScreen.-api-key #api-key-input { display: block; }
    """

    def __init__(
        self, services: Services, *, reason: str | None = None, welcome: bool = False, api: bool = False
    ) -> None:
        super().__init__(classes=breakpoint_classes(LoginScreen, self.app))
        self.services = services
        self._api_first = api
        self._reason = reason
        self._welcome = welcome
        self._worker = None

    def compose(self) -> ComposeResult:
        site = self.services.base_url
        with Vertical():
            yield Label("Welcome to hailuo-tui" if self._welcome else "Log in to Hailuo", id="login-title")
            if self._reason:
                yield Static(Content(clean(self._reason)), id="login-reason", markup=False)
            yield Static(Content(clean(WELCOME.format(site=hide_password(site)))), markup=False)
            warning = None if self.services.demo else self.services.vault.warning
            if warning:  # said here, before logging in, rather than in a toast over the conversation
                yield Static(Content(clean(warning)), id="keyring-note", markup=False)
            with Horizontal(id="login-buttons"):
                yield Button("Log in with browser", id="browser", variant="primary")
                yield Button("Paste a token", id="paste")
                yield Button("Use a MiniMax API key", id="api-key")
                yield Button("Quit" if self._welcome else "Cancel", id="cancel")
            if self._offers_demo:
                with Horizontal(id="login-demo-row"):
                    yield Button("Try the demo", id="demo", variant="success")
                    yield Static("No account needed: answers come from a built-in emulator, and its "
                                 "conversations are kept apart from yours.", id="login-demo", markup=False)
            yield Input(placeholder="Paste the _token value from the Hailuo page's localStorage, then Enter",
                        password=True, id="token")
            yield Input(placeholder="Paste your MiniMax API key (platform.minimax.io), then Enter",
                        password=True, id="api-key-input")
            yield LoadingIndicator()
            yield Static("", id="login-progress", markup=False)
            yield Static("", id="login-error", markup=False)

    @property
    def _offers_demo(self) -> bool:
        return self._welcome and not self.services.demo

    @on(Button.Pressed, "#demo")
    def try_demo(self) -> None:
        self.dismiss(DEMO_LOGIN)

    def on_mount(self) -> None:
        if self._api_first:
            self.action_api_key()
        else:
            self.query_one("#browser", Button).focus()

    def _progress(self, text: str) -> None:
        self.query_one("#login-progress", Static).update(Content(clean(text)))

    def _error(self, text: str) -> None:
        self.query_one("#login-error", Static).update(Content(clean(text)))

    @on(Button.Pressed, "#browser")
    def start_browser_login(self) -> None:
        self._error("")
        self.add_class("-working")
        self._progress("Starting Chromium… (Esc cancels)")
        self._worker = self._login(self.services.login_with_browser(on_progress=self._progress))

    @on(Button.Pressed, "#api-key")
    def action_api_key(self) -> None:
        self.add_class("-api-key")
        self.query_one("#api-key-input", Input).focus()

    @on(Input.Submitted, "#api-key-input")
    def api_key_entered(self, event: Input.Submitted) -> None:
        key = event.value.strip()
        event.input.value = ""
        if not key:
            return
        self._error("")
        self.add_class("-working")
        self._progress("Checking the API key…")
        self._worker = self._login(self._store_api_key(key))

    async def _store_api_key(self, key: str) -> str:
        await self.services.login_with_api_key(key)
        return API_KEY_LOGIN

    @work(exclusive=True, group="login", exit_on_error=False)
    async def _login(self, login: Awaitable[AuthResult | str]) -> None:
        """Wait for a login; dismiss with it, or show why it failed and offer the choices again."""
        try:
            auth = await login
        except HailuoError as exc:
            self.remove_class("-working")
            self._progress("")
            self._error(f"{exc.title}: {exc.message}")
            return
        self.dismiss(auth)

    @on(Button.Pressed, "#paste")
    def action_paste_token(self) -> None:
        self.add_class("-token")
        self.query_one("#token", Input).focus()

    @on(Input.Submitted, "#token")
    def token_entered(self, event: Input.Submitted) -> None:
        token = event.value.strip()
        event.input.value = ""
        if not token:
            return
        self._error("")
        self.add_class("-working")
        self._progress("Checking the token…")
        self._worker = self._login(self.services.login_with_token(token))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self._worker is not None and self._worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
            self._worker.cancel()
            self._worker = None
            self.remove_class("-working")
            self._progress("Login cancelled.")
            return
        self.dismiss(None)
