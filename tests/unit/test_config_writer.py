"""config_writer: a setting changed in the app reaches config.toml, and nothing else in the file changes."""

from __future__ import annotations

import os
import stat

import pytest

from hailuo_tui.config import default_config_text, load_config
from hailuo_tui.config_writer import ConfigWriteError, save_settings, updated_text

MINE = """\
# Top comment: keep me.
theme = 'gruvbox'   # single quotes and spacing kept
proxy="http://127.0.0.1:3128"
  # an indented comment
read_timeout = 90.0

[keymap]   # keys I changed
"chat.stop" = "escape"  # yes
# "conversation.new" = "ctrl+n"
"""


def only_difference(before: str, after: str) -> tuple[list[str], list[str]]:
    """The lines only in ``before`` and only in ``after`` (order kept)."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    return [line for line in old if line not in new], [line for line in new if line not in old]


def test_changing_a_key_keeps_every_other_byte(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(MINE, encoding="utf-8")
    save_settings(path, {"theme": "nord"})
    after = path.read_text(encoding="utf-8")
    assert after == MINE.replace("theme = 'gruvbox'   #", "theme = 'nord'   #")
    assert load_config(path).theme == "nord"


@pytest.mark.parametrize(
    ("before", "value", "after"),
    [
        ("theme = 'gruvbox'\n", "nord", "theme = 'nord'\n"),  # the user's single quotes
        ('theme = "gruvbox"\n', "nord", 'theme = "nord"\n'),
        ("theme = 'gruvbox'\n", "it's", 'theme = "it\'s"\n'),  # a ' cannot go in single quotes
        ("theme = 'gruvbox'\n", "a\nb", 'theme = "a\\nb"\n'),  # nor a line break
        ("n = 'three'\n", 3, "n = 3\n"),
    ],
)
def test_a_string_keeps_its_quotes_where_it_can(before, value, after):
    assert updated_text(before, {next(iter(before.split())): value}) == after


def test_a_new_key_goes_before_the_tables_and_nothing_else_moves(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(MINE, encoding="utf-8")
    save_settings(path, {"web_search": True})
    after = path.read_text(encoding="utf-8")
    gone, added = only_difference(MINE, after)
    assert gone == [] and added == ["web_search = true\n"]
    assert after.index("web_search = true") < after.index("[keymap]")
    config = load_config(path)
    assert config.web_search is True and config.keymap == {"chat.stop": "escape"} and config.read_timeout == 90.0


def test_the_same_value_again_leaves_the_file_untouched(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(MINE.replace("'gruvbox'", "'nord'"), encoding="utf-8")
    before = path.stat().st_mtime_ns, path.read_bytes()
    os.utime(path, ns=(1, 1))
    save_settings(path, {"theme": "nord"})
    assert path.stat().st_mtime_ns == 1 and path.read_bytes() == before[1]


def test_unknown_keys_survive(tmp_path):
    # The reader refuses unknown settings; the writer must still never drop one (the user fixes it).
    text = 'future_setting = { a = 1 }\ntheme = "nord"\n[other]\nx = [1, 2]\n'
    assert updated_text(text, {"theme": "dracula"}) == text.replace('"nord"', '"dracula"')


def test_a_missing_file_is_created_from_the_commented_example(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    save_settings(path, {"theme": "nord", "web_search": True})
    text = path.read_text(encoding="utf-8")
    gone, added = only_difference(default_config_text(), text)
    assert gone == [] and sorted(added) == ['theme = "nord"\n', "web_search = true\n"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = load_config(path)
    assert (config.theme, config.web_search) == ("nord", True)


def test_the_mode_is_kept_and_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "dotfiles" / "hailuo.toml"
    real.parent.mkdir()
    real.write_text(MINE, encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    save_settings(link, {"theme": "nord"})
    assert link.is_symlink() and "theme = 'nord'" in real.read_text(encoding="utf-8")
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert [p.name for p in real.parent.iterdir()] == ["hailuo.toml"]  # no temporary file left


def test_invalid_toml_is_reported_and_left_as_it_is(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("theme = [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigWriteError) as caught:
        save_settings(path, {"theme": "nord"})
    assert "config.toml" in caught.value.message and "not saved" in caught.value.message
    assert path.read_text(encoding="utf-8") == "theme = [unclosed\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_a_path_that_cannot_be_written_is_reported(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the config's folder should be", encoding="utf-8")
    with pytest.raises(ConfigWriteError) as caught:
        save_settings(blocker / "config.toml", {"theme": "nord"})  # root cannot do this either
    assert "not saved" in caught.value.message
    assert blocker.read_text(encoding="utf-8") == "a file where the config's folder should be"
