from hailuo_tui.markdown.blocks import code_blocks


def test_fences_with_languages_and_unclosed_tail():
    text = "intro\n\n```python\nprint(1)\n```\n\n- item\n\n  ~~~\n  nested\n  ~~~\n\n```js\nlet a = 1;"
    assert code_blocks(text) == [("python", "print(1)"), ("", "nested"), ("js", "let a = 1;")]


def test_longer_fences_hold_shorter_ones():
    text = "````md\n```\ninner\n```\n````"
    assert code_blocks(text) == [("md", "```\ninner\n```")]


def test_no_blocks():
    assert code_blocks("just `inline` code") == []
