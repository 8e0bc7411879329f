"""Every use of Textual's private API, in one place.

Textual is pinned (textual==8.2.8) and a few of our speed-ups and fixes need
names it does not publish: how a widget takes a new size and marks itself for
repainting, when a scroll view takes back its anchor, the wrapping `TextArea`
uses, and the terminal input parser its drivers build. Nothing else in the
package imports ``textual._*`` or reaches for an underscore name of a Textual
class; it goes through this module.

`PRIVATE_API` lists each name with the signature it has in the pinned release;
tests/unit/test_textual_compat.py checks them all, so an upgrade that renames or
reshapes one fails a test instead of silently turning a workaround off.

The mixins below are plain classes at run time (listed before the Widget class
in the bases): a Widget subclass here would re-apply Widget's default CSS over
the widget's own. They turn Textual's private hooks into methods with public
names (`handle_size_update`, `mark_dirty`, `may_restore_anchor`) that our
widgets override.

Where public calls can do what a private helper does, the replacement lives
here too (`content_style` for ``Widget._get_style``), and the test checks that
both still agree.
"""

from __future__ import annotations

import asyncio
import errno
import importlib
import logging
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from textual._compositor import Compositor
from textual._styles_cache import StylesCache
from textual._time import get_time
from textual._wrap import compute_wrap_offsets
from textual._xterm_parser import XTermParser
from textual.cache import FIFOCache
from textual.drivers._writer_thread import WriterThread
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.segment import Segment
    from textual.geometry import Region, Size
    from textual.screen import Screen

    _Base = Widget
else:
    _Base = object

__all__ = [
    "PRIVATE_API",
    "AnchorHooks",
    "ErrorHooks",
    "MessageHooks",
    "PrivateName",
    "ResizeHooks",
    "XTermParser",
    "allow_draw_soon",
    "allow_draw_when_laid_out",
    "anchor_released",
    "compute_wrap_offsets",
    "content_style",
    "draw_scroll_bars_with_layout",
    "draw_soon",
    "draw_when_laid_out",
    "drop_removed_render_caches",
    "forget_drawn_lines",
    "get_time",
    "keep_full_map_after_reflow",
    "lazy_line_caches",
    "replace_input_parser",
    "resume_only_after_suspend",
    "survive_a_closed_terminal",
]

log = logging.getLogger(__name__)

PINNED_TEXTUAL = "8.2.8"
"""The Textual release whose private names `PRIVATE_API` describes."""

INPUT_DRIVERS = ("textual.drivers.linux_driver", "textual.drivers.linux_inline_driver")
"""Driver modules whose input thread builds an `XTermParser` by that global name."""
OUTPUT_DRIVERS = ("textual.drivers.linux_driver", "textual.drivers.windows_driver")
"""Driver modules that build their output thread as ``WriterThread(file)`` by that global name."""
LINE_CACHES = (
    "_divide_cache", "_crop_cache", "_style_cache", "_filter_cache", "_line_length_cache", "_crop_extend_cache",
    "_offsets_cache",
)
"""The caches every `Strip` makes for itself (``FIFOCache``s), which `lazy_line_caches` makes on first use."""


@dataclass(frozen=True)
class PrivateName:
    """One private Textual name this package relies on.

    Attributes:
        owner: Where it lives, ``"module:Class"`` or ``"module"``.
        name: The attribute.
        signature: ``str(inspect.signature(...))`` in the pinned release, or
            None for a value (checked on an instance when the owner is a class).
        used_for: What breaks if it goes.
    """

    owner: str
    name: str
    signature: str | None
    used_for: str


