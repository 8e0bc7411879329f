"""Command line: parse arguments, build the services, run the app or a one-shot command.

Exit codes (for scripts): 0 success, 1 other error, 2 usage, 3 login needed or
failed, 4 request refused, 5 rate limited, 6 server or service error,
7 network error, 8 answer interrupted, 9 unexpected reply, 130 interrupted
by Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from hailuo_tui import __version__
from hailuo_tui.redact import redact
from hailuo_tui.sanitize import clean

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH = 0, 1, 2, 3
EXIT_CTRL_C = 130


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--demo", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="use the built-in Hailuo emulator with a demo account (no browser, separate data)")
    parser.add_argument("--base-url", metavar="URL", default=default, help="Hailuo site to talk to (default https://www.hailuo.ai)")
    parser.add_argument("--proxy", metavar="URL", default=default, help="HTTP proxy for the browser and the API")
    parser.add_argument("--headless", action="store_const", const=True, default=default,
                        help="run the login browser without a window (works once the profile is logged in)")
    parser.add_argument("--browser", metavar="PATH", default=default, help="Chromium or Chrome executable for login")
    parser.add_argument("--config", metavar="PATH", type=Path, default=default, help="config file (default: XDG config dir)")
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS if suppress else False,
                        help="write a debug log (token, signature and API key redacted)")
    parser.add_argument("--backend", choices=("web", "api"), default=default,
                        help="web: the Hailuo web chat; api: the official MiniMax API with an API key "
                        "(default: the config's default_backend, else web)")
    parser.add_argument("--api-base-url", metavar="URL", default=default,
                        help="another OpenAI-compatible host for the API backend (default: the config's region)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hailuo-tui",
        description="A keyboard-driven terminal chat client for Hailuo AI (MiniMax). "
        "With no command it opens the full-screen app.",
        epilog="Try it without an account: hailuo-tui --demo",
    )
    parser.add_argument("--version", action="version", version=f"hailuo-tui {__version__}")
    _add_global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    login = commands.add_parser("login", help="log in through Chromium (or --token, or --api-key) and store the login "
                                "in the keyring")
    _add_global_options(login, suppress=True)
    how = login.add_mutually_exclusive_group()
    how.add_argument("--token", action="store_true",
                     help="paste the token from the web page's localStorage (_token) instead of opening a browser; "
                     "read from a prompt or stdin, never from the command line")
    how.add_argument("--api-key", action="store_true",
                     help="a MiniMax API key for the API backend, checked and stored in the keyring; "
                     "read from a hidden prompt or stdin, never from the command line")
    logout = commands.add_parser("logout", help="forget the stored logins (both, or --web / --api)")
    _add_global_options(logout, suppress=True)
    which = logout.add_mutually_exclusive_group()
    which.add_argument("--web", action="store_true", help="forget only the Hailuo web login")
    which.add_argument("--api", action="store_true", help="forget only the MiniMax API key")
    status = commands.add_parser("status", help="show which logins exist (never prints a token or key)")
    _add_global_options(status, suppress=True)
    config = commands.add_parser("config", help="show the config file's path and check it (--init writes a default one)")
    _add_global_options(config, suppress=True)
    config.add_argument("--init", action="store_true", help="write a commented default config file if there is none")
    ask = commands.add_parser("ask", help="ask one question and stream the answer to stdout (the title goes to stderr)")
    _add_global_options(ask, suppress=True)
    ask.add_argument("prompt", nargs="*", help="the question (read from stdin when omitted)")
    ask.add_argument("--web-search", action="store_true", default=None, help="let Hailuo search the web for this question")
    ask.add_argument("--model", metavar="ID", help="API backend: the model (default: the config's default_model)")
    ask.add_argument("--system", metavar="TEXT", help="API backend: the system prompt (default: the config's)")
    ask.add_argument("--thinking", action="store_true",
                     help="API backend: show the model's reasoning on stderr (otherwise it is not shown)")
    models = commands.add_parser("models", help="list the models the MiniMax API offers your key (cached for a day)")
    _add_global_options(models, suppress=True)
    models.add_argument("--refresh", action="store_true", help="ask the server again instead of using the cache")
    return parser


def _options(args: argparse.Namespace):
    from hailuo_tui.services import Options

    return Options(
        demo=args.demo,
        base_url=args.base_url,
        proxy=args.proxy,
        headless=args.headless,
        browser=args.browser,
        config_path=args.config,
        debug=args.debug,
        backend=args.backend,
        api_base_url=args.api_base_url,
    )


def _err(text: str) -> None:
    """Print a line on stderr without any secret the process holds (a server may echo one in an error),
    nor a terminal escape (an error may quote a server)."""
    print(clean(redact(text)), file=sys.stderr, flush=True)


def _tolerant_output() -> None:
    """Never die on a character the terminal's encoding lacks (LANG=C, PYTHONIOENCODING=latin-1): write
    it as ``?`` (stdout) or an escape (stderr) instead of raising UnicodeEncodeError mid-answer."""
    for stream, errors in ((sys.stdout, "replace"), (sys.stderr, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors=errors)
            except (ValueError, OSError):
                pass


def _lossy_encoding(stream) -> str | None:
    """The encoding of ``stream`` when it cannot write every character (not a UTF encoding), else None."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
    return None if not encoding or encoding.startswith("utf") else encoding


