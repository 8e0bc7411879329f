"""A list nested deeper than the Markdown parser goes never hides text (the store and export have it all)."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult

from hailuo_tui.markdown.blocks import flatten_nesting, parse_whole
from hailuo_tui.widgets.markdown_body import MarkdownBody
from hailuo_tui.markdown.painter import BlockPainter


def deep_list(levels: int, indent: str = "  ", marker: str = "-") -> str:
    items = "".join(f"{indent * i}{marker} item{i} word{i}\n" for i in range(levels))
    return items + "\nThe paragraph after the list stays visible.\n"


class Host(App):
    def compose(self) -> ComposeResult:
        yield MarkdownBody("", id="body")


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]+\d*", text))


@pytest.mark.parametrize(
    "source",
    [deep_list(15), deep_list(15, "    "), deep_list(12, "   ", "1."), deep_list(40),
     "".join("> " * i + f"quote{i}\n" for i in range(1, 30)) + "\nafter quotes\n"],
    ids=["15-levels", "4-space", "ordered", "40-levels", "quotes"],
)
async def test_every_word_of_a_deep_list_is_rendered(source: str) -> None:
    app = Host()
    async with app.run_test(size=(100, 30)):
        painter = BlockPainter.for_widget(app.query_one("#body"))
        for width in (80, 40):
            lines = painter.render(source, width)
            shown = "\n".join(line.text for line in lines)
            missing = words(source) - words(shown)
            assert not missing, f"hidden at width {width}: {sorted(missing)[:5]}"


def test_a_shallow_text_is_parsed_as_it_is() -> None:
    text = deep_list(5)
    tokens = parse_whole(text)
    assert tokens is not None
    assert [t.content for t in tokens if t.type == "inline"][-1] == "The paragraph after the list stays visible."


def test_flattening_caps_indentation_and_quote_depth_and_keeps_every_word() -> None:
    text = deep_list(15) + "> > > > > > deep quote\n"
    flat = flatten_nesting(text)
    assert max(len(line) - len(line.lstrip(" >")) for line in flat.splitlines()) <= 6 + 12
    assert words(flat) == words(text)
