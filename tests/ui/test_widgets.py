"""Widgets in a tiny host app."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from dataclasses import dataclass

from textual import events

from hailuo_tui import textual_compat
from hailuo_tui.domain import ShownMessage
from hailuo_tui.textual_compat import XTermParser
from hailuo_tui.widgets import (
    ChatView,
    ConversationList,
    MessageBubble,
    PromptInput,
    StatusBar,
)
from hailuo_tui.widgets.conversation_list import fit_row
from hailuo_tui.widgets.markdown_body import MarkdownBody
from hailuo_tui.markdown.blocks import split_all
from hailuo_tui.widgets.plain_body import PLAIN_CHARS, PLAIN_LINES, shown_as_plain, wrap_line
from hailuo_tui.widgets.kitty_parser import KittyParser, repair_leaked_text
from tests.ui.conftest import Host, Spy, scroll_to_oldest


def click_actions(body: MarkdownBody) -> list[str]:
    """Every click action in the lines a Markdown body draws."""
    actions = []
    for y in range(body.line_count):
        for segment in body.render_line(y):
            meta = segment.style.meta if segment.style is not None else {}
            if meta.get("@click"):
                actions.append(meta["@click"])
    return actions


# -- MessageBubble ------------------------------------------------------------


async def test_bubble_streams_code_fence_split_across_deltas():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 30)) as pilot:
        bubble = await view.add_message("assistant", status="streaming")
        deltas = ["Here you go:\n\n```py", "thon\nprint('hi')\n", "x = 1\n``", "`\n\nDone", "."]
        for delta in deltas:
            await bubble.append(delta)
            await pilot.pause(0.01)
        await bubble.finish()
        await pilot.pause()
        source = "".join(deltas)
        assert bubble.text == source
        assert bubble.markdown.source == source
        body = bubble.markdown
        assert body.blocks == ["Here you go:\n\n", "```python\nprint('hi')\nx = 1\n```\n\n", "Done."]
        lines = [line.rstrip() for line in body.lines_text()]
        assert lines == ["Here you go:", "", " python", " print('hi')", " x = 1", "", "", "Done."]
        assert bubble.code_blocks() == ["print('hi')\nx = 1"]
        assert not bubble.has_class("-streaming")
        assert bubble.status == "complete"


SAMPLE = """# Title

