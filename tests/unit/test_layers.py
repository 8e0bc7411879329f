"""The core never imports textual or rich (STYLE.md rule 1), checked in a fresh interpreter.

The modules are discovered, not listed: every module of ``hailuo_tui`` outside the UI packages below is core,
so a new one is checked from the day it is added. The import-linter contracts in pyproject.toml (see
test_import_rules.py) check the same rule on the import graph, imports inside functions included; this test
checks what actually happens when a module is imported.
"""

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "hailuo_tui"

#: Top-level parts of hailuo_tui that are the Textual UI (they may import textual and rich).
UI_PARTS = frozenset({"app", "app_guards", "bindings", "screens", "widgets", "textual_compat"})
#: Modules of core packages that draw with Textual: the Markdown painter (its parser, block splitter and
#: selection text are core, and checked).
UI_MODULES = frozenset({"hailuo_tui.markdown.painter", "hailuo_tui.markdown.code", "hailuo_tui.markdown.lines"})


def core_modules() -> list[str]:
    """Every importable module of hailuo_tui outside :data:`UI_PARTS`, packages included.

    ``__main__`` modules are left out: importing one runs the program.
    """
    found = ["hailuo_tui"]

    def walk(path: Path, prefix: str) -> None:
        for info in pkgutil.iter_modules([str(path)]):
            if info.name == "__main__" or (prefix == "hailuo_tui." and info.name in UI_PARTS):
                continue
            if prefix + info.name in UI_MODULES:
                continue
            found.append(prefix + info.name)
            if info.ispkg:
                walk(path / info.name, f"{prefix}{info.name}.")

    walk(PACKAGE, "hailuo_tui.")
    return sorted(found)


CORE_MODULES = core_modules()


def test_discovery_finds_the_core_and_leaves_out_the_ui():
    assert {"hailuo_tui.provider.hailuo", "hailuo_tui.emulator.core", "hailuo_tui.store.db",
            "hailuo_tui.config", "hailuo_tui.cli", "hailuo_tui.markdown", "hailuo_tui.markdown.blocks",
            "hailuo_tui.markdown.selection"} <= set(CORE_MODULES)
    assert not UI_MODULES & set(CORE_MODULES)
    assert not [m for m in CORE_MODULES if m.split(".")[1:2] and m.split(".")[1] in UI_PARTS]
    assert "hailuo_tui.emulator.__main__" not in CORE_MODULES


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_does_not_import_textual_or_rich(module, tmp_path):
    """Imported alone, the module pulls in neither textual nor rich, and writes nothing under HOME."""
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / "c"), XDG_DATA_HOME=str(home / "d"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "s"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=PACKAGE.parent, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"
    assert list(home.iterdir()) == [], f"importing {module} wrote under HOME"


def test_importing_the_package_has_no_side_effects(tmp_path):
    """Nothing happens at import time: no directories are created under HOME."""
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "XDG_DATA_HOME": str(tmp_path / "d")}
    code = "import hailuo_tui.app, hailuo_tui.cli, hailuo_tui.services, hailuo_tui.store, hailuo_tui.config"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
                            cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []
