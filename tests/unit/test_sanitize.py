"""hailuo_tui.sanitize: untrusted text made safe to show."""

from __future__ import annotations

import sys

from hypothesis import given
from hypothesis import strategies as st

from hailuo_tui.sanitize import StreamSanitizer, clean

ESC = "\x1b"


def test_plain_text_is_returned_unchanged():
    text = "你好，世界 👋🏽 e\u0301 naïve `code` [bold red]x[/] **md**\n\tindent"
    assert clean(text) is text


def test_csi_sgr_and_cursor_moves_removed():
    assert clean(f"a{ESC}[31mred{ESC}[0m{ESC}[2J{ESC}[10;5H b") == "ared b"


def test_osc52_clipboard_write_removed_with_bel_and_st():
    assert clean(f"x{ESC}]52;c;aGVsbG8=\x07y") == "xy"
    assert clean(f"x{ESC}]52;c;aGVsbG8={ESC}\\y") == "xy"


def test_title_changes_removed():
    assert clean(f"{ESC}]0;pwned\x07{ESC}]2;pwned{ESC}\\ok") == "ok"


def test_dcs_apc_pm_sos_removed():
    assert clean(f"a{ESC}P1$r0m{ESC}\\b{ESC}_Gf=100;AAAA{ESC}\\c{ESC}^pm{ESC}\\d{ESC}Xs{ESC}\\e") == "abcde"


def test_unterminated_osc_stops_at_line_end():
    assert clean(f"a{ESC}]52;c;AAAA\nnext line") == "a\nnext line"


def test_c1_controls_removed():
    # 8-bit CSI / OSC / ST and NEL
    assert clean("a\x9b31mb\x9d0;t\x9cc\x85d") == "abcd"


def test_two_char_escapes_and_lone_esc_removed():
    assert clean(f"a{ESC}cb{ESC}(Bc{ESC}7d{ESC}") == "abcd"


def test_c0_controls_dropped_newlines_normalised():
    assert clean("a\x00b\x07c\x08d\x7fe\r\nf\rg\th\n") == "abcde\nf\ng\th\n"


def test_bidi_controls_removed():
    bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    assert clean(f"abc{bidi}def") == "abcdef"


def test_cjk_emoji_combining_and_zwj_kept():
    text = "中文 日本語 한국어 👩‍👩‍👧 🇨🇳 e\u0301 \u200d\u200b"
    assert clean(text + "\x07") == text


def test_markup_is_not_touched():
    text = "[@click=app.quit]hi[/] [bold red]x[/]"
    assert clean(text) == text


def test_clean_text_takes_the_fast_path():
    """Text with nothing to remove comes back as the very same object: one search, no substitution (how fast
    that is belongs to a benchmark, not to a test)."""
    text = ("普通的一段文字 with **markdown** and `code`.\n" * 600)[:20_000]
    assert clean(text) is text


def test_a_long_run_of_escapes_is_cleaned_whole():
    """20,000 characters of escapes, CRLFs and bidi overrides: all removed (a pattern that backtracked
    badly on such input would hit the suite's timeout)."""
    text = ("text\r\n" + ESC + "[31m" * 3 + "\u202e") * 2000
    assert clean(text) == "text\n[31m[31m" * 2000  # the first [31m of each had the ESC


def test_no_textual_or_rich_import():
    import subprocess

    code = "import sys, hailuo_tui.sanitize; print(any(m.split('.')[0] in ('textual', 'rich') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_stream_sanitizer_joins_split_sequences():
    pieces = ["x", ESC, "]52;c;", "aGVs", "bG8=", ESC, "\\y\r", "\nz", ESC + "[3", "1mq"]
    sanitizer = StreamSanitizer()
    out = "".join(sanitizer.feed(p) for p in pieces) + sanitizer.flush()
    assert out == "xy\nzq"


def test_stream_sanitizer_flushes_trailing_cr():
    sanitizer = StreamSanitizer()
    assert sanitizer.feed("a\r") == "a"
    assert sanitizer.flush() == "\n"


_alphabet = st.sampled_from(
    list("ab你好 \n\t[]*`#") + [ESC, "\r", "\x07", "\x9b", "\x9c", "\u202e", "]", "5", "2", ";", "m", "\\"]
)


@given(st.lists(_alphabet, max_size=60), st.data())
def test_stream_output_never_contains_controls(chars, data):
    text = "".join(chars)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    sanitizer = StreamSanitizer()
    out, start = [], 0
    for cut in cuts + [len(text)]:
        out.append(sanitizer.feed(text[start:cut]))
        start = cut
    out.append(sanitizer.flush())
    joined = "".join(out)
    assert clean(joined) == joined
    assert not any(c in joined for c in (ESC, "\r", "\x07", "\x9b", "\x9c", "\u202e"))


@given(st.text(max_size=200))
def test_clean_is_idempotent_and_safe(text):
    once = clean(text)
    assert clean(once) == once
    assert all(c in "\n\t" or not (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0) for c in once)
