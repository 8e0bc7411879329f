"""The :class:`ChatStore` calls as coroutines, on one worker thread, in call order.

Each query is written once, in :class:`ChatStore`. :func:`on_worker` makes the
coroutine for one of its methods, keeping its parameters and return type for
type checkers (``ParamSpec``) and for ``inspect.signature``; the class below
only lists which methods it offers.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from .db import ChatStore
from .rows import StoreError

P = ParamSpec("P")
R = TypeVar("R")


def on_worker(
    method: Callable[Concatenate[ChatStore, P], R],
) -> Callable[Concatenate[AsyncChatStore, P], Coroutine[Any, Any, R]]:
    """The coroutine method that runs ``method`` on the async store's worker thread.

    The method is looked up on the store when called, not when the class is
    built, so a test can replace it on the instance.
    """
    name = method.__name__

    @functools.wraps(method)
    async def call(self: AsyncChatStore, *args: P.args, **kwargs: P.kwargs) -> R:
        bound = getattr(self._store, name)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(bound, *args, **kwargs))

    return call


class AsyncChatStore:
    """The :class:`ChatStore` calls as coroutines, run on one dedicated thread in call order.

    One thread, so calls never overlap and a write made before another is seen by it.
    """

    def __init__(self, store: ChatStore, executor: ThreadPoolExecutor) -> None:
        self._store = store
        self._executor = executor
        self._closed = False

    @classmethod
    async def open(cls, path: Path | str) -> AsyncChatStore:
        """Open (and migrate) the database on the worker thread."""
        return await PendingStore(path).result()

    @property
    def sync(self) -> ChatStore:
        """The underlying synchronous store (for tests and start-up code)."""
        return self._store

    @property
    def needs_check(self) -> bool:
        """:attr:`ChatStore.needs_check`: a big file not recorded sound, to check beside the app."""
        return self._store.needs_check

    async def check_beside(self) -> StoreError | None:
        """:meth:`ChatStore.check_beside` on a thread of its own: the store's calls go on meanwhile."""
        return await asyncio.to_thread(self._store.check_beside)

    async def close(self) -> None:
        """Close the database, then stop the worker thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._executor, self._store.close)
        self._executor.shutdown(wait=True)

    create_conversation = on_worker(ChatStore.create_conversation)
    get_conversation = on_worker(ChatStore.get_conversation)
    list_conversations = on_worker(ChatStore.list_conversations)
    count_conversations = on_worker(ChatStore.count_conversations)
    search = on_worker(ChatStore.search)
    rename = on_worker(ChatStore.rename)
    apply_server_title = on_worker(ChatStore.apply_server_title)
    set_remote_chat = on_worker(ChatStore.set_remote_chat)
    set_conversation_settings = on_worker(ChatStore.set_conversation_settings)
    delete_conversation = on_worker(ChatStore.delete_conversation)
    add_message = on_worker(ChatStore.add_message)
    add_turn = on_worker(ChatStore.add_turn)
    update_message = on_worker(ChatStore.update_message)
    delete_message = on_worker(ChatStore.delete_message)
    messages = on_worker(ChatStore.messages)
    count_messages = on_worker(ChatStore.count_messages)
    last_message = on_worker(ChatStore.last_message)
    recover_interrupted = on_worker(ChatStore.recover_interrupted)
    path_to = on_worker(ChatStore.path_to)
    all_messages = on_worker(ChatStore.all_messages)
    switch_version = on_worker(ChatStore.switch_version)
    open_at = on_worker(ChatStore.open_at)
    messages_around = on_worker(ChatStore.messages_around)
    delete_branch = on_worker(ChatStore.delete_branch)
    fork_conversation = on_worker(ChatStore.fork_conversation)


class PendingStore:
    """A database being opened (and migrated) on its worker thread from the moment this is made, with or
    without an event loop running: the app starts opening its database before Textual's imports, so the
    two overlap (SQLite works, and waits on the disk, without Python's lock).

    Args:
        path: The database file.
        before: Run first on the worker thread (the data directory's creation); what it raises is raised
            by :meth:`result`, as :class:`ChatStore`'s errors are.
    """

    def __init__(self, path: Path | str, before: Callable[[], object] | None = None) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hailuo-store")

        def open_store() -> ChatStore:
            if before is not None:
                before()
            return ChatStore(path)

        self._future = self._executor.submit(open_store)
        self._taken = False

    async def result(self) -> AsyncChatStore:
        """The open store (raises what opening it raised)."""
        self._taken = True
        try:
            store = await asyncio.wrap_future(self._future)
        except BaseException:
            self._executor.shutdown(wait=False)
            raise
        return AsyncChatStore(store, self._executor)

    def abandon(self) -> None:
        """Not wanted after all (the app ended first, or uses another file): close what was opened."""
        if self._taken:
            return
        self._taken = True

        def close() -> None:
            try:
                store = self._future.result()
            except BaseException:  # it failed to open: nothing to close
                return
            store.close()

        self._executor.submit(close)  # on the worker, after the open
        self._executor.shutdown(wait=True)
