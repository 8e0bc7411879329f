"""Moved to `hailuo_tui.markdown.blocks` (kept so older imports keep working)."""

from hailuo_tui.markdown.blocks import (  # noqa: F401
    FLAT_INDENT,
    FLAT_QUOTES,
    code_blocks,
    flatten_nesting,
    nesting_truncated,
    parse_whole,
    parser,
)
