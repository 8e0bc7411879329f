"""The Markdown body of a message: a column of small Markdown runs.

The streaming path (issue 5, "Speed and scale")
-----------------------------------------------
Textual re-arranges a container's children whenever the container changes
size, so a single `Markdown` widget that grows a little every frame costs
frames x document size: a 20,000-character answer streamed over 20 s spent
tens of CPU seconds in `Compositor.reflow`. Here the body is a sequence of
small `Markdown` widgets ("runs"), each holding at most `RUN_BLOCKS`
top-level Markdown blocks:

* every run but the last is *frozen*: it is never written to again, so its
  size never changes and Textual's arrangement cache answers for it in O(1);
* only the last run is *live*: deltas are coalesced to the frame rate and
  appended to it with `Markdown.append`, which re-parses only its open
  (last) block, so a frame costs the few blocks of the live run (plus what
  is on screen), whatever the answer's length;
* as soon as the live run holds more than `RUN_BLOCKS` blocks and the next
  block's first line is complete, the first `RUN_BLOCKS` blocks are sealed
  (the live run is fed exactly up to the next block's start and frozen) and
  a new live run starts with the open block.

The split points depend only on the text (`split_runs`), so a message loaded
in one go is cut into the same runs as the same message streamed: both
render the same blocks and the same lines (tests/ui/test_stream_equivalence).
A resize re-wraps frozen runs like any widget (they are real Markdown
widgets); nothing is ever re-rendered as a whole at the end of a stream.
"""
from __future__ import annotations

import asyncio
import os

from markdown_it import MarkdownIt
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Vertical
from textual.events import Mount, Resize
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock

RUN_BLOCKS = 4
"""Top-level Markdown blocks per run: the live run re-lays out at most this
many blocks (plus the open one) per frame."""

_PARSER: MarkdownIt | None = None


def _parser() -> MarkdownIt:
    global _PARSER
    if _PARSER is None:
        _PARSER = MarkdownIt("gfm-like")
    return _PARSER


#: Top-level blocks whose top margin is 0 in Textual's Markdown CSS (8.2.8): a run
#: starts only with one of these, so the gap between two runs (the last block's
#: bottom margin) is the gap one Markdown widget draws (the larger of the two margins).
RUN_STARTS = frozenset(
    {"paragraph_open", "bullet_list_open", "ordered_list_open", "table_open", "hr"}
)


def top_level_blocks(text: str) -> list[tuple[int, str]]:
    """The top-level Markdown blocks of `text`: (0-based start line, token type).

    Args:
        text: Markdown source.

    Returns:
        One entry per top-level block, in order (markdown-it's view, the parser
        Textual's Markdown widget uses).
    """
    return [
        (token.map[0], token.type)
        for token in _parser().parse(text)
        if token.level == 0 and token.nesting >= 0 and token.map is not None
    ]


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


def seal_offset(text: str, max_blocks: int = RUN_BLOCKS, *, final: bool = False) -> int | None:
    """Where to cut `text` after (at least) its first `max_blocks` top-level blocks.

    The cut goes before the first later block that may start a run (see
    `RUN_STARTS`). A block is complete once the next top-level block has
    started; while the stream goes on (`final=False`) that next block's first
    line must be complete too, so a half-written line is never re-read as part
    of the previous block (a table row, a setext underline) after the cut.

    Args:
        text: Markdown source starting at a block boundary.
        max_blocks: Least blocks per run.
        final: True when no more text will come.

    Returns:
        The character offset of the cut, or None when `text` cannot be cut yet.
    """
    blocks = top_level_blocks(text)
    for line, kind in blocks[max_blocks:]:
        if kind in RUN_STARTS:
            offset = _line_offset(text, line)
            if not final and text.find("\n", offset) == -1:
                return None
            return offset
    return None


def split_runs(text: str, max_blocks: int = RUN_BLOCKS) -> list[str]:
    """Cut complete Markdown text into runs exactly as streaming it would.

    Args:
        text: The whole Markdown source.
        max_blocks: Blocks per run.

    Returns:
        The runs (their concatenation is `text`); at least one.
    """
    runs: list[str] = []
    while (cut := seal_offset(text, max_blocks, final=True)) is not None and cut > 0:
        runs.append(text[:cut])
        text = text[cut:]
    runs.append(text)
    return runs