Intro paragraph with **bold**, *em*, `code` and a [link](https://example.com).

- one
- two with `x`
  - nested
- three

1. first
2. second

```python
def f(x):
    return x * 2
```

| a | b |
|---|---|
| 1 | 中文 |
| 3 | 4 |

> quoted text
> more

```
plain fence
```

Last line.
"""


async def test_streamed_equals_one_shot():
    one_shot = MarkdownBody(SAMPLE, id="one-shot")
    view = ChatView()
    app = Host(one_shot, view)
    rng = random.Random(7)
    async with app.run_test(size=(100, 60)) as pilot:
        for split in ("chars", "random"):
            bubble = await view.add_message("assistant", status="streaming")
            pos = 0
            while pos < len(SAMPLE):
                step = 1 if split == "chars" else rng.randint(1, 25)
                await bubble.append(SAMPLE[pos : pos + step])
                pos += step
                if rng.random() < 0.1:
                    await pilot.pause(0.04)  # let some flushes happen mid-way
            await bubble.finish()
            await pilot.pause()
            assert bubble.markdown.source == SAMPLE
            assert bubble.markdown.blocks == split_all(SAMPLE) == one_shot.blocks
            # Same lines (the one-shot body is wider: it is not in a bubble).
            streamed = [line.rstrip() for line in bubble.markdown.lines_text()]
            assert streamed == [line.rstrip() for line in one_shot.lines_text()]
            assert any(line.startswith("• two with x") for line in streamed)


async def test_bubble_coalesces_appends():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 30)) as pilot:
        bubble = await view.add_message("assistant", status="streaming")
        calls = 0
        original = bubble.markdown.append

        def counting_append(markdown: str):
            nonlocal calls
            calls += 1
            return original(markdown)

        bubble.markdown.append = counting_append  # type: ignore[method-assign]
        for i in range(500):
            await bubble.append(f"word{i} ")
        await bubble.finish()
        await pilot.pause()
        assert calls < 20, calls
        assert bubble.markdown.source == "".join(f"word{i} " for i in range(500))


class ProcessClock:
    """The clocks a bubble reads (``message_bubble.time``, ``flush_pacing.time``), moved on by the test: wall time and the
    process's CPU time. On a CPU-starved machine a process cannot use more than its small share of a
    core, however hard it spins; with the bubble's clocks in the test's hands, its measure is exact."""

    def __init__(self) -> None:
        self.wall, self.cpu = 1000.0, 10.0

    def monotonic(self) -> float:
        return self.wall

    def process_time(self) -> float:
        return self.cpu

    def run(self, seconds: float, share: float) -> None:
        """Let ``seconds`` pass, the process using ``share`` of a core meanwhile."""
        self.wall += seconds
        self.cpu += seconds * share

    def __getattr__(self, name: str):
        return getattr(time, name)


async def test_bubble_spaces_out_writes_while_the_app_is_busy(monkeypatch):
    """The flush interval follows the app's CPU use as the bubble measures it (CPU time over wall
    time): stretched while the process uses more than `CPU_BUDGET` of a core, kept while it uses a
    little less, back to the shortest once it is idle."""
    from hailuo_tui.widgets import flush_pacing, message_bubble

    clock = ProcessClock()
    monkeypatch.setattr(message_bubble, "time", clock)
    monkeypatch.setattr(flush_pacing, "time", clock)
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 30)) as pilot:
        bubble = await view.add_message("assistant", status="streaming")
        assert bubble._interval == MessageBubble.FLUSH_INTERVAL

        async def stream(share: float, steps: int) -> list[float]:
            """A word each 0.3 s (longer than any interval: each one is written at once)."""
            intervals = []
            for _ in range(steps):
                clock.run(0.3, share)
                await bubble.append("word ")
                await pilot.pause()
                intervals.append(bubble._interval)
            return intervals

        busy = await stream(0.75, 40)
        assert busy == sorted(busy) and busy[-1] == MessageBubble.FLUSH_INTERVAL_MAX, busy
        near = await stream(MessageBubble.CPU_BUDGET * 0.75, 10)  # under the budget, over half of it
        assert set(near) == {MessageBubble.FLUSH_INTERVAL_MAX}, near
        idle = await stream(0.002, 40)
        assert idle == sorted(idle, reverse=True) and idle[-1] == MessageBubble.FLUSH_INTERVAL, idle
        await bubble.finish()
        assert bubble.text == "word " * 90


async def test_bubble_sanitizes_stream():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 30)) as pilot:
        bubble = await view.add_message("assistant", status="streaming")
        for delta in ["a\x1b]52;c;aGVsbG8=", "\x07b\x1b[3", "1mc\u202ed\r", "\ne"]:
            await bubble.append(delta)
        await bubble.finish()
        await pilot.pause()
        assert bubble.text == "abcd\ne"


async def test_markup_in_messages_is_literal_and_inert():
    evil = "[@click=app.quit]hi[/] [bold red]x[/] [link=https://evil]y[/link]"
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 30)) as pilot:
        await view.load([ShownMessage(1, "user", evil), ShownMessage(2, "assistant", evil, "failed", "[@click=app.quit]boom[/]")])
        await pilot.pause()
        for bubble in view.bubbles:  # the user's as typed (a plain body), the answer as Markdown
            body = bubble.body
            lines = [body.render_line(y).text for y in range(body.line_count)]
            assert evil in " ".join(line.strip() for line in lines)
            # Only the body's own link action may appear (none here: no Markdown link).
            actions = click_actions(body)
            assert all(a.startswith("link(") for a in actions), actions
        header = view.bubbles[1].query_one("#header")
        assert "failed" in str(header.render())
        note = view.bubbles[1].extras.content()  # the reason, in full, under the answer: literal text
        assert "Failed: [@click=app.quit]boom[/]" in note.plain
        assert not [span for span in note.spans if "@click" in str(span.style)]
        # Clicking the text must not quit.
        await pilot.click(view.bubbles[1].markdown, offset=(3, 0))
        await pilot.click(view.bubbles[0].body, offset=(3, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None


def test_plain_wrap_keeps_wide_and_combining_characters_whole():
    from rich.cells import cell_len

    line = ("中文句子👍🏽e\u0301👨\u200d👩\u200d👧 a\u0308 " * 30).rstrip()
    for width in (7, 20, 41):  # at least one grapheme cluster (👍🏽 is 4 cells to Rich) wide
        cuts = [0, *wrap_line(line, width), len(line)]
        rows = [line[a:b] for a, b in zip(cuts, cuts[1:])]
        assert "".join(rows) == line
        for row in rows:
            assert cell_len(row.rstrip()) <= width, (width, row)
            assert not row or not (row[0] in "\u0301\u0308\u200d\U0001f3fd"), (width, row)


def test_shown_as_plain_thresholds():
    assert not shown_as_plain("short\n\n" * 100)
    assert shown_as_plain("x" * (PLAIN_CHARS + 1))
    assert shown_as_plain("a\n" * PLAIN_LINES)
    assert shown_as_plain("word " * 5_000)  # one 25,000-character paragraph


async def test_huge_message_streamed_switches_to_plain_text_like_loaded():
    text = "".join(f"line {i} 中文 👍🏽 e\u0301\n" for i in range(PLAIN_LINES + 500))
    loaded = MessageBubble("assistant", text)
    streamed = MessageBubble("assistant", status="streaming")
    app = Host(loaded, streamed)
    async with app.run_test(size=(60, 20)) as pilot:
        assert loaded.is_plain and loaded.body.source == text
        pos = 0
        while pos < len(text):
            await streamed.append(text[pos : pos + 997])
            pos += 997
        await streamed.finish()
        await pilot.pause()
        assert streamed.is_plain and streamed.text == text and streamed.body.source == text
        assert not streamed.query("MarkdownBody")
        await pilot.pause()
        rows = [loaded.body.render_line(y).text for y in range(loaded.body.line_count)]
        again = [streamed.body.render_line(y).text for y in range(streamed.body.line_count)]
        assert rows == again and len(rows) >= PLAIN_LINES
        assert "shown as plain text" in str(streamed.query_one("#header").render())


async def test_bubble_statuses():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 30)) as pilot:
        bubble = await view.add_message("assistant", status="streaming")
        assert bubble.has_class("-streaming")
        assert "answering…" in str(bubble.query_one("#header").render())
        await bubble.append("partial")
        await bubble.finish("interrupted")
        assert bubble.has_class("-interrupted") and not bubble.has_class("-streaming")
        assert "interrupted" in str(bubble.query_one("#header").render())
        bubble.set_status("failed", "network down")
        await pilot.pause()
        assert bubble.has_class("-error")
        assert "failed" in str(bubble.query_one("#header").render())
        assert "Failed: network down" in bubble.extras.content().plain
        assert "Hailuo" in str(bubble.query_one("#header").render())
        user = await view.add_message("user", "hi")
        assert "You" in str(user.query_one("#header").render())


# -- ChatView ------------------------------------------------------------------


def _messages(n: int, start: int = 0):
    return [
        ShownMessage(i, "user" if i % 2 == 0 else "assistant", f"message {i}")
        for i in range(start, start + n)
    ]


async def test_chat_view_empty_state_and_follow():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(60, 20)) as pilot:
        assert view.query_one("#empty-state").display
        await view.load(_messages(20))
        await pilot.pause()
        assert not view.query_one("#empty-state").display
        assert view.scroll_y == view.max_scroll_y > 0
        bubble = await view.add_message("assistant", status="streaming")
        for i in range(30):
            await bubble.append(f"line {i}\n\n")
        await bubble.finish()
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y
        assert view.last_bubble() is bubble
        assert view.last_bubble("user").message_id == 18
        await view.clear()
        await pilot.pause()
        assert view.query_one("#empty-state").display and not view.bubbles


async def test_chat_view_loads_tail_of_long_conversation_and_prepends():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(60, 20)) as pilot:
        started = time.perf_counter()
        await view.load(_messages(2000))
        await pilot.pause()
        assert time.perf_counter() - started < 5
        assert len(view.bubbles) == ChatView.WINDOW
        assert view.bubbles[0].message_id == 2000 - ChatView.WINDOW
        assert view.bubbles[-1].message_id == 1999
        assert view.held_count == 2000 - ChatView.WINDOW
        # Scrolling to the top mounts the previous page, keeping the view still.
        first_visible = view.bubbles[0]
        view.scroll_home(animate=False, immediate=True)
        await pilot.pause(0.1)
        await pilot.pause()
        assert len(view.bubbles) == ChatView.WINDOW + ChatView.PAGE
        assert view.bubbles[0].message_id == 2000 - ChatView.WINDOW - ChatView.PAGE
        assert view.scroll_y > 0
        assert first_visible.region.y <= view.region.y + 2

        # A window from the store: the view mounts the newest, then a page at a time of the rest it
        # holds, and asks the store for older ones before those run out (ahead of need).
        await view.load(_messages(50, start=100), has_older=True)
        await pilot.pause()
        assert len(view.bubbles) == ChatView.WINDOW and view.held_count == 50 - ChatView.WINDOW
        for _ in range(20):
            view.scroll_home(animate=False, immediate=True)
            await pilot.pause(0.1)
            # The page's mount done before the next scroll (a slow moment would let that scroll cancel it).
            await asyncio.wait_for(app.workers.wait_for_complete(), 10)
            await pilot.pause()
            if any(isinstance(m, ChatView.OlderRequested) for m in app.seen):
                break
        requests = [m for m in app.seen if isinstance(m, ChatView.OlderRequested)]
        assert [m.before_id for m in requests] == [100]
        held = view.held_count
        assert 0 < held < ChatView.PAGE  # asked while some were still held
        # An answer to another question (an older request, another conversation) is dropped.
        await view.prepend(_messages(50, start=0), has_older=False, before_id=99)
        assert view.held_count == held
        await view.prepend(_messages(50, start=50), has_older=False, before_id=100)
        assert view.held_count == held + 50
        # Reading on up to the first: at most MOUNTED_MAX stay mounted, the newest wait below, in memory.
        await scroll_to_oldest(pilot, view, 50)
        assert len(view.bubbles) == ChatView.MOUNTED_MAX == 40
        assert view.bubbles[0].message_id == 50 and view.bubbles[-1].message_id == 50 + ChatView.MOUNTED_MAX - 1
        assert view.below_count == 100 - ChatView.MOUNTED_MAX
        assert len([m for m in app.seen if isinstance(m, ChatView.OlderRequested)]) == 1  # has_older=False


async def test_the_mounted_messages_fill_two_screens():
    """`load` mounts `WINDOW` messages, and more of those it holds while they do not fill
    two screens: a tall terminal of short messages could not scroll, so older ones were
    out of reach."""
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(60, 70)) as pilot:
        await view.load(_messages(400))  # 3 rows each: WINDOW of them fill 72 rows, not 140
        for _ in range(50):
            await pilot.pause(0.02)
            if view.virtual_size.height >= 2 * view.size.height:
                break
        assert len(view.bubbles) > ChatView.WINDOW
        assert view.virtual_size.height >= 2 * view.size.height
        assert view.bubbles[-1].message_id == 399 and view.scroll_y == view.max_scroll_y > 0
        assert not [m for m in app.seen if isinstance(m, ChatView.OlderRequested)]


async def test_a_page_of_older_messages_is_laid_out_once():
    """Mounting a page of bubbles above costs one layout of the view: a newly placed bubble,
    header or body does not ask for Textual's second pass (issue 5: it doubled the
    cost of each page while reading up). The reader's place is kept."""
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(60, 20)) as pilot:
        await view.load(_messages(400))
        await pilot.pause(0.2)
        spy = Spy(app.screen)
        for _ in range(3):
            spy.arranged.clear()
            top = view.bubbles[0]
            view.scroll_home(animate=False, immediate=True)
            await pilot.pause(0.1)
            await pilot.pause()
            assert view.bubbles[0].message_id == top.message_id - ChatView.PAGE
            arranged = [names for names in spy.arranged if names]  # a scroll alone names no widget
            assert len(arranged) == 1 and "ChatView" in arranged[0], spy.arranged
            assert view.scroll_y > 0 and top.region.y <= view.region.y + 2  # still where it was read


