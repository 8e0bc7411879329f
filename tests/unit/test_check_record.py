"""The record of a database's last check (hailuo_tui/store/check_record.py), on real files: a start skips the
check only for the file a closed session left, checked within the week."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from hailuo_tui.store import ChatStore, check_record, connection
from tests.unit.test_store_faults_real import damage_middle_page, fill_store


@pytest.fixture
def checks(monkeypatch):
    """Every check a store makes, at open or beside it (connection.verify calls it too), by path."""
    made: list[str] = []
    original = connection.check

    def check(conn, path):
        made.append(path)
        return original(conn, path)

    monkeypatch.setattr(connection, "check", check)
    monkeypatch.delenv(check_record.EVERY_START_ENV, raising=False)
    return made


def sealed(path: Path) -> Path:
    """A filled database, closed by the session that made it (a new file is sound): recorded."""
    fill_store(path, conversations=20, per=4)
    assert Path(check_record.record_path(str(path))).exists()
    return path


def reopen(path: Path) -> ChatStore:
    store = ChatStore(path)
    store.close()
    return store


def test_a_file_a_closed_session_left_is_not_checked_again(tmp_path, checks):
    path = sealed(tmp_path / "hailuo.sqlite3")
    record = json.loads(Path(check_record.record_path(str(path))).read_text())
    store = reopen(path)
    assert checks == [] and store.checked_at == record["checked_at"]
    assert os.stat(check_record.record_path(str(path))).st_mode & 0o777 == 0o600
    reopen(path)  # a session that changed nothing keeps the record as it was
    assert checks == []


def test_a_session_that_writes_and_closes_keeps_the_record(tmp_path, checks):
    path = sealed(tmp_path / "hailuo.sqlite3")
    store = ChatStore(path)
    store.create_conversation("one more")
    store.close()
    reopen(path)
    assert checks == []


def test_another_program_writing_the_file_makes_the_next_start_check_it(tmp_path, checks):
    path = sealed(tmp_path / "hailuo.sqlite3")
    other = sqlite3.connect(path)
    other.execute("UPDATE messages SET content = content || ?", ("x" * 2000,))  # grows the file
    other.commit()
    other.close()
    reopen(path)
    assert checks == [str(path)]
    reopen(path)  # checked and closed: recorded again
    assert checks == [str(path)]


def test_a_copy_put_in_its_place_is_checked(tmp_path, checks):
    path = sealed(tmp_path / "hailuo.sqlite3")
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(path, copy)
    os.replace(copy, path)  # same bytes, another file: not what the record saw
    reopen(path)
    assert checks == [str(path)]


def test_a_session_that_ended_without_closing_makes_the_next_start_check(tmp_path, checks):
    path = sealed(tmp_path / "hailuo.sqlite3")
    record = Path(check_record.record_path(str(path)))
    before = record.read_text()
    store = ChatStore(path)
    store.create_conversation("written, never closed")  # its pages wait in the write-ahead log
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 0
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for name in (path, wal):  # the files as a killed process leaves them
        shutil.copy2(name, crashed / name.name)
    store.close()
    for name in (path, wal):
        shutil.copy2(crashed / name.name, name)
    record.write_text(before)
    st = os.stat(path)
    # The file itself is the one recorded (its writes are all in the log): only the log tells.
    assert json.loads(before)["file"] == [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
    store = ChatStore(path)
    try:
        assert checks == [str(path)]
        assert [row.title for row in store.list_conversations()].count("written, never closed") == 1
    finally:
        store.close()


def test_a_check_older_than_a_week_is_made_again(tmp_path, checks):
    path = sealed(tmp_path / "hailuo.sqlite3")
    record = Path(check_record.record_path(str(path)))
    old = json.loads(record.read_text())
    old["checked_at"] -= check_record.RECHECK_AFTER + 1
    record.write_text(json.dumps(old))
    reopen(path)
    assert checks == [str(path)]
    fresh = json.loads(record.read_text())
    assert time.time() - fresh["checked_at"] < 60  # recorded anew


@pytest.mark.parametrize("content", ["", "{", '{"version": 1}', '{"version": 99, "checked_at": 0, "file": []}', "[]"])
def test_an_unreadable_record_means_a_check(tmp_path, checks, content):
    path = sealed(tmp_path / "hailuo.sqlite3")
    Path(check_record.record_path(str(path))).write_text(content)
    reopen(path)
    assert checks == [str(path)]


def test_every_start_checks_with_the_switch(tmp_path, checks, monkeypatch):
    path = sealed(tmp_path / "hailuo.sqlite3")
    monkeypatch.setenv(check_record.EVERY_START_ENV, "1")
    reopen(path)
    reopen(path)
    assert checks == [str(path), str(path)]


def test_a_big_file_is_recorded_only_once_its_check_beside_found_it_sound(tmp_path, checks, monkeypatch):
    monkeypatch.setattr(connection, "CHECK_AT_OPEN_BYTES", 0)  # every file counts as big
    path = tmp_path / "hailuo.sqlite3"
    fill_store(path, conversations=20, per=4)
    check_record.forget(str(path))
    store = ChatStore(path)
    assert store.needs_check and checks == []
    store.close()  # closed before its check: nothing recorded
    assert not Path(check_record.record_path(str(path))).exists()
    store = ChatStore(path)
    assert store.check_beside() is None and not store.needs_check
    store.close()
    assert not reopen(path).needs_check  # recorded: no check at the next start
    assert checks == [str(path)]


def test_a_recorded_big_file_is_not_checked_and_damage_found_beside_it_is_never_recorded(tmp_path, checks,
                                                                                         monkeypatch):
    monkeypatch.setattr(connection, "CHECK_AT_OPEN_BYTES", 0)
    path = sealed(tmp_path / "hailuo.sqlite3")
    reopen(path)
    assert checks == [] and not reopen(path).needs_check
    record = Path(check_record.record_path(str(path)))
    stale = record.read_text()
    damage_middle_page(path)  # (forgets the record: a failing disk's damage is found by next week's check)
    record.write_text(stale)
    os.utime(path, ns=(0, 0))  # a record that no longer matches the file is left over
    store = ChatStore(path)
    assert store.needs_check
    error = store.check_beside()
    assert error is not None and error.kind == "corrupt"
    assert not record.exists()  # damaged: forgotten...
    store.close()
    assert not record.exists()  # ...and not recorded sound at close
    assert reopen(path).needs_check


def test_a_file_moved_aside_takes_no_record_with_it(tmp_path, checks):
    path = sealed(tmp_path / "hailuo.sqlite3")
    kept = ChatStore.backup_corrupt(path)
    assert not Path(check_record.record_path(str(path))).exists()
    assert not Path(check_record.record_path(str(kept))).exists()


def test_no_record_is_written_while_another_session_has_the_file_open(tmp_path, checks):
    path = sealed(tmp_path / "hailuo.sqlite3")
    record = Path(check_record.record_path(str(path)))
    first, second = ChatStore(path), ChatStore(path)
    first.create_conversation("from the first")
    record.unlink()
    first.close()  # the second still has the log open
    assert not record.exists()
    second.close()  # the last to close records it
    assert record.exists()
    reopen(path)
    assert checks == []


def test_a_record_in_a_folder_that_cannot_be_written_is_not_an_error(tmp_path, checks, monkeypatch):
    path = sealed(tmp_path / "hailuo.sqlite3")
    Path(check_record.record_path(str(path))).unlink()

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(check_record.os, "replace", refuse)
    reopen(path)  # closes without a word
    assert not Path(check_record.record_path(str(path))).exists()
    assert not list(tmp_path.glob("*.tmp-*"))


def test_the_store_in_memory_has_no_record(tmp_path, checks):
    store = ChatStore(":memory:")
    assert not store.needs_check
    store.close()
    assert not list(tmp_path.iterdir())


def test_a_file_replaced_while_a_session_has_it_open_is_not_recorded_by_that_session(tmp_path, checks):
    path = sealed(tmp_path / "hailuo.sqlite3")
    record = Path(check_record.record_path(str(path)))
    store = ChatStore(path)
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(path, copy)
    record.unlink()
    os.replace(copy, path)  # a sync tool puts its copy in place under the running app
    store.close()
    assert not record.exists()
    reopen(path)
    assert checks == [str(path)]
