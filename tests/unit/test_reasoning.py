"""The reasoning splitter: every shape of MINIMAX_API.md §7, cut anywhere, gives the same reasoning and answer."""

from __future__ import annotations

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from hailuo_tui.provider.models import ReasoningDelta, TextDelta
from hailuo_tui.provider.reasoning import (
    CLOSE_TAG,
    MIN_CUMULATIVE_OVERLAP,
    OPEN_TAG,
    FragmentJoiner,
    ReasoningSplitter,
    ReasoningText,
    ThinkTagParser,
)

# Texts that look like tags, contain '<' and 'think', CJK, emoji and whitespace.
TOKENS = st.sampled_from(
    ["<", ">", "/", "think", "<think", "</thi", "nk>", "<th", "</", "\n", " ", "\t", "你好", "思考", "🙂", "a", "Z",
     "<b>", "x < y", "thinking", "**", "```", "\n\n"]
)
TEXT = st.lists(st.one_of(TOKENS, st.text(max_size=6)), max_size=14).map("".join)
#: Reasoning text inside an inline block cannot contain the closing tag itself.
REASONING = TEXT.filter(lambda t: "</think>" not in t)


def run(deltas) -> tuple[str, str, list]:
    splitter = ReasoningSplitter()
    events = []
    for delta in deltas:
        events += splitter.feed_delta(delta)
    events += splitter.finish()
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    answer = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert reasoning == splitter.reasoning and answer == splitter.answer
    assert all(e.text for e in events), "no empty pieces"
    return reasoning, answer, events


def content_pieces(content: str, cuts: list[int]) -> list[dict]:
    bounds = [0, *sorted(c % (len(content) + 1) for c in cuts), len(content)]
    return [{"content": content[a:b]} for a, b in zip(bounds, bounds[1:])]


def expected_reasoning(text: str) -> str:
    """The documented trim: whitespace around, and one trailing ``</think>``."""
    text = text.strip()
    if text.endswith("</think>"):
        text = text[: -len("</think>")].rstrip()
    return text


# --- inline <think> in content ------------------------------------------------------------------


@given(reasoning=REASONING, answer=TEXT, cuts=st.lists(st.integers(min_value=0), max_size=8))
@example(reasoning="The user asks", answer="Hello", cuts=[3, 20])
@example(reasoning="x </thin", answer="<think>not a tag here</think>", cuts=[1, 2, 3])
@settings(max_examples=400, deadline=None)
def test_inline_block_cut_anywhere(reasoning, answer, cuts):
    content = "<think>\n" + reasoning + "\n</think>\n\n" + answer
    got_reasoning, got_answer, _ = run(content_pieces(content, cuts))
    assert got_reasoning == expected_reasoning(reasoning)
    assert got_answer == answer.lstrip()


def test_inline_every_single_and_pair_split_point():
    content = "  <think>\n用户问：a < b？ think…\n</think>\n\n答案：**是** 🙂"
    whole = run([{"content": content}])[:2]
    assert whole == ("用户问：a < b？ think…", "答案：**是** 🙂")
    for i in range(len(content) + 1):
        for j in range(i, len(content) + 1):
            assert run(content_pieces(content, [i, j]))[:2] == whole, (i, j)


def test_inline_tag_cut_inside_as_the_docs_show():
    deltas = [{"content": "<th"}, {"content": "ink>\nThe user says hi.\n</thi"}, {"content": "nk>\n\nHello"}]
    assert run(deltas)[:2] == ("The user says hi.", "Hello")


@given(content=TEXT, cuts=st.lists(st.integers(min_value=0), max_size=10))
@settings(max_examples=500, deadline=None)
def test_any_content_any_cut_equals_the_unsplit_stream(content, cuts):
    assert run(content_pieces(content, cuts))[:2] == run([{"content": content}])[:2]


@given(content=TEXT)
@settings(max_examples=200, deadline=None)
def test_char_by_char_equals_whole(content):
    assert run([{"content": c} for c in content])[:2] == run([{"content": content}])[:2]


def test_block_that_never_closes_is_all_reasoning():
    assert run([{"content": "<think>\nstill thinking"}, {"content": " about it\n"}])[:2] == (
        "still thinking about it", "")


def test_content_without_a_block_is_all_answer_even_with_a_later_tag():
    text = "Use <think>…</think> tags like this."
    assert run(content_pieces(text, [5, 9]))[:2] == ("", text)


def test_text_before_the_tag_makes_it_an_answer():
    text = "Hello <think>x</think> world"
    assert run([{"content": text}])[:2] == ("", text)


def test_leading_whitespace_and_a_stray_closing_tag_are_dropped():
    assert run([{"content": "\n\n</th"}, {"content": "ink>\n\nAnswer"}])[:2] == ("", "Answer")
    assert run([{"content": " \n"}, {"content": "<think>r</think>a"}])[:2] == ("r", "a")


def test_content_that_only_looks_like_a_tag_start_is_text_at_the_end():
    assert run([{"content": "<th"}])[:2] == ("", "<th")
    assert run([{"content": "<think>"}])[:2] == ("", "")


def test_no_tag_reaches_the_answer_when_blocks_are_well_formed():
    deltas = content_pieces("<think>a</think>\n\nb", [1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15])
    _, answer, events = run(deltas)
    assert answer == "b" and not any("<" in e.text for e in events)


# --- split reasoning fields ---------------------------------------------------------------------


def details(text: str, index: int = 0) -> dict:
    return {"reasoning_details": [{"type": "reasoning.text", "id": "reasoning-text-1",
                                   "format": "MiniMax-response-v1", "index": index, "text": text}]}


