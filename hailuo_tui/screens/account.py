"""What the chat screen needs from the app about the login: a typed port, so neither imports the other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from hailuo_tui.provider.models import AuthResult


class AccountHost(Protocol):
    """The app, as the chat screen sees it (HailuoApp implements this)."""

    @property
    def user_keymap(self) -> Mapping[str, str]:
        """The user's ``[keymap]`` (binding id -> keys), so texts name the keys the user actually has."""
        ...

    def account_label(self) -> str:
        """One line for the status bar: logged in, not logged in, checking, demo."""
        ...

    async def get_auth(self) -> AuthResult | None:
        """The web login, asking the user to log in first if there is none (call from a worker)."""
        ...

    async def request_login(self, reason: str | None, *, welcome: bool = False, api: bool = False) -> bool:
        """Show the login screen and wait for it (call from a worker). True when logged in.

        ``api``: ask for a MiniMax API key first.
        """
        ...

    def has_web_login(self) -> bool | None:
        """Whether there is a web login; None while the stored logins are still being read. Never asks."""
        ...

    def has_api_key(self) -> bool:
        """Whether a MiniMax API key is known (keyring, environment or demo). Never asks."""
        ...

    def delete_remote_chat(self, row: Any) -> None:
        """Delete a conversation's server chat too (best effort, in the background)."""
        ...

    def start_up_done(self) -> None:
        """The first conversation is on screen (start-up is over)."""
        ...

    def save_setting(self, key: str, value: Any) -> bool:
        """Write a setting the user changed in the app to the config file; False (and a warning) if it failed."""
        ...