async def test_a_page_is_drawn_once_laid_out_not_at_the_next_frame_tick(monkeypatch):
    """The reader waits for a page of older messages: its frame is drawn as soon as the mount's layout requests
    have reached the screen (textual_compat.draw_when_laid_out), before the mount returns, with one layout;
    switched off, Textual's frame timer draws it after the mount returned (up to 16.7 ms later)."""
    view = ChatView()
    app = Host(view)
    mounting = [False]
    mount_older = view._mount_older

    async def watched(messages):
        mounting[0] = True
        try:
            await mount_older(messages)
        finally:
            mounting[0] = False

    monkeypatch.setattr(view, "_mount_older", watched)
    async with app.run_test(size=(60, 20)) as pilot:
        await view.load(_messages(400))
        await pilot.pause(0.2)
        frames: list[tuple[int, bool]] = []  # per frame: the oldest mounted message, drawn inside the mount
        spy = Spy(app.screen, after_frame=lambda: frames.append((view.bubbles[0].message_id, mounting[0])))
        for drawn_at_once in (True, False, True):
            monkeypatch.setattr(textual_compat, "_draw_when_laid_out", drawn_at_once)
            oldest = view.bubbles[0].message_id
            frames.clear()
            spy.arranged.clear()
            view.scroll_home(animate=False, immediate=True)  # the reader reaches the top
            for _ in range(50):
                await pilot.pause(0.02)
                if frames and frames[-1][0] < oldest and not mounting[0]:
                    break
            page = oldest - ChatView.PAGE
            assert view.bubbles[0].message_id == page
            assert ((page, True) in frames) is drawn_at_once, (drawn_at_once, frames)
            assert frames[-1][0] == page, frames
            assert len([names for names in spy.arranged if names]) == 1, spy.arranged  # one layout either way
            assert view.scroll_y > 0  # the reader's place kept, off the top


