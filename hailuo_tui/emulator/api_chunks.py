"""Pure builders of the MiniMax API's response bodies: stream chunks (§6), the usage chunk, ``chat.completion`` (§5).

:func:`plan` cuts the reasoning and the answer into the text pieces of a stream in one of the reasoning shapes
of §7 (see :attr:`~hailuo_tui.emulator.api_config.ApiSwitches.api_reasoning`); :func:`chunk` wraps one piece in
every field a real chunk carries. Never imports textual or rich.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hailuo_tui.emulator import model

SENSITIVITY: dict[str, Any] = {"input_sensitive": False, "output_sensitive": False, "input_sensitive_type": 0,
                               "output_sensitive_type": 0, "output_sensitive_int": 0}
DETAIL_HEAD: dict[str, Any] = {"type": "reasoning.text", "id": "reasoning-text-1", "format": "MiniMax-response-v1",
                               "index": 0}
ASSISTANT_NAME = "MiniMax AI"
STRAY_TAG = "\n</think>"


def effective_shape(switch: str, reasoning_split: bool) -> str:
    """The shape a request gets: every split shape needs ``reasoning_split:true`` (else inline, as the real API)."""
    if switch == "inline" or not reasoning_split:
        return "inline"
    return switch


def inline_text(reasoning: str, answer: str) -> str:
    """``content`` of inline mode: ``<think>\\n…\\n</think>\\n\\n`` then the answer (no block without reasoning)."""
    return f"<think>\n{reasoning}\n</think>\n\n{answer}" if reasoning else answer


def split_reasoning(reasoning: str, shape: str) -> str:
    """The reasoning text a split shape sends (with the stray closing tag for ``split_with_stray_tag``)."""
    return reasoning + STRAY_TAG if reasoning and shape == "split_with_stray_tag" else reasoning


def cut_text(text: str, size: int, forced: tuple[int, ...] = ()) -> list[str]:
    """``text`` in pieces of about ``size`` characters (after whitespace where possible), also cut at ``forced``."""
    if not text:
        return []
    ends = set(model.split_ends(text, chunk_chars=size)) | {f for f in forced if 0 < f < len(text)}
    out, prev = [], 0
    for end in sorted(ends):
        if end > prev:
            out.append(text[prev:end])
            prev = end
    return out


@dataclass(frozen=True)
class Piece:
    """One chunk's new text: ``kind`` is ``"reasoning"`` or ``"content"``."""

    kind: str
    text: str


def plan(reasoning: str, answer: str, shape: str, size: int) -> list[Piece]:
    """The text pieces of a stream, in order (at least one piece, possibly an empty content piece)."""
    if shape == "inline":
        full = inline_text(reasoning, answer)
        forced: tuple[int, ...] = ()
        if reasoning:
            close = full.index("</think>", len("<think>\n") + len(reasoning))
            # the awkward cuts clients have met: "<th" + "ink>…" and "…</thi" + "nk>\n\n…"
            forced = (3, close + 5)
        pieces = [Piece("content", t) for t in cut_text(full, size, forced)]
    else:
        text = split_reasoning(reasoning, shape)
        forced = (len(reasoning) + 4,) if text != reasoning else ()  # "\n</t" + "hink>"
        pieces = [Piece("reasoning", t) for t in cut_text(text, size, forced)]
        pieces += [Piece("content", t) for t in cut_text(answer, size)]
    return pieces or [Piece("content", "")]


def delta(piece: Piece, shape: str, *, first: bool, reasoning_so_far: str) -> dict[str, Any]:
    """The ``delta`` of one piece (``reasoning_so_far`` includes this piece; used by the cumulative shape)."""
    out: dict[str, Any] = {}
    if piece.kind == "content":
        out["content"] = piece.text
    elif not first:
        out["content"] = ""  # as captured: reasoning chunks after the first carry an empty content
    out.update(role="assistant", name=ASSISTANT_NAME, audio_content="")
    if piece.kind == "reasoning":
        if shape == "details_cumulative":
            out["reasoning_details"] = [{**DETAIL_HEAD, "text": reasoning_so_far}]
        else:
            out["reasoning_content"] = piece.text
            out["reasoning_details"] = [{**DETAIL_HEAD, "text": piece.text}]
    return out


def chunk(cid: str, created: int, model_id: str, the_delta: dict[str, Any], finish_reason: str | None = None
          ) -> dict[str, Any]:
    """A ``chat.completion.chunk`` with every field of the live captures (``usage`` null)."""
    choice: dict[str, Any] = {"finish_reason": finish_reason} if finish_reason else {}
    choice.update(index=0, delta=the_delta)
    return {"id": cid, "choices": [choice], "created": created, "model": model_id,
            "object": "chat.completion.chunk", "usage": None, **SENSITIVITY}


def usage(prompt: int, completion: int, reasoning: int, cached: int) -> dict[str, Any]:
    """The ``usage`` object (``total_characters`` is always 0 on the real server)."""
    return {"total_tokens": prompt + completion, "total_characters": 0, "prompt_tokens": prompt,
            "completion_tokens": completion, "completion_tokens_details": {"reasoning_tokens": reasoning},
            "prompt_tokens_details": {"cached_tokens": cached}}


def usage_chunk(cid: str, created: int, model_id: str, the_usage: dict[str, Any]) -> dict[str, Any]:
    """The trailing chunk of ``stream_options.include_usage``: ``choices: []``, the usage and ``base_resp``."""
    return {"id": cid, "choices": [], "created": created, "model": model_id, "object": "chat.completion.chunk",
            "usage": the_usage, "base_resp": {"status_code": 0, "status_msg": ""}}


def completion(cid: str, created: int, model_id: str, reasoning: str, answer: str, shape: str,
               finish_reason: str, the_usage: dict[str, Any]) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` body (§5)."""
    message: dict[str, Any] = {"content": inline_text(reasoning, answer) if shape == "inline" else answer,
                               "role": "assistant", "name": ASSISTANT_NAME, "audio_content": ""}
    if shape != "inline" and reasoning:
        text = split_reasoning(reasoning, shape)
        if shape != "details_cumulative":
            message["reasoning_content"] = text
        message["reasoning_details"] = [{**DETAIL_HEAD, "text": text}]
    body: dict[str, Any] = {"id": cid, "choices": [{"finish_reason": finish_reason, "index": 0, "message": message}],
                            "created": created, "model": model_id, "object": "chat.completion",
                            "usage": the_usage, **SENSITIVITY, "base_resp": {"status_code": 0, "status_msg": ""}}
    if model_id.startswith("MiniMax-M3"):
        body["service_tier"] = "standard"
    return body
