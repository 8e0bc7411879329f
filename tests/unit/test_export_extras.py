"""The export keeps an answer's sources and suggestions, as inert text where the server's words could act."""

from __future__ import annotations

from hailuo_tui.history import export_markdown
from hailuo_tui.store.rows import MessageRow


def _answer(**extras) -> MessageRow:
    return MessageRow(2, 1, "assistant", "Answer.", "complete", None, 0.0, 0.0, **extras)


def test_sources_become_numbered_links_and_suggestions_a_list():
    text = export_markdown("t", [_answer(sources=(("Xi'an news", "https://example.com/a"),), follow_ups=("Why?",))])
    assert "**Sources**\n\n1. Xi'an news <https://example.com/a>\n" in text
    assert "**Suggestions**\n\n- Why?\n" in text


def test_hostile_server_text_is_inert_in_the_export():
    text = export_markdown("t", [_answer(
        sources=(("[click](javascript:alert(1)) \x1b]52;c;evil\x07", "javascript:alert(1)"),),
        follow_ups=("<script>x</script> *bold*",),
    )])
    assert "\x1b" not in text and "\x07" not in text
    assert "<javascript:" not in text  # only http(s) sources become links
    assert "[click](" not in text.replace("\\[click\\](", "")  # the brackets are escaped: no Markdown link
    assert "\\[click\\]" in text and "\\<script\\>" in text and "\\*bold\\*" in text


def test_an_answer_without_extras_exports_as_before():
    assert export_markdown("t", [_answer()]) == "# t\n\n## Hailuo\n\nAnswer.\n"
