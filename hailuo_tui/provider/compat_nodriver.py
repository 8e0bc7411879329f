"""The one place that touches nodriver's private names.

nodriver's ``Browser`` starts Chromium with ``asyncio.create_subprocess_exec`` and
keeps the process only in ``Browser._process`` (there is no public accessor; the
public ``stopped`` property reads it but cannot be awaited). The login needs the
process itself: to drain its output, to notice that it exited and to reap it in
our loop. tests/unit/test_compat_libs.py checks the attribute in the installed
nodriver, so an upgrade that renames it fails a test instead of leaving
Chromium unreaped.

Importing this module does not import nodriver.
"""

from __future__ import annotations

import asyncio
from typing import Any

#: The private attribute of ``nodriver.Browser`` read by :func:`browser_process`.
BROWSER_PRIVATE_NAMES = ("_process",)


def browser_process(browser: Any) -> asyncio.subprocess.Process | None:
    """The Chromium process a nodriver ``Browser`` started, or None before start / after ``stop()``.

    Args:
        browser: A ``nodriver.Browser``.
    """
    return getattr(browser, "_process", None)
