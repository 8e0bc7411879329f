"""What a selection over painted lines copies: `markdown.selection.selected_text` and the painter's lines."""

from __future__ import annotations

from textual.style import Style

from hailuo_tui.markdown.lines import copy_of, highlight, soft_joins
from hailuo_tui.markdown.painter import BlockPainter
from hailuo_tui.markdown.selection import LineText, selected_text


def painted(source: str, width: int) -> list:
    painter = BlockPainter(Style.null(), lambda name: Style.null())
    return painter.render(source, width)


def copy(lines, start=None, end=None) -> str:
    return selected_text([copy_of(line) for line in lines], start, end)


# -- the mapping alone ---------------------------------------------------------------------


def test_points_are_characters_and_the_end_is_exclusive():
    lines = [LineText("hello world"), LineText("second line")]
    assert selected_text(lines, (6, 0), (6, 1)) == "world\nsecond"
    assert selected_text(lines, (0, 1), (3, 1)) == "sec"
    assert selected_text(lines, None, None) == "hello world\nsecond line"
    assert selected_text(lines, (3, 1), (2, 1)) == ""


def test_a_wrap_joins_with_what_it_took_and_drops_the_continuations_decoration():
    lines = [LineText("• pears, a longer", lead=2, soft=" "), LineText("  item", lead=2), LineText("• plums", lead=2)]
    assert selected_text(lines, None, None) == "• pears, a longer item\n• plums"
    # Starting inside the continuation's indent starts at its text.
    assert selected_text(lines, (0, 1), None) == "item\n• plums"


def test_code_lines_lose_their_padding_keep_their_spaces_and_frames_give_nothing():
    lines = [
        LineText(" python   ", skip=True),
        LineText(" x = 1   ", lead=1, bare=True, size=6),
        LineText(" long_na", lead=1, bare=True, soft="", size=8),
        LineText(" me = 2  ", lead=1, bare=True, size=7),
        LineText("         ", skip=True),
        LineText("after"),
    ]
    assert selected_text(lines, None, None) == "x = 1\nlong_name = 2\nafter"
    assert selected_text(lines, (0, 2), (3, 3)) == "long_name"


def test_a_selection_starting_on_a_continued_line_knows_the_line_above_wrapped():
    lines = [LineText("▌ a quote that", lead=2, soft=" "), LineText("▌ wraps", lead=2)]
    assert selected_text(lines[1:], None, None, first=1, continued=True) == "wraps"
    assert selected_text(lines, (0, 1), None) == "wraps"


def test_soft_joins_finds_what_each_wrap_removed():
    assert soft_joins("hello world foo", ["hello world", "foo"]) == [" ", None]
    assert soft_joins("我们今天去西安", ["我们今天", "去西安"]) == ["", None]
    assert soft_joins("line one\nline two", ["line one", "line two"]) == [None, None]
    assert soft_joins("abc", ["abc", "zzz"]) is None  # not found: line breaks everywhere


# -- the painter's lines ---------------------------------------------------------------------


def test_a_wrapped_paragraph_copies_as_one_line_from_anywhere_inside():
    lines = painted("The quick brown fox jumps over the lazy dog and keeps running.", 20)
    assert len(lines) > 2
    assert copy(lines) == "The quick brown fox jumps over the lazy dog and keeps running."
    assert copy(lines, (4, 0), (5, 1)) == "quick brown fox jumps"


def test_cjk_is_never_split_and_joins_without_a_space():
    lines = painted("我们今天去西安，看兵马俑和城墙，然后吃一碗面。", 12)
    assert [line.text.rstrip() for line in lines][:2] == ["我们今天去西", "安，看兵马俑"]
    assert copy(lines) == "我们今天去西安，看兵马俑和城墙，然后吃一碗面。"
    assert copy(lines, (5, 0), (2, 1)) == "西安，"


def test_a_code_block_copies_its_code_alone():
    lines = painted("```python\ndef f():\n    return 'a long string folded at the width'\n```\n", 24)
    assert copy(lines) == "def f():\n    return 'a long string folded at the width'"
    assert lines[0].text.strip() == "python" and lines[1].text.startswith(" def")


def test_a_list_item_copies_its_bullet_and_its_wrapped_text_once():
    lines = painted("- first item that wraps around\n- second\n", 16)
    assert copy(lines) == "• first item that wraps around\n• second"


def test_the_offsets_count_characters_so_a_wide_character_is_one_step():
    line = painted("西安 ok", 10)[0].apply_offsets(0, 3)
    offsets = [segment.style.meta["offset"] for segment in line if segment.text]
    assert offsets[0] == (0, 3)
    assert line.text.index("o") == 3  # "西", "安", " ", then "o": characters, not cells


def test_highlight_marks_only_the_selected_characters():
    from rich.style import Style as RichStyle

    line = painted("西安 ok", 10)[0]
    marked = highlight(line, 1, 3, RichStyle(reverse=True))
    assert marked.text == line.text and marked.cell_length == line.cell_length
    reversed_text = "".join(segment.text for segment in marked if segment.style and segment.style.reverse)
    assert reversed_text == "安 "
