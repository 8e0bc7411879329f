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


def quick_start() -> list[str]:
    """The README's quick start: the lines of the fenced block after its marker (what .ci/run runs)."""
    after = README.split("<!-- quick start:", 1)[1]
    return re.search(r"```sh\n(.*?)```", after, re.S).group(1).strip().splitlines()


def test_the_quick_start_is_two_lines_that_ci_runs():
    install_and_demo, tests = quick_start()
    assert "pip install -e '.[test]'" in install_and_demo and install_and_demo.endswith("hailuo-tui --demo")
    assert tests.endswith("python -m pytest -q")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- quick start:" in ci and "HAILUO_TUI_SMOKE=1" in ci


def test_every_documented_command_exists():
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001 - argparse has no public API
    documented = set(re.findall(r"`hailuo-tui (\w+)", README))
    assert documented <= commands | {"ask"}, documented - commands
    assert {"login", "logout", "status", "ask", "config"} <= commands