PRIVATE_API: tuple[PrivateName, ...] = (
    PrivateName(
        "textual.widget:Widget", "_size_updated",
        "(self, size: 'Size', virtual_size: 'Size', container_size: 'Size', layout: 'bool' = True) -> 'bool'",
        "ResizeHooks: repaint only grown lines while an answer streams (widgets/repaint.py)",
    ),
    PrivateName(
        "textual.widget:Widget", "_set_dirty", "(self, *regions: 'Region') -> 'None'",
        "ResizeHooks: the whole-widget repaint a size change asks for (widgets/repaint.py)",
    ),
    PrivateName(
        "textual.widget:Widget", "_vertical_scrollbar", None,
        "draw_scroll_bars_with_layout: a scroll view's bars, read without creating them",
    ),
    PrivateName(
        "textual.widget:Widget", "_horizontal_scrollbar", None,
        "draw_scroll_bars_with_layout: a scroll view's bars, read without creating them",
    ),
    PrivateName(
        "textual.widget:Widget", "_repaint_required", None,
        "draw_scroll_bars_with_layout: the repaint a bar asked for while the layout that draws it ran",
    ),
    PrivateName(
        "textual.widget:Widget", "_layout_required", None,
        "draw_scroll_bars_with_layout: a bar waiting for a layout of its own is left alone",
    ),
    PrivateName(
        "textual.app:App", "_batch_count", None,
        "draw_scroll_bars_with_layout: inside a batch the frame is drawn later, so the bars are left alone",
    ),
    PrivateName(
        "textual.screen:Screen", "_on_timer_update", "(self) -> 'None'",
        "draw_when_laid_out: a page of messages is laid out and drawn once mounted, not at the next frame tick",
    ),
    PrivateName(
        "textual.message_pump:MessagePump", "_message_queue", None,
        "draw_when_laid_out: the screen has taken every layout request sent to it",
    ),
    PrivateName(
        "textual.screen:Screen", "_dirty_widgets", None,
        "draw_soon: an answer's last words that only repaint (no new line) are drawn at once too",
    ),
    PrivateName(
        "textual.widget:Widget", "_check_anchor", "(self) -> 'None'",
        "AnchorHooks: ChatView keeps its anchor released while newer messages wait below",
    ),
    PrivateName(
        "textual.widget:Widget", "_anchor_released", None,
        "anchor_released: whether ChatView still follows the bottom",
    ),
    PrivateName(
        "textual._wrap", "compute_wrap_offsets",
        "(text: 'str', width: 'int', tab_size: 'int', fold: 'bool' = True, "
        "precomputed_tab_sections: 'list[tuple[str, int]] | None' = None) -> 'list[int]'",
        "PlainBody wraps huge messages a line at a time, as TextArea does",
    ),
    PrivateName(
        "textual._xterm_parser:XTermParser", "feed", "(self, data: 'str') -> 'Iterable[Message]'",
        "KittyParser feeds the stock parser after decoding kitty text sequences",
    ),
    PrivateName(
        "textual._xterm_parser:XTermParser", "tick", "(self) -> 'Iterable[T]'",
        "KittyParser flushes a held sequence, then lets the stock parser time out",
    ),
    PrivateName(
        "textual._xterm_parser:XTermParser", "__init__", "(self, debug: 'bool' = False) -> 'None'",
        "the drivers build the parser as XTermParser(debug)",
    ),
    PrivateName(
        "textual._time", "get_time", None,
        "KittyParser times a held sequence with the parser's own clock",
    ),
    PrivateName(
        "textual.app:App", "_dispatch_action",
        "(self, namespace: 'DOMNode', action_name: 'str', params: 'Any') -> 'bool'",
        "ErrorHooks: a store refusal raised by a bound action is said on screen (app.py)",
    ),
    PrivateName(
        "textual.app:App", "_handle_exception", "(self, error: 'Exception') -> 'None'",
        "ErrorHooks: a store refusal from a worker or a dialog callback never ends the app with a traceback",
    ),
    PrivateName(
        "textual.message_pump:MessagePump", "_on_message", "(self, message: 'Message') -> 'None'",
        "MessageHooks: a store refusal in any of the chat screen's handlers is said, not raised (screens/store_faults.py)",
    ),
    PrivateName(
        "textual._styles_cache:StylesCache", "get_inner_outer",
        "(cls, base_background: 'Color', background: 'Color') -> 'tuple[Style, Style]'",
        "drop_removed_render_caches: its lru_cache kept removed widgets' drawn lines alive",
    ),
    PrivateName(
        "textual.widget:Widget", "_styles_cache", None,
        "forget_drawn_lines: a removed widget's drawn lines freed at its removal, not by a full collection",
    ),
    PrivateName(
        "textual._styles_cache:StylesCache", "clear", "(self) -> 'None'",
        "forget_drawn_lines: empties a widget's drawn lines (Textual's own call when a widget must redraw)",
    ),
    PrivateName(
        "textual.strip:Strip", "__init__",
        "(self, segments: 'Iterable[Segment]', cell_length: 'int | None' = None) -> 'None'",
        "lazy_line_caches: a line made without the seven caches its __init__ makes",
    ),
    *(
        PrivateName(
            "textual.strip:Strip", name, None,
            "lazy_line_caches: the slots a line's __init__ fills, made on first use or set to what it sets",
        )
        for name in ("_segments", "_cell_length", "_render_cache", "_link_ids", "_cell_count", *LINE_CACHES)
    ),
    PrivateName(
        "textual.cache:FIFOCache", "_maxsize", None,
        "lazy_line_caches: each line cache is made as large as Textual makes it",
    ),
    PrivateName(
        "textual._compositor:Compositor", "reflow", "(self, parent: 'Widget', size: 'Size') -> 'ReflowResult'",
        "keep_full_map_after_reflow: the map a layout just built is not built again for the first region asked",
    ),
    PrivateName(
        "textual._compositor:Compositor", "_full_map_invalidated", None,
        "keep_full_map_after_reflow: the flag reflow leaves stale",
    ),
    PrivateName(
        "textual.widgets:TextArea", "_on_key", "(self, event: 'events.Key') -> 'None'",
        "PromptInput's key handler runs before TextArea's, which inserts the character",
    ),
    PrivateName(
        "textual.widgets:TextArea", "_on_paste", "(self, event: 'events.Paste') -> 'None'",
        "PromptInput's paste handler runs before TextArea's and may prevent it",
    ),
    *(
        PrivateName(
            module, "XTermParser", None,
            "replace_input_parser: the name the input thread looks up when it starts",
        )
        for module in INPUT_DRIVERS
    ),
    PrivateName(
        "textual.drivers.linux_driver:LinuxDriver", "_sigcont_application", "(self, *_) -> 'None'",
        "resume_only_after_suspend: the SIGCONT handler the driver installs when it is built",
    ),
    PrivateName(
        "textual.drivers._writer_thread:WriterThread", "__init__", "(self, file: 'IO[str]') -> 'None'",
        "survive_a_closed_terminal: the drivers build their output thread as WriterThread(file)",
    ),
    PrivateName(
        "textual.drivers.linux_driver", "WriterThread", None,
        "survive_a_closed_terminal: the name the Linux driver looks up when it starts",
    ),
)
"""Every private Textual name used by the package, with its pinned signature."""


