"""The command line's MiniMax API parts: ``login --api-key``, ``models``, ``ask --backend api``, status lines.

:mod:`hailuo_tui.cli` parses the arguments and calls these with the services;
errors of the one family (:class:`~hailuo_tui.provider.HailuoError`) go up to it,
which prints them and exits with their ``exit_code``. No secret is ever printed.
"""

from __future__ import annotations

import getpass
import sys
import weakref
from typing import Any, TextIO

from hailuo_tui.redact import redact

EXIT_OK, EXIT_USAGE, EXIT_AUTH = 0, 2, 3
#: ``login`` worked but no keyring could keep it (the command's purpose failed).
EXIT_NOT_KEPT = 1
_DIM, _RESET = "\x1b[2m", "\x1b[0m"
_NO_KEY = (
    "Not logged in to the MiniMax API: run `hailuo-tui login --api-key` (or set MINIMAX_API_KEY, "
    "or try it on the emulator: `hailuo-tui --demo ask --backend api …`)."
)


def _err(text: str) -> None:
    """Print a line on stderr without any secret the process holds (a server may echo one in an error)."""
    print(redact(text), file=sys.stderr, flush=True)


#: The services (one per command) that already printed a keyring warning: a command says it once.
_WARNED: weakref.WeakSet[Any] = weakref.WeakSet()


def report_keyring(services: Any, vault: Any) -> None:
    """Say on stderr why a login cannot be kept between runs, once per command (both vaults share a keyring)."""
    warning = vault.warning
    if warning and services not in _WARNED:
        _WARNED.add(services)
        _err(f"Warning: {warning}")


def report_api_vault(services: Any) -> None:
    """Say once, on stderr, why the API key cannot be kept between runs (if so)."""
    report_keyring(services, services.api_key_vault)


def not_kept(what: str) -> str:
    """The words for a login that worked but that no keyring could keep."""
    return (f"The {what} works, but nothing was kept: there is no usable keyring, so the next command "
            "will not be logged in (see the warning above).")


def read_secret(prompt: str) -> str:
    """A secret from a hidden prompt when stdin is a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt).strip()
    return sys.stdin.readline().strip()


async def login_api_key(services: Any) -> int:
    """``hailuo-tui login --api-key``: read the key (never from the command line), check it, store it."""
    key = read_secret("MiniMax API key (input hidden): ")
    if not key:
        _err("No API key given.")
        return EXIT_USAGE
    await services.login_with_api_key(key)
    report_api_vault(services)
    if not services.api_key_vault.persistent:
        # Storing the key was this command's whole purpose: a run that kept nothing has failed.
        _err(not_kept("MiniMax API key"))
        return EXIT_NOT_KEPT
    _err(f"Logged in to the MiniMax API at {services.api_base_url} (key stored in the keyring).")
    return EXIT_OK


def _host_words(services: Any) -> str:
    if services.demo:
        return f"{services.api_base_url}  (demo emulator)"
    if services.options.api_base_url or services.config.api_base_url:
        return f"{services.api_base_url}  (api_base_url)"
    return f"{services.api_base_url}  (region {services.config.api_region})"


async def status_api(services: Any) -> int:
    """Print the API lines of ``hailuo-tui status``; the exit code if the API were the backend that counts."""
    from hailuo_tui.provider import AuthError, HailuoError
    from hailuo_tui.services import API_KEY_ENV

    source = await services.api_key_source()
    report_api_vault(services)
    print(f"API host:  {redact(_host_words(services))}")
    if source is None:
        print("API key:   none (run `hailuo-tui login --api-key`)")
        return EXIT_AUTH
    where = {
        "env": f"from ${API_KEY_ENV}",
        "demo": "the demo key",
        "keyring": "stored in the keyring",
        "memory": "kept in memory for this run",
    }[source]
    key = await services.api_key()
    try:
        await services.api_backend(key).check()
    except AuthError:
        print(f"API key:   {where}, refused (a wrong key, or a key of the other region)")
        return EXIT_AUTH
    except HailuoError as exc:
        print(redact(f"API key:   {where}, not verified ({exc.title}: {exc.message})"))
        return exc.exit_code
    print(f"API key:   {where}, accepted")
    return EXIT_OK


async def list_models(services: Any, args: Any) -> int:
    """``hailuo-tui models``: one model id a line on stdout; a note on stderr when the list is the documented one."""
    from hailuo_tui.sanitize import clean

    key = await services.api_key()
    report_api_vault(services)
    if key is None:
        _err(_NO_KEY)
        return EXIT_AUTH
    listing = await services.api_models(key, refresh=args.refresh)
    if listing.source == "documented":
        _err(f"Could not list the models ({clean(listing.note or '')}); showing the documented list instead.")
    for model in listing.models:
        print(clean(model).strip())
    return EXIT_OK


class _Output:
    """The answer to stdout and, with ``--thinking``, the reasoning to stderr, both cleaned as they stream."""

    def __init__(self, out: TextIO, err: TextIO, *, show_reasoning: bool) -> None:
        from hailuo_tui.sanitize import StreamSanitizer

        self.out, self.err = out, err
        self.show_reasoning = show_reasoning
        self.dim = show_reasoning and err.isatty()
        self._answer, self._reasoning = StreamSanitizer(), StreamSanitizer()
        self.answer_ends_line = True
        self.reasoning_ends_line = True

    def reasoning(self, text: str) -> None:
        if not self.show_reasoning:
            return
        self._write_reasoning(self._reasoning.feed(text))

    def _write_reasoning(self, text: str) -> None:
        if not text:
            return
        # dim each piece on its own, so a cut stream never leaves the terminal dim
        self.err.write(f"{_DIM}{text}{_RESET}" if self.dim else text)
        self.err.flush()
        self.reasoning_ends_line = text.endswith("\n")

    def answer(self, text: str) -> None:
        self._end_reasoning()
        self._write_answer(self._answer.feed(text))

    def _write_answer(self, text: str) -> None:
        if not text:
            return
        self.out.write(text)
        self.out.flush()
        self.answer_ends_line = text.endswith("\n")

    def _end_reasoning(self) -> None:
        if self.show_reasoning:
            self._write_reasoning(self._reasoning.flush())
            if not self.reasoning_ends_line:
                self.err.write("\n")
                self.err.flush()
                self.reasoning_ends_line = True

    def close(self) -> None:
        self._end_reasoning()
        self._write_answer(self._answer.flush())
        if not self.answer_ends_line:
            self.out.write("\n")
        self.out.flush()


async def ask_api(services: Any, args: Any, prompt: str) -> int:
    """``hailuo-tui ask --backend api``: stream one answer; the reasoning to stderr only with ``--thinking``."""
    from hailuo_tui.provider import HailuoError, ReasoningDelta, TextDelta
    from hailuo_tui.provider.backend import ChatRequest

    key = await services.api_key()
    report_api_vault(services)
    if key is None:
        _err(_NO_KEY)
        return EXIT_AUTH
    config = services.config
    system = args.system if args.system is not None else config.system_prompt
    request = ChatRequest(
        messages=[{"role": "user", "content": prompt}],
        model=args.model or config.default_model,
        system=system.strip() or None,
        thinking=config.thinking or args.thinking,
    )
    output = _Output(sys.stdout, sys.stderr, show_reasoning=args.thinking)
    try:
        async for event in services.api_backend(key).stream(request):
            if isinstance(event, TextDelta):
                output.answer(event.text)
            elif isinstance(event, ReasoningDelta):
                output.reasoning(event.text)
    except HailuoError:
        output.close()
        raise
    output.close()
    return EXIT_OK
