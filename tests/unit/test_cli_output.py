"""What ``ask --backend api`` writes where: the answer to stdout, the reasoning to stderr only with --thinking."""

from __future__ import annotations

import io

from hailuo_tui.cli_api import _Output


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(pieces, *, show: bool, err=None):
    out, err = io.StringIO(), err if err is not None else io.StringIO()
    output = _Output(out, err, show_reasoning=show)
    for kind, text in pieces:
        (output.reasoning if kind == "r" else output.answer)(text)
    output.close()
    return out.getvalue(), err.getvalue()


PIECES = [("r", "Let me "), ("r", "think."), ("a", "# Hi"), ("a", "\n\nthere")]


def test_reasoning_goes_nowhere_without_thinking():
    assert run(PIECES, show=False) == ("# Hi\n\nthere\n", "")


def test_reasoning_goes_to_stderr_plain_when_it_is_not_a_terminal():
    assert run(PIECES, show=True) == ("# Hi\n\nthere\n", "Let me think.\n")


def test_reasoning_is_dim_on_a_terminal_and_never_leaves_it_dim():
    out, err = run(PIECES, show=True, err=Tty())
    assert out == "# Hi\n\nthere\n"
    assert err == "\x1b[2mLet me \x1b[0m\x1b[2mthink.\x1b[0m\n"
    _, cut = run([("r", "half a thought")], show=True, err=Tty())
    assert cut.endswith("\x1b[0m\n")


def test_escapes_from_the_server_are_removed_even_when_split():
    out, err = run([("r", "a\x1b]0;ti"), ("r", "tle\x07b"), ("a", "x\x1b[3"), ("a", "1mred")], show=True)
    assert out == "xred\n" and err == "ab\n"
