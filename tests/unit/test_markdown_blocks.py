from hypothesis import given, settings
from hypothesis import strategies as st

from hailuo_tui.markdown.blocks import block_parser, code_blocks, parser


def test_fences_with_languages_and_unclosed_tail():
    text = "intro\n\n```python\nprint(1)\n```\n\n- item\n\n  ~~~\n  nested\n  ~~~\n\n```js\nlet a = 1;"
    assert code_blocks(text) == [("python", "print(1)"), ("", "nested"), ("js", "let a = 1;")]


def test_longer_fences_hold_shorter_ones():
    text = "````md\n```\ninner\n```\n````"
    assert code_blocks(text) == [("md", "```\ninner\n```")]


def test_no_blocks():
    assert code_blocks("just `inline` code") == []


def test_warming_the_highlighting_builds_the_common_lexers_ahead():
    """In a fresh interpreter (the lexers' rules are compiled once per process): none is built before,
    each of WARM_LANGUAGES is after (highlighting Python the first time took 22 ms here)."""
    import subprocess
    import sys

    code = (
        "from hailuo_tui.markdown.code import WARM_LANGUAGES, warm_highlighting\n"
        "import pygments.lexers as lexers\n"
        "kinds = [lexers.find_lexer_class_by_name(name) for name in WARM_LANGUAGES]\n"
        "before = ['_tokens' in kind.__dict__ for kind in kinds]\n"
        "warm_highlighting()\n"
        "print(before, ['_tokens' in kind.__dict__ for kind in kinds])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[False, False, False, False] [True, True, True, True]"


# Lines that change where blocks start: headings, setext underlines, fences, lists, quotes, tables, HTML,
# link definitions, thematic breaks, indented code; and inline syntax, which must not matter.
_LINES = st.sampled_from([
    "", "text", "# head", "===", "---", "```", "```py", "~~~", "- item", "  - sub", "1. one", "> quote",
    "| a | b |", "|---|---|", "<div>", "</div>", "[x]: https://example.com", "    code", "***", "*em* **b**",
    "`tick`", "https://example.com", "<think>", "\t- tab", "2) two",
])


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(_LINES, max_size=25))
def test_the_block_parser_cuts_where_the_full_parser_does(lines):
    """`block_starts` reads only markdown-it's block stage; its top-level tokens, and where they start, are
    those of the full parse (inline tokens get their children in a later stage, never new lines)."""

    def top(tokens):
        return [(t.type, t.map, t.nesting) for t in tokens if t.level == 0]

    text = "\n".join(lines)
    assert top(block_parser().parse(text)) == top(parser().parse(text))
