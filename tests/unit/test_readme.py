"""The README stays true: its config example loads, and CI runs its test command."""

import re
from pathlib import Path

from hailuo_tui.cli import build_parser
from hailuo_tui.config import load_config

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_config_example_loads(tmp_path):
    block = next(b for b in re.findall(r"```toml\n(.*?)```", README, re.S) if "base_url" in b)
    path = tmp_path / "config.toml"
    path.write_text(block, encoding="utf-8")
    config = load_config(path)
    assert config.keymap["chat.stop"] == "escape,ctrl+c"


def test_ci_runs_the_readme_test_command():
    assert "python -m pytest -q" in README
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()


def test_every_documented_command_exists():
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001 - argparse has no public API
    documented = set(re.findall(r"`hailuo-tui (\w+)", README))
    assert documented <= commands | {"ask"}, documented - commands
    assert {"login", "logout", "status", "ask", "config"} <= commands
