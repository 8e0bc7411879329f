"""The fake MiniMax model of the emulator's API routes: models, reasoning, answers, titles and usage.

Everything is a pure function of the request's history, so a test can predict every byte. The answer proves
the model saw the whole history: it counts the user's questions, quotes the first one, the system prompt and
the start of the previous answer. The Markdown body comes from the web emulator's fake model
(:func:`hailuo_tui.emulator.model.reply`), so the keywords ``echo:``, ``short``, ``long``, ``code``, ``table``,
``list`` and ``markdown`` work the same way. Never imports textual or rich.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from hailuo_tui.emulator import model

#: ``(id, created)`` as ``GET /v1/models`` lists them (MINIMAX_API.md §2, plus the M3.1 preview of §3).
MODELS: tuple[tuple[str, int], ...] = (
    ("MiniMax-M3.1-Flash-Preview", 1790467200),
    ("MiniMax-M3", 1780272000),
    ("MiniMax-M2.7", 1773799200),
    ("MiniMax-M2.7-highspeed", 1773799200),
    ("MiniMax-M2.5", 1770948000),
    ("MiniMax-M2.5-highspeed", 1770948000),
    ("MiniMax-M2.1", 1766455200),
    ("MiniMax-M2.1-highspeed", 1766455200),
    ("MiniMax-M2", 1761530400),
)
MODEL_IDS = frozenset(m for m, _ in MODELS)
#: Output cap the server enforces (only the M3 one is captured, §8).
MAX_OUTPUT = {"MiniMax-M3": 524_288}
#: Longest ``max_completion_tokens`` that makes a request a "title request" (when it asks for a title).
TITLE_MAX_TOKENS = 256

_TITLE_RE = re.compile(r"\btitles?\b|标题|題名|タイトル", re.IGNORECASE)
_THINK_RE = re.compile(r"<think>.*?</think>\s*", re.DOTALL)
_ROLE_PREFIX_RE = re.compile(r"^\s*(user|human|you|q|用户)\s*[:：]\s*", re.IGNORECASE)


def thinking_mode(model_id: str) -> str:
    """``"adaptive"`` (M3: on unless disabled), ``"always"`` (M2.x: disabled ignored) or ``"required"`` (M3.1)."""
    if model_id.startswith("MiniMax-M3.1"):
        return "required"
    if model_id.startswith("MiniMax-M3"):
        return "adaptive"
    return "always"


def context_window(model_id: str) -> int:
    """The model's context window in tokens (§3)."""
    return 1_000_000 if model_id.startswith("MiniMax-M3") else 204_800


def count_tokens(text: str) -> int:
    """Deterministic token estimate: one per four ASCII characters (rounded up), one per other character."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return math.ceil(ascii_chars / 4) + (len(text) - ascii_chars)


def message_text(content: object) -> str:
    """The text of a message ``content``: a string, or the ``text`` parts of a parts array joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "\n".join(parts)
    return ""


def prompt_tokens(messages: Sequence[dict]) -> int:
    """Prompt tokens of a history: the text of each message plus four tokens of framing per message."""
    return sum(count_tokens(message_text(m.get("content"))) + 4 for m in messages)


def cached_tokens(messages: Sequence[dict]) -> int:
    """The prompt-cache hit: everything before the last user message (what the previous request also sent)."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0)
    return prompt_tokens(messages[:last_user]) if last_user > 1 else 0


@dataclass(frozen=True)
class Completion:
    """What the fake model "generates" for one request."""

    reasoning: str
    answer: str
    title_request: bool = False


def _quote(text: str, limit: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def _visible(text: str) -> str:
    """An assistant turn as the user saw it (inline reasoning removed)."""
    return _THINK_RE.sub("", text).strip()


def is_title_request(messages: Sequence[dict], max_tokens: int | None) -> bool:
    """A small request (``max_tokens`` ≤ :data:`TITLE_MAX_TOKENS`) whose system or last user message asks for a title."""
    if max_tokens is None or max_tokens > TITLE_MAX_TOKENS:
        return False
    users = [m for m in messages if m.get("role") == "user"]
    asks = [m for m in messages if m.get("role") == "system"] + users[-1:]
    return any(_TITLE_RE.search(message_text(m.get("content"))) for m in asks)


def make_api_title(messages: Sequence[dict]) -> str:
    """A short title: the first words of the conversation's first real user line (not the instruction)."""
    for m in messages:
        if m.get("role") != "user":
            continue
        for line in message_text(m.get("content")).splitlines():
            line = _ROLE_PREFIX_RE.sub("", line).strip()
            if not line or _TITLE_RE.search(line):
                continue
            if model.has_cjk(line):
                return line[:12].rstrip("。，！？,.!?：: ")
            words = line.split()[:6]
            title = " ".join(words).rstrip(".,!?:;")
            return title[:1].upper() + title[1:]
    return "New conversation"


