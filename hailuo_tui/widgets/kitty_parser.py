"""Keep IME-committed text intact under the kitty keyboard protocol.

Textual 8.2.8 asks the terminal for kitty flags 1|8|16 (disambiguate, report
all keys as escape codes, report associated text). A terminal then sends an
IME commit such as 你好 as ``CSI 49;;20320:22909 u``: key code, modifiers,
and the text as colon-separated code points.

What Textual's `XTermParser` does with that (measured, see
tests/ui/test_widgets.py):

* A short sequence read in one piece is parsed correctly (你, 好 keys).
* It gives up on any escape sequence longer than 32 characters
  (``_MAX_SEQUENCE_SEARCH_THRESHOLD``) and re-issues it as typed keys. Every
  IME commit of five or more CJK characters is longer than that, so the
  prompt receives ``^[49;;20320:22909:...u`` instead of the phrase.
* If the ``ESC`` and the rest arrive more than ESCDELAY (100 ms) apart (slow
  links, ssh), the parser reports an Escape key and then the characters
  ``[49;;20320:22909u`` as typed text.

Two fixes, both small:

* `KittyParser`, an `XTermParser` whose `feed` turns complete text-carrying
  CSI-u sequences into the plain characters before the stock parser sees
  them, and holds back a trailing incomplete ``CSI <digits>`` for up to
  `HOLD_TIMEOUT` so a sequence split after ``ESC [`` is joined. (A lone
  trailing ``ESC`` is not held: it is also the Escape key on terminals
  without the protocol; that split still reports Escape, and the prompt's
  repair below fixes the text.) `install_kitty_text_fix()`
  makes Textual's Linux drivers use it; the app calls it once before
  `App.run()`.
* `repair_leaked_text`, used by `PromptInput` as a safety net for sequences
  that still leak through as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.message import Message

from hailuo_tui.textual_compat import XTermParser, get_time, replace_input_parser

__all__ = [
    "KittyParser",
    "decode_codepoints",
    "install_kitty_text_fix",
    "repair_leaked_text",
    "translate_kitty_text",
]

# CSI key[:alternates] ; modifiers[:event] ; text-codepoints u
_KITTY_TEXT = re.compile(
    r"\x1b\[\d*(?::\d*)*;(?P<mods>\d*)(?::(?P<event>\d*))?;(?P<text>\d+(?::\d+)*)u"
)
# The same, leaked as typed characters (ESC lost or shown as "^"), at the end.
_LEAKED_TEXT = re.compile(
    r"(?:\x1b|\^)?\[\d*(?::\d*)*;(?P<mods>\d*)(?::(?P<event>\d*))?;"
    r"(?P<text>\d+(?::\d+)*)u\Z"
)
#: Alt+Enter as tmux and xterm (meta sends escape) send it; XTermParser 8.2.8 reads it as a bare Enter.
ALT_ENTER_ESC = "\x1b\r"
#: Alt+Enter from xterm's default eight-bit meta (CR with the high bit: the C1 control U+008D, never typed).
ALT_ENTER_C1 = "\x8d"
#: The kitty protocol's Alt+Enter, which XTermParser reads as ``alt+enter``.
ALT_ENTER_CSI = "\x1b[13;3u"
_INCOMPLETE = re.compile(r"\x1b\[\d[\d:;]*\Z")

# Modifier bits (value - 1): shift 1, caps_lock 64, num_lock 128 keep the text;
# alt/ctrl/super/hyper/meta make it a shortcut, which Textual must see.
_TEXT_SAFE_MODIFIERS = 1 | 64 | 128
HOLD_TIMEOUT = 0.5
"""Seconds a trailing incomplete ``CSI <digits>`` waits for the rest."""
_HOLD_LIMIT = 512


def decode_codepoints(field: str) -> str:
    """Turn a colon-separated list of decimal code points into text.

    Args:
        field: For example ``"20320:22909"``.

    Returns:
        The characters (``"你好"``); invalid, surrogate and control code
        points are dropped.
    """
    chars = []
    for part in field.split(":"):
        if not part.isdecimal():
            continue
        code = int(part)
        if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000 or code > 0x10FFFF:
            continue
        chars.append(chr(code))
    return "".join(chars)


def _text_of(match: re.Match[str]) -> str | None:
    """The text a kitty sequence stands for, or None when it is a shortcut."""
    mods = int(match["mods"] or "1")
    if (mods - 1) & ~_TEXT_SAFE_MODIFIERS:
        return None
    if match["event"] == "3":  # key release
        return ""
    return decode_codepoints(match["text"])


def translate_kitty_text(data: str) -> str:
    """Replace complete text-carrying kitty CSI-u sequences with their text.

    Args:
        data: Terminal input as decoded by the driver.

    Returns:
        The same input, with e.g. ``"\\x1b[49;;20320:22909u"`` as ``"你好"``.
        Sequences with ctrl/alt/super modifiers are left alone.
    """
    if "\x1b[" not in data:
        return data

    def replace(match: re.Match[str]) -> str:
        text = _text_of(match)
        return match[0] if text is None else text

    return _KITTY_TEXT.sub(replace, data)


def repair_leaked_text(before_cursor: str) -> tuple[int, str] | None:
    """Find a kitty text sequence that leaked into typed text.

    Args:
        before_cursor: The text on the cursor's line up to the cursor.

    Returns:
        (length of the leaked sequence at the end, the text it stands for),
        or None when the line does not end with one.
    """
    if not before_cursor.endswith("u"):
        return None
    match = _LEAKED_TEXT.search(before_cursor)
    if match is None:
        return None
    text = _text_of(match)
    if text is None:
        return None
    return len(match[0]), text


class KittyParser(XTermParser):
    """An XTermParser that delivers kitty text sequences as characters."""

    def __init__(self, debug: bool = False) -> None:
        self._held = ""
        self._held_since = 0.0
        super().__init__(debug)

    def feed(self, data: str) -> Iterable[Message]:
        if not data:  # end of input
            if self._held:
                held, self._held = self._held, ""
                yield from super().feed(held)
            yield from super().feed(data)
            return
        if self._held:
            data = self._held + data
            self._held = ""
        match = _INCOMPLETE.search(data)
        if match is not None and len(data) - match.start() <= _HOLD_LIMIT:
            self._held = data[match.start() :]
            self._held_since = get_time()
            data = data[: match.start()]
        data = translate_kitty_text(data)
        if ALT_ENTER_ESC in data or ALT_ENTER_C1 in data:
            # Escape then Enter typed by hand come in two reads; in one read it is Alt+Enter.
            data = data.replace(ALT_ENTER_ESC, ALT_ENTER_CSI).replace(ALT_ENTER_C1, ALT_ENTER_CSI)
        if data:
            yield from super().feed(data)

    def tick(self) -> Iterable[Message]:
        if self._held and get_time() - self._held_since >= HOLD_TIMEOUT:
            held, self._held = self._held, ""
            yield from super().feed(held)
        yield from super().tick()


def install_kitty_text_fix() -> bool:
    """Make Textual's Linux drivers parse input with `KittyParser`.

    Call once before `App.run()`. It replaces the `XTermParser` name that
    `textual.drivers.linux_driver` (and the inline driver) look up when
    their input thread starts (`textual_compat.replace_input_parser`);
    nothing else changes.

    Returns:
        True when the drivers now use `KittyParser`; False when they could
        not be patched (no Linux drivers, or a Textual that builds its
        parser differently), and IME text may arrive garbled.
    """
    return replace_input_parser(KittyParser)
