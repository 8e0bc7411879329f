from hailuo_tui.markdown.blocks import code_blocks


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