def _reasoning(user_texts: list[str], system: str | None, n_answers: int, zh: bool, want_code: bool) -> str:
    question = _quote(user_texts[-1]) if user_texts else ""
    n = len(user_texts)
    if zh:
        parts = [f"用户问的是：“{question}”。", f"这是对话中用户的第 {n} 个问题，之前我已经回答了 {n_answers} 次。"]
        if system:
            parts.append(f"系统提示要求：“{_quote(system, 40)}”。")
        parts.append("我应该用 Markdown 回答：一个标题，一个简短的列表" + ("，以及一段代码。" if want_code else "。"))
        parts.append("回答要确定、简洁。")
    else:
        parts = [f"The user is asking: \"{question}\".",
                 f"This is question {n} of the conversation, and I have answered {n_answers} time(s) before."]
        if system:
            parts.append(f"The system prompt says: \"{_quote(system, 40)}\".")
        parts.append("I should answer in Markdown with a heading and a short list"
                     + (", and a code block since they asked for code." if want_code else "."))
        parts.append("Let me keep it deterministic and concise.")
    return " ".join(parts)


def _history_proof(user_texts: list[str], system: str | None, previous: str | None, zh: bool) -> str:
    n = len(user_texts)
    if zh:
        lines = [f"你到目前为止问了我 {n} 个问题。"]
        if n > 1:
            lines.append(f"你之前说过：“{_quote(user_texts[0])}”。")
        if previous:
            lines.append(f"我上一次的回答是这样开头的：“{_quote(previous, 40)}”。")
        if system:
            lines.append(f"我遵循系统提示：“{_quote(system, 40)}”。")
        return "".join(lines)
    things = "thing" if n == 1 else "things"
    lines = [f"You asked me {n} {things} so far."]
    if n > 1:
        lines.append(f"Earlier you said \u201c{_quote(user_texts[0])}\u201d.")
    if previous:
        lines.append(f"My previous answer began \u201c{_quote(previous, 40)}\u201d.")
    if system:
        lines.append(f"I follow the system prompt \u201c{_quote(system, 40)}\u201d.")
    return " ".join(lines)


def complete(messages: Sequence[dict], max_tokens: int | None = None) -> Completion:
    """The fake model's reasoning and answer for a whole request history (deterministic)."""
    systems = [message_text(m.get("content")) for m in messages if m.get("role") == "system"]
    system = systems[0] if systems and systems[0].strip() else None
    user_texts = [message_text(m.get("content")) for m in messages if m.get("role") == "user"]
    answers = [_visible(message_text(m.get("content"))) for m in messages if m.get("role") == "assistant"]
    last = user_texts[-1] if user_texts else ""
    zh = model.has_cjk(last)
    if is_title_request(messages, max_tokens):
        title = make_api_title(messages)
        reasoning = "用户想要一个简短的标题。" if zh else "The user wants a short title for the conversation."
        return Completion(reasoning, title, title_request=True)
    low = last.lower()
    want_code = "code" in low or "代码" in last or "markdown" in low or "demo" in low
    reasoning = _reasoning(user_texts, system, len(answers), zh, want_code)
    if not user_texts:
        return Completion(reasoning, "I have no question to answer yet." if not zh else "还没有问题。")
    if last.lstrip().lower().startswith("echo:"):
        return Completion(reasoning, model.reply(user_texts))
    heading = _quote(last, 48).rstrip("?？.。!！")
    head = f"# 关于：{heading}" if zh else f"# About: {heading}"
    proof = _history_proof(user_texts, system, answers[-1] if answers else None, zh)
    return Completion(reasoning, "\n\n".join([head, proof, model.reply(user_texts)]))


def cut_to_budget(reasoning: str, answer: str, budget: int | None) -> tuple[str, str, bool]:
    """Reasoning and answer cut to ``budget`` completion tokens (reasoning counts first, as on the real server).

    Returns ``(reasoning, answer, truncated)``; ``truncated`` means ``finish_reason`` is ``"length"``.
    """
    if budget is None or count_tokens(reasoning) + count_tokens(answer) <= budget:
        return reasoning, answer, False
    r = _prefix_within(reasoning, budget)
    left = budget - count_tokens(r)
    a = _prefix_within(answer, left) if len(r) == len(reasoning) else ""
    return r, a, True


def _prefix_within(text: str, budget: int) -> str:
    if budget <= 0:
        return ""
    lo, hi = 0, len(text)
    while lo < hi:  # longest prefix whose count fits
        mid = (lo + hi + 1) // 2
        if count_tokens(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]
