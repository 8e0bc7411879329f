"""Write the README's screenshots (SVG) to screenshots/ from the real app.

    python scripts/screenshots.py [--out DIR] [--size 120x40] [--only NAME ...]

How: the real `HailuoApp` (through `SceneApp`, which only supplies the
services) runs headless under Textual's `App.run_test`, talks HTTP to the
built-in emulator started in the same event loop, is driven with a `Pilot`
(typing, Enter, F1, Ctrl+F…), and `App.save_screenshot` writes each SVG.
The scenes are the ones the snapshot tests use (tests/snapshots/scenes.py),
so they are deterministic: fixed emulator seed and answers, no pacing, a
frozen clock for the sidebar's relative times, no cursor blink.

Rich's SVG export gives wide (CJK) text a ``textLength`` of one cell per
character, which squeezes Chinese into half its width in browsers; the
script corrects ``textLength`` to the real cell width. The login token is
never drawn; the script checks that no SVG contains it.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.cells import cell_len  # noqa: E402

from tests.snapshots.scenes import SCENES, frozen_clock  # noqa: E402

#: The screenshots, in README order.
SHOTS = ("welcome", "conversation", "api-thinking", "user-code", "sources-suggestions", "message-cursor",
         "versions", "selection", "sidebar-search", "help", "error", "narrow", "chinese")

_TEXT = re.compile(r'(<text\b[^>]*?\btextLength=")([\d.]+)("[^>]*>)([^<]*)(</text>)')


def fix_wide_text(svg: str) -> str:
    """Give each ``<text>`` with wide characters the ``textLength`` of its cells, not its characters."""

    def fix(match: re.Match[str]) -> str:
        text = html.unescape(match.group(4))
        chars, cells = len(text), cell_len(text)
        if not chars or cells == chars:
            return match.group(0)
        width = float(match.group(2)) / chars * cells
        return f"{match.group(1)}{width:g}{match.group(3)}{match.group(4)}{match.group(5)}"

    return _TEXT.sub(fix, svg)


async def shoot(name: str, out: Path, size: tuple[int, int]) -> Path:
    """Run one scene in the real app and save its SVG as ``out/<name>.svg``."""
    scene = SCENES[name]
    with tempfile.TemporaryDirectory(prefix=f"hailuo-shot-{name}-") as root, frozen_clock():
        app = scene.app(Path(root))
        async with app.run_test(size=scene.size or size) as pilot:  # a narrow scene has its own size
            await scene.run_before(pilot)
            secrets = {app.emulator.demo_token}
            if app.auth is not None:
                secrets.add(app.auth.token)
            svg = app.export_screenshot(title="hailuo-tui")
    for secret in secrets:
        assert secret and secret not in svg, f"the token appears in {name}.svg"
    path = out / f"{name}.svg"
    path.write_text(fix_wide_text(svg), encoding="utf-8")
    return path


async def main_async(names: list[str], out: Path, size: tuple[int, int]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = await shoot(name, out, size)
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="output directory (default: screenshots/)")
    parser.add_argument("--size", default="120x40", help="terminal size as COLUMNSxROWS (default: 120x40)")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENES), help="only these scenes")
    args = parser.parse_args(argv)
    columns, rows = (int(v) for v in args.size.lower().split("x"))
    asyncio.run(main_async(args.only or list(SHOTS), args.out, (columns, rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