async def test_an_answers_last_words_and_its_end_are_drawn_once_laid_out_not_at_the_next_frame_tick(monkeypatch):
    """The lag after an answer's last event is the reader's wait: the words the bubble held for its next write
    (`show_buffered`, before the reply's final save) and the end (`finish`) are drawn as soon as laid out
    (textual_compat.draw_soon). The screen's 60 Hz frame timer is frozen here: switched on, frames show them
    all the same; switched off, none does (only the tick would have drawn them, up to 16.7 ms later)."""
    view = ChatView()
    app = Host(view)

    async def within_turns(seen) -> bool:
        for _ in range(100):  # turns of the event loop, not time
            if seen():
                return True
            await asyncio.sleep(0)
        return bool(seen())

    async with app.run_test(size=(60, 20)) as pilot:
        bubble = None
        shown: list[tuple[str, str]] = []  # per frame: the body's text, the bubble's status

        def record() -> None:  # a frame drawn before the bubble and its body are mounted has nothing to show
            body = bubble.query("#md-body") if bubble is not None else None
            if body:
                shown.append((body.first().source, bubble.status))

        Spy(app.screen, after_frame=record)
        timer = app.screen._update_timer
        for at_once in (True, False):
            monkeypatch.setattr(textual_compat, "_draw_last_words_at_once", at_once)
            bubble = await view.add_message("assistant", status="streaming")
            await bubble.append("Some words. " * 40)
            await pilot.pause(0.2)
            monkeypatch.setattr(timer, "resume", lambda: None)  # the tick never comes
            timer.pause()
            shown.clear()
            last = f"The end ({at_once})."
            await bubble.append("More words. ")  # written at once (the last write is old)
            await bubble.append(last)  # held for the next write, a flush interval later
            assert bubble._pending, "the last words were written at once: nothing to show here"
            await bubble.show_buffered()
            drawn = await within_turns(lambda: any(text.endswith(last) for text, _ in shown))
            assert drawn is at_once, (at_once, shown[-1:])
            await bubble.finish()
            ended = await within_turns(lambda: any(status == "complete" for _, status in shown))
            assert ended is at_once, (at_once, shown[-1:])
            monkeypatch.undo()  # the timer ticks again
            await pilot.pause(0.1)


