"""What Textual itself costs for a page of history: the floor beside app_scale.py's open-2000+top.

Usage: .venv/bin/python bench/paging_floor.py [--pages N] [--json]

A bare Textual app, nothing of hailuo-tui imported in it: a VerticalScroll holding one stock container
per message of app_scale.py's 2,000-message conversation (a Vertical with a one-line Static header and a
Static body of the message's text as plain, wrapped text; the chat's margins, padding and left border),
paged as the chat view pages it (`Paging`: the newest 24 mounted at first, 6 older ones mounted above
the first on each scroll to the top, the newest beyond 40 removed in the same batch). Each step scrolls
to the top as open-2000+top's does (``scroll_to(y=0, immediate)``) and is timed to the first frame in
which the page is mounted and laid out. Nothing keeps the reader's place here (Textual has no way to
say so inside the layout; the chat view's `arrange` moves the offset within the page's own layout), so
after each page the view is moved off the top, untimed.

So the floor has Textual's mount, styles, layout and frame for the same widget count and heights
within a row or two, without Markdown: no parse, no highlighting, no tables (those are hailuo-tui's own
cost). The floor leaves Python's collector as Python sets it: its full collections land inside pages
(counted, and the longest, beside). Printed: the mean, median and worst page; ``--json``: one JSON line.
Headless, 100x40, the size app_scale.py uses. Never run as a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: The chat view's page sizes (hailuo_tui.domain.Paging), copied so the floor imports none of hailuo-tui.
WINDOW, PAGE, MOUNTED_MAX = 24, 6, 40


def conversation() -> list[tuple[str, str]]:
    """(role, content) of app_scale.py's big conversation, oldest first (the cached history; built if missing)."""
    import app_scale

    with sqlite3.connect(f"file:{app_scale.history_db()}?mode=ro", uri=True) as conn:
        return conn.execute(
            "SELECT role, content FROM messages WHERE conversation_id = ? ORDER BY id", (app_scale.BIG_ID,)
        ).fetchall()


def floor_pages(pages: int = 330) -> dict:
    """Page up the conversation in the bare app; the per-page figures (s)."""
    messages = conversation()
    return asyncio.run(_run(messages, pages))


async def _run(messages: list[tuple[str, str]], pages: int) -> dict:
    from textual.app import App, ComposeResult
    from textual.containers import Vertical, VerticalScroll
    from textual.widgets import Static

    class Message(Vertical):
        DEFAULT_CSS = """
        Message { height: auto; margin: 0 0 1 0; padding: 0 1; border-left: outer $secondary 50%; }
        Message.-user { border-left: outer $primary; background: $boost; }
        Message > .header { height: 1; color: $text-muted; }
        Message > .body { height: auto; }
        """

        def __init__(self, index: int, role: str, text: str) -> None:
            super().__init__(classes=f"-{role}")
            self.index, self.role, self.text = index, role, text

        def compose(self) -> ComposeResult:
            yield Static("You" if self.role == "user" else "Hailuo", classes="header", markup=False)
            yield Static(self.text, classes="body", markup=False)

    class Floor(App):
        def compose(self) -> ComposeResult:
            yield VerticalScroll(id="view")

    import gc

    app = Floor()
    seen: list[float] = []
    full: list[float] = []  # the full (generation 2) collections Python ran while pages were timed, s
    started_gc = [0.0]

    def collections(phase: str, info: dict) -> None:
        if info.get("generation") == 2:
            if phase == "start":
                started_gc[0] = time.perf_counter()
            elif timing:
                full.append(time.perf_counter() - started_gc[0])

    timing = False
    gc.callbacks.append(collections)
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            view = app.query_one("#view", VerticalScroll)
            oldest = len(messages) - WINDOW
            await view.mount_all([Message(i, *messages[i]) for i in range(oldest, len(messages))])
            await pilot.pause(0.3)
            screen = app.screen
            frame = screen._compositor_refresh
            wanted: list = []

            def spy() -> None:
                frame()
                if wanted and not seen_now and wanted[0]():
                    seen_now.append(time.perf_counter())

            seen_now: list[float] = []
            screen._compositor_refresh = spy  # type: ignore[method-assign]

            async def page() -> None:
                nonlocal oldest
                first = view.children[0]
                start = max(0, oldest - PAGE)
                new = [Message(i, *messages[i]) for i in range(start, oldest)]
                oldest = start
                with app.batch_update():
                    await view.mount_all(new, before=first)
                    excess = len(view.children) - MOUNTED_MAX
                    if excess > 0:
                        await view.remove_children(list(view.children)[-excess:])

            for _ in range(pages):
                if oldest == 0:
                    break
                target = oldest - PAGE if oldest >= PAGE else 0
                wanted[:] = [lambda t=target: view.children[0].index == t and view.children[0].region.height > 0]
                seen_now.clear()
                timing = True
                started = time.perf_counter()
                view.scroll_to(y=0, animate=False, immediate=True, force=True)
                app.run_worker(page(), exclusive=True)
                deadline = started + 10
                while not seen_now:
                    if time.perf_counter() > deadline:
                        raise TimeoutError(f"page at {target} never drawn")
                    await asyncio.sleep(0.001)
                seen.append(seen_now[0] - started)
                timing = False
                # Off the top again (untimed), as the chat view is once it has kept the reader's place.
                view.scroll_to(y=min(view.max_scroll_y, 40), animate=False, immediate=True, force=True)
                await pilot.pause(0.01)
    finally:
        gc.callbacks.remove(collections)
    return {
        "floor_pages": len(seen),
        "floor_page_mean_s": statistics.fmean(seen) if seen else 0.0,
        "floor_page_median_s": statistics.median(seen) if seen else 0.0,
        "floor_page_max_s": max(seen, default=0.0),
        "floor_full_collections": len(full),
        "floor_longest_collection_s": max(full, default=0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=330, help="pages to read up (default: to the top, 330)")
    parser.add_argument("--json", action="store_true", help="one JSON line")
    args = parser.parse_args()
    out = floor_pages(args.pages)
    if args.json:
        print(json.dumps(out))
        return
    from run import machine

    print(f"machine: {machine()}")
    print("Textual's floor for a page of history (stock widgets in the chat's shape, plain text): "
          + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
