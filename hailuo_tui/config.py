"""Settings from ``config.toml`` and where hailuo-tui keeps its files.

Nothing here runs at import time: :meth:`Paths.default` computes paths,
:meth:`Paths.ensure` creates directories, :func:`load_config` reads (never writes).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from hailuo_tui.config_template import default_config_text  # noqa: F401  (its home used to be here)

APP_NAME = "hailuo-tui"
#: The MiniMax API's OpenAI-compatible base URL per ``api_region`` (the same as
#: ``provider.minimax.API_HOSTS``, kept here so reading the config never imports aiohttp).
API_HOSTS: dict[str, str] = {"international": "https://api.minimax.io/v1", "china": "https://api.minimaxi.com/v1"}
#: Environment variable naming another config file.
CONFIG_ENV = "HAILUO_TUI_CONFIG"


@dataclass
class Paths:
    """Where hailuo-tui reads and writes files."""

    config_file: Path
    """The TOML settings file."""
    data_dir: Path
    """Private data: the database, the browser profile, the log."""
    db_path: Path
    """The SQLite conversation database."""
    profile_dir: Path
    """The browser profile used for logging in."""
    log_file: Path
    """The debug log (written only when ``debug_log`` is on)."""
    own_config_dir: bool = True
    """Whether the config file's directory is ours, so :meth:`ensure` may tighten its mode.
    False when ``HAILUO_TUI_CONFIG`` points somewhere else."""
    cache_dir: Path | None = None
    """Files that may be thrown away (the API's model list); ``None``: ``data_dir / "cache"``."""

    @property
    def cache(self) -> Path:
        """The cache directory (:attr:`cache_dir`, or ``cache`` under the data directory)."""
        return self.cache_dir if self.cache_dir is not None else self.data_dir / "cache"

    @classmethod
    def under(cls, root: Path) -> Paths:
        """Config and data all under one folder (tests, screenshots, a portable setup)."""
        data = root / "data"
        return cls(
            config_file=root / "config.toml",
            data_dir=data,
            db_path=data / "hailuo.sqlite3",
            profile_dir=data / "browser-profile",
            log_file=data / "hailuo-tui.log",
            cache_dir=root / "cache",
        )

    @classmethod
    def default(cls, demo: bool = False) -> Paths:
        """The platform's places (XDG on Linux); ``demo=True`` keeps data apart under ``demo/``.

        ``HAILUO_TUI_CONFIG`` overrides the config file path.
        """
        import platformdirs

        override = os.environ.get(CONFIG_ENV)
        if override:
            config_file = Path(override).expanduser()
        else:
            config_file = Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml"
        data_dir = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
        cache_dir = Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
        if demo:
            data_dir = data_dir / "demo"
            cache_dir = cache_dir / "demo"
        return cls(
            config_file=config_file,
            data_dir=data_dir,
            db_path=data_dir / ("demo.sqlite3" if demo else "hailuo.sqlite3"),
            profile_dir=data_dir / "browser-profile",
            log_file=data_dir / "hailuo-tui.log",
            own_config_dir=not override,
            cache_dir=cache_dir,
        )

    def ensure(self) -> None:
        """Create the data, profile-parent and config directories with mode 0700.

        Directories that already exist are tightened to 0700 too, except a config
        directory chosen through ``HAILUO_TUI_CONFIG``.
        """
        dirs = [(self.data_dir, True), (self.profile_dir.parent, True), (self.db_path.parent, True),
                (self.log_file.parent, True), (self.config_file.parent, self.own_config_dir)]
        seen: set[Path] = set()
        for directory, ours in dirs:
            if directory in seen:
                continue
            seen.add(directory)
            existed = directory.exists()
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            if ours or not existed:
                os.chmod(directory, 0o700)


@dataclass
class Config:
    """Settings read from ``config.toml``; every field has a default."""

    base_url: str = "https://www.hailuo.ai"
    """The Hailuo web endpoint (the emulator's URL in demo mode)."""
    proxy: str | None = None
    """HTTP(S) proxy URL for all requests, e.g. ``http://127.0.0.1:8080``."""
    theme: str = "textual-dark"
    """A Textual theme name."""
    browser_path: str | None = None
    """Chrome/Chromium executable for logging in; found automatically when unset."""
    headless: bool = False
    """Run the login browser without a window (only useful once logged in before)."""
    login_timeout: float = 300
    """Seconds to wait for the login in the browser."""
    read_timeout: float = 60
    """Seconds without a byte before a reply stream counts as stalled."""
    connect_timeout: float = 15
    """Seconds to wait for a connection to the server."""
    answer_timeout: float = 600
    """Seconds one answer may take in all (a server trickling bytes never trips ``read_timeout``)."""
    max_answer_chars: int = 2_000_000
    """The longest answer kept, in characters: a longer one is stopped (a server that never ends)."""
    web_search: bool = False
    """Let Hailuo search the web by default (its ``searchMode``)."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Key overrides: binding id -> keys, e.g. ``{"chat.stop": "escape", "conversation.new": "ctrl+n"}``."""
    debug_log: bool = False
    """Write a debug log (never containing the token) to the log file."""
    default_backend: str = "web"
    """The backend of new conversations and of ``ask``: ``"web"`` (Hailuo web chat) or ``"api"`` (MiniMax API)."""
    api_region: str = "international"
    """Where the API key was made: ``"international"`` (api.minimax.io) or ``"china"`` (api.minimaxi.com)."""
    api_base_url: str = ""
    """Another OpenAI-compatible host (a mirror, a gateway, the emulator); overrides ``api_region`` when set."""
    default_model: str = "MiniMax-M3"
    """The model of new API conversations."""
    system_prompt: str = ""
    """The system prompt of new API conversations (empty: none)."""
    api_titles: str = "model"
    """How API conversations get a name: ``"model"`` (a short second request) or ``"first-line"`` (no request)."""
    thinking: bool = True
    """Ask API models to reason before answering, where the model lets a client choose."""
    fold_thinking: bool = True
    """Fold the thinking section of an answer when the answer itself starts."""
    max_tokens: int = 8192
    """The most tokens an API answer may use (reasoning included)."""
    #: The file these settings were read from (``None``: built in code), so warnings can name it.
    #: Not a field: it is no setting, and two equal settings read from two files are equal.
    source: ClassVar[Path | None] = None


class ConfigError(Exception):
    """The config file cannot be used; ``message`` names the file, the line or key, and the fix."""

    def __init__(self, path: Path | str, message: str) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.message = message

    def __str__(self) -> str:
        return self.message


def _shown(path: Path) -> str:
    """``path`` with the home directory written as ``~``."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


_NUMBER = ((int, float), "a number")
_TEXT = ((str,), "a string")
_OPTIONAL_TEXT = ((str, type(None)), "a string")
_FLAG = ((bool,), "true or false")
_COUNT = ((int,), "a whole number")
#: Setting name -> (accepted Python types, the type in words for error messages).
_KINDS: dict[str, tuple[tuple[type, ...], str]] = {
    "base_url": _TEXT,
    "proxy": _OPTIONAL_TEXT,
    "theme": _TEXT,
    "browser_path": _OPTIONAL_TEXT,
    "headless": _FLAG,
    "login_timeout": _NUMBER,
    "read_timeout": _NUMBER,
    "connect_timeout": _NUMBER,
    "answer_timeout": _NUMBER,
    "max_answer_chars": _COUNT,
    "web_search": _FLAG,
    "keymap": ((dict,), 'a table of binding id = "keys"'),
    "debug_log": _FLAG,
    "default_backend": _TEXT,
    "api_region": _TEXT,
    "api_base_url": _TEXT,
    "default_model": _TEXT,
    "system_prompt": _TEXT,
    "api_titles": _TEXT,
    "thinking": _FLAG,
    "fold_thinking": _FLAG,
    "max_tokens": _COUNT,
}
#: Settings that take one of a few words: name -> the words, in the order the error lists them.
_CHOICES: dict[str, tuple[str, ...]] = {
    "default_backend": ("web", "api"),
    "api_region": tuple(API_HOSTS),
    "api_titles": ("model", "first-line"),
}


def _type_name(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            dict: "a table", list: "an array"}.get(type(value), type(value).__name__)


def load_config(path: Path | None = None) -> Config:
    """Read the config file (default: :meth:`Paths.default`'s); a missing file means defaults.

    Raises:
        ConfigError: the file is not valid TOML, has an unknown key, or a value of the wrong type.
    """
    if path is None:
        path = Paths.default().config_file
    path = Path(path)
    shown = _shown(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(path, f"{shown}: cannot be read ({exc.strerror}).") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"{shown}: is not UTF-8 text (byte {exc.start}).") from exc
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)$", text)
        if where:
            reason = text[: where.start()].strip()
            message = f"{shown} line {where.group(1)}, column {where.group(2)}: {reason}."
        else:
            message = f"{shown}: {text}."
        raise ConfigError(path, message + " Fix the TOML, or move the file away to use the defaults.") from exc
    return _from_dict(path, shown, data)


def _from_dict(path: Path, shown: str, data: dict[str, Any]) -> Config:
    kinds = _KINDS
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in kinds:
            known = ", ".join(sorted(kinds))
            raise ConfigError(path, f"{shown}: unknown setting {key!r}. Known settings: {known}.")
        types, expected = kinds[key]
        # bool is an int in Python; a number setting must not accept true/false.
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ConfigError(path, f"{shown}: {key!r} must be {expected}, not {_type_name(value)} ({value!r}).")
        if key == "keymap":
            for binding, keys in value.items():
                if not isinstance(keys, str):
                    raise ConfigError(
                        path,
                        f"{shown}: keymap entry {binding!r} must be a string of keys like \"ctrl+n\", "
                        f"not {_type_name(keys)}.",
                    )
                _check_key_syntax(path, shown, binding, keys)
            value = dict(value)
        elif kinds[key] is _NUMBER:
            value = _checked_seconds(path, shown, key, value)
        else:
            value = _checked_value(path, shown, key, value)
        values[key] = value
    config = Config(**values)
    config.source = path  # type: ignore[misc]  # per instance, see Config.source
    return config


def _checked_value(path: Path, shown: str, key: str, value: Any) -> Any:
    """``value`` for ``key`` once its type is right: checked against its allowed words or range, trimmed."""
    if key in _CHOICES:
        if value not in _CHOICES[key]:
            words = " or ".join(f'"{word}"' for word in _CHOICES[key])
            raise ConfigError(path, f"{shown}: {key!r} must be {words}, not {value!r}.")
    elif key == "max_answer_chars":
        if not 1000 <= value <= 100_000_000:
            raise ConfigError(
                path, f"{shown}: 'max_answer_chars' must be a whole number from 1000 to 100000000, not {value!r}.")
    elif key == "max_tokens":
        if not 0 < value <= MAX_TOKENS_LIMIT:
            raise ConfigError(path, f"{shown}: 'max_tokens' must be a positive whole number up to {MAX_TOKENS_LIMIT:,}, "
                                    f"not {value!r}.")
    elif key == "default_model":
        if not value.strip():
            raise ConfigError(path, f"{shown}: 'default_model' must name a model, e.g. \"MiniMax-M3\".")
        return value.strip()
    elif key in _URL_EXAMPLES and value is not None and (value.strip() or key != "api_base_url"):
        value = value.strip()
        problem = url_problem(value)
        if not problem and key == "api_base_url" and "@" in urlsplit(value).netloc:
            problem = "the API key goes in the Authorization header: no user:password@ here"
        if problem:
            raise ConfigError(path, f"{shown}: {key!r} must be an http(s) URL like \"{_URL_EXAMPLES[key]}\", "
                                    f"not {hide_password(value)!r} ({problem}).")
    return value


#: Allowed range of each number of seconds: far outside it a value is a typo (or ``nan``/``inf``)
#: that would make every request fail at once or overflow the event loop's timers.
SECONDS_RANGE: dict[str, tuple[float, float]] = {
    "login_timeout": (1.0, 86_400.0),
    "read_timeout": (0.1, 86_400.0),
    "connect_timeout": (0.1, 3_600.0),
    "answer_timeout": (1.0, 86_400.0),
}
#: The largest ``max_tokens`` accepted (well above any model's context window).
MAX_TOKENS_LIMIT = 1_000_000
_URL_EXAMPLES = {"base_url": "https://www.hailuo.ai", "proxy": "http://127.0.0.1:8080",
                 "api_base_url": "https://api.minimax.io/v1"}


def _checked_seconds(path: Path, shown: str, key: str, value: int | float) -> float:
    low, high = SECONDS_RANGE[key]
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(path, f"{shown}: {key!r} must be a number of seconds from {low:g} to {high:g}, "
                                f"not {value!r}.")
    return float(value)


def url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable http(s) URL (``None``: it is).

    Args:
        url: A URL from the config or the command line.

    Returns:
        A few words ("not http or https", "no host", ...) or ``None``.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"malformed: {exc}"
    if parts.scheme not in ("http", "https"):
        return "not http or https"
    if not parts.hostname:
        return "no host"
    if any(ch.isspace() for ch in url):
        return "contains spaces"
    if port == 0:
        return "port 0"
    return None


def hide_password(url: str) -> str:
    """``url`` with the password of a ``user:password@`` part replaced by ``***``."""
    return re.sub(r"(?<=://)([^/@\s:]*):[^/@\s]*@", r"\1:***@", url)


#: Key modifiers Textual reports (the kitty keyboard protocol adds super, hyper and meta).
KEY_MODIFIERS = ("ctrl", "alt", "shift", "super", "hyper", "meta")


def _check_key_syntax(path: Path, shown: str, binding: str, keys: str) -> None:
    """A keymap value is a comma-separated list of non-empty keys (which names exist is :func:`config_warnings`')."""
    if not keys.strip() or any(not part.strip() for part in keys.split(",")):
        raise ConfigError(path, f"{shown}: keymap entry {binding!r} must list keys like \"ctrl+n\" or "
                                f"\"f2,ctrl+r\", not {keys!r}.")


RENAMED_BINDING_IDS = {"focus.messages": "messages.focus"}
"""Binding ids that were renamed: old id -> new id. A [keymap] naming an old id still works (with a note)."""


def config_warnings(
    config: Config,
    *,
    themes: Collection[str],
    binding_ids: Collection[str],
    is_key: Callable[[str], bool],
) -> list[str]:
    """What the app will ignore in ``config``, one sentence each naming the file; the app and ``config`` share it.

    The three checks need Textual (its themes, key names and our bindings), which this module never
    imports: the caller passes them in.

    Args:
        config: Settings read by :func:`load_config`.
        themes: The theme names the app can use.
        binding_ids: Every binding id the keymap may name.
        is_key: Whether one key name (e.g. ``"ctrl+n"``) is one Textual can deliver.

    Returns:
        Warnings (empty when the app will use every setting as written).
    """
    where = _shown(config.source) if config.source is not None else "the config"
    warnings = []
    if config.theme not in themes:
        warnings.append(f"{where}: unknown theme {config.theme!r}; the default theme is used. "
                        f"Themes: {', '.join(sorted(themes))}.")
    for old in sorted(set(config.keymap) & set(RENAMED_BINDING_IDS)):
        warnings.append(f"{where}: the binding id {old!r} in [keymap] is now {RENAMED_BINDING_IDS[old]!r}; "
                        "the old id still works, but the new one is what F1 lists.")
    unknown = sorted(set(config.keymap) - set(binding_ids) - set(RENAMED_BINDING_IDS))
    if unknown:
        warnings.append(f"{where}: unknown binding ids in [keymap]: {', '.join(map(repr, unknown))}; "
                        "they are ignored (F1 lists the ids).")
    for binding, keys in sorted(config.keymap.items()):
        bad = [key.strip() for key in keys.split(",") if not is_key(key.strip())]
        if binding not in unknown and bad:
            warnings.append(f"{where}: keymap entry {binding!r} names keys that do not exist: "
                            f"{', '.join(map(repr, bad))}; the default keys are kept.")
    return warnings


def usable_keymap(config: Config, *, binding_ids: Collection[str], is_key: Callable[[str], bool]) -> dict[str, str]:
    """The keymap entries the app applies: known binding ids whose keys all exist (a renamed id, see
    `RENAMED_BINDING_IDS`, counts as its new one unless the new one is given too)."""
    keymap = {RENAMED_BINDING_IDS[old]: keys for old, keys in config.keymap.items()
              if old in RENAMED_BINDING_IDS and RENAMED_BINDING_IDS[old] not in config.keymap}
    keymap.update(config.keymap)
    return {binding: keys for binding, keys in keymap.items()
            if binding in binding_ids and all(is_key(key.strip()) for key in keys.split(","))}