async def test_the_first_frame_of_a_page_keeps_the_readers_place():
    """A page mounted above the message at the top of the screen leaves that message where it was
    in every frame, the first that holds the page included (issue 14: the view used to draw the
    page at the old offset, the wrong messages for a frame, then scroll back)."""
    view = ChatView()
    app = Host(view)
    shown: list[tuple[int, int, int]] = []  # per frame: the oldest mounted, the top visible, its row

    def top_visible() -> None:
        for bubble in view.bubbles:
            if bubble.region.bottom > view.region.y:
                shown.append((view.bubbles[0].message_id, bubble.message_id, bubble.region.y))
                return

    async with app.run_test(size=(60, 20)) as pilot:
        await view.load(_messages(400))
        await pilot.pause(0.2)
        Spy(app.screen, after_frame=top_visible)
        for _ in range(4):
            oldest = view.bubbles[0].message_id
            view.scroll_home(animate=False, immediate=True)
            for _ in range(50):
                await pilot.pause(0.02)
                if view.bubbles[0].message_id < oldest and shown and shown[-1][0] < oldest:
                    break
            with_page = [frame for frame in shown if frame[0] < oldest]
            assert with_page, shown
            # Every frame with the page shows what the reader had at the top, on the top row.
            assert {frame[1:] for frame in with_page} == {(oldest, view.region.y)}, shown
            assert view.scroll_y > 0
            shown.clear()