class MarkdownRun(Markdown):
    """A run of top-level blocks. Frozen once sealed; the last one is live.

    An empty run skips `Markdown`'s mount-time `update("")`, which would
    otherwise race with the first `append` and reset the source.
    """

    #: The frozen twin showing this run's lines while the run is hidden.
    frozen: FrozenRun | None = None

    async def _on_mount(self, event: Mount) -> None:
        if self._initial_markdown is None:
            event.prevent_default()
            return

    def update(self, markdown: str) -> AwaitComplete:
        """Replace the document (Markdown's mount does this for a composed run); then
        let the body freeze the run once it is laid out."""
        done = super().update(markdown)

        async def then() -> None:
            await done
            self.call_after_refresh(self._rendered)

        return AwaitComplete(then())

    #: The body asked for this run to be frozen (it is sealed).
    want_frozen = False
    _freeze_attempts = 0

    def on_resize(self, event: Resize) -> None:
        if self.want_frozen and self.display and isinstance(self.parent, MarkdownBody):
            self.call_after_refresh(self.parent.freeze, self)

    def _rendered(self) -> None:
        parent = self.parent
        if isinstance(parent, MarkdownBody):
            parent._run_rendered(self)

    async def truncate(self, source: str) -> None:
        """Make this (appended-to) run show exactly `source`, a prefix of what it was given
        plus possibly more, ending at a top-level block boundary.

        Blocks that start at or past the end of `source` are removed and the last
        remaining block is re-parsed, as `Markdown.append` does: every block before it
        is already final. Uses `Markdown`'s private state (textual==8.2.8 is pinned).
        """
        cut_line = source.count("\n")
        blocks = [child for child in self.children if isinstance(child, MarkdownBlock)]
        stale = [b for b in blocks if b.source_range is not None and b.source_range[0] >= cut_line]
        if stale:
            await self.remove_children(stale)
            kept = [b for b in blocks if b not in stale]
            last = kept[-1].source_range if kept else None
            self._last_parsed_line = last[0] if last is not None else 0
        self._last_parsed_line = min(self._last_parsed_line, cut_line)
        self._markdown = source
        await self.append("")


class FrozenRun(Widget):
    """The lines of a sealed `MarkdownRun`, drawn from a cache.

    One widget instead of the run's tree of block widgets, so Textual's
    layout pass (which visits every widget on every reflow) skips the run's
    blocks. The lines are captured from the run once it has been laid out;
    when the width or the theme changes, the run is shown again and
    captured again (`MarkdownBody.thaw`).
    """

    DEFAULT_CSS = """
    FrozenRun {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, run: MarkdownRun, lines: list[Strip], width: int) -> None:
        super().__init__()
        self.run = run
        self.lines = lines
        self.snapshot_width = width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines)

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self.lines):
            return self.lines[y]
        return Strip.blank(self.size.width)

    def on_resize(self, event: Resize) -> None:
        if event.size.width != self.snapshot_width and self.display:
            parent = self.parent
            if isinstance(parent, MarkdownBody):
                parent.thaw(self.run)

    async def action_link(self, href: str) -> None:
        """A link in the captured lines was clicked: as the run's Markdown would."""
        self.run.post_message(Markdown.LinkClicked(self.run, href))


