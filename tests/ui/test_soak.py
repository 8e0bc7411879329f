"""A soak: one app run sends 500 messages through the emulator with seeded random faults.

Messages go into a new conversation every `PER_CONVERSATION` (50) messages, as a
user would start one, so each conversation grows past the view's window of
mounted bubbles (`ChatView.KEEP`) and the view has to unmount old ones.

Afterwards every user message is stored, every answer is complete or marked
interrupted/failed (with a reason), and memory has not grown without bound:
at checkpoints (after messages 100, 300 and 500) the RSS, the number of gc
objects and the number of live widgets are taken; between the first and the
last the widgets must not grow at all (beyond a small slack) and the RSS and
object counts only by a bounded amount (Textual keeps a bounded number of
render caches alive: `StylesCache.get_inner_outer` is an `lru_cache(1024)`
keyed on the cache instance; the chat view empties it after removing bubbles, so the
styles caches of removed widgets, with the lines they drew, are freed too). Figures are printed (run with -s to see them).

Set HAILUO_SOAK_MESSAGES to run fewer (or more) messages.
"""

from __future__ import annotations

import collections
import gc
import os
import random
import time

import pytest
from textual.widget import Widget

from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.widgets.chat_view import ChatView
from hailuo_tui.widgets.prompt_input import PromptInput
from tests.ui.conftest import answers_finished, ready, wait_answered

MESSAGES = int(os.environ.get("HAILUO_SOAK_MESSAGES", "500"))
PER_CONVERSATION = 50
# After whole conversations (the window is full at each): messages 100, 300, 500 (and the last).
CHECKPOINTS = sorted({c - 1 for c in (100, 300, 500, MESSAGES) if 100 <= c <= MESSAGES})
TIME_LIMIT = 420  # seconds for the whole test (about 150 s on a 2-core machine for 500 messages)
ANSWER = "Soak answer: tea 茶 ☕, café. " * 4
FAULTS = [
    {"drop_before": "send_result"}, {"drop_before": "after_send_result"}, {"drop_before": "mid_answer"},
    {"drop_before": "close_chunk"}, {"disconnect_after_bytes": 700}, {"fail_next": [500]}, {"fail_next": [502]},
    {"fail_next": [503]}, {"fail_next": [429]}, {"fail_next": [400]}, {"stream_error": 2}, {"stream_error": 0},
    {"malformed_lines": True}, {"heartbeats": True}, {"fffd_splits": True}, {"unknown_event": True},
    {"no_final": True}, {"oversized_line": 100_000},
]


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def census() -> tuple[float, int, int, collections.Counter[str]]:
    """(RSS MB, gc objects, live widgets, objects by type) after a full collection.

    The app freezes its heap at its deep collections (hailuo_tui.idle_gc) and gc.get_objects() does not
    list frozen objects: everything is unfrozen first, so a leak cannot hide there, and frozen again.
    It is unfrozen again after the collection: while idle_gc is freezing as it goes (a busy stretch), its
    gc.callbacks hook freezes at the end of every full collection, this one too (CI once counted 0
    objects and 0 widgets at every checkpoint, a census that could not fail).
    """
    frozen = gc.get_freeze_count()
    gc.unfreeze()
    gc.collect()
    gc.unfreeze()
    objects = gc.get_objects()
    assert objects, "gc.get_objects() listed nothing: something froze the heap"
    if frozen:
        gc.freeze()
    types = collections.Counter(type(o).__qualname__ for o in objects)
    widgets = sum(1 for o in objects if isinstance(o, Widget))
    return rss_mb(), len(objects), widgets, types


