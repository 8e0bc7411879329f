"""The core never imports textual or rich (STYLE.md rule 1), checked in a fresh interpreter."""

import subprocess
import sys

import pytest

CORE_MODULES = [
    "hailuo_tui.provider",
    "hailuo_tui.provider.hailuo",
    "hailuo_tui.provider.login",
    "hailuo_tui.provider.browser_session",
    "hailuo_tui.provider.page_session",
    "hailuo_tui.provider.device_login",
    "hailuo_tui.provider.signing",
    "hailuo_tui.provider.sse",
    "hailuo_tui.provider.stream",
    "hailuo_tui.emulator",
    "hailuo_tui.emulator.server",
    "hailuo_tui.emulator.records",
    "hailuo_tui.emulator.protocol",
    "hailuo_tui.emulator.core",
    "hailuo_tui.emulator.login_routes",
    "hailuo_tui.emulator.json_routes",
    "hailuo_tui.emulator.message_route",
    "hailuo_tui.emulator.stream_writer",
    "hailuo_tui.emulator.api_config",
    "hailuo_tui.emulator.api_errors",
    "hailuo_tui.emulator.api_model",
    "hailuo_tui.emulator.api_request",
    "hailuo_tui.emulator.api_chunks",
    "hailuo_tui.emulator.api_routes",
    "hailuo_tui.store",
    "hailuo_tui.store.db",
    "hailuo_tui.store.async_store",
    "hailuo_tui.store.connection",
    "hailuo_tui.store.fts",
    "hailuo_tui.store.migrations",
    "hailuo_tui.store.rows",
    "hailuo_tui.store.vault",
    "hailuo_tui.config",
    "hailuo_tui.sanitize",
    "hailuo_tui.services",
    "hailuo_tui.history",
    "hailuo_tui.markdown_blocks",
    "hailuo_tui.logs",
    "hailuo_tui.redact",
    "hailuo_tui.config_template",
    "hailuo_tui.cli",
    "hailuo_tui.cli_api",
    "hailuo_tui.model_cache",
]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_does_not_import_textual_or_rich(module):
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"


def test_importing_the_package_has_no_side_effects(tmp_path):
    """Nothing happens at import time: no directories are created under HOME."""
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "XDG_DATA_HOME": str(tmp_path / "d")}
    code = "import hailuo_tui.app, hailuo_tui.cli, hailuo_tui.services, hailuo_tui.store, hailuo_tui.config"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []
