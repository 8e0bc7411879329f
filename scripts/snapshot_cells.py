"""Compare two SVG snapshots cell by cell: do they show the same thing?

    python scripts/snapshot_cells.py OLD.svg NEW.svg

Rich's SVG export writes one <rect>/<text> per run of equally styled cells, so a change that only
splits runs (segments that now carry different metadata, such as Textual's selection offsets) changes
the file without changing the picture. This script expands both files to cells: the background of
every cell, and the glyph and text style of every cell that has one. Exit status 1 when a background
or a glyph differs; runs of blank cells (spaces) that lost or gained a <text> element are counted
apart, and are invisible unless underlined or struck through (reported).
"""

from __future__ import annotations

import html
import re
import sys

from rich.cells import cell_len

CELL_WIDTH = 12.2
RECT = re.compile(r'<rect fill="([^"]+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" shape-rendering="crispEdges"/>')
TEXT = re.compile(
    r'<text class="([^"]+)" x="([\d.]+)" y="([\d.]+)" textLength="[\d.]+" '
    r'clip-path="url\(#terminal-line-(\d+)\)">(.*?)</text>'
)


def cells(path: str) -> tuple[dict, dict]:
    """(background per (y, column), (style, glyph) per (line, column)) of one SVG snapshot."""
    svg = open(path, encoding="utf-8").read()
    classes = dict(re.findall(r"\.(terminal-r\d+) \{ ([^}]*) \}", svg[: svg.index("</style>")]))
    background: dict = {}
    glyphs: dict = {}
    for fill, x, y, width in RECT.findall(svg):
        column = round(float(x) / CELL_WIDTH)
        for c in range(column, column + round(float(width) / CELL_WIDTH)):
            background[(y, c)] = fill
    for name, x, _y, line, text in TEXT.findall(svg):
        column = round(float(x) / CELL_WIDTH)
        for char in html.unescape(text).replace("\xa0", " "):
            glyphs[(line, column)] = (classes.get(name, name), char)
            column += cell_len(char)
    return background, glyphs


def main(old_path: str, new_path: str) -> int:
    old, new = cells(old_path), cells(new_path)
    backgrounds = [k for k in old[0].keys() | new[0].keys() if old[0].get(k) != new[0].get(k)]
    changed = [k for k in old[1].keys() | new[1].keys() if old[1].get(k) != new[1].get(k)]
    blank = (None, " ")
    visible = [k for k in changed if (old[1].get(k) or blank)[1] != " " or (new[1].get(k) or blank)[1] != " "]
    lined = [k for k in changed if any(s and ("underline" in s[0] or "line-through" in s[0])
                                       for s in (old[1].get(k), new[1].get(k)))]
    print(f"{new_path}: backgrounds {len(backgrounds)}, glyphs {len(visible)}, lined blanks {len(lined)}, "
          f"other blanks {len(changed) - len(visible) - len(lined)} differ")
    return 1 if backgrounds or visible or lined else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
