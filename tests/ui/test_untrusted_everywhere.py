"""Server text is inert everywhere it can reach, not only in message bubbles (issue 11).

Every path below was found by grepping hailuo_tui/ for ``notify(``, ``Static(``, ``.update(``,
``Label(``, ``sub_title``, ``copy_to_clipboard`` and ``push_screen(``; each one that can carry
text from a server (or from the config file) is fed hostile markup and escapes here:

* notifications: all go through ``HailuoApp.notify`` (``Screen.notify``/``Widget.notify`` pass
  ``markup=True`` to it by default), which cleans the text and never parses markup:
  "Deleted “<title>”" (chat_actions.action_delete), the login error at start (app._load_auth,
  a device registration refused with the server's text), the config warnings (app._apply_config:
  unknown theme, unknown binding ids, keys that do not exist);
* dialogs: ConfirmScreen (the delete question quotes the title), RenameScreen (the title in its
  Input), LoginScreen (``#login-error`` with the server's error, ``#login-reason``),
  CodePickerScreen (each block's language and first line), ModelPickerScreen (model ids from the
  API's list, its note: Content + clean, and covered in test_api_backend), SystemPromptScreen
  (its note: a fixed sentence, cleaned anyway);
* the header: ``ChatScreen._set_title`` (sub_title; Textual draws it as ``Content``, never markup);
* the status bar: ``StatusBar.set_error``/``set_activity``/``set_account`` (Content of cleaned text);
* the clipboard: F4 (the last answer), F6 (a code block) and a mouse selection (Ctrl+C or Textual's own copy
  key, tests/ui/test_selection.py) through ``HailuoApp.copy_to_clipboard``;
* log lines: ``logs.RedactingFormatter`` cleans and redacts (tests/unit/test_redact.py);
* the app's exit message (a store error): printed as a Rich ``Text``, never markup.

A hostile title is made by the emulator (its ``make_title`` patched to return it); the answer,
the stream error and the registration error come from emulator switches or a small hostile
aiohttp server on 127.0.0.1.
"""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from textual.widgets import Input, Label, OptionList, Static

from hailuo_tui.config import Paths, load_config
from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.redact import SECRETS
from hailuo_tui.sanitize import clean
from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.screens.code_picker_screen import CodePickerScreen
from hailuo_tui.screens.confirm_screen import ConfirmScreen
from hailuo_tui.screens.login_screen import LoginScreen
from hailuo_tui.screens.rename_screen import RenameScreen
from hailuo_tui.services import Options, Services
from hailuo_tui.store.vault import TokenVault
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.status_bar import StatusBar
from tests.helpers import click_shown
from tests.hostile_echo import EchoServer
from tests.ui.conftest import type_text, wait_until

SIZE = (110, 36)
#: Valid markup with an action, invalid markup, a CSI bracketed-paste end, an OSC 52 clipboard write,
#: a C1 CSI, a bidi override: none may be interpreted anywhere.
HOSTILE = "x[/nope]y [@click=app.quit]q[/] [b]B[/b] \x1b[201~end \x1b]52;c;aGk=\x07\u202eevil\x9b2J 你好"
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
ANSWER = f"Answer {HOSTILE}\n\n```{HOSTILE[:12]}\nprint('{HOSTILE}')\n\tindented 中文\n```\n\nbye"


def inert(text: str) -> None:
    """``text`` shows the hostile string literally (markup as brackets) and holds no control character."""
    assert "[/nope]" in text and "[@click=app.quit]" in text, text
    assert not CONTROLS.search(text), repr(text)


async def ready(pilot) -> ChatScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen) and pilot.app.screen.loaded
                     and not pilot.app.auth_loading, what="the chat screen")
    return pilot.app.screen


def toasts(app) -> list[str]:
    """The text each toast on screen draws (its rendered Content, not the message given)."""
    return [str(toast.render()) for screen in app.screen_stack for toast in screen.query("Toast")]


@pytest.fixture
def hostile_titles(monkeypatch):
    """The emulator names every new chat with the hostile string."""
    from hailuo_tui.emulator import model

    monkeypatch.setattr(model, "make_title", lambda text, limit=20: HOSTILE)