def drop_removed_render_caches() -> None:
    """Let the lines that removed widgets drew be freed.

    Textual memoises ``StylesCache.get_inner_outer`` in an ``lru_cache(1024)`` keyed on the
    cache instance, so the styles cache of each of the last 1,024 widgets that drew anything
    stays alive after the widget is gone, with every line it drew. A chat view that unmounts
    old messages as new ones come grew by ~0.3 MB an answer that way (bench/soak.py: 80 MB
    at the start, 215 MB after 500 answers). The memo only saves recomputing two styles
    from two colours; emptying it after a removal costs one recomputation per live widget.
    """
    StylesCache.get_inner_outer.cache_clear()


def forget_drawn_lines(widgets: list[Widget]) -> None:
    """Empty the styles caches (the lines each widget last drew) of widgets just removed.

    A removed widget is cyclic garbage (parent, children, message queue): only a full collection frees
    it, with everything it holds. Most of that is drawn lines: each line is a ``Strip`` with seven caches
    of its own, and the cuts and crops the compositor made of it sit in them. Those hold no cycle, so
    emptied here they are freed at once, and the full collection, which runs at a quiet moment
    (hailuo_tui.idle_gc), has less to free and less to walk. Textual empties the same cache itself
    whenever a widget must redraw.

    Args:
        widgets: The removed widgets and their descendants (listed before the removal, which detaches
            the children).
    """
    for widget in widgets:
        widget._styles_cache.clear()


