"""What keeps the app up and honest when the store or the process is in trouble: a mixin of HailuoApp.

- A store refusal (locked, disk full, read-only, damaged) raised by a bound action, a worker or a
  dialog's callback is said on screen, never printed as a traceback that ends the app.
- SIGTERM and SIGHUP close the app as Ctrl+Q does.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from hailuo_tui.textual_compat import ErrorHooks


class AppGuards(ErrorHooks):
    """Uses the app's ``chat_screen``, ``closing_signal``, ``notify``, ``exit`` and ``call_next``."""

    chat_screen: Any
    closing_signal: int | None

    async def dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        # Key bindings and palette entries run actions here (rename, delete, export… read or
        # write the store): a store refusal is said on the screen, not raised into Textual.
        from hailuo_tui.store import StoreError

        try:
            return await super().dispatch_action(namespace, action_name, params)
        except StoreError as exc:
            self._store_problem(exc)
            return True

    def handle_exception(self, error: Exception) -> None:
        # The last net (a dialog's callback, a worker): Textual would print a traceback and exit.
        from textual.worker import WorkerFailed

        from hailuo_tui.store import StoreError

        if isinstance(error, WorkerFailed) and isinstance(error.error, StoreError):
            error = error.error  # a worker's exception reaches here wrapped
        if isinstance(error, StoreError) and self.chat_screen is not None and self.chat_screen.is_attached:
            self._store_problem(error)
            return
        if isinstance(error, StoreError):
            self.exit(return_code=1, message=f"{error.title}: {error.message}")
            return
        super().handle_exception(error)

    def _store_problem(self, exc: Any) -> None:
        if self.chat_screen is not None and self.chat_screen.is_attached:
            self.chat_screen.store_problem(exc)
        else:
            self.notify(exc.message, title=exc.title, severity="error", timeout=15, markup=False)

    def _handle_close_signals(self) -> None:
        """SIGTERM and SIGHUP (a closed terminal, ``kill``, a logout) close the app like Ctrl+Q: every
        streaming answer is saved as interrupted and the terminal is restored (alternate screen and
        mouse reporting off). Without this, Python dies at once and leaves both, and the answer's row
        in ``streaming``."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(signum, self._close_on_signal, signum)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread (tests), or a platform without these signals

    def _close_on_signal(self, signum: int) -> None:
        if self.closing_signal is not None:
            return  # already closing: a second signal must not cut the final saves short
        self.closing_signal = signum
        logging.getLogger(__name__).info("closing on signal %s", signum)

        async def close() -> None:
            if self.chat_screen is not None:
                await self.chat_screen.stop_all()
            self.exit(return_code=128 + signum)

        self.call_next(close)
