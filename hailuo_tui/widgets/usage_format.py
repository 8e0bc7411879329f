"""Words for an answer's token usage and timing (the usage line, the status bar, the thinking summary).

Pure functions, no textual: the usage dict comes from the store or the reply session
(``{"model", "prompt_tokens", "completion_tokens", "reasoning_tokens", "seconds"}``, and ``"left_out"``:
messages left out of the request for the context window), and
any of its values may be missing or of the wrong type in an old or hand-edited database.
"""

from __future__ import annotations

import math
from typing import Any

from hailuo_tui.sanitize import clean

__all__ = ["format_count", "format_seconds", "format_tokens", "format_usage"]

#: Separator between the parts of a usage line.
DOT = " · "


def _number(value: Any) -> float:
    """A finite, non-negative number, or 0 (a corrupt value never breaks the line)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    if not math.isfinite(value) or value < 0:
        return 0
    return value


def format_count(count: int) -> str:
    """A whole count with thousands separators: 1234 -> "1,234"."""
    return f"{int(count):,}"


def format_tokens(count: int) -> str:
    """A compact token count: 769 -> "769", 12_345 -> "12.3k", 2_500_000 -> "2.5M"."""
    count = int(_number(count))
    if count < 1000:
        return str(count)
    value, suffix = (count / 1000, "k") if count < 999_500 else (count / 1_000_000, "M")
    text = f"{value:.1f}" if value < 99.95 else f"{value:.0f}"
    return text.removesuffix(".0") + suffix


def format_seconds(seconds: float) -> str:
    """A duration: "0.4 s", "2.4 s", "12 s", "1 min 5 s"."""
    seconds = _number(seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def format_usage(usage: dict[str, Any] | None) -> str:
    """The usage line of an answer, e.g. "MiniMax-M3 · 769 → 116 tokens (37 reasoning) · 2.4 s · 48 tok/s".

    The reasoning count is left out when it is 0, the time and speed when the
    time is unknown (0), the model when it has no name.

    Args:
        usage: The saved usage dict, or None.

    Returns:
        One line of plain text ("" when there is nothing to say).
    """
    if not isinstance(usage, dict):
        return ""
    prompt = int(_number(usage.get("prompt_tokens")))
    completion = int(_number(usage.get("completion_tokens")))
    reasoning = int(_number(usage.get("reasoning_tokens")))
    seconds = _number(usage.get("seconds"))
    model = usage.get("model")
    # The model name comes from a server: one line, no escapes.
    model = " ".join(clean(model).split()) if isinstance(model, str) else ""
    if not (prompt or completion or seconds or model):
        return ""
    parts = [model] if model else []
    tokens = f"{format_count(prompt)} → {format_count(completion)} tokens"
    if reasoning:
        tokens += f" ({format_count(reasoning)} reasoning)"
    parts.append(tokens)
    if seconds > 0:
        parts.append(format_seconds(seconds))
        parts.append(f"{completion / seconds:.0f} tok/s")
    left_out = int(_number(usage.get("left_out")))
    if left_out:
        # The history passed the model's context window: the oldest messages were not sent (still saved).
        parts.append(f"{format_count(left_out)} oldest message{'s' if left_out != 1 else ''} not sent")
    return DOT.join(parts)