@pytest.mark.timeout(TIME_LIMIT)
async def test_soak_500_messages_with_random_faults(make_app, emu):
    rng = random.Random(20240607)
    app = await make_app(read_timeout=5)
    sent: list[str] = []
    faults_used: dict[str, int] = {}
    memory: list[tuple[int, float, int, int]] = []
    types: list[collections.Counter[str]] = []
    started = time.monotonic()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        prompt = screen.query_one(PromptInput)
        view = screen.query_one(ChatView)
        most_mounted = 0
        for i in range(MESSAGES):
            fault = rng.choice(FAULTS) if rng.random() < 0.35 else {}
            key = ",".join(f"{k}={v}" for k, v in fault.items()) or "none"
            faults_used[key] = faults_used.get(key, 0) + 1
            emu.config = EmulatorConfig(seed=i, answer_text=ANSWER, chunk_chars=40, record_events=False, **fault)
            if i % PER_CONVERSATION == 0:
                await pilot.press("ctrl+n")
            text = f"soak message {i}"
            prompt.focus()
            prompt.insert(text)
            before = answers_finished(app)
            await pilot.press("enter")
            sent.append(text)
            await wait_answered(pilot, before, 20)
            assert not prompt.text
            most_mounted = max(most_mounted, len(view.bubbles))
            if i in CHECKPOINTS:
                rss, objects, widgets, by_type = census()
                memory.append((i + 1, rss, objects, widgets))
                types.append(by_type)
        elapsed = time.monotonic() - started
        assert app.is_running and isinstance(app.screen, ChatScreen)

        store = app.store
        stored_users: list[str] = []
        statuses: dict[str, int] = {}
        for row in reversed(await store.list_conversations(limit=1000)):
            messages = await store.messages(row.id)
            assert [m.role for m in messages] == ["user", "assistant"] * (len(messages) // 2), row
            for user, answer in zip(messages[::2], messages[1::2]):
                stored_users.append(user.content)
                statuses[answer.status] = statuses.get(answer.status, 0) + 1
                assert answer.status in ("complete", "interrupted", "failed"), answer
                if answer.status == "complete":
                    assert answer.content == ANSWER, answer
                else:
                    assert answer.error and ANSWER.startswith(answer.content), answer
    assert sorted(stored_users, key=lambda t: int(t.split()[-1])) == sent  # nothing lost
    memory = memory or [(0, 0.0, 0, 0)]
    types = types or [collections.Counter()]
    (_, rss_early, objects_early, widgets_early), (_, rss_late, objects_late, widgets_late) = memory[0], memory[-1]
    grown = (types[-1] - types[0]).most_common(6)
    print(f"\nsoak: {MESSAGES} messages in {elapsed:.1f} s ({elapsed / MESSAGES * 1000:.0f} ms each), "
          f"a new conversation every {PER_CONVERSATION}; answers {statuses}; "
          f"faults {sum(v for k, v in faults_used.items() if k != 'none')} of {MESSAGES}; "
          f"at most {most_mounted} bubbles mounted")
    print("soak memory (after message: RSS, gc objects, live widgets): "
          + "; ".join(f"{i}: {r:.1f} MB, {o:,}, {w:,}" for i, r, o, w in memory))
    print(f"soak growth {memory[0][0]}→{memory[-1][0]}: {rss_late - rss_early:+.1f} MB, "
          f"{objects_late - objects_early:+,} objects, {widgets_late - widgets_early:+,} widgets; most grown: {grown}")
    assert statuses.get("complete", 0) > MESSAGES // 2
    assert statuses.get("interrupted", 0) + statuses.get("failed", 0)
    assert most_mounted <= ChatView.KEEP + ChatView.TRIM_SLACK + 2
    if len(memory) < 2:
        return  # too few messages to compare checkpoints
    # Removed bubbles must be freed: MarkdownBody once leaked through the theme signal.
    assert types[-1]["MarkdownBody"] - types[0]["MarkdownBody"] <= 50, memory
    assert widgets_late - widgets_early < 60, memory  # removed bubbles are freed (a leak: thousands)
    # ...and so are the lines they drew: Textual's memo of StylesCache.get_inner_outer once kept the
    # styles caches of the last 1,024 removed widgets (textual_compat.drop_removed_render_caches).
    assert types[-1]["StylesCache"] - types[0]["StylesCache"] <= 60, (types[0]["StylesCache"], types[-1]["StylesCache"])
    assert rss_late - rss_early < 60, memory  # Textual's bounded render caches, a few thousand rows: not a leak
    assert objects_late < objects_early * 2, memory
