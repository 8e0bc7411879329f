"""Golden tests of the Markdown painter: the text of every block kind at 60 and 30 columns.

Each case in ``CASES`` is rendered through `BlockPainter` built from plain inputs (no App), block by
block as `MarkdownBody` renders it, and compared with ``tests/golden/<case>-<width>.txt``: the painted
lines (one line of text per painted line, trailing blanks removed), then, after a ``--- copied ---``
line, what selecting everything copies (``markdown.selection``).

Regenerate after a deliberate change, then read every changed file (they must look right, not just be
what the code does today)::

    HAILUO_GOLDEN_UPDATE=1 PYTHONPATH=$PWD python -m pytest tests/unit/test_markdown_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.style import Style

from hailuo_tui.markdown.blocks import split_all
from hailuo_tui.markdown.code import line_strip
from hailuo_tui.markdown.lines import copy_of
from hailuo_tui.markdown.painter import BlockPainter
from hailuo_tui.markdown.selection import selected_text

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("HAILUO_GOLDEN_UPDATE") == "1"
WIDTHS = (60, 30)

CASES: dict[str, str] = {
    "headings": (
        "# Heading one\n\n## Heading two\n\n### Heading three\n\n#### Heading four\n\n"
        "##### Heading five\n\n###### Heading six, long enough to wrap at thirty columns\n\n"
        "Setext heading\n==============\n"
    ),
    "lists": (
        "- apples\n- pears, a longer item that wraps onto a second line at thirty columns\n"
        "  - nested bullet\n    - deeper bullet\n      - deepest bullet\n- plums\n\n"
        "Ordered, starting at 9:\n\n9. nine\n10. ten\n    1. nested one\n    2. nested two\n11. eleven\n"
    ),
    "loose-lists": (
        "- first item\n\n  with a second paragraph\n\n- second item\n\n"
        "1. step one\n\n2. step two\n\n   ```sh\n   make test\n   ```\n"
    ),
    "quotes": (
        "> A quote that is long enough to wrap at thirty columns, surely.\n>\n"
        "> > A nested quote inside it.\n>\n> - a list in a quote\n\nAfter the quote.\n"
    ),
    "table-wide": (
        "| name | language | stars | description | licence | last release |\n"
        "|---|:---:|---:|---|---|---|\n"
        "| textual | Python | 30000 | A TUI framework for Python | MIT | 8.2.8 |\n"
        "| ratatui | Rust | 15000 | Terminal user interfaces in Rust | MIT | 0.29 |\n"
    ),
    "table-cjk": (
        "| 城市 | 天数 | note |\n|---|---|---|\n| 西安 | 2 | 兵马俑和城墙 |\n| 杭州 | 3 | West Lake 西湖 |\n"
    ),
    "code": (
        "```python\ndef long_line():\n    return 'a string that is much longer than thirty columns, "
        "and longer than sixty as well'\n\tindented_with_a_tab = 1\n```\n\n"
        "```\nno language label\n    keeps its indentation  \n```\n\n"
        "    an indented code block\n"
    ),
    "inline": (
        "Some **bold**, *italic*, ~~struck~~ and `inline code`, a [link](https://example.com/a) "
        "and an ![image of a cat](https://example.com/cat.png) in one paragraph.\n\n"
        "A hard break with two spaces  \nand one with a backslash\\\nend.\n\n"
        "Inline <b>HTML</b> stays as typed. A bare https://example.com/bare link.\n"
    ),
    "html-and-rules": (
        "<div class=\"note\">\n  an HTML block\n</div>\n\nAbove a rule.\n\n---\n\nBelow it.\n\n***\n"
    ),
    "cjk-paragraph": (
        "我们今天去西安，看兵马俑和城墙，然后吃一碗面。晚上去回民街，买一些小吃，再坐夜车去杭州。\n"
    ),
}


def painter() -> BlockPainter:
    """A painter from plain inputs: every style name resolves to no style (the goldens pin text)."""
    return BlockPainter(Style.null(), lambda name: Style.null(), dark=True, ansi=False)


def rendered(source: str, width: int) -> list:
    """The lines of `source` painted as `MarkdownBody` paints them: block by block, a blank line between."""
    paint = painter()
    lines: list = []
    for block in split_all(source):
        block_lines = paint.render(block, width, lazy=True)
        if block_lines:
            if lines:
                lines.append(paint.blank(width))
            lines.extend(block_lines)
    return [line_strip(line) for line in lines]


def golden_text(source: str, width: int) -> str:
    lines = rendered(source, width)
    shown = "\n".join(line.text.rstrip() for line in lines)
    copied = selected_text([copy_of(line) for line in lines], None, None)
    return f"{shown}\n--- copied ---\n{copied}\n"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_text_matches_the_golden_file(case, width):
    text = golden_text(CASES[case], width)
    path = GOLDEN / f"{case}-{width}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with HAILUO_GOLDEN_UPDATE=1 and read it"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_every_painted_line_is_exactly_the_width(case, width):
    from rich.cells import cell_len

    for line in rendered(CASES[case], width):
        assert line.cell_length == width and cell_len(line.text) == width, repr(line.text)


def test_every_golden_file_belongs_to_a_case():
    expected = {f"{case}-{width}.txt" for case in CASES for width in WIDTHS}
    assert {path.name for path in GOLDEN.glob("*.txt")} == expected
