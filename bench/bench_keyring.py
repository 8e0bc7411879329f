"""A keyring backend for benchmarks: the stored login comes from an environment variable.

The app under test loads it through ``PYTHON_KEYRING_BACKEND=bench_keyring.EnvKeyring``
(with ``bench/`` on ``PYTHONPATH``), so it starts exactly as a logged-in ``hailuo-tui``
does, without a Secret Service. The login is an emulator's demo login, held in the
environment only (never written to disk). Writes stay in memory.
"""

from __future__ import annotations

import os

from keyring.backend import KeyringBackend

ENV = "HAILUO_BENCH_AUTH"


class EnvKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._values: dict[tuple[str, str], str | None] = {}

    def get_password(self, service: str, username: str) -> str | None:
        if (service, username) in self._values:
            return self._values[(service, username)]
        return os.environ.get(ENV) or None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._values[(service, username)] = None
