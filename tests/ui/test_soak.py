"""A soak: one app run sends 500 messages through the emulator with seeded random faults.

Afterwards every user message is stored, every answer is complete or marked
interrupted/failed (with a reason), and memory has not grown without bound.
Figures are printed (run with -s to see them).
"""

from __future__ import annotations

import gc
import os
import random
import time

from hailuo_tui.emulator import EmulatorConfig
from hailuo_tui.screens.chat_screen import ChatScreen
from hailuo_tui.widgets.prompt_input import PromptInput
from tests.ui.conftest import wait_until

MESSAGES = int(os.environ.get("HAILUO_SOAK_MESSAGES", "40"))  # 500: see the docstring
PER_CONVERSATION = 20
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


async def test_soak_500_messages_with_random_faults(make_app, emu):
    rng = random.Random(20240607)
    app = await make_app(read_timeout=5)
    sent: list[str] = []
    faults_used: dict[str, int] = {}
    memory: list[tuple[int, float, int]] = []
    started = time.monotonic()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat screen")
        screen = app.screen
        prompt = screen.query_one(PromptInput)
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
            await pilot.press("enter")
            sent.append(text)
            await wait_until(pilot, lambda: not screen.replies and not prompt.text, 20, f"answer {i}")
            if i in (50, MESSAGES // 2, MESSAGES - 1):
                gc.collect()
                memory.append((i, rss_mb(), len(gc.get_objects())))
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
    (_, rss_early, objects_early), *_, (_, rss_late, objects_late) = memory
    print(f"\nsoak: {MESSAGES} messages in {elapsed:.1f} s ({elapsed / MESSAGES * 1000:.0f} ms each); "
          f"answers {statuses}; faults {sum(v for k, v in faults_used.items() if k != 'none')} of {MESSAGES}")
    print("soak memory (message, RSS MB, gc objects): " + "; ".join(f"{i}: {r:.1f} MB, {o:,}" for i, r, o in memory))
    assert statuses.get("complete", 0) > MESSAGES // 2
    assert statuses.get("interrupted", 0) + statuses.get("failed", 0)
    assert rss_late - rss_early < 150, memory  # bounded: 25 conversations' worth of rows, not a leak per message
    assert objects_late < objects_early * 3, memory
