"""Small helpers shared by several test modules."""

from __future__ import annotations

import os


def secret_service_skip_reason() -> str:
    """'' if an unlocked Secret Service answers, else why a keyring test must skip."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return "no D-Bus session (run pytest under dbus-run-session with an unlocked gnome-keyring)"
    try:
        from keyring.backends import SecretService

        SecretService.Keyring().get_password("hailuo-tui-probe", "probe")
    except Exception as exc:
        return f"Secret Service not usable: {type(exc).__name__}: {exc}"
    return ""
