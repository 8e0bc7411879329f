"""The chat screen's sidebar: filling it, searching it, opening a match. A mixin of ``ChatScreen``, kept apart for size.

The ``@on`` handlers stay on the screen (Textual collects them from Screen subclasses only) and call these.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.widgets import Input

from hailuo_tui.store import StoreError
from hailuo_tui.widgets.conversation_list import ConversationList
from hailuo_tui.widgets.prompt_input import PromptInput

SIDEBAR_PAGE = 500
#: A search that starts with this also looks in the models' reasoning.
THINKING_PREFIX = "thinking:"
#: Search results that show a snippet of the matched text: about two screens of rows. On a database of
#: 10,000 conversations, asking snippets of all 500 rows made a search take about 15 ms instead of 7.5;
#: this many cost about 1 ms more. They are read by the same query as the rows (a second query for the
#: snippets ran the whole search twice: the first key of a search took 34 ms instead of 15).
SNIPPET_ROWS = 60


class ChatSearch:
    """Sidebar refresh and search for ``ChatScreen`` (uses its store, replies and current conversation)."""

    store: Any
    replies: dict[int, Any]
    current_id: int | None
    _searching: bool
    _search_worker: Any
    _search_wanted: int
    _search_done: int
    store_problem: Any
    open_conversation: Any

    async def refresh_sidebar(self) -> list[Any]:
        """Fill the sidebar: the newest conversations, or the matches of the search box's text."""
        query = self.query_one("#search", Input).value.strip()
        # "thinking: words" also searches the models' reasoning (left out otherwise: it is long and noisy).
        thinking = query.lower().startswith(THINKING_PREFIX)
        if thinking:
            query = query[len(THINKING_PREFIX):].strip()
        rows = await (
            self.store.search(query, limit=SIDEBAR_PAGE, snippets=SNIPPET_ROWS, include_reasoning=thinking)
            if query
            else self.store.list_conversations(limit=SIDEBAR_PAGE)
        )
        total = None if query else await self.store.count_conversations()
        sidebar = self.query_one(ConversationList)
        sidebar.set_items(rows, total=total, label="Matches" if query else "Conversations", terms=query.split())
        for conversation_id in self.replies:
            sidebar.set_busy(conversation_id, True)
        if self.current_id is not None:
            sidebar.select_id(self.current_id)
        if self.replies:
            self._update_activity()  # it names answering conversations by their sidebar titles
        return rows

    def _search_typed(self) -> None:
        # No debounce: the first key searches at once (a search of 10,000 conversations
        # takes a few ms). Keys typed while one runs are coalesced: one more search, for
        # the latest text, follows it.
        self._search_wanted += 1
        if not self._searching:
            self._searching = True
            self._search_worker = self._run_search()

    @work(group="search")
    async def _run_search(self) -> None:
        try:
            while self._search_done != self._search_wanted:
                self._search_done = self._search_wanted
                await self.refresh_sidebar()
        except StoreError as exc:  # said on screen (screens/store_faults.py), never a traceback
            self.store_problem(exc)
        finally:
            self._searching = False

    async def open_first_match(self) -> None:
        """Enter in the search box: open the first match and put the cursor in the message box."""
        if self._search_worker is not None and self._searching:
            try:
                await self._search_worker.wait()  # the results of the last key typed
            except Exception:
                return  # cancelled (the screen is closing) or failed (logged by the worker)
        ids = self.query_one(ConversationList).item_ids()
        if not ids:
            self.notify("No conversation matches.", severity="warning")
            return
        await self.open_chosen(ids[0])

    async def open_chosen(self, conversation_id: int) -> None:
        """Open a conversation chosen in the sidebar. A search result opens at its first matching
        message, under the message cursor (F5 then moves from there); the message box takes the next keys."""
        hit = self.query_one(ConversationList).hit_of(conversation_id)
        if hit is not None:
            await self.open_conversation(conversation_id, focus_id=hit)
        elif conversation_id != self.current_id:
            await self.open_conversation(conversation_id)
        self._result_opened()
        self.query_one(PromptInput).focus()

    def _result_opened(self) -> None:
        """A conversation was picked in the sidebar: the search filter and the overlay have done their job."""
        search = self.query_one("#search", Input)
        if search.value:
            search.value = ""  # the list refills (the search worker), keeping the opened one highlighted
        self.query_one("#sidebar").remove_class("-overlay")
