"""Moved to `hailuo_tui.markdown` (kept so older imports keep working)."""

from hailuo_tui.markdown.blocks import block_starts, split_all, split_blocks, warm  # noqa: F401
from hailuo_tui.markdown.code import CodeBlock, LazyLine, line_strip  # noqa: F401
from hailuo_tui.markdown.painter import BULLETS, QUOTE_BAR, SAFE_SCHEMES, BlockPainter  # noqa: F401
