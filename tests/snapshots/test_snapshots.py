"""SVG snapshots of the stable screens, from the real app on the emulator.

The scenes (and how they stay deterministic: emulator inside the app's loop,
fixed seed, frozen sidebar clock, no cursor blink) are in ``scenes.py``.
Regenerate after a deliberate UI change with
``pytest tests/snapshots --snapshot-update`` and look at every changed SVG.
"""

from __future__ import annotations

import pytest

from tests.snapshots.scenes import SCENES, frozen_clock

SIZE = (110, 34)


@pytest.fixture(autouse=True)
def _frozen_sidebar_clock():
    with frozen_clock():
        yield


def _snap(snap_compare, tmp_path, name: str) -> bool:
    scene = SCENES[name]
    return snap_compare(scene.app(tmp_path), terminal_size=scene.size or SIZE, run_before=scene.run_before)


# Snapshot tests are plain `def`: snap_compare runs the app in its own event loop.


def test_welcome_login_screen(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "welcome")


def test_empty_chat(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "empty")


def test_conversation_with_code_and_table(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "conversation")


def test_help_screen(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "help")


def test_error_503_in_status_bar_and_bubble(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "error")


def test_long_sidebar(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "long-sidebar")


def test_long_sidebar_with_search_filter(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "sidebar-search")


def test_chinese_conversation(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "chinese")


def test_api_answer_with_folded_thinking_and_usage(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "api-thinking")


def test_wrapped_error_with_the_retry_key(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "wrapped-error")


def test_sources_and_suggestions_under_an_answer(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "sources-suggestions")


def test_narrow_terminal_folds_the_sidebar(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "narrow")


def test_narrow_terminal_ctrl_b_shows_the_sidebar_over_the_conversation(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "narrow-sidebar")


def test_user_message_with_code_and_line_breaks(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "user-code")


def test_mouse_selection_across_a_question_and_its_answer(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "selection")


def test_message_cursor_and_block_cursor(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "message-cursor")


def test_versions_of_an_answer(snap_compare, tmp_path):
    assert _snap(snap_compare, tmp_path, "versions")