def capture_lines(widget: Widget) -> list[Strip] | None:
    """Render `widget` and its descendants, whole (not clipped to the screen).

    Uses the screen's last layout (every widget is in the compositor's full
    map), and paints each widget's lines over its parent's, in the
    compositor's painting order, each clipped to its ancestors' content.

    Returns:
        One strip per line of the widget's region, or None when the widget
        is not laid out.
    """
    full_map = widget.screen._compositor.full_map
    root = full_map.get(widget)
    if root is None or not root.region:
        return None
    origin = root.region
    width = origin.width
    entries = []
    for node, geometry in full_map.items():
        ancestor = node
        while ancestor is not None and ancestor is not widget:
            ancestor = ancestor._parent
        if ancestor is widget:
            if node.outer_size != geometry.region.size or node._layout_required:
                return None  # laid out, but not sized or rendered yet: too early
            entries.append((geometry.order, node, geometry.region.translate((-origin.x, -origin.y))))
    entries.sort(key=lambda entry: entry[0])
    regions = {node: region for _, node, region in entries}
    canvas = [Strip.blank(width) for _ in range(origin.height)]
    for _, node, region in entries:
        clip = Region(0, 0, width, origin.height)
        parent = node._parent
        while parent is not None and parent in regions:
            clip = clip.intersection(regions[parent].shrink(parent.styles.gutter))
            if parent is widget:
                break
            parent = parent._parent
        visible = region.intersection(clip)
        if not visible:
            continue
        node._styles_cache.clear()  # a line cached before the last content change is stale
        lines = node.render_lines(Region(0, 0, region.width, region.height))
        left = visible.x - region.x
        right = left + visible.width
        for y in range(visible.y, visible.bottom):
            row = y - region.y
            if row >= len(lines):
                break
            piece = lines[row].crop(left, right)
            base = canvas[y]
            canvas[y] = Strip.join(
                [base.crop(0, visible.x), piece, base.crop(visible.right, width)]
            )
    return [strip.simplify() for strip in canvas]