async def test_chat_view_reading_up_and_down_keeps_the_window_bounded():
    """Scroll through 400 messages to the top and back: never more than MOUNTED_MAX
    bubbles, every message seen once in order, and a new message brings the tail back."""
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(60, 20)) as pilot:
        await view.load(_messages(400))
        await pilot.pause()
        seen = {bubble.message_id for bubble in view.bubbles}
        for ids in await scroll_to_oldest(pilot, view, 0, steps=200):
            assert len(ids) <= ChatView.MOUNTED_MAX
            assert ids == list(range(ids[0], ids[0] + len(ids)))  # contiguous, in order
            seen.update(ids)
        assert view.bubbles[0].message_id == 0 and len(seen) == 400
        assert view.below_count == 400 - ChatView.MOUNTED_MAX
        for _ in range(200):
            if not view.below_count:
                break
            view.scroll_to(y=view.max_scroll_y, animate=False, immediate=True)  # as the wheel or PageDown
            await pilot.pause(0.02)
            await pilot.pause()
            assert len(view.bubbles) <= ChatView.MOUNTED_MAX
            ids = [bubble.message_id for bubble in view.bubbles]
            assert ids == list(range(ids[0], ids[0] + len(ids)))
        assert view.below_count == 0 and view.bubbles[-1].message_id == 399
        # Up again a little; End brings the newest back at once.
        for _ in range(3):
            view.scroll_home(animate=False, immediate=True)
            await pilot.pause(0.02)
            await pilot.pause()
        assert view.below_count
        view.scroll_end(animate=False)
        for _ in range(100):
            await pilot.pause(0.05)
            if not view.below_count and view.scroll_y == view.max_scroll_y:
                break
        assert view.below_count == 0 and view.bubbles[-1].message_id == 399
        assert view.scroll_y == view.max_scroll_y
        # Up again, then a new message: the newest come back first.
        for _ in range(3):
            view.scroll_home(animate=False, immediate=True)
            await pilot.pause(0.02)
            await pilot.pause()
        assert view.below_count
        bubble = await view.add_message("user", "new", message_id=400)
        await pilot.pause()
        ids = [b.message_id for b in view.bubbles]
        assert ids[-2:] == [399, 400] and view.below_count == 0
        assert bubble is view.last_bubble()


async def test_trimmed_messages_let_the_lines_they_drew_go_at_once():
    """The bubbles the window trims free their drawn lines (Textual's Strips, each with the cuts and
    crops cached in it, and the bodies' rendered lines) as they are removed, by reference counting. The
    widgets themselves are cyclic garbage that waits for a full collection, which runs at quiet moments
    (hailuo_tui.idle_gc): the lines waiting with them made it walk and free twice as much (issue 14)."""
    from textual.strip import Strip

    def strips() -> int:
        return sum(1 for item in gc.get_objects() if isinstance(item, Strip))

    answer = "\n\n".join(f"Paragraph {i} of an answer, with **bold** and `code`." for i in range(12))
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(60, 20)) as pilot:
        for i in range(ChatView.KEEP + ChatView.TRIM_SLACK):
            await view.add_message("assistant", answer, message_id=i)
            view.scroll_end(animate=False, immediate=True)
            await pilot.pause()  # each drawn at the bottom, as it came
        gc.collect()
        gc.disable()  # from here, only reference counting frees anything
        try:
            oldest = view.bubbles[: ChatView.TRIM_SLACK + 1]
            drawn = sum(bubble.query_one(MarkdownBody).line_count for bubble in oldest)
            assert drawn >= 20 * len(oldest)
            before = strips()
            await view.add_message("assistant", answer, message_id=ChatView.KEEP + ChatView.TRIM_SLACK)
            await pilot.pause()
            assert len(view.bubbles) == ChatView.KEEP and view.bubbles[0].message_id == len(oldest)
            del oldest
            # The new message drew ~25 lines; the trimmed ones' hundreds are gone.
            assert strips() <= before - drawn // 2, (before, strips(), drawn)
        finally:
            gc.enable()


# -- ConversationList ------------------------------------------------------------


@dataclass
class Row:
    id: int
    title: str | None
    updated_at: float