def keep_full_map_after_reflow(keep: bool = True) -> None:
    """Mark the map of every widget's place that a layout just built as current (``keep=False`` undoes it).

    ``Compositor.reflow`` (a layout) arranges the whole screen into a fresh full map but leaves the
    flag that says the map is stale as it was: once a scroll had set it (``reflow_visible`` does, and
    the chat view scrolls on every frame of a streaming answer and on every page of older messages),
    the first ``widget.region`` or ``widget.size`` asked after the next layout arranged the whole
    screen a second time. Reading up the 2,000-message conversation, that was one more arrangement of
    the screen per page (330 of 661 ``_arrange_root`` calls, ~5 % of a page's time in cProfile).
    """
    current = Compositor.reflow
    original = getattr(current, "__wrapped__", current)
    if not keep:
        Compositor.reflow = original  # type: ignore[method-assign]
        return
    if current is not original:
        return

    def reflow(self: Compositor, parent: Widget, size: Size) -> Any:
        result = original(self, parent, size)
        self._full_map_invalidated = False  # self._full_map is what was just arranged
        return result

    reflow.__wrapped__ = original  # type: ignore[attr-defined]
    Compositor.reflow = reflow  # type: ignore[method-assign]


_draw_when_laid_out = True


def allow_draw_when_laid_out(on: bool = True) -> None:
    """Let `draw_when_laid_out` draw (``on=False``: a change waits for the screen's next frame tick, as in Textual)."""
    global _draw_when_laid_out
    _draw_when_laid_out = on


async def draw_when_laid_out(screen: Screen, widgets: Iterable[Widget], hops: int = 12) -> bool:
    """Lay out and draw ``screen`` as soon as the layout that ``widgets`` asked for has reached it, rather than
    at its next frame tick. False: left to the tick (switched off, not the current screen, inside a batch,
    nothing to lay out, or not settled within ``hops`` turns of the event loop).

    Textual draws on a 60 Hz timer that a change resumes (``Screen._on_timer_update``); a change made just
    after a tick waits up to 16.7 ms to be drawn. A page of older messages mounted above the reader is a change
    the reader waits for. A widget's request for a layout travels as messages (its idle prompt, then a
    ``Layout`` message to the screen), so this yields to the event loop until none of ``widgets`` has a
    request still to send and the screen's queue is empty, and then makes the timer's own call, once: laid
    out before every request had arrived, the screen laid the whole view out a second time for the late
    ones (measured in round ten: the CPU of a page up by a third to a half).
    """
    if not _draw_when_laid_out:
        return False
    return await _draw_once_settled(screen, list(widgets), hops)


async def _draw_once_settled(screen: Screen, targets: list[Widget], hops: int = 12) -> bool:
    """What `draw_when_laid_out` and `draw_soon` do, whatever their switches say."""
    for _ in range(hops):
        if not screen.is_current or screen.app._batch_count:
            return False
        waiting = not screen._message_queue.empty() or any(
            widget._layout_required or widget._repaint_required for widget in targets
        )
        if not waiting:
            if not screen._layout_required and not screen._dirty_widgets:
                return False  # the timer has drawn it already, or nothing asked for a frame
            screen._on_timer_update()  # which pauses the timer the requests resumed: no second frame
            return True
        await asyncio.sleep(0)
    return False


_draw_last_words_at_once = True


def allow_draw_soon(on: bool = True) -> None:
    """Let `draw_soon` draw (``on=False``: an answer's last words wait for the screen's next frame tick, as in
    Textual)."""
    global _draw_last_words_at_once
    _draw_last_words_at_once = on