def both(text: str) -> dict:
    return {"reasoning_content": text, **details(text)}


def pieces_of(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(c % (len(text) + 1) for c in cuts), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


def looks_cumulative(pieces: list[str]) -> bool:
    """Whether an incremental piece would pass for a snapshot (the documented limit of the heuristic)."""
    received = ""
    for piece in pieces:
        if received and len(received) >= MIN_CUMULATIVE_OVERLAP and piece.startswith(received):
            return True
        received += piece
    return False


@given(reasoning=TEXT, answer=TEXT, cuts=st.lists(st.integers(min_value=0), max_size=8),
       shape=st.sampled_from(["reasoning_content", "reasoning_details", "both"]))
@settings(max_examples=400, deadline=None)
def test_incremental_fields_cut_anywhere(reasoning, answer, cuts, shape):
    pieces = pieces_of(reasoning, cuts)
    assume(not looks_cumulative(pieces))
    # Content that opens with a tag is the inline shape whatever the fields said (MiniMax-M3 sends both;
    # test_inline_block_cut_anywhere and the quirk tests cover it): not this test's answer.
    assume(not answer.lstrip().startswith((OPEN_TAG, CLOSE_TAG)))
    make = {"reasoning_content": lambda t: {"reasoning_content": t}, "reasoning_details": details, "both": both}[shape]
    deltas = [make(p) for p in pieces] + [{"content": answer}]
    assert run(deltas)[:2] == (expected_reasoning(reasoning), answer.lstrip())


@given(reasoning=TEXT.filter(lambda t: len(t) >= MIN_CUMULATIVE_OVERLAP),
       cuts=st.lists(st.integers(min_value=MIN_CUMULATIVE_OVERLAP), max_size=6))
@settings(max_examples=300, deadline=None)
def test_cumulative_details_snapshots(reasoning, cuts):
    ends = sorted({min(c, len(reasoning)) for c in cuts} | {len(reasoning)})
    deltas = [details(reasoning[:end]) for end in ends] + [{"content": "ok"}]
    assert run(deltas)[:2] == (expected_reasoning(reasoning), "ok")


def test_a_stray_closing_tag_split_across_deltas_is_dropped():
    deltas = [{"reasoning_content": "Think about it.\n</th"}, {"reasoning_content": "ink>"},
              {"content": "\n\nDone."}]
    assert run(deltas)[:2] == ("Think about it.", "Done.")


@given(reasoning=REASONING, cuts=st.lists(st.integers(min_value=0), max_size=6))
@settings(max_examples=300, deadline=None)
def test_stray_closing_tag_cut_anywhere(reasoning, cuts):
    pieces = pieces_of(reasoning + "\n</think>", cuts)
    assume(not looks_cumulative(pieces))
    assert run([{"reasoning_content": p} for p in pieces])[0] == expected_reasoning(reasoning)


def test_reasoning_held_back_comes_out_before_the_answer():
    _, _, events = run([{"reasoning_content": "a <"}, {"content": "b"}])
    assert events == [ReasoningDelta("a"), ReasoningDelta(" <"), TextDelta("b")]


def test_a_closing_tag_inside_the_reasoning_is_kept():
    assert run([{"reasoning_content": "a </think> b"}, {"content": "c"}])[:2] == ("a </think> b", "c")


def test_only_one_of_the_two_fields_is_read():
    deltas = [both("The"), both(" user wants"), {"reasoning_content": " more"}, {"content": "Yes."}]
    assert run(deltas)[:2] == ("The user wants", "Yes.")


def test_reasoning_content_alone_when_details_never_carry_text():
    deltas = [{"reasoning_content": "R1", "reasoning_details": []}, {"reasoning_content": " R2"}, {"content": "A"}]
    assert run(deltas)[:2] == ("R1 R2", "A")


def test_same_reasoning_inline_and_in_a_field_is_shown_once():
    deltas = [{"reasoning_content": "Plan it.", "content": "<think>\nPlan"},
              {"content": " it.\n</think>\n\nAnswer"}]
    assert run(deltas)[:2] == ("Plan it.", "Answer")


def test_the_capture_of_section_6():
    deltas = [
        {"role": "assistant", "name": "MiniMax AI", "audio_content": "", **both("The")},
        {"content": "", **both(" user wants a proof…")},
        {"content": "**"},
        {"content": " = 2(a + b + 1)$$\n\nResult divisible by 2. Even. ∎"},
    ]
    assert run(deltas)[:2] == ("The user wants a proof…", "** = 2(a + b + 1)$$\n\nResult divisible by 2. Even. ∎")


# --- the parts ------------------------------------------------------------------------------------


def test_fragment_joiner_short_overlap_is_new_text():
    joiner = FragmentJoiner()
    assert [joiner.feed(p) for p in ["\n", "\nNext"]] == ["\n", "\nNext"]
    assert not joiner.cumulative


def test_fragment_joiner_long_snapshots():
    joiner = FragmentJoiner()
    assert [joiner.feed(p) for p in ["The user ", "The user wants", "The user wants it"]] == [
        "The user ", "wants", " it"]
    assert joiner.cumulative


def test_reasoning_text_holds_only_a_possible_tail():
    text = ReasoningText()
    assert text.feed("\n  a b ") == "a b"
    assert text.feed("</thi") == ""
    assert text.feed("s is text") == " </this is text"
    assert text.finish() == ""


def test_parser_reports_when_it_is_inside_the_block():
    parser = ThinkTagParser()
    parser.feed("<think>x")
    assert parser.in_reasoning
    parser.feed("</think>y")
    assert not parser.in_reasoning
