"""Write settings the app changes (the theme, the web-search default) back to ``config.toml``.

The file is the user's: it is edited as a TOML document (tomlkit keeps comments,
blank lines, key order and keys we do not know), only the changed keys are
touched, and it is replaced atomically so a crash never leaves half a file.
:mod:`hailuo_tui.config` reads the file; this module never validates it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import String

from hailuo_tui.config import default_config_text

#: A setting value this module writes (the app only stores flags, words and numbers).
Value = bool | int | float | str


class ConfigWriteError(Exception):
    """The config file could not be updated; ``message`` says which file and why. The file is unchanged."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return self.message


def shown_path(path: Path) -> str:
    """``path`` as a user recognises it: the home directory written as ``~``."""
    try:
        return "~/" + str(Path(path).relative_to(Path.home()))
    except ValueError:
        return str(path)


def updated_text(text: str, values: Mapping[str, Value]) -> str:
    """``text`` (a TOML document) with top-level ``values`` set; everything else is kept byte for byte.

    Raises:
        TOMLKitError: ``text`` is not valid TOML.
    """
    document = tomlkit.parse(text)
    for key, value in values.items():
        if key in document and document[key] == value and type(document[key].unwrap()) is type(value):
            continue  # same value: leave its spelling (e.g. a comment after it) alone
        document[key] = _spelled_as_before(document.get(key), value)
    return tomlkit.dumps(document)


def _spelled_as_before(old: object, value: Value) -> object:
    """``value``, as a string in the user's quotes when the key held a 'literal' string that can hold it.

    tomlkit up to 0.15.2 wrote every new string in double quotes and 0.15.3 keeps single ones (seen in CI): the
    choice is made here, the same on every release.
    """
    if not isinstance(value, str) or not isinstance(old, String):
        return value
    if not old.as_string().startswith("'"):
        return value
    try:  # a literal string holds no ' and no control character; such a value goes in double quotes
        return tomlkit.string(value, literal=True)
    except TOMLKitError:
        return value


def save_settings(path: Path, values: Mapping[str, Value]) -> None:
    """Set top-level settings in the config file at ``path``, keeping the user's comments and keys.

    A missing file is created from the commented example (:func:`default_config_text`).
    A symlinked file is written through the link. The write is atomic and keeps the file's mode.

    Raises:
        ConfigWriteError: the file cannot be read, is not valid TOML, or cannot be written.
    """
    path = Path(path)
    target = path.resolve() if path.is_symlink() else path
    shown = shown_path(path)
    try:
        text = target.read_text(encoding="utf-8")
        mode: int | None = target.stat().st_mode & 0o777
    except FileNotFoundError:
        text, mode = default_config_text(), None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigWriteError(path, f"{shown} cannot be read ({exc}); the setting was not saved.") from exc
    try:
        new_text = updated_text(text, values)
    except TOMLKitError as exc:
        raise ConfigWriteError(path, f"{shown} is not valid TOML ({exc}); the setting was not saved.") from exc
    if new_text == text and mode is not None:
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, tmp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(new_text)
            os.chmod(tmp, mode if mode is not None else 0o600)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigWriteError(path, f"{shown} cannot be written ({exc.strerror or exc}); the setting was not saved.") from exc