def draw_soon(screen: Screen, widgets: Iterable[Widget]) -> asyncio.Future[bool] | None:
    """`draw_when_laid_out` in a task of its own, for a change whose maker must not wait for its frame (an
    answer's last words and its end, written from the reply's worker). None: switched off.

    Drawing here pauses the frame timer that the change's requests resumed (Textual's own update does), so the
    tick does not wake for nothing. It never raises: a frame that fails here is drawn again, and fails in the
    open, at the screen's next tick.
    """
    if not _draw_last_words_at_once:
        return None
    targets = list(widgets)

    async def draw() -> bool:
        try:
            return await _draw_once_settled(screen, targets)
        except Exception:  # pragma: no cover - the next frame tick draws (and reports) it
            log.exception("drawing an answer's last words at once failed; left to the next frame tick")
            return False

    return asyncio.ensure_future(draw())


class _CacheOnFirstUse:
    """Stands in for one of `Strip`'s cache slots: the first read of an empty slot makes the cache."""

    __slots__ = ("maxsize", "_read", "_write")

    def __init__(self, slot: Any, maxsize: int) -> None:
        self.maxsize = maxsize
        self._read, self._write = slot.__get__, slot.__set__  # the slot's own descriptor, wrapped

    def __get__(self, line: Any, owner: Any = None) -> Any:
        if line is None:
            return self
        try:
            return self._read(line, owner)
        except AttributeError:  # not used yet
            cache = FIFOCache(self.maxsize)
            self._write(line, cache)
            return cache

    def __set__(self, line: Any, value: Any) -> None:
        self._write(line, value)


_STRIP_INIT = Strip.__init__


def _line_without_caches(self: Strip, segments: Iterable[Segment], cell_length: int | None = None) -> None:
    # What Textual's Strip.__init__ sets, less the seven caches (lazy_line_caches checks it is so).
    self._segments = list(segments)
    self._cell_length = cell_length
    self._render_cache = None
    self._link_ids = None
    self._cell_count = None


_line_without_caches.__wrapped__ = _STRIP_INIT  # type: ignore[attr-defined]  # its signature is Textual's


#: What Textual's Strip.__init__ leaves in the slots that are not caches, for a line of no segments and length 0.
_PLAIN_SLOTS = {"_segments": [], "_cell_length": 0, "_render_cache": None, "_link_ids": None, "_cell_count": None}


def lazy_line_caches(lazy: bool = True) -> bool:
    """Make each line (Textual's ``Strip``) create its caches when first used, not when it is made.

    Every ``Strip`` makes seven ``FIFOCache``s in its ``__init__`` (for its cuts, crops, styled and
    filtered copies), and the compositor makes hundreds of strips a frame, most of them cuts and crops
    that are drawn once and never cut again. Each cache is an object the garbage collector tracks, so a
    strip and its caches were 9 tracked objects where 2 would do (the strip and its segments): 40 % of
    a long session's heap was strips, and every full collection walked them all. Made on first use, a
    cache behaves as Textual's own (same size, same contents); only empty ones are never made.

    Measured with ``HAILUO_TUI_LAZY_LINES=0`` and without, alternated, two runs each: `bench/soak.py
    --answers 200`, RSS at the start 93.4 → 84.4 MB and after the last answer 107.1 → 95.6 MB, the longest
    full collection 0.30-0.36 → 0.11-0.14 s; `bench/api_stream.py --only paced`, peak RSS 84 → 77 MB, the
    app's CPU unchanged within the VM's noise (2.18-2.66 against 2.21-2.27 s).

    The slots and what ``Strip.__init__`` sets are checked on a line made by Textual's own ``__init__``
    first: if they are not what this replaces, nothing is changed (and False returned).

    Args:
        lazy: False puts Textual's ``__init__`` back, so new lines make their caches at once
            (``HAILUO_TUI_LAZY_LINES=0``, for comparison).

    Returns:
        True when lines make their caches on first use.
    """
    if not lazy:
        # The slot stand-ins stay: lines made meanwhile (Strip.blank keeps some for good) still make theirs.
        Strip.__init__ = _STRIP_INIT  # type: ignore[method-assign]
        return False
    if Strip.__init__ is _line_without_caches:
        return True
    probe = Strip.__new__(Strip)
    _STRIP_INIT(probe, (), 0)
    sizes: dict[str, int] = {}
    plain: dict[str, Any] = {}
    for name in Strip.__slots__:
        value = getattr(probe, name, None)
        if name in LINE_CACHES and type(value) is FIFOCache and not value:
            sizes[name] = value._maxsize
        else:
            plain[name] = value
    if set(sizes) != set(LINE_CACHES) or plain != _PLAIN_SLOTS:
        log.warning("Textual's Strip is not the one lazy_line_caches knows: its lines keep their own caches")
        return False
    for name, size in sizes.items():
        if not isinstance(vars(Strip)[name], _CacheOnFirstUse):  # put there before, and switched off since
            setattr(Strip, name, _CacheOnFirstUse(vars(Strip)[name], size))
    Strip.__init__ = _line_without_caches  # type: ignore[method-assign]
    return True


