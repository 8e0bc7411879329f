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


# --- every value checked (issue 11: nan, inf, garbage keys, non-HTTP URLs) -----------------------


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("read_timeout = nan\n", "read_timeout"),
        ("read_timeout = -nan\n", "read_timeout"),
        ("connect_timeout = inf\n", "connect_timeout"),
        ("login_timeout = -inf\n", "login_timeout"),
        ("read_timeout = 0.01\n", "read_timeout"),
        ("connect_timeout = 1e12\n", "connect_timeout"),
        ("login_timeout = 100000000\n", "login_timeout"),
        ("max_tokens = 99999999999\n", "max_tokens"),
        ("max_tokens = -1\n", "max_tokens"),
    ],
)
def test_numbers_must_be_finite_and_within_sane_bounds(tmp_path: Path, line: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, line))
    assert repr(key) in err.value.message and "config.toml" in err.value.message


def test_numbers_inside_the_bounds_load(tmp_path: Path) -> None:
    c = load_config(write(tmp_path, "read_timeout = 0.5\nconnect_timeout = 3600\nlogin_timeout = 86400\n"))
    assert (c.read_timeout, c.connect_timeout, c.login_timeout) == (0.5, 3600.0, 86400.0)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('base_url = "ftp://www.hailuo.ai"\n', "base_url"),
        ('base_url = "www.hailuo.ai"\n', "base_url"),
        ('base_url = ""\n', "base_url"),
        ('base_url = "https://"\n', "base_url"),
        ('base_url = "https://host:99999"\n', "base_url"),
        ('proxy = "socks5://127.0.0.1:1080"\n', "proxy"),
        ('proxy = "127.0.0.1:8080"\n', "proxy"),
        ('api_base_url = "file:///etc/passwd"\n', "api_base_url"),
    ],
)
def test_urls_must_be_http_or_https_with_a_host(tmp_path: Path, line: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, line))
    assert repr(key) in err.value.message and "http(s) URL" in err.value.message


def test_a_bad_url_with_a_password_does_not_echo_the_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, 'proxy = "socks5://me:hunter2secret@127.0.0.1:1080"\n'))
    assert "hunter2secret" not in err.value.message and "me:***@" in err.value.message


def test_good_urls_load(tmp_path: Path) -> None:
    c = load_config(write(tmp_path, 'base_url = "http://127.0.0.1:8080"\nproxy = "http://u:p@127.0.0.1:3128"\n'))
    assert (c.base_url, c.proxy) == ("http://127.0.0.1:8080", "http://u:p@127.0.0.1:3128")


@pytest.mark.parametrize("keys", ["", " ", "ctrl+n,", ",f2", "f2,,f3"])
def test_keymap_values_must_list_keys(tmp_path: Path, keys: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, f'[keymap]\n"chat.send" = "{keys}"\n'))
    assert "'chat.send'" in err.value.message


def test_the_config_remembers_its_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "nord"\n')
    assert load_config(path).source == path
    assert Config().source is None and load_config(path) == Config(theme="nord")


def _warnings(config: Config) -> list[str]:
    from textual.theme import BUILTIN_THEMES

    from hailuo_tui.bindings import is_key, known_ids
    from hailuo_tui.config import config_warnings

    return config_warnings(config, themes=BUILTIN_THEMES, binding_ids=known_ids(), is_key=is_key)


def test_warnings_name_the_file_the_theme_the_ids_and_the_keys(tmp_path: Path) -> None:
    from hailuo_tui.bindings import is_key, known_ids
    from hailuo_tui.config import usable_keymap

    path = write(tmp_path, 'theme = "[/x]"\n[keymap]\n"chat.send" = "entr"\n"chat.stop" = "escape,ctrl+ctrl+x"\n'
                           '"conversation.new" = "ctrl+n"\n"no.such" = "f5"\n')
    config = load_config(path)
    warnings = _warnings(config)
    assert len(warnings) == 4 and all(w.startswith(str(path)) for w in warnings)
    assert "'[/x]'" in warnings[0] and "nord" in warnings[0]
    assert "'no.such'" in warnings[1] and "[keymap]" in warnings[1]
    assert "'chat.send'" in warnings[2] and "'entr'" in warnings[2]
    assert "'chat.stop'" in warnings[3] and "'ctrl+ctrl+x'" in warnings[3] and "'escape'" not in warnings[3]
    assert usable_keymap(config, binding_ids=known_ids(), is_key=is_key) == {"conversation.new": "ctrl+n"}


def test_a_clean_config_has_no_warnings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'theme = "nord"\n[keymap]\n"chat.send" = "ctrl+s,f9"\n'
                                         '"chat.stop" = "escape"\n"focus.sidebar" = "question_mark"\n'))
    assert _warnings(config) == []
    assert _warnings(load_config(write(tmp_path, default_config_text()))) == []


@pytest.mark.parametrize("key", ["ctrl+n", "alt+up", "ctrl+pageup", "f24", "escape", "enter", "space", "tab",
                                 "shift+tab", "a", "N", "1", "slash", "question_mark", "ctrl+shift+home", "super+k"])
def test_keys_textual_delivers_are_keys(key: str) -> None:
    from hailuo_tui.bindings import is_key

    assert is_key(key)


@pytest.mark.parametrize("key", ["entr", "Ctrl+n", "control+n", "ctrl+", "ctrl+ctrl+n", "", " ", "f2 f3", "ctrl+nope",
                                 "<any>", "+"])
def test_garbage_is_not_a_key(key: str) -> None:
    from hailuo_tui.bindings import is_key

    assert not is_key(key)