def _config_wants_debug_log(options) -> bool:
    """The config's ``debug_log = true`` (a broken config is reported later, by the command)."""
    from hailuo_tui.config import ConfigError, load_config

    try:
        return load_config(options.config_path).debug_log
    except ConfigError:
        return False


def main(argv: list[str] | None = None) -> int:
    from hailuo_tui.memory import return_big_blocks

    return_big_blocks()  # the app and `ask` handle thousands of multi-MB snapshots: see memory.py
    parser = build_parser()
    args = parser.parse_args(argv)
    options = _options(args)
    if options.debug or _config_wants_debug_log(options):
        from hailuo_tui.logs import setup_debug_log

        setup_debug_log(demo=options.demo)
    if args.command is None:
        return run_app(options)
    _tolerant_output()
    if args.command == "config":
        return cmd_config(options, args)
    runner = {"login": cmd_login, "logout": cmd_logout, "status": cmd_status, "ask": cmd_ask,
              "models": cmd_models}[args.command]
    try:
        return asyncio.run(_with_services(options, runner, args))
    except KeyboardInterrupt:
        _err("Interrupted.")
        return EXIT_CTRL_C


async def _with_services(options, runner, args) -> int:
    from hailuo_tui.config import ConfigError
    from hailuo_tui.provider import HailuoError
    from hailuo_tui.services import Services

    try:
        services = await Services.start(options)
    except ConfigError as exc:
        _err(f"Config error: {exc}")
        return EXIT_USAGE
    try:
        return await runner(services, args)
    except HailuoError as exc:
        _err(f"{exc.title}: {exc.message}")
        return exc.exit_code
    finally:
        await services.close()


def run_app(options) -> int:
    """Open the full-screen app."""
    import os

    from hailuo_tui import idle_gc

    # Before Textual's imports: no collection until the start is done (idle_gc.defer_collections).
    if os.environ.get(idle_gc.DEFER_ENV) != "0" and os.environ.get(idle_gc.IDLE_GC_ENV) != "0":
        idle_gc.defer_collections()
    from hailuo_tui.services import start_opening_store

    pending = start_opening_store(options)  # the database opens on its thread while Textual is imported
    from hailuo_tui.app import run

    return run(options, pending)


def cmd_config(options, args) -> int:
    """Print the config path, check the file, and with --init write the default one."""
    import os

    from hailuo_tui.config import ConfigError, Paths, default_config_text, load_config

    path = options.config_path or Paths.default().config_file
    if args.init:
        if path.exists():
            _err(f"{path} already exists; not overwritten.")
        else:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(default_config_text())
            _err(f"Wrote {path}")
    print(f"Config file: {path}{'' if path.exists() else '  (not there: defaults are used)'}")
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"Config error: {exc}")
        return EXIT_USAGE
    warnings = _config_warnings(config) + _unreachable(config)
    for warning in warnings:
        print(f"Warning: {warning}")
    if warnings:
        print("It loads, but the app will not use it all as written (see the warnings above).")
        return EXIT_ERROR
    print("It loads fine.")
    return EXIT_OK