def anchor_released(widget: Widget) -> bool:
    """Whether the reader scrolled an anchored widget away from the bottom.

    Args:
        widget: A scrollable widget.

    Returns:
        True while Textual keeps the anchor released (it takes it back when
        the view is scrolled to the end again).
    """
    return bool(widget._anchor_released)


def content_style(widget: Widget, style: str) -> Style:
    """Resolve a style string of `Content` spans as Textual's widgets do, with public calls.

    Args:
        widget: The widget the content is drawn in.
        style: ``".name"`` for the component class of the nearest ancestor
            that declares it; anything else is parsed as a style.

    Returns:
        The style; the null style when no ancestor declares the class or the
        string does not parse.
    """
    if style.startswith("."):
        name = style[1:]
        for node in widget.ancestors_with_self:
            if not isinstance(node, Widget):  # the App: no component classes
                break
            try:
                return node.get_visual_style(name, partial=True)
            except KeyError:  # not declared here: ask the parent
                continue
        return Style.null()
    try:
        return Style.parse(style)
    except Exception:  # as Textual does: a style that does not parse draws plain
        return Style.null()


class ErrorHooks:
    """Mixin for the App: the action dispatcher and the last exception net, under public names.

    Override `dispatch_action` and `handle_exception` and call ``super()`` for Textual's own behaviour.
    """

    async def _dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        return await self.dispatch_action(namespace, action_name, params)

    def _handle_exception(self, error: Exception) -> None:
        self.handle_exception(error)

    async def dispatch_action(self, namespace: Any, action_name: str, params: Any) -> bool:
        """Run a bound action (Textual's ``App._dispatch_action``); True when it was handled."""
        return await super()._dispatch_action(namespace, action_name, params)  # type: ignore[misc]

    def handle_exception(self, error: Exception) -> None:
        """An exception no handler caught (Textual's ``App._handle_exception``: prints it and exits)."""
        super()._handle_exception(error)  # type: ignore[misc]


class MessageHooks:
    """Mixin for a screen or widget: every message it handles goes through `handle_message`.

    Override `handle_message` and call ``super()`` for Textual's own dispatch.
    """

    async def _on_message(self, message: Any) -> None:
        await self.handle_message(message)

    async def handle_message(self, message: Any) -> None:
        """Dispatch one message to this node's handlers (Textual's ``MessagePump._on_message``)."""
        await super()._on_message(message)  # type: ignore[misc]


class AnchorHooks(_Base):
    """Mixin: let a scroll view veto Textual taking back a released anchor."""

    def may_restore_anchor(self) -> bool:
        """Whether reaching the bottom may re-anchor the view now (default: yes)."""
        return True

    def _check_anchor(self) -> None:
        if self.may_restore_anchor():
            super()._check_anchor()