async def test_title_answer_and_errors_are_inert_in_header_dialogs_toasts_and_clipboard(
        make_app, emu, hostile_titles):
    emu.config = EmulatorConfig(seed=3, answer_text=ANSWER, chunk_chars=7, title_length=200)
    app = await make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await type_text(pilot, "hello")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.current_id is not None and not screen.replies, 30, "the answer")
        await wait_until(pilot, lambda: "[/nope]" in (screen.sub_title or ""), what="the server's title")
        inert(screen.sub_title)
        inert(str(app.format_title(screen.title or "", screen.sub_title)))
        sidebar_title = screen.query_one("ConversationList").title_of(screen.current_id)
        inert(sidebar_title)

        # F4: the clipboard gets the text the screen shows, without the escapes
        await pilot.press("f4")
        await pilot.pause()
        copied = app.clipboard
        inert(copied)
        assert copied == clean(ANSWER) and "\n\tindented 中文\n" in copied and "\x1b" not in copied

        # F6: the picker shows the block literally; the copied block is clean
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, CodePickerScreen), what="the code picker")
        option = app.screen.query_one(OptionList).get_option_at_index(0)
        inert(str(option.prompt))
        assert "1. [x[/nope]y] print('x[/nope]y [@click=app.quit]q[/]" in str(option.prompt)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the picker to close")
        inert(app.clipboard)
        assert app.clipboard.startswith("print('x[/nope]y") and "\tindented 中文" in app.clipboard

        # F2: the title in the rename field is the cleaned one
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, RenameScreen), what="the rename dialog")
        inert(app.screen.query_one(Input).value)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the dialog to close")

        # A stream error with the hostile text: status bar and bubble show it literally
        emu.config.stream_error = 0
        emu.config.stream_error_message = HOSTILE
        await type_text(pilot, "again")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not screen.replies and screen.query_one(StatusBar).error_text, 30,
                         "the error")
        inert(screen.query_one(StatusBar).error_text)
        emu.config.stream_error = None

        # F8: the question quotes the title literally; the "Deleted" toast too, and clicking it runs nothing
        await pilot.press("f8")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the delete question")
        inert(" ".join(str(label.render()) for label in app.screen.query(Label)))
        await pilot.press("y")
        await wait_until(pilot, lambda: any("Deleted" in text for text in toasts(app)), what="the Deleted toast")
        [deleted] = [text for text in toasts(app) if "Deleted" in text]
        inert(deleted)
        assert "[b]B[/b]" in deleted
        for toast in app.screen.query("Toast"):
            await pilot.click(toast)
        await pilot.pause(0.2)
        assert app.is_running and app.return_code is None


