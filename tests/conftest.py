"""Fixtures for every test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _forget_secrets():
    """Each test starts with no registered secret (hailuo_tui.redact keeps them per process).

    A test token such as "nonsense" would otherwise be redacted from every later test's text.
    """
    from hailuo_tui.redact import SECRETS

    SECRETS.forget_all()
    yield
    SECRETS.forget_all()