_scroll_bars_with_layout = True


def draw_scroll_bars_with_layout(on: bool = True) -> None:
    """Let the frame of a layout draw a `ResizeHooks` scroll view's bars once (``on=False``: twice, as Textual).

    When a layout gives a scroll view a new size or scrollable size, Textual moves its bars'
    thumbs from inside the layout (``Widget._scroll_update``), and each bar asks to be repainted.
    The layout's own frame already draws them: the view's geometry changed, so the compositor
    repaints the view's whole region, bars included, after the sizes are set. But the bars' requests
    reach the screen only afterwards, as ``Update`` messages, and cost a second frame that draws the
    same cells again. While an answer streams that is every other frame: bench/frame_log.py counted
    92 layouts of the growing message and 81 frames repainting nothing but the scroll bar
    (2.7 ms each, 0.21 of 1.28 CPU-s of frames). With this on, a bar's request made during such a
    layout is dropped as drawn.
    """
    global _scroll_bars_with_layout
    _scroll_bars_with_layout = on


def _bars_at_rest(widget: Widget, layout: bool) -> list[Widget]:
    """The scroll bars of ``widget`` this layout's frame will draw whatever they ask for now.

    Only a full layout (``layout`` is True: ``Screen._refresh_layout`` after ``Compositor.reflow``,
    which marks a changed widget's whole region dirty) of the screen on display, not in a batch, and
    bars with no repaint or layout of their own pending.
    """
    if not (layout and _scroll_bars_with_layout):
        return []
    try:
        if widget.screen is not widget.app.screen or widget.app._batch_count:
            return []
    except Exception:  # not on a screen (yet): nothing is drawn
        return []
    bars = (widget._vertical_scrollbar, widget._horizontal_scrollbar)
    return [bar for bar in bars if bar is not None and bar.display
            and not bar._repaint_required and not bar._layout_required]