def _config_warnings(config) -> list[str]:
    """The warnings the app shows for ``config`` at start (themes and keys need Textual: imported here only)."""
    from textual.theme import BUILTIN_THEMES

    from hailuo_tui.bindings import is_key, known_ids
    from hailuo_tui.config import config_warnings

    return config_warnings(config, themes=BUILTIN_THEMES, binding_ids=known_ids(), is_key=is_key)


def _unreachable(config, timeout: float = 3.0) -> list[str]:
    """The URLs set in ``config`` (not the defaults) whose host does not take a TCP connection within ``timeout``."""
    import socket
    import threading
    from urllib.parse import urlsplit

    from hailuo_tui.config import Config, hide_password

    urls = [(key, getattr(config, key)) for key in ("base_url", "proxy", "api_base_url")
            if getattr(config, key) and getattr(config, key) != getattr(Config(), key)]
    problems: list[str] = []
    for key, url in urls:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        outcome: list[str] = []

        def connect(host: str = parts.hostname or "", port: int = port, outcome: list[str] = outcome) -> None:
            try:
                socket.create_connection((host, port), timeout=timeout).close()
                outcome.append("")
            except OSError as exc:
                outcome.append(exc.strerror or type(exc).__name__)

        # A thread, so a name lookup that hangs is given up on too (the daemon thread is left behind).
        thread = threading.Thread(target=connect, daemon=True)
        thread.start()
        thread.join(timeout + 1)
        reason = outcome[0] if outcome else "no answer"
        if reason:
            problems.append(f"{key} {hide_password(url)!r} cannot be reached ({reason}).")
    return problems


async def cmd_login(services, args) -> int:
    if args.api_key:
        from hailuo_tui.cli_api import login_api_key

        return await login_api_key(services)
    if args.token:
        if sys.stdin.isatty():
            token = getpass.getpass("Paste the token (localStorage _token on the Hailuo page): ")
        else:
            token = sys.stdin.readline()
        token = token.strip()
        if not token:
            _err("No token given.")
            return EXIT_USAGE
        await services.login_with_token(token)
    else:
        _err(f"Opening Chromium at {services.base_url}. Log in there; this window waits.")
        await services.login_with_browser(on_progress=lambda text: _err(f"  {text}"))
    _report_vault(services)
    if not services.vault.persistent and not services.demo:
        from hailuo_tui.cli_api import EXIT_NOT_KEPT, not_kept

        _err(not_kept("Hailuo login"))
        return EXIT_NOT_KEPT
    _err("Logged in (stored in the keyring)." if not services.demo else "Logged in.")
    return EXIT_OK


async def cmd_logout(services, args) -> int:
    import os

    from hailuo_tui.cli_api import report_api_vault
    from hailuo_tui.services import API_KEY_ENV

    which = "web" if args.web else "api" if args.api else "all"
    await services.logout(which)
    if which != "api":
        _report_vault(services)
    if which != "web":
        report_api_vault(services)
    forgot = {"web": "the Hailuo web login", "api": "the MiniMax API key",
              "all": "the Hailuo web login and the MiniMax API key"}[which]
    _err(f"Logged out: forgot {forgot}.")
    if which != "web" and os.environ.get(API_KEY_ENV, "").strip():
        _err(f"${API_KEY_ENV} is still set in your environment; unset it too.")
    return EXIT_OK


async def cmd_models(services, args) -> int:
    from hailuo_tui.cli_api import list_models

    return await list_models(services, args)


