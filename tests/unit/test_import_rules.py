"""Import rules on the whole import graph: the import-linter contracts in pyproject.toml, and no cycles.

Both tools read the source, so they see every import: at module level, inside functions and under
``if TYPE_CHECKING:``. grimp (the graph library under import-linter) counts all of them; the tiny package in
:func:`test_grimp_counts_imports_in_functions_and_under_type_checking` is the experiment that shows it.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import grimp

import hailuo_tui
from tests.unit.test_layers import UI_PARTS, core_modules

REPO = Path(__file__).resolve().parents[2]

#: Modules outside the UI that may import the UI at run time: the CLI starts the app.
ENTRY_POINTS = frozenset({"hailuo_tui", "hailuo_tui.cli"})


def _lint_imports() -> str:
    exe = Path(sys.executable).parent / "lint-imports"
    if exe.exists():
        return str(exe)
    found = shutil.which("lint-imports")
    assert found, "lint-imports (import-linter, in the test extra) is not installed"
    return found


def _run_lint_imports(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([_lint_imports(), "--no-cache", "--no-logo", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=120)


def test_the_graph_is_built_from_this_checkout() -> None:
    assert Path(hailuo_tui.__file__).resolve().parent == REPO / "hailuo_tui"


def test_import_contracts_are_kept() -> None:
    result = _run_lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_lint_imports_fails_on_a_broken_contract(tmp_path) -> None:
    """The runner above can fail: a contract the code breaks (screens do import widgets) is reported."""
    config = tmp_path / "broken.toml"
    config.write_text(textwrap.dedent("""
        [tool.importlinter]
        root_package = "hailuo_tui"

        [[tool.importlinter.contracts]]
        name = "Screens never import widgets (false on purpose)"
        type = "forbidden"
        source_modules = ["hailuo_tui.screens"]
        forbidden_modules = ["hailuo_tui.widgets"]
    """))
    result = _run_lint_imports(str(config))
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


def test_the_core_contract_covers_every_core_module() -> None:
    """A new module outside the UI is core: add it to the first contract's source_modules."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "core-without-ui")
    assert set(contract["forbidden_modules"]) == {"textual", "rich"}
    core = set(core_modules())
    top_level = {".".join(m.split(".")[:2]) for m in core} - ENTRY_POINTS
    sources = set(contract["source_modules"])

    def covered(module: str) -> bool:
        return any(module == source or module.startswith(source + ".") for source in sources)

    # A package with a UI half (hailuo_tui.markdown) lists its core modules one by one.
    assert {m for m in top_level if not covered(m) and not any(c.startswith(m + ".") for c in core)} == set()
    assert {m for m in core - ENTRY_POINTS if not covered(m) and m not in top_level} == set()
    assert sources <= core
    assert not {m.split(".")[1] for m in contract["source_modules"]} & UI_PARTS


def private_imports(path: Path) -> list[str]:
    """``from <a hailuo_tui module> import _name`` statements in one file (dunders are not private)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "hailuo_tui"):
            found += [f"{path.name}:{node.lineno}: {alias.name}" for alias in node.names
                      if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


def test_no_module_imports_another_modules_private_names() -> None:
    """What two modules share is public (named for what it does) or lives with its one user."""
    found = [hit for path in sorted((REPO / "hailuo_tui").rglob("*.py")) for hit in private_imports(path)]
    assert found == []


def test_the_private_import_scan_can_fail(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from .page_session import READ_SESSION_JS, _fix_ua\nfrom hailuo_tui.x import __all__\n"
                      "from os import _exit\n")
    assert private_imports(sample) == ["sample.py:1: _fix_ua"]


# --- cycles ------------------------------------------------------------------------------


def import_cycles(graph: grimp.ImportGraph) -> set[frozenset[str]]:
    """The strongly connected components with more than one module (or a module importing itself)."""
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: set[frozenset[str]] = set()

    # Tarjan's algorithm, iterative: each frame is a module and the iterator over its imports.
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imports = work[-1]
            for imported in imports:
                if imported not in edges:
                    continue
                if imported not in index:
                    index[imported] = low[imported] = len(index)
                    stack.append(imported)
                    on_stack.add(imported)
                    work.append((imported, iter(sorted(edges[imported]))))
                    break
                if imported in on_stack:
                    low[module] = min(low[module], index[imported])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == module:
                            break
                    if len(component) > 1 or module in edges[module]:
                        cycles.add(frozenset(component))
    return cycles


def test_grimp_counts_imports_in_functions_and_under_type_checking(tmp_path, monkeypatch) -> None:
    package = tmp_path / "tinypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def later():\n    from tinypkg import b\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from tinypkg import c\n")
    (package / "c.py").write_text("import tinypkg.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("tinypkg", cache_dir=None)
    assert graph.direct_import_exists(importer="tinypkg.a", imported="tinypkg.b")
    assert graph.direct_import_exists(importer="tinypkg.b", imported="tinypkg.c")
    assert import_cycles(graph) == {frozenset({"tinypkg.a", "tinypkg.b", "tinypkg.c"})}


def test_the_package_has_no_import_cycle() -> None:
    """Counting imports inside functions and under TYPE_CHECKING (grimp sees them all: see above)."""
    found = import_cycles(grimp.build_graph("hailuo_tui", cache_dir=None))
    new = sorted(sorted(cycle) for cycle in found)
    assert not new, f"import cycles (each a set of modules that import each other, directly or not): {new}"


