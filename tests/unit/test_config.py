"""Settings file parsing and the app's file locations."""

from __future__ import annotations

import dataclasses
import stat
import tomllib
from pathlib import Path

import pytest

from hailuo_tui.config import _KINDS, Config, ConfigError, Paths, default_config_text, load_config


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    monkeypatch.delenv("HAILUO_TUI_CONFIG", raising=False)
    return tmp_path / "home"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "config.toml"
    assert load_config(path) == Config()
    assert not path.parent.exists()


def test_defaults() -> None:
    c = Config()
    assert c.base_url == "https://www.hailuo.ai"
    assert c.proxy is None and c.browser_path is None
    assert c.theme == "textual-dark"
    assert c.headless is False and c.web_search is False and c.debug_log is False
    assert (c.login_timeout, c.read_timeout, c.connect_timeout) == (300, 60, 15)
    assert c.keymap == {}
    assert Config().keymap is not c.keymap


def test_full_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
base_url = "http://127.0.0.1:8080"
proxy = "http://proxy:3128"
theme = "nord"
browser_path = "/usr/bin/chromium"
headless = true
login_timeout = 120
read_timeout = 30.5
connect_timeout = 5
web_search = true
debug_log = true

[keymap]
"chat.stop" = "escape"
"conversation.new" = "ctrl+n,ctrl+t"
""",
    )
    c = load_config(path)
    assert c == Config(
        base_url="http://127.0.0.1:8080", proxy="http://proxy:3128", theme="nord",
        browser_path="/usr/bin/chromium", headless=True, login_timeout=120.0, read_timeout=30.5,
        connect_timeout=5.0, web_search=True, debug_log=True,
        keymap={"chat.stop": "escape", "conversation.new": "ctrl+n,ctrl+t"},
    )
    assert isinstance(c.connect_timeout, float)


def test_malformed_toml_names_path_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "nord"\nheadless = true\nproxy = "unterminated\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.path == path
    assert str(path) in err.value.message
    assert "line 3" in err.value.message


def test_path_under_home_is_shown_with_tilde(isolated_home: Path) -> None:
    path = isolated_home / ".config" / "hailuo-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("theme = \n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.message.startswith("~/.config/hailuo-tui/config.toml line 1")


def test_unknown_key_lists_known_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, 'them = "nord"\n'))
    msg = err.value.message
    assert "'them'" in msg and "theme" in msg and "read_timeout" in msg and "keymap" in msg


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("headless = 1\n", "headless", "true or false"),
        ('read_timeout = "fast"\n', "read_timeout", "a number"),
        ("read_timeout = true\n", "read_timeout", "a number"),
        ("theme = 3\n", "theme", "a string"),
        ('keymap = "ctrl+n"\n', "keymap", "table"),
    ],
)
def test_wrong_type_names_key_and_type(tmp_path: Path, text: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert repr(key) in err.value.message and expected in err.value.message


def test_keymap_values_must_be_strings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, '[keymap]\n"chat.stop" = 3\n'))
    assert "chat.stop" in err.value.message


def test_timeouts_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "connect_timeout = 0\n"))
    assert "connect_timeout" in err.value.message


def test_every_field_is_validated() -> None:
    assert set(_KINDS) == {f.name for f in dataclasses.fields(Config)}


def test_default_config_text_is_valid_and_loads_as_defaults(tmp_path: Path) -> None:
    text = default_config_text()
    tomllib.loads(text)
    assert load_config(write(tmp_path, text)) == Config()
    for f in dataclasses.fields(Config):
        assert f.name in text


def test_default_paths_follow_xdg(isolated_home: Path) -> None:
    p = Paths.default()
    assert p.config_file == isolated_home / ".config" / "hailuo-tui" / "config.toml"
    assert p.data_dir == isolated_home / ".local" / "share" / "hailuo-tui"
    assert p.db_path.parent == p.data_dir and p.db_path.suffix == ".sqlite3"
    assert p.profile_dir.parent == p.data_dir
    assert not (isolated_home / ".config").exists()  # computing paths creates nothing


def test_demo_paths_never_mix_with_real_data() -> None:
    real, demo = Paths.default(), Paths.default(demo=True)
    assert demo.db_path != real.db_path and demo.db_path.name == "demo.sqlite3"
    assert demo.data_dir == real.data_dir / "demo"
    assert demo.profile_dir != real.profile_dir
    assert demo.config_file == real.config_file


def test_config_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "elsewhere" / "my.toml"
    monkeypatch.setenv("HAILUO_TUI_CONFIG", str(target))
    p = Paths.default()
    assert p.config_file == target and not p.own_config_dir
    target.parent.mkdir()
    target.write_text('theme = "nord"\n')
    assert load_config().theme == "nord"


def test_ensure_creates_private_dirs(isolated_home: Path) -> None:
    p = Paths.default()
    p.data_dir.mkdir(parents=True, mode=0o755)
    p.data_dir.chmod(0o755)
    p.ensure()
    for d in (p.data_dir, p.profile_dir.parent, p.config_file.parent):
        assert d.is_dir() and stat.S_IMODE(d.stat().st_mode) == 0o700
    assert not p.db_path.exists()
    p.ensure()  # idempotent


def test_ensure_leaves_a_foreign_config_dir_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "dotfiles"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    monkeypatch.setenv("HAILUO_TUI_CONFIG", str(shared / "hailuo.toml"))
    Paths.default().ensure()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755


# --- the MiniMax API settings -------------------------------------------------------


def test_api_defaults() -> None:
    c = Config()
    assert (c.default_backend, c.api_region, c.api_base_url) == ("web", "international", "")
    assert (c.default_model, c.system_prompt, c.api_titles) == ("MiniMax-M3", "", "model")
    assert c.thinking is True and c.fold_thinking is True
    assert c.max_tokens == 8192 and isinstance(c.max_tokens, int)


def test_api_settings_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
default_backend = "api"
api_region = "china"
api_base_url = "  http://127.0.0.1:9000/v1  "
default_model = "MiniMax-M2.7"
system_prompt = "Answer in French."
api_titles = "first-line"
thinking = false
fold_thinking = false
max_tokens = 1024
""",
    )
    c = load_config(path)
    assert c == Config(
        default_backend="api", api_region="china", api_base_url="http://127.0.0.1:9000/v1",
        default_model="MiniMax-M2.7", system_prompt="Answer in French.", api_titles="first-line",
        thinking=False, fold_thinking=False, max_tokens=1024,
    )


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('default_backend = "API"\n', "default_backend", '"web" or "api"'),
        ('default_backend = "openai"\n', "default_backend", '"web" or "api"'),
        ('api_region = "cn"\n', "api_region", '"international" or "china"'),
        ('api_titles = "none"\n', "api_titles", '"model" or "first-line"'),
        ("max_tokens = 0\n", "max_tokens", "positive whole number"),
        ("max_tokens = -5\n", "max_tokens", "positive whole number"),
        ("max_tokens = 10.5\n", "max_tokens", "a whole number"),
        ('max_tokens = "8192"\n', "max_tokens", "a whole number"),
        ("max_tokens = true\n", "max_tokens", "a whole number"),
        ('default_model = "  "\n', "default_model", "must name a model"),
        ("default_model = 3\n", "default_model", "a string"),
        ('api_base_url = "api.minimax.io/v1"\n', "api_base_url", "http(s) URL"),
        ('api_base_url = "ftp://host/v1"\n', "api_base_url", "http(s) URL"),
        ("system_prompt = false\n", "system_prompt", "a string"),
        ('thinking = "yes"\n', "thinking", "true or false"),
        ("fold_thinking = 1\n", "fold_thinking", "true or false"),
        ("api_region = 1\n", "api_region", "a string"),
    ],
)
def test_bad_api_settings_name_key_and_fix(tmp_path: Path, text: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    message = err.value.message
    assert repr(key) in message and expected in message, message
    assert message.startswith(str(tmp_path / "config.toml") + ":")


def test_empty_api_base_url_means_the_region(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, 'api_base_url = ""\n')).api_base_url == ""