async def test_a_registration_error_with_markup_is_shown_literally_at_start_and_on_login(tmp_path, monkeypatch):
    """The token login's error (the server's text) reaches a toast at start and the login screen's error line."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"statusInfo": {"code": 1, "message": HOSTILE}}, status=400)

    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", refuse)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    try:
        from hailuo_tui.app import HailuoApp
        from hailuo_tui.config import Config

        monkeypatch.setenv("HAILUO_TOKEN", "tok-registration-1234")
        monkeypatch.delenv("MINIMAX_API_KEY", raising=False)
        services = Services(Config(base_url=url), Paths.under(tmp_path), Options(base_url=url),
                            vault=TokenVault.in_memory())
        app = HailuoApp(Options(base_url=url), services=services)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_until(pilot, lambda: any("[/nope]" in text for text in toasts(app)), what="the error toast")
            inert(next(text for text in toasts(app) if "[/nope]" in text))
            await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), what="the welcome screen")
            monkeypatch.delenv("HAILUO_TOKEN")
            # The screen focuses its first button once mounted: click only after that, or that focus wins. (Its
            # children may not be there yet when it becomes the screen: `query`, which finds none, not `query_one`.)
            await wait_until(pilot, lambda: (found := app.screen.query("#browser")) and app.focused is found.first(),
                             what="the mounted screen")
            await click_shown(pilot, "#paste")
            field = app.screen.query_one("#token", Input)
            await wait_until(pilot, lambda: app.focused is field, what="the token field")  # else Enter opens Chromium
            field.value = "tok-registration-5678"
            await pilot.press("enter")
            error = app.screen.query_one("#login-error", Static)
            await wait_until(pilot, lambda: "[/nope]" in str(error.render()), what="the login error")
            inert(str(error.render()))
            assert app.is_running
    finally:
        await runner.cleanup()


async def test_config_warnings_keep_their_brackets_name_the_file_and_bad_keys_change_nothing(tmp_path, emu):
    from hailuo_tui.app import HailuoApp
    from hailuo_tui.provider.login import token_login

    config_file = tmp_path / "config.toml"
    config_file.write_text(f'base_url = "{emu.url}"\ntheme = "[/x]"\n[keymap]\n"chat.send" = "entr"\n'
                           '"no.such[/b]" = "f5"\n')
    config = load_config(config_file)
    services = Services(config, Paths.under(tmp_path), Options(base_url=emu.url), vault=TokenVault.in_memory())
    await services.vault.save(await token_login(emu.demo_token, emu.url))
    app = HailuoApp(Options(base_url=emu.url), services=services)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        shown = "\n".join(toasts(app))
        assert "'[/x]'" in shown and "[keymap]" in shown and "'no.such[/b]'" in shown and "'entr'" in shown
        assert shown.count(str(config_file)) >= 3
        assert app.theme == "textual-dark"
        # "entr" was not applied: Enter still sends
        await type_text(pilot, "still sends")
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.current_id is not None, what="Enter to send")
        assert app.is_running


async def test_a_token_echoed_in_an_error_is_not_saved_shown_or_logged(tmp_path, caplog):
    """A server that quotes the token in its error body: messages.error, the status bar and the log stay clean."""
    import logging

    from hailuo_tui.app import HailuoApp
    from hailuo_tui.config import Config
    from hailuo_tui.provider.login import token_login

    token = "tok-echoed-9c1d7e55aa"
    from hailuo_tui.logs import RedactingFormatter

    SECRETS.forget_all()
    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("hailuo_tui")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        for wrap in ("json-in-json", "html"):
            root = tmp_path / wrap
            async with EchoServer(400, wrap) as server:
                services = Services(Config(base_url=server.url), Paths.under(root), Options(base_url=server.url),
                                    vault=TokenVault.in_memory())
                await services.vault.save(await token_login(token, server.url))
                app = HailuoApp(Options(base_url=server.url), services=services)
                async with app.run_test(size=SIZE, notifications=True) as pilot:
                    screen = await ready(pilot)
                    await type_text(pilot, "hi")
                    await pilot.press("enter")
                    await wait_until(pilot, lambda: screen.current_id is not None and not screen.replies, 30,
                                     "the end of the answer")
                    [message] = [m for m in await app.store.messages(screen.current_id) if m.role == "assistant"]
                    assert message.status == "failed" and message.error
                    assert token not in message.error and token not in screen.query_one(StatusBar).error_text
                    bubble = screen.query_one(ChatView).last_bubble("assistant")
                    assert token not in (bubble.error or "")
                assert server.hits >= 2  # the registration and the message: the echo was sent
            for path in root.rglob("*"):
                if path.is_file():
                    assert token.encode() not in path.read_bytes(), path
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
        SECRETS.forget_all()
    logged = log_file.read_text(encoding="utf-8")
    assert "error body" in logged and token not in logged


async def test_model_ids_from_the_server_are_inert_in_the_picker_and_the_header(make_app, emu, monkeypatch):
    from hailuo_tui.emulator import api_model
    from hailuo_tui.screens.model_picker_screen import ModelPickerScreen

    hostile_id = "MiniMax-[/nope][@click=app.quit]q[/]\x1b[2J\u202e"
    monkeypatch.setattr(api_model, "MODELS", (*api_model.MODELS, (hostile_id, 1700000000)))
    monkeypatch.setenv("MINIMAX_API_KEY", emu.demo_api_key)
    app = await make_app(api_base_url=emu.api_base_url)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await ready(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen), 30, "the picker")
        picker = app.screen
        shown_id = clean(hostile_id)  # the provider cleans ids as it reads the list; the picker shows them plain
        await wait_until(pilot, lambda: ("api", shown_id) in picker._choices, what="the hostile model")
        index = picker._choices.index(("api", shown_id))
        prompt = str(picker.query_one(OptionList).get_option_at_index(index).prompt)
        assert "[/nope][@click=app.quit]q[/]" in prompt and not CONTROLS.search(prompt), repr(prompt)
        picker.query_one(OptionList).highlighted = index
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the picker to close")
        header = str(app.format_title(screen.title or "", screen.sub_title))
        assert "[/nope][@click=app.quit]q[/]" in header and "\x1b" not in header, repr(header)
        assert app.is_running
