"""The streaming benchmark's material: the answer, its pieces, and the host app.

`make_answer()` is the ~20,000-character Markdown answer of issue 5's
benchmark 1, `split()` cuts it into pieces, `Bench` hosts a ChatView. Used by
bench/run.py (headless) and bench/terminal_stream.py (the answer file).
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from hailuo_tui.widgets import ChatView


def make_answer(target: int = 20_000) -> str:
    """A Markdown answer with paragraphs, lists, ten code fences and a table."""
    parts: list[str] = ["# Plan for the trip\n\n"]
    for i in range(10):
        parts.append(
            f"## Step {i + 1}\n\n"
            f"This paragraph explains step {i + 1} in some detail, with **bold**, *italic* "
            f"and `inline code`. 我们今天去西安，看兵马俑和城墙。 It keeps going for a while so "
            f"that the paragraph wraps over several lines in an 80-column terminal.\n\n"
            f"- first point of step {i + 1}\n- second point, a bit longer than the first\n"
            f"  - a nested point\n- third point\n\n"
            f"```python\ndef step_{i}(x: int) -> int:\n"
            + "".join(f"    x = x * {j} + {i}  # line {j}\n" for j in range(12))
            + "    return x\n```\n\n"
        )
    parts.append("| city | days | budget |\n|---|---|---|\n")
    parts += [f"| 城市{i} | {i % 5 + 1} | {100 * i} |\n" for i in range(20)]
    parts.append("\n")
    text = "".join(parts)
    filler = "More notes follow here, one sentence after another, until the answer is long enough. "
    while len(text) < target - 40:
        text += filler
        if len(text) % 7 == 0:
            text += "\n\n"
    return text + "\n\nThat is the last line of the answer."


def split(text: str, count: int) -> list[str]:
    size = max(1, len(text) // count)
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    while len(pieces) > count:
        tail = pieces.pop()
        pieces[-1] += tail
    return pieces


class Bench(App):
    def compose(self) -> ComposeResult:
        yield ChatView(id="chat")