class ResizeHooks(_Base):
    """Mixin: Textual's size update and dirty marking, under public names.

    Override `handle_size_update` and `mark_dirty` and call ``super()`` for
    Textual's own behaviour. The view's scroll bars are drawn once by the
    layout's frame (`draw_scroll_bars_with_layout`).
    """

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        bars = _bars_at_rest(self, layout) if self.is_scrollable else []
        changed = self.handle_size_update(size, virtual_size, container_size, layout)
        for bar in bars:
            if bar._repaint_required and not bar._layout_required and changed:
                bar._repaint_required = False  # drawn by this layout's frame (the view's region is dirty)
        return changed

    def _set_dirty(self, *regions: Region) -> None:
        self.mark_dirty(*regions)

    def handle_size_update(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        """Store a new size (Textual's ``Widget._size_updated``).

        Args:
            size: The widget's outer size.
            virtual_size: The scrollable size.
            container_size: The parent's size.
            layout: False stores the virtual size without asking for another layout.

        Returns:
            True when a Resize event should be sent.
        """
        return super()._size_updated(size, virtual_size, container_size, layout)

    def mark_dirty(self, *regions: Region) -> None:
        """Mark regions (content coordinates) for repainting; none means the whole widget.

        Args:
            *regions: The regions to repaint.
        """
        super()._set_dirty(*regions)


def replace_input_parser(parser: type[XTermParser]) -> bool:
    """Make Textual's Linux drivers read terminal input with `parser`.

    Their input threads build ``XTermParser(debug)`` by looking the name up in
    their module when they start; this rebinds that name.

    Args:
        parser: An `XTermParser` subclass.

    Returns:
        True when at least one driver now uses `parser` (False where the
        drivers cannot be imported, e.g. on Windows, or where the name
        is gone or already bound to some other class).
    """
    return _rebind(INPUT_DRIVERS, "XTermParser", XTermParser, parser)


def _rebind(modules: tuple[str, ...], name: str, stock: Any, replacement: Any) -> bool:
    """Rebind the global `name` of each driver module from Textual's `stock` to `replacement`.

    Returns:
        True when at least one module now holds `replacement` (False where none can be imported,
        e.g. the Linux drivers on Windows, or where the name is gone or bound to something else).
    """
    installed = False
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # the other platform's driver
            continue
        current = getattr(module, name, None)
        if current is stock:
            setattr(module, name, replacement)
            installed = True
        elif current is replacement:
            installed = True
    return installed


#: What a write to a terminal that went away fails with (the pty closed, the connection dropped).
_TERMINAL_GONE = frozenset({errno.EIO, errno.EPIPE, errno.ENXIO, errno.EBADF, errno.ENOTTY})


class _OutputOfAGoneTerminal:
    """The file Textual's output thread writes to, dropping writes once the terminal has gone away."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self.gone = False

    def _guard(self, action: Any, *args: Any) -> None:
        if self.gone:
            return
        try:
            action(*args)
        except OSError as error:
            if error.errno not in _TERMINAL_GONE:
                raise
            self.gone = True  # nothing can be shown any more: the rest is dropped

    def write(self, text: str) -> None:
        self._guard(self._file.write, text)

    def flush(self) -> None:
        self._guard(self._file.flush)

    def fileno(self) -> int:
        return self._file.fileno()


def _tolerant_writer_thread(file: IO[str]) -> WriterThread:
    return WriterThread(_OutputOfAGoneTerminal(file))  # type: ignore[arg-type]


def survive_a_closed_terminal() -> bool:
    """Keep Textual's output thread alive when the terminal goes away under the app.

    Textual writes the screen from a thread through a queue of 30 writes. When the terminal is
    closed (its window, a dropped SSH session, ``tmux kill-server``), a write fails with EIO and
    the thread dies; 30 more writes fill the queue and the next one blocks the app's main thread for
    good (tests/unit/test_textual_compat.py shows both on a pty whose far end is closed). With the
    output's file wrapped, such a write is dropped and the app closes as after Ctrl+Q (SIGHUP, which
    such a close sends, saves streaming answers and exits: ``AppGuards``). The processes
    bench/app_scale.py left running after closing tmux were another fault, a SIGCONT restarting the
    terminal (`resume_only_after_suspend`); this one alone did not end them (3 of 5 still ran).

    Returns:
        True when at least one driver now builds its output thread this way.
    """
    return _rebind(OUTPUT_DRIVERS, "WriterThread", WriterThread, _tolerant_writer_thread)


def resume_only_after_suspend() -> bool:
    """Let SIGCONT restart the terminal only after the app suspended itself (Ctrl+Z, SIGTSTP).

    Textual's Linux driver answers every SIGCONT by starting application mode again: a new input
    thread (not a daemon) and a new output thread, over the ones running. A terminal that is closed
    sends SIGHUP and SIGCONT to the programs in it; so does ``kill -CONT``. After five SIGCONTs a
    running app had 14 threads instead of 4 and, after Ctrl+Q, never ended (2 of 2 in a real tmux:
    the input threads it had lost track of kept Python from exiting); when the SIGCONT came while it
    was quitting (a closed tmux, bench/app_scale.py: 5 of 5), the new input thread spun on the dead
    terminal at ~25 % of a core for good. The driver marks a suspension it made itself
    (``_must_signal_resume``); a SIGCONT without one is ignored.

    Returns:
        True when the Linux driver now answers SIGCONT this way (False where it cannot be imported).
    """
    try:
        from textual.drivers.linux_driver import LinuxDriver
    except ImportError:  # Windows: no SIGCONT
        return False
    current = LinuxDriver._sigcont_application
    if getattr(current, "__wrapped__", None) is not None:
        return True

    def _sigcont_application(self: Any, *args: Any) -> None:
        if getattr(self, "_must_signal_resume", True):  # it suspended itself: come back
            current(self, *args)

    _sigcont_application.__wrapped__ = current  # type: ignore[attr-defined]
    LinuxDriver._sigcont_application = _sigcont_application  # type: ignore[method-assign]
    return True