async def test_conversation_list_rename_keeps_highlight():
    now = time.time()
    rows = [Row(i, f"Chat {i}", now - i * 4000) for i in range(1, 8)]
    sidebar = ConversationList()
    app = Host(sidebar)
    async with app.run_test(size=(40, 12)) as pilot:
        sidebar.set_items(rows)
        sidebar.select_id(5)
        await pilot.pause()
        assert sidebar.highlighted_id == 5
        assert sidebar.border_title == "Conversations (7)"
        sidebar.update_item(Row(5, "Renamed [b]five[/b]", now))
        sidebar.update_item(Row(2, None, now))
        await pilot.pause()
        assert sidebar.highlighted_id == 5
        line = sidebar.render_line(4).text
        assert "Renamed [b]five[/b]" in line and line.rstrip().endswith("now")
        assert "New conversation…" in sidebar.render_line(1).text
        sidebar.set_busy(3, True)
        await pilot.pause()
        assert "●" in sidebar.render_line(2).text
        sidebar.update_item(Row(99, "Brand new", now))
        await pilot.pause()
        assert sidebar.highlighted_id == 5
        assert sidebar.border_title == "Conversations (8)"
        sidebar.remove_item(1)
        assert sidebar.border_title == "Conversations (7)"
        sidebar.focus()
        sidebar.select_id(4)
        await pilot.press("enter")
        await pilot.pause()
        selected = [m for m in app.seen if isinstance(m, ConversationList.Selected)]
        assert [m.conversation_id for m in selected] == [4]


def test_fit_row_truncates_by_cell_width():
    row = fit_row("你好世界你好世界你好世界", "5m", 12)
    assert row.cell_length == 12
    assert row.plain.endswith(" 5m")
    assert "…" in row.plain
    assert fit_row("短", "now", 10).plain == "短     now"
    for width in range(4, 20):
        assert fit_row("中文标题很长很长", "3h", width).cell_length == width


async def test_conversation_list_cjk_rows_render_at_width():
    sidebar = ConversationList()
    app = Host(sidebar)
    async with app.run_test(size=(24, 8)) as pilot:
        sidebar.set_items([Row(1, "关于西安旅行的详细计划和预算", time.time() - 7200)])
        await pilot.pause()
        strip = sidebar.render_line(0)
        assert strip.cell_length == sidebar.scrollable_content_region.width
        assert strip.text.rstrip().endswith("2h")
        assert "…" in strip.text


# -- PromptInput -----------------------------------------------------------------


async def test_prompt_enter_newlines_empty_busy():
    prompt = PromptInput()
    app = Host(prompt)
    async with app.run_test(size=(60, 20)) as pilot:
        prompt.focus()
        await pilot.pause()
        assert prompt.outer_size.height == 3  # one line + border
        await pilot.press("enter", "space", "space", "enter")
        assert not app.seen  # empty / whitespace refused quietly
        prompt.clear()
        await pilot.press(*"hi", "shift+enter", *"there", "ctrl+j", "x")
        assert prompt.text == "hi\nthere\nx"
        await pilot.pause()
        assert prompt.outer_size.height == 3 + 2  # grew with its content (3 lines + border)
        await pilot.press("enter")
        await pilot.pause()
        assert [m.text for m in app.seen] == ["hi\nthere\nx"]
        assert prompt.text == ""
        prompt.busy = True
        await pilot.press(*"next", "enter")
        await pilot.pause()
        assert prompt.has_class("-busy")
        assert len(app.seen) == 1 and prompt.text == "next"
        assert "answering" in str(prompt.border_subtitle)
        prompt.busy = False
        await pilot.press("enter")
        await pilot.pause()
        assert [m.text for m in app.seen] == ["hi\nthere\nx", "next"]


async def test_prompt_grows_to_a_limit_and_wraps_wide_chars():
    prompt = PromptInput()
    app = Host(prompt)
    async with app.run_test(size=(30, 30)) as pilot:
        prompt.focus()
        await pilot.pause()
        base = prompt.size.height
        prompt.insert("中文" * 40)
        await pilot.pause()
        width = prompt.content_size.width
        wrapped = prompt.wrapped_document
        assert wrapped.height > 1
        from rich.cells import cell_len

        sections = [section for line in wrapped.lines for section in line]
        assert "".join(sections) == "中文" * 40
        assert all(cell_len(section) <= width for section in sections)
        assert prompt.size.height > base
        prompt.insert("\nx" * 30)
        await pilot.pause()
        assert prompt.outer_size.height <= 10


# -- kitty keyboard protocol: IME commits --------------------------------------


def _keys(parser: XTermParser, *chunks: str, gap: float = 0.0):
    events = []
    for chunk in chunks:
        events += list(parser.feed(chunk))
        if gap:
            time.sleep(gap)
            events += list(parser.tick())
    return events


NIHAO = "\x1b[49;;20320:22909u"  # 你好 committed by an IME on key "1"
PHRASE = "\x1b[49;;25105:20204:20170:22825:21435:35199:23433u"  # 我们今天去西安


