'''The emulator's fake model: deterministic answers with realistic Markdown.

Everything here is a pure function of its arguments. :func:`reply` takes the
chat's user messages in order (the last one is the message being answered),
so a continued chat "remembers" earlier turns: the answer names the turn
number and quotes the first message of the chat.

Keywords in the current message pick the content (case-insensitive):

* ``echo:`` at the start: the answer is exactly the rest of the message (stripped);
* ``short``: one sentence;
* ``long``: a ~20,000-character answer (many sections);
* ``code``: a fenced ``python`` block; ``table``: a Markdown table; ``list``: a longer bullet list;
* ``markdown`` or ``demo``: all of the above (except ``long``);
* otherwise: paragraphs, a bullet list and, alternating by turn, a code block (odd turns) or a table (even turns).

A message containing CJK characters gets the answer in Chinese.
'''

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_WS_RE = re.compile(r"\s+")

LONG_TARGET = 20_000


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains Chinese/Japanese/Korean characters."""
    return _CJK_RE.search(text) is not None


def make_title(message: str, limit: int = 20) -> str:
    """The chat title for a first message: line breaks removed (replaced by a space only between two non-CJK
    characters), whitespace runs collapsed, trimmed, at most ``limit`` characters (code points, so CJK text is never
    cut inside a character). ``"New chat"`` for an empty message."""
    text = ""
    for line in re.split(r"\r\n|\r|\n", message):
        line = line.strip()
        if not line:
            continue
        if text and not (has_cjk(text[-1]) or has_cjk(line[0])):
            text += " "
        text += line
    text = _WS_RE.sub(" ", text).strip()
    if not text:
        return "New chat"
    return text[:limit].rstrip()


def _quote(text: str, limit: int = 60) -> str:
    one = _WS_RE.sub(" ", text).strip()
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def _code_block(n: int, zh: bool) -> str:
    comment = "# 第 %d 轮的示例代码" % n if zh else "# Example code for turn %d" % n
    return (
        "```python\n"
        f"{comment}\n"
        "def fibonacci(count: int) -> list[int]:\n"
        "    \"\"\"Return the first `count` Fibonacci numbers.\"\"\"\n"
        "    numbers = [0, 1]\n"
        "    while len(numbers) < count:\n"
        "        numbers.append(numbers[-1] + numbers[-2])\n"
        "    return numbers[:count]\n"
        "\n"
        f"print(fibonacci({n + 7}))\n"
        "```"
    )


def _table(n: int, zh: bool) -> str:
    if zh:
        rows = ["| 项目 | 数值 | 说明 |", "|---|---:|---|"]
        for i, (name, note) in enumerate([("轮次", "当前对话轮次"), ("字符", "你的消息长度"), ("示例", "固定示例值")]):
            rows.append(f"| {name} | {n * (i + 1)} | {note} |")
    else:
        rows = ["| Item | Value | Notes |", "|---|---:|---|"]
        for i, (name, note) in enumerate([("Turn", "this turn of the chat"), ("Double", "twice the turn"),
                                          ("Triple", "three times the turn")]):
            rows.append(f"| {name} | {n * (i + 1)} | {note} |")
    return "\n".join(rows)


def _bullets(n: int, zh: bool, many: bool) -> str:
    if zh:
        items = ["这是一个确定性的模拟回答", f"这是本次对话的第 {n} 轮", "内容使用 Markdown 格式",
                 "相同的输入总会得到相同的输出", "模拟器不会访问网络"]
    else:
        items = ["This is a deterministic emulated answer.", f"This is turn {n} of the chat.",
                 "The text uses **Markdown** formatting with `inline code`.",
                 "The same input always gives the same output.", "The emulator never touches the network."]
    if not many:
        items = items[:3]
    return "\n".join(f"- {item}" for item in items)


def _long_answer(n: int, zh: bool, head: str) -> str:
    parts = [head]
    k = 0
    size = len(head)
    while size < LONG_TARGET:
        k += 1
        if zh:
            section = (
                f"## 第 {k} 节\n\n"
                f"这是长回答的第 {k} 节。模拟器会生成大量文本，用来测试流式输出、滚动和渲染性能。"
                "每一节都包含一段文字、一个列表和一段代码，内容完全确定。\n\n"
                f"- 第 {k} 节的第一点\n- 第 {k} 节的第二点\n- 第 {k} 节的第三点\n\n"
                f"```python\nsection = {k}\nprint(\"第\", section, \"节\")\n```"
            )
        else:
            section = (
                f"## Section {k}\n\n"
                f"This is section {k} of a long answer. The emulator writes a lot of text so that streaming, "
                "scrolling and rendering can be tested under load. Every section has a paragraph, a short list "
                "and a small code block, and its content is fully deterministic.\n\n"
                f"- First point of section {k}\n- Second point of section {k}\n- Third point of section {k}\n\n"
                f"```python\nsection = {k}\nprint(\"section\", section, \"of the long answer\")\n```"
            )
        parts.append(section)
        size += len(section) + 2
    return "\n\n".join(parts)


def reply(user_messages: Sequence[str]) -> str:
    """The fake model's answer to ``user_messages[-1]``, given the chat's earlier user messages."""
    if not user_messages:
        return ""
    message = user_messages[-1]
    n = len(user_messages)
    low = message.lower()
    stripped = message.lstrip()
    if stripped.lower().startswith("echo:"):
        return stripped[5:].strip()
    zh = has_cjk(message)
    first = _quote(user_messages[0])

    if zh:
        head = f"**第 {n} 轮。** 你说：“{_quote(message)}”。"
        if n > 1:
            head += f"\n\n我记得这次对话的第一条消息是：“{first}”。这是我们对话中的第 {n} 条消息。"
    else:
        head = f"**Turn {n}.** You said: \"{_quote(message)}\"."
        if n > 1:
            head += (f"\n\nI remember that the first message of this chat (turn 1) was: \"{first}\". "
                     f"This is message {n} of our conversation.")

    if "short" in low:
        return head
    if "long" in low:
        return _long_answer(n, zh, head)

    everything = "markdown" in low or "demo" in low
    want_code = everything or "code" in low or "代码" in message
    want_table = everything or "table" in low or "表格" in message
    want_list = everything or "list" in low or "列表" in message
    if not (want_code or want_table or want_list):
        want_code, want_table = n % 2 == 1, n % 2 == 0

    parts = [head]
    if zh:
        parts.append("下面是一个带有结构的简短回答。它由本地模拟器生成，用于离线测试和演示。")
    else:
        parts.append("Here is a short answer with some structure. It was written by the local emulator, "
                     "for offline tests and demos.")
    parts.append(_bullets(n, zh, many=want_list))
    if want_code:
        parts.append("示例代码：" if zh else "Some example code:")
        parts.append(_code_block(n, zh))
    if want_table:
        parts.append("一个小表格：" if zh else "A small table:")
        parts.append(_table(n, zh))
    parts.append("还有其他问题吗？" if zh else "Anything else you would like to know?")
    return "\n\n".join(parts)


def follow_up_questions(user_messages: Sequence[str]) -> list[str]:
    """Three suggested follow-up questions for the last message (deterministic)."""
    message = user_messages[-1] if user_messages else ""
    if has_cjk(message):
        return ["能举一个例子吗？", "能说得更详细一些吗？", "用表格总结一下？"]
    return ["Can you give an example?", "Can you explain that in more detail?", "Could you summarise it in a table?"]


def search_links(message: str) -> list[dict[str, str]]:
    """Fake web-search sources for a message: a list of ``{"detail", "url"}`` (deterministic)."""
    h = zlib.crc32(message.encode("utf-8"))
    topic = _quote(message, 30) or "search"
    return [
        {"detail": f"{topic} - Example Encyclopedia", "url": f"https://example.com/wiki/{h:08x}"},
        {"detail": f"Notes about {topic}", "url": f"https://example.org/notes/{h % 10007}"},
        {"detail": "Emulated search result", "url": "https://example.net/result"},
    ]


def _chunk_ends(text: str, chunk_chars: int) -> list[int]:
    """Cut offsets (end of each cumulative snapshot), cutting after whitespace where possible."""
    n = len(text)
    size = max(1, chunk_chars)
    ends: list[int] = []
    pos = 0
    while pos < n:
        target = pos + size
        if target >= n:
            ends.append(n)
            break
        # extend to the end of the current word (ASCII text) but never more than 3x the size
        limit = min(n, pos + 3 * size)
        cut = target
        while cut < limit and not text[cut - 1].isspace() and not has_cjk(text[cut - 1]) and not text[cut].isspace():
            cut += 1
        # include the whitespace that follows
        while cut < limit and text[cut].isspace():
            cut += 1
        ends.append(cut)
        pos = cut
    return ends or [0]


def split_ends(text: str, *, chunk_chars: int = 6, num_events: int | None = None) -> list[int]:
    """The end offsets of the cumulative snapshots of ``text``; the last is always ``len(text)``.

    With ``num_events`` there are exactly that many (evenly spread; repeated offsets if the text is shorter).
    """
    n = len(text)
    if num_events is not None:
        k = max(1, int(num_events))
        return [(n * i) // k for i in range(1, k + 1)]
    return _chunk_ends(text, chunk_chars)
