"""The "Thinking" section, the usage line, the status bar's totals and the sidebar's API mark, in a tiny host app."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from textual.app import App, ComposeResult
from textual.widget import Widget

from hailuo_tui.bindings import CHAT_BINDINGS
from hailuo_tui.domain import ShownMessage
from hailuo_tui.provider import MiniMaxAPI, ReasoningDelta, TextDelta, Usage
from hailuo_tui.provider.backend import ChatRequest
from hailuo_tui.reply_session import usage_record
from hailuo_tui.widgets import ChatView, ConversationList, MessageBubble, StatusBar
from hailuo_tui.widgets.conversation_list import API_TAG, ConversationRowVisual
from hailuo_tui.widgets.thinking_section import ThinkingSection, ThinkingSummary, thinking_summary
from hailuo_tui.widgets.usage_format import format_tokens, format_usage
from tests.ui.test_stream_equivalence import screen_lines

USAGE = {"model": "MiniMax-M3", "prompt_tokens": 769, "completion_tokens": 116, "reasoning_tokens": 37, "seconds": 2.4}
USAGE_LINE = "MiniMax-M3 · 769 → 116 tokens (37 reasoning) · 2.4 s · 48 tok/s"
HOSTILE = "before \x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b]0;pwned\x07[@click=app.quit]x[/] [b]bold[/b] after"


class Host(App):
    def __init__(self, *widgets: Widget) -> None:
        super().__init__()
        self._widgets = widgets

    def compose(self) -> ComposeResult:
        yield from self._widgets


def reasoning_deltas(count: int = 1000) -> list[str]:
    return [f"step {i} of the plan, " + ("\n" if i % 40 == 39 else "") for i in range(count)]


def body_lines(section: ThinkingSection) -> list[str]:
    body = section.body
    return [body.render_line(y).text for y in range(body.line_count)]


def click_actions(widget: Widget, height: int) -> list[str]:
    actions = []
    for y in range(height):
        for segment in widget.render_line(y):
            meta = segment.style.meta if segment.style is not None else {}
            if meta.get("@click"):
                actions.append(meta["@click"])
    return actions


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.pause(0.05)


async def test_reasoning_streams_live_then_folds_when_the_answer_starts():
    view = ChatView()
    app = Host(view)
    deltas = reasoning_deltas()
    reasoning = "".join(deltas)
    async with app.run_test(size=(90, 40)) as pilot:
        bubble = await view.add_message("assistant", status="streaming")
        assert bubble.thinking is None  # no section until there is reasoning
        writes = []
        started = time.monotonic()
        for i, delta in enumerate(deltas):
            await bubble.append_reasoning(delta)
            if i == 0:
                section = bubble.thinking
                assert section is not None
                original = section.body.append
                section.body.append = lambda fragment: (writes.append(fragment), original(fragment))[1]
            if i == 499:
                await bubble._flush()  # what the next timed flush would write
                await settle(pilot)
                # Live: open, on screen, and showing the reasoning so far.
                assert not section.folded and section.live
                assert section.body.display and section.body.region.height > 0
                assert section.text == "".join(deltas[:500])
                assert section.summary == f"▾ Thinking… · {len(section.text):,} characters"
                shown = [line for line, _ in screen_lines(app)]
                assert any("step 498 of the plan" in line for line in shown)  # the view follows the bottom
        elapsed = time.monotonic() - started
        await settle(pilot)
        assert section.text == reasoning == bubble.reasoning
        assert not section.folded and section.live
        # Written in batches, not once per delta.
        assert len(writes) <= 3 + elapsed / MessageBubble.FLUSH_INTERVAL < len(deltas)
        assert "".join(writes) == reasoning[len(deltas[0]):]

        for delta in ["The answer", " is 42."]:
            await bubble.append(delta)
        await settle(pilot)
        assert section.folded and not section.live
        assert section.seconds is not None and section.seconds >= 0
        assert section.summary.startswith("▸ Thought for ")
        assert section.summary.endswith(f" s · {len(reasoning):,} characters")
        assert not section.body.display or section.body.region.height == 0
        assert section.region.height == 2  # the summary and a blank line
        assert bubble.markdown.source == "The answer is 42."
        await bubble.finish()
        await settle(pilot)
        assert section.folded
        shown = [line for line, _ in screen_lines(app)]
        assert any(section.summary in line for line in shown)
        assert not any("step 3 of the plan" in line for line in shown)
        # The thinking section sits above the answer.
        assert [child.id for child in bubble.children][:3] == ["header", "thinking", "md-body"]


async def test_toggle_opens_and_folds_the_section():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(90, 30)) as pilot:
        await view.load([
            ShownMessage(1, "user", "question"),
            ShownMessage(2, "assistant", "first answer", reasoning="first thoughts"),
            ShownMessage(3, "user", "again"),
            ShownMessage(4, "assistant", "second answer", reasoning="second thoughts"),
            ShownMessage(5, "assistant", "no reasoning here"),
        ])
        await settle(pilot)
        first, second = view.bubbles[1].thinking, view.bubbles[3].thinking
        assert view.bubbles[4].thinking is None
        assert first.folded and second.folded
        # The bubble's own toggle and action.
        view.bubbles[3].toggle_thinking()
        await settle(pilot)
        assert not second.folded and second.summary == "▾ Thought · 15 characters"
        assert second.body.region.height == 2  # one row and a blank line
        view.bubbles[3].action_toggle_thinking()
        await settle(pilot)
        assert second.folded and second.summary == "▸ Thought · 15 characters"
        # The chat view's action: the newest answer that has a section.
        view.action_toggle_thinking()
        await settle(pilot)
        assert not second.folded and first.folded
        view.action_toggle_thinking()
        await settle(pilot)
        assert second.folded
        # A click on the summary line.
        view.scroll_end(animate=False)
        await settle(pilot)
        summary = second.query_one(ThinkingSummary)
        assert await pilot.click(summary)
        await settle(pilot)
        assert not second.folded
        assert any("second thoughts" in line for line, _ in screen_lines(app))
        assert await pilot.click(summary)
        await settle(pilot)
        assert second.folded
        assert not any("second thoughts" in line for line, _ in screen_lines(app))


async def test_an_opened_section_is_scrolled_into_view():
    """The view follows the bottom: opening a long reasoning must not push its start out of sight."""
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(80, 30)) as pilot:
        await view.load([
            ShownMessage(1, "user", "q"),
            ShownMessage(2, "assistant", "answer line\n\n" * 5, reasoning="thought " * 600),
        ])
        await settle(pilot)
        section = view.bubbles[-1].thinking
        view.action_toggle_thinking()
        await settle(pilot)
        assert not section.folded
        assert view.max_scroll_y > 0
        assert view.region.contains_region(section.query_one(ThinkingSummary).region)
        assert any("▾ Thought · 4,800 characters" in line for line, _ in screen_lines(app))


async def test_binding_for_the_toggle():
    binding = next(b for b in CHAT_BINDINGS if b.id == "message.toggle_thinking")
    assert (binding.key, binding.action, binding.description, binding.show) == (
        "ctrl+o", "toggle_thinking", "Thinking", False
    )


async def test_fold_thinking_false_keeps_it_open():
    view = ChatView()
    view.fold_thinking = False
    app = Host(view)
    async with app.run_test(size=(90, 30)) as pilot:
        bubble = await view.add_message("assistant", status="streaming")
        assert bubble.fold_thinking is False
        for delta in reasoning_deltas(50):
            await bubble.append_reasoning(delta)
        await bubble.append("Answer.")
        await bubble.finish()
        await settle(pilot)
        section = bubble.thinking
        assert not section.folded and not section.live
        assert section.summary.startswith("▾ Thought for ")
        assert section.body.region.height > 0
    # The class default and the constructor flag.
    assert MessageBubble.fold_thinking is True
    assert MessageBubble("assistant", fold_thinking=False).fold_thinking is False
    assert MessageBubble("assistant").fold_thinking is True


async def test_a_stored_message_with_reasoning_starts_folded_and_is_kept_when_remounted():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(90, 30)) as pilot:
        await view.load([ShownMessage(7, "assistant", "Answer.", reasoning="Stored thoughts.\nTwo lines.", usage=USAGE)])
        await settle(pilot)
        bubble = view.bubbles[0]
        assert bubble.thinking.folded and not bubble.thinking.live
        assert bubble.thinking.summary == "▸ Thought · 27 characters"
        assert bubble.usage_text == USAGE_LINE
        # Unmounted and mounted again (the window moves): reasoning and usage come back.
        shown = ChatView._shown_of(bubble)
        assert (shown.reasoning, shown.usage) == ("Stored thoughts.\nTwo lines.", USAGE)
        again = view._make_bubble(shown)
        assert again.reasoning == "Stored thoughts.\nTwo lines." and again.usage == USAGE


async def test_a_reply_shown_again_while_it_still_thinks_is_open():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(90, 30)) as pilot:
        await view.load([ShownMessage(7, "assistant", "", "streaming", reasoning="Half a thou")])
        await settle(pilot)
        bubble = view.bubbles[0]
        assert not bubble.thinking.folded and bubble.thinking.live
        await bubble.append_reasoning("ght.")
        await bubble.append("Answer.")
        await bubble.finish()
        await settle(pilot)
        assert bubble.thinking.text == "Half a thought."
        assert bubble.thinking.folded
        assert bubble.thinking.summary == "▸ Thought · 15 characters"  # how long it took is unknown


async def test_streamed_and_folded_renders_like_the_stored_message():
    """Folding and opening leave no stale line: the screen equals a fresh render of the stored message."""
    deltas = reasoning_deltas(300)
    streamed = Host(ChatView())
    async with streamed.run_test(size=(80, 60)) as pilot:
        view = streamed.query_one(ChatView)
        bubble = await view.add_message("assistant", status="streaming", message_id=1)
        for delta in deltas:
            await bubble.append_reasoning(delta)
        await bubble.append("The **answer**.")
        bubble.set_usage(USAGE)
        await bubble.finish()
        await settle(pilot)
        for _ in range(3):
            bubble.toggle_thinking()
            await settle(pilot)
        bubble.thinking.end(None, fold=True)  # as stored: how long it took is not kept
        await settle(pilot)
        lines = screen_lines(streamed)
    fresh = Host(ChatView())
    async with fresh.run_test(size=(80, 60)) as pilot:
        view = fresh.query_one(ChatView)
        await view.load([ShownMessage(1, "assistant", "The **answer**.", reasoning="".join(deltas), usage=USAGE)])
        await settle(pilot)
        assert screen_lines(fresh) == lines


async def test_live_reasoning_renders_like_a_fresh_render_mid_stream():
    """Appends repaint only the rows of the last line: no stale row, also where a long line wraps."""
    words = [f"w{i} " + ("\n" if i % 97 == 96 else "") for i in range(700)]
    checkpoints = {5, 60, 96, 97, 250, 699}
    partial = {}
    app = Host(ChatView())
    async with app.run_test(size=(60, 200)) as pilot:
        view = app.query_one(ChatView)
        bubble = await view.add_message("assistant", status="streaming", message_id=1)
        for i, word in enumerate(words):
            await bubble.append_reasoning(word)
            if i % 40 == 0:
                await pilot.pause(0.01)
            if i in checkpoints:
                await bubble._flush()
                await settle(pilot)
                partial[i] = (bubble.reasoning, screen_lines(app))
    for i, (so_far, lines) in partial.items():
        fresh = Host(ChatView())
        async with fresh.run_test(size=(60, 200)) as pilot:
            view = fresh.query_one(ChatView)
            await view.load([ShownMessage(1, "assistant", "", "streaming", reasoning=so_far)])
            await settle(pilot)
            assert screen_lines(fresh) == lines, f"stale rows after delta {i}"


async def test_hostile_reasoning_is_inert():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(100, 30)) as pilot:
        bubble = await view.add_message("assistant", status="streaming")
        for piece in [HOSTILE[:9], HOSTILE[9:14], HOSTILE[14:40], HOSTILE[40:]]:  # escapes cut across deltas
            await bubble.append_reasoning(piece)
        await bubble.finish("interrupted", "Stopped.")
        await settle(pilot)
        section = bubble.thinking
        expected = "before [@click=app.quit]x[/] [b]bold[/b] after"
        assert bubble.reasoning == section.text == expected
        assert not section.folded  # no answer came: the reasoning is all there is
        assert body_lines(section)[0].strip() == expected
        assert click_actions(section.body, section.body.line_count) == []
        assert not any("\x1b" in line or "\x07" in line for line in body_lines(section))
        shown = "\n".join(line for line, _ in screen_lines(app))
        assert expected in shown and "\x1b" not in shown
    # Stored hostile reasoning too.
    stored = MessageBubble("assistant", "ok", reasoning=HOSTILE)
    assert stored.reasoning == expected


async def test_usage_line_under_a_finished_answer():
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(100, 30)) as pilot:
        bubble = await view.add_message("assistant", status="streaming")
        await bubble.append("Hello")
        bubble.set_usage(USAGE)  # before the end: shown only once the answer is finished
        await settle(pilot)
        assert bubble.usage_text == ""
        await bubble.finish()
        await settle(pilot)
        assert bubble.usage_text == USAGE_LINE
        assert bubble.children[-1].id == "usage"
        assert any(line.strip().endswith(USAGE_LINE) for line, _ in screen_lines(app))
        bubble.set_usage({**USAGE, "model": "\x1b[31mM2\x1b[0m [b]x[/b]", "seconds": 0, "reasoning_tokens": 0})
        await settle(pilot)
        assert bubble.usage_text == "M2 [b]x[/b] · 769 → 116 tokens"
        bubble.set_usage(None)
        await settle(pilot)
        assert bubble.usage_text == "" and not bubble.query("#usage")
        # A user message never shows one.
        user = await view.add_message("user", "hi")
        user.set_usage(USAGE)
        await settle(pilot)
        assert user.usage_text == ""
    assert format_usage(None) == "" and format_usage({}) == ""
    assert format_usage({"prompt_tokens": 1234567, "completion_tokens": 12, "seconds": 75}) == (
        "1,234,567 → 12 tokens · 1 min 15 s · 0 tok/s"
    )
    assert format_usage({"prompt_tokens": "x", "completion_tokens": float("nan"), "seconds": -1}) == ""


def test_thinking_summary_words():
    assert thinking_summary(1234, 12.2) == "▸ Thought for 12 s · 1,234 characters"
    assert thinking_summary(1, None, folded=False) == "▾ Thought · 1 character"
    assert thinking_summary(80, None, live=True, folded=False) == "▾ Thinking… · 80 characters"


async def test_status_bar_token_totals():
    bar = StatusBar()
    app = Host(bar)
    async with app.run_test(size=(100, 5)) as pilot:
        segment = bar.query_one("#status-usage")
        assert not segment.display or segment.region.width == 0
        bar.set_usage_totals(10_000, 2_345)
        await pilot.pause()
        assert bar.usage_text == "Σ 12.3k tokens"
        assert segment.region.width > 0
        assert "Σ 12.3k tokens" in screen_lines(app)[-1][0]
        bar.set_usage_totals(0, 0)
        await pilot.pause()
        assert bar.usage_text == ""
        assert segment.region.width == 0
    assert [format_tokens(n) for n in (769, 1234, 12_345, 123_456, 2_500_000)] == ["769", "1.2k", "12.3k", "123k", "2.5M"]


@dataclass
class Row:
    id: int
    title: str
    updated_at: float
    backend: str = "web"


@dataclass
class OldRow:  # a row without a backend attribute
    id: int
    title: str
    updated_at: float


async def test_sidebar_marks_api_conversations():
    sidebar = ConversationList()
    app = Host(sidebar)
    now = time.time()
    async with app.run_test(size=(40, 10)) as pilot:
        sidebar.set_items([Row(1, "On the API", now - 120, "api"), Row(2, "On the web", now - 120), OldRow(3, "Old", now)])
        await pilot.pause()
        lines = [line for line, _ in screen_lines(app)]
        api_line = next(line for line in lines if "On the API" in line)
        web_line = next(line for line in lines if "On the web" in line)
        assert api_line.rstrip(" ▎▌▐│").endswith(f"{API_TAG}2m")
        assert "API" not in web_line and web_line.rstrip(" ▎▌▐│").endswith("2m")
        assert "API" not in next(line for line in lines if "Old" in line)
    visual = ConversationRowVisual(Row(1, "A title long enough to be cut", now, "api"), False, now)
    assert visual.api and not ConversationRowVisual(OldRow(2, "x", now), False, now).api


async def test_an_api_answer_from_the_emulator_in_every_reasoning_shape(emu):
    """The API's events into a bubble as the reply session routes them: no think tag ever shows."""
    api = MiniMaxAPI(emu.demo_api_key, base_url=emu.url + "/v1", read_timeout=10, connect_timeout=5)
    view = ChatView()
    app = Host(view)
    async with app.run_test(size=(100, 40)) as pilot:
        for shape in ("split", "inline", "details_cumulative", "split_with_stray_tag"):
            emu.config.api_reasoning = shape
            bubble = await view.add_message("assistant", status="streaming")
            reasoning, answer, usage = [], [], None

            async def run() -> None:
                nonlocal usage
                async for event in api.stream(ChatRequest([{"role": "user", "content": "Explain SSE please"}])):
                    if isinstance(event, ReasoningDelta):
                        reasoning.append(event.text)
                        await bubble.append_reasoning(event.text)
                    elif isinstance(event, TextDelta):
                        answer.append(event.text)
                        await bubble.append(event.text)
                    elif isinstance(event, Usage):
                        usage = usage_record(event, 1.5)

            await asyncio.wait_for(run(), 30)
            bubble.set_usage(usage)
            await bubble.finish()
            await settle(pilot)
            section = bubble.thinking
            assert reasoning and answer, shape
            assert section is not None and section.folded, shape
            assert bubble.reasoning == section.text == "".join(reasoning), shape
            assert bubble.text == "".join(answer), shape
            for shown in (bubble.reasoning, bubble.text, *body_lines(section)):
                assert "<think>" not in shown and "</think>" not in shown, shape
            assert bubble.usage_text.startswith(f"{usage['model']} · {usage['prompt_tokens']:,} → "), shape