class MarkdownBody(Vertical):
    """The Markdown of one message, as a column of `MarkdownRun`s.

    `query(MarkdownBlock)` finds every block in document order, and `source`
    is the whole text, as with a single `Markdown` widget. `append` writes to
    the live (last) run and seals full runs; `finish` seals what is left.
    """

    DEFAULT_CSS = """
    MarkdownBody {
        height: auto;
        & > MarkdownRun {
            height: auto;
            padding: 0 1;
            margin: 0;
        }
    }
    """

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        runs = split_runs(text) if text else [""]
        self._initial_runs: list[str] = runs
        #: Text of the frozen runs (as a list of pieces) and of the live run.
        self._frozen: list[str] = runs[:-1]
        self._live_text = runs[-1]
        #: Characters of `_live_text` the live widget has been given.
        self._live_fed = len(self._live_text)
        #: False while the live run was built by `Markdown.update` (composed):
        #: `Markdown.append` after `update` re-parses from the wrong line.
        self._live_appendable = not self._live_text
        self._source_cache: str | None = text
        #: One write at a time: a timer's flush and an append's may overlap.
        self._lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        for run in self._initial_runs:
            yield MarkdownRun(run or None)
        self._initial_runs = []

    @property
    def source(self) -> str:
        """The whole Markdown source written so far."""
        if self._source_cache is None:
            frozen = "".join(self._frozen)
            self._frozen = [frozen] if frozen else []
            self._source_cache = frozen + self._live_text
        return self._source_cache

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def on_unmount(self) -> None:
        # The signal's stored callback holds this body: without this, every removed
        # bubble stays in memory with its pieces and render caches.
        self.app.theme_changed_signal.unsubscribe(self)

    def _theme_changed(self, _theme: object) -> None:
        for run in self.runs:
            if run.frozen is not None:
                self.thaw(run)

    def _run_rendered(self, run: MarkdownRun) -> None:
        """A composed run has rendered: freeze it unless it is the live one."""
        if run is not self.runs[-1] or not self._bubble_streaming():
            self.call_after_refresh(self.freeze, run)

    def _bubble_streaming(self) -> bool:
        return getattr(self.parent, "status", None) in ("streaming", "pending")

    FREEZE = os.environ.get("HAILUO_TUI_FREEZE_RUNS") == "1"
    """Replace sealed runs by captured lines (`FrozenRun`). Off by default: the
    capture is sometimes taken before a re-mounted block has rendered (a blank
    heading line, a stale height), which breaks the exact equivalence with a
    one-shot render. On (HAILUO_TUI_FREEZE_RUNS=1) it halves the paced CPU."""

    def freeze(self, run: MarkdownRun) -> None:
        """Replace a laid-out run by a `FrozenRun` of its lines."""
        if not self.FREEZE:
            return
        run.want_frozen = True
        if not run.is_mounted or not run.is_attached or not run.display or run.parent is not self:
            return
        geometry = self.screen._compositor.full_map.get(run)
        if geometry is None or geometry.region.size != run.outer_size or run.lock.is_locked:
            # Not laid out yet: try again on its next resize, or shortly.
            if run._freeze_attempts < 20:
                run._freeze_attempts += 1
                self.set_timer(0.05, lambda: self.freeze(run))
            return
        lines = capture_lines(run)
        if lines is None or len(lines) != run.outer_size.height:
            if run._freeze_attempts < 40:
                run._freeze_attempts += 1
                self.set_timer(0.05, lambda: self.freeze(run))
            return
        run._freeze_attempts = 0
        width = lines[0].cell_length if lines else run.outer_size.width
        if run.frozen is not None and run.frozen.is_attached:
            frozen = run.frozen
            frozen.lines, frozen.snapshot_width = lines, width
            frozen.display = True
            frozen.refresh(layout=True)
        else:
            frozen = FrozenRun(run, lines, width)
            run.frozen = frozen
            self.mount(frozen, after=run)
        run.display = False

    def thaw(self, run: MarkdownRun) -> None:
        """Show a frozen run's Markdown again (to re-capture it after a resize)."""
        if run.frozen is None:
            return
        run.frozen.display = False
        run.display = True
        self.call_after_refresh(self.freeze, run)

    @property
    def runs(self) -> list[MarkdownRun]:
        """The run widgets, oldest first (the last one is the live one)."""
        return [child for child in self.children if isinstance(child, MarkdownRun)]

    async def append(self, markdown: str) -> None:
        """Append a fragment to the live run (sealing full runs).

        Args:
            markdown: The next (sanitized) Markdown text.
        """
        await self._write(markdown, final=False)

    async def finish(self) -> None:
        """No more text will come: seal every full run."""
        await self._write("", final=True)

    async def _write(self, fragment: str, final: bool) -> None:
        async with self._lock:
            await self._write_locked(fragment, final)

    async def _write_locked(self, fragment: str, final: bool) -> None:
        if not self.is_attached or not self.is_mounted:
            return
        runs = self.runs
        live = runs[-1] if runs else None
        if live is not None and not live.is_mounted:
            return
        if live is None or not self._live_appendable:
            # No live run yet, or a composed one: (re)build it once as appendable.
            fresh = MarkdownRun()
            if live is None:
                await self.mount(fresh)
            else:
                await self.mount(fresh, after=live.frozen or live)
                if live.frozen is not None:
                    await live.frozen.remove()
                await live.remove()
            live = fresh
            self._live_fed = 0
            self._live_appendable = True
        if fragment:
            self._live_text += fragment
            self._source_cache = None
        # A run can only be sealed once a line is complete (or at the end).
        if final or "\n" in fragment:
            while (cut := seal_offset(self._live_text, RUN_BLOCKS, final=final)) is not None and cut > 0:
                sealed, rest = self._live_text[:cut], self._live_text[cut:]
                # Make the live widget show exactly `sealed`: drop what it was given
                # past the cut (the start of the next block) and re-parse its last
                # block, as `Markdown.append` does (it keeps every earlier block).
                await live.truncate(sealed)
                self._frozen.append(sealed)
                self.call_after_refresh(self.freeze, live)
                nxt = MarkdownRun()
                await self.mount(nxt, after=live)
                live = nxt
                self._live_text, self._live_fed = rest, 0
        if len(self._live_text) > self._live_fed:
            await live.append(self._live_text[self._live_fed :])
            self._live_fed = len(self._live_text)
        if final:
            self.call_after_refresh(self.freeze, live)


__all__ = [
    "FrozenRun",
    "MarkdownBody",
    "MarkdownRun",
    "RUN_BLOCKS",
    "RUN_STARTS",
    "capture_lines",
    "seal_offset",
    "split_runs",
    "top_level_blocks",
]