async def cmd_status(services, args) -> int:
    """Both logins, never a secret; the exit code is the default backend's (0 usable, 3 login needed)."""
    from hailuo_tui.cli_api import status_api
    from hailuo_tui.provider.backend import BACKEND_LABELS

    backend = services.default_backend
    print(f"Backend:   {backend} ({BACKEND_LABELS[backend]}), for `ask` and new conversations")
    web_code = await _status_web(services)
    api_code = await status_api(services)
    return api_code if backend == "api" else web_code


async def _status_web(services) -> int:
    import os

    from hailuo_tui.provider import AuthError, HailuoError
    from hailuo_tui.services import TOKEN_ENV

    auth = await services.auth()
    _report_vault(services)
    print(f"Site:      {redact(services.base_url)}{'  (demo emulator)' if services.demo else ''}")
    print(f"Keyring:   {services.vault.describe_backend()}")
    if auth is None:
        print("Web login: not logged in (run `hailuo-tui login`)")
        return EXIT_AUTH
    source = f"${TOKEN_ENV}" if os.environ.get(TOKEN_ENV) and not services.demo else "stored login"
    try:
        info = await services.check(auth)
    except AuthError:
        print(f"Web login: expired or refused ({source}); run `hailuo-tui login`")
        return EXIT_AUTH
    except HailuoError as exc:
        print(redact(f"Web login: {source}, not verified ({exc.title}: {exc.message})"))
        return exc.exit_code

    name = clean(str(info.get("name") or info.get("userName") or "")).strip()
    print(f"Web login: logged in{f' as {name}' if name else ''} ({source})")
    return EXIT_OK


def _report_vault(services) -> None:
    from hailuo_tui.cli_api import report_keyring

    report_keyring(services, services.vault)


async def cmd_ask(services, args) -> int:
    from hailuo_tui.provider import Finished, HailuoError, TextDelta, TextReplaced, TitleGenerated
    from hailuo_tui.sanitize import clean

    prompt = " ".join(args.prompt).strip()
    if not prompt and not sys.stdin.isatty():
        prompt = sys.stdin.read().strip()
    if not prompt:
        _err("Nothing to ask: give a prompt as arguments or on stdin.")
        return EXIT_USAGE
    lossy = _lossy_encoding(sys.stdout)
    if lossy:
        _err(f"Note: the output's encoding is {lossy}: characters it lacks are printed as '?'. "
             "Set PYTHONIOENCODING=utf-8 (or a UTF-8 locale) to see them all.")
    if services.default_backend == "api":
        from hailuo_tui.cli_api import ask_api

        if args.web_search:
            _err("Note: --web-search is for the Hailuo web chat; the API backend ignores it.")
        return await ask_api(services, args, prompt)
    for flag, given in (("--model", args.model), ("--system", args.system), ("--thinking", args.thinking)):
        if given:
            _err(f"Note: {flag} is for the API backend (--backend api); the Hailuo web chat ignores it.")
    import os

    from hailuo_tui.services import TOKEN_ENV

    auth = await services.auth()
    if not os.environ.get(TOKEN_ENV, "").strip():  # a token from the environment needs no keyring
        _report_vault(services)
    if auth is None:
        _err("Not logged in: run `hailuo-tui login` (or `hailuo-tui ask --demo …` to try the emulator).")
        return EXIT_AUTH
    out = sys.stdout
    ended_with_newline = True
    try:
        async for event in services.chat([{"role": "user", "content": prompt}], auth, web_search=args.web_search):
            if isinstance(event, TextReplaced):
                # stdout cannot be taken back: say so, then print the server's new whole text
                if not ended_with_newline:
                    out.write("\n")
                    out.flush()
                _err("Note: the server rewrote the answer above; its new text follows.")
                event = TextDelta(event.text)
            if isinstance(event, TextDelta):
                text = clean(event.text)
                out.write(text)
                out.flush()
                if text:
                    ended_with_newline = text.endswith("\n")
            elif isinstance(event, TitleGenerated):
                _err(f"# {clean(event.title)}")
            elif isinstance(event, Finished):
                pass
    except HailuoError:
        if not ended_with_newline:
            out.write("\n")
        out.flush()
        raise
    if not ended_with_newline:
        out.write("\n")
    out.flush()
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