def test_stock_parser_finding():
    """What Textual 8.2.8 does on its own (pins the finding in the report)."""
    ok = _keys(XTermParser(), NIHAO)
    assert "".join(e.character for e in ok) == "你好"
    long = _keys(XTermParser(), PHRASE)
    assert "".join(e.character or "" for e in long) != "我们今天去西安"  # garbage: ^[49;;2510...
    split = _keys(XTermParser(), "\x1b", NIHAO[1:], gap=0.15)
    assert split[0].key == "escape"


def test_kitty_parser_delivers_text():
    assert "".join(e.character for e in _keys(KittyParser(), PHRASE)) == "我们今天去西安"
    assert "".join(e.character for e in _keys(KittyParser(), NIHAO)) == "你好"
    # Split inside the sequence (read boundary, slow link): joined again.
    split = _keys(KittyParser(), "ab\x1b[49;", ";20320:2", "2909u", gap=0.15)
    assert [e.key for e in split] == ["a", "b", "你", "好"]
    long_split = _keys(KittyParser(), PHRASE[:20], PHRASE[20:], gap=0.15)
    assert "".join(e.character for e in long_split) == "我们今天去西安"
    # CSI 0 ; 1 ; text u, as some terminals send IME text
    assert "".join(e.character for e in _keys(KittyParser(), "\x1b[0;1;20013:25991u")) == "中文"
    # Shortcuts and other keys are untouched.
    assert [e.key for e in _keys(KittyParser(), "\x1b[106;5u")] == ["ctrl+j"]
    assert [e.key for e in _keys(KittyParser(), "\x1b[13;2u")] == ["shift+enter"]
    assert [e.key for e in _keys(KittyParser(), "\x1b[27u")] == ["escape"]
    assert [e.key for e in _keys(KittyParser(), "\x1b[A")] == ["up"]


def test_repair_leaked_text():
    assert repair_leaked_text("abc[49;;20320:22909u") == (len("[49;;20320:22909u"), "你好")
    assert repair_leaked_text("^[49;;20320:22909u")[1] == "你好"
    assert repair_leaked_text("[49;5;20320u") is None  # ctrl: a shortcut, not text
    assert repair_leaked_text("a normal sentence you") is None


async def test_kitty_ime_bytes_arrive_as_text_in_prompt():
    prompt = PromptInput()
    app = Host(prompt)
    async with app.run_test(size=(60, 12)) as pilot:
        prompt.focus()
        await pilot.pause()
        for event in _keys(KittyParser(), NIHAO, PHRASE):
            app.post_message(event)
        await pilot.pause()
        assert prompt.text == "你好我们今天去西安"

        # If the ESC was lost on the way the sequence arrives as typed keys;
        # the prompt repairs it when the final "u" lands.
        prompt.clear()
        for event in _keys(XTermParser(), "\x1b", NIHAO[1:], gap=0.15)[1:]:
            app.post_message(event)
        await pilot.pause()
        assert prompt.text == "你好"

        # Pasted text carrying a sequence is translated too.
        prompt.clear()
        app.post_message(events.Paste("a" + NIHAO + "b"))
        await pilot.pause()
        assert prompt.text == "a你好b"


# -- StatusBar -------------------------------------------------------------------


async def test_status_bar_plain_text():
    bar = StatusBar()
    app = Host(bar)
    async with app.run_test(size=(100, 5)) as pilot:
        bar.set_account("Signed in [b]demo[/b]")
        bar.set_activity("Answering in “Trip”")
        bar.set_error("Rate limited", "Try again in 30 s [@click=app.quit]x[/]\x1b]0;t\x07")
        await pilot.pause()
        assert bar.error_text == "Rate limited: Try again in 30 s [@click=app.quit]x[/]"
        assert bar.has_class("-error")
        rendered = str(bar.query_one("#status-account").render())
        assert rendered == "Signed in [b]demo[/b]"
        bar.clear_error()
        assert not bar.has_class("-error") and bar.error_text == ""


async def test_only_web_and_mail_links_are_clickable():
    text = "[web](https://example.com/a) [file](file:///etc/passwd) [js](javascript:alert(1)) [mail](mailto:a@b.c)"
    body = MarkdownBody(text)
    app = Host(body)
    opened: list[str] = []
    app.open_url = lambda url, **kwargs: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        actions = click_actions(body)
        assert sorted(set(actions)) == ["link('https://example.com/a')", "link('mailto:a@b.c')"]
        assert "file" in body.lines_text()[0] and "js" in body.lines_text()[0]
        await body.action_link("file:///etc/passwd")
        await body.action_link("https://example.com/a")
        assert opened == ["https://example.com/a"]
