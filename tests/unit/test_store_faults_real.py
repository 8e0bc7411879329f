"""Storage faults made for real: a lock-holding process, a small tmpfs, a read-only mount and file, a damaged page.

The store must name each fault (``StoreError.kind``/``reason``), leave damaged and foreign files
untouched, and the reply session must keep the text in memory and retry until it is on disk.
The helpers here are used by tests/ui/test_store_faults.py too.

Faults: the lock is ``BEGIN IMMEDIATE`` held by another Python process on the same file; a full
disk is a tmpfs of a few MB filled with a file (``mount`` needs root: skipped with the reason
otherwise); read-only is a tmpfs remounted ``ro`` (root ignores file modes) or, for a read-only
file, a child process that drops to uid 65534 before opening a 0444 file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hailuo_tui.domain import MessageStatus
from hailuo_tui.emulator import Emulator, EmulatorConfig
from hailuo_tui.provider.login import token_login
from hailuo_tui.provider.web_backend import WebBackend
from hailuo_tui.reply_session import ReplyEnded, ReplySession, Saved, SaveProblem
from hailuo_tui.store import AsyncChatStore, ChatStore, StoreError, check_record, connection
from tests.unit.test_reply_session import Host, View

ROOT = Path(__file__).resolve().parents[2]
ANSWER = "".join(f"word{i} " for i in range(900))  # about 6,000 characters


# --- real faults -------------------------------------------------------------------------


_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()  # hold until told (or until the test's end closes the pipe)
conn.execute("COMMIT")
"""


class LockHolder:
    """Another process holding SQLite's write lock on ``path`` (``BEGIN IMMEDIATE``) until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # bounded: the child prints at once, or dies (EOF)
        assert line.strip() == "locked", "the lock holder did not start"

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.write("go\n")
                self.proc.stdin.close()
            self.proc.wait(10)

    async def release_later(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.release()


@contextlib.contextmanager
def holding_lock(path: Path) -> Iterator[LockHolder]:
    holder = LockHolder(path)
    try:
        yield holder
    finally:
        holder.release()
        if holder.proc.poll() is None:
            holder.proc.kill()


@contextlib.contextmanager
def tmpfs(size: str = "4m") -> Iterator[Path]:
    """A fresh tmpfs of ``size`` (a small disk to fill, or to remount read-only); skipped if mount is refused."""
    where = Path(tempfile.mkdtemp(prefix="hailuo-tmpfs-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        with contextlib.suppress(OSError):
            where.rmdir()


def remount(where: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True, capture_output=True)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill ``disk`` with a file until at most ``leave`` bytes are free; the file (delete it to free the space)."""
    junk = disk / "fill"
    st = os.statvfs(disk)
    with open(junk, "wb", buffering=0) as f:  # unbuffered: the failing write raises here, not at close
        want = max(0, st.f_bavail * st.f_frsize - leave)
        block = b"\0" * (1 << 16)
        with contextlib.suppress(OSError):
            while want > 0:
                want -= f.write(block[: min(len(block), want)])
            if leave == 0:
                while True:
                    f.write(b"\0" * 4096)
    return junk


def damage_middle_page(path: Path, table: str | None = None, *, every: bool = False) -> int:
    """Overwrite one page in the middle of a database file (the header and first pages stay intact).

    ``table``: the middle one of that table's pages (found with the ``dbstat`` table) instead of the
    file's middle page; ``every``: all of that table's pages. Returns the page number (1-based).
    """
    page = 4096
    if table is None:
        pages = path.stat().st_size // page
        assert pages >= 8, "the database is too small to damage in the middle"
        number = pages // 2 + 1
    else:
        conn = sqlite3.connect(path)
        try:
            found = [n for (n,) in conn.execute("SELECT pageno FROM dbstat WHERE name = ? ORDER BY pageno", (table,))]
        finally:
            conn.close()
        assert found, f"no pages of {table}"
        number = found[len(found) // 2]
    with open(path, "r+b") as f:
        for n in found if table is not None and every else [number]:
            f.seek((n - 1) * page)
            f.write(bytes((i * 37 + 11) % 256 for i in range(page)))
    # As a failing disk damages it: the record of the last check (store/check_record.py) cannot see that (the
    # next week's check finds it); these tests are about what a check finds, so the file is to be checked.
    # Written in place within the clock tick of the record, the file could even keep its recorded mtime.
    check_record.forget(str(path))
    return number


def fill_store(path: Path, conversations: int = 60, per: int = 10) -> None:
    store = ChatStore(path)
    try:
        for c in range(conversations):
            conv = store.create_conversation(f"conversation {c}")
            for m in range(per):
                store.add_message(conv.id, "user" if m % 2 == 0 else "assistant", f"message {m} of {c} " * 40)
    finally:
        store.close()


@pytest.fixture
def short_busy(monkeypatch):
    """A short busy timeout, so a held lock is reported in a fraction of a second."""
    monkeypatch.setattr(connection, "BUSY_TIMEOUT", 0.3)


# --- the store names each fault ------------------------------------------------------------


def test_a_held_lock_is_reported_as_locked_and_nothing_is_half_written(tmp_path, short_busy):
    path = tmp_path / "hailuo.sqlite3"
    store = ChatStore(path)
    conv = store.create_conversation("x")
    try:
        with holding_lock(path):
            with pytest.raises(StoreError) as err:
                store.add_turn(conv.id, "my question")
        assert err.value.kind == "locked" and err.value.reason == "locked by another program"
        assert err.value.transient
        assert str(path) in err.value.message
        assert store.messages(conv.id) == []  # neither the question nor the answer row
        store.add_turn(conv.id, "my question")  # once released, it goes through
        assert [m.role for m in store.messages(conv.id)] == ["user", "assistant"]
    finally:
        store.close()


def test_a_full_disk_is_reported_as_disk_full(tmp_path):
    with tmpfs("3m") as disk:
        path = disk / "hailuo.sqlite3"
        store = ChatStore(path)
        try:
            conv = store.create_conversation("x")
            answer = store.add_message(conv.id, "assistant", "", status="streaming")
            junk = fill(disk, leave=0)
            with pytest.raises(StoreError) as err:
                store.update_message(answer.id, content="x" * 200_000)
            assert err.value.kind == "full" and err.value.reason == "disk full"
            junk.unlink()
            store.update_message(answer.id, content="x" * 200_000, status="complete")
            assert store.messages(conv.id)[0].content == "x" * 200_000
        finally:
            store.close()


def test_a_first_start_on_a_full_disk_is_not_called_damaged_later(tmp_path):
    """The start runs out of space after SQLite wrote the header: "disk full" then, and on the next
    start (the disk still full), never "damaged"; once space is freed the same file just works."""
    for leave in (8 * 1024, 64 * 1024):
        with tmpfs("2m") as disk:
            junk = fill(disk, leave=leave)
            path = disk / "data" / "hailuo.sqlite3"
            with pytest.raises(StoreError) as first:
                ChatStore(path)
            assert first.value.kind == "full", first.value.message
            with pytest.raises(StoreError) as second:
                ChatStore(path)
            assert second.value.kind == "full", second.value.message
            assert "damaged" not in second.value.message
            junk.unlink()
            store = ChatStore(path)
            try:
                assert store._conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
                assert store.count_conversations() == 0
            finally:
                store.close()


def test_a_read_only_mount_is_refused_with_a_message(tmp_path):
    with tmpfs("4m") as disk:
        path = disk / "data" / "hailuo.sqlite3"
        fill_store(path, conversations=2, per=2)
        before = path.read_bytes()
        remount(disk, "ro")
        try:
            with pytest.raises(StoreError) as err:
                ChatStore(path)
            assert err.value.kind == "readonly"
            assert str(path) in err.value.message and "read-only" in err.value.message
            assert path.read_bytes() == before
            with pytest.raises(StoreError) as err:  # no database yet: it cannot be created
                ChatStore(disk / "data" / "other.sqlite3")
            assert err.value.kind == "readonly"
        finally:
            remount(disk, "rw")


_AS_NOBODY = """
import os, sys
from hailuo_tui.store import ChatStore, StoreError
os.setgid(65534); os.setuid(65534)  # root ignores file modes: drop to "nobody" first
try:
    ChatStore(sys.argv[1]).close()
    print("opened")
except StoreError as exc:
    print(exc.kind + "|" + exc.message)
"""


def test_a_read_only_file_is_refused_with_a_message():
    if os.geteuid() != 0:
        pytest.skip("needs root to drop to another user (a non-root user could just chmod)")
    folder = Path(tempfile.mkdtemp(prefix="hailuo-ro-"))
    try:
        os.chmod(folder, 0o777)
        path = folder / "hailuo.sqlite3"
        fill_store(path, conversations=2, per=2)
        os.chmod(path, 0o444)
        before = path.read_bytes()
        done = subprocess.run([sys.executable, "-c", _AS_NOBODY, str(path)], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert done.returncode == 0, done.stderr
        kind, _, message = done.stdout.strip().partition("|")
        assert kind == "readonly", done.stdout
        assert str(path) in message and "read-only" in message and "Traceback" not in done.stderr
        assert path.read_bytes() == before
    finally:
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


def test_a_page_damaged_in_the_middle_is_detected_on_open_and_left_as_it_is(tmp_path):
    path = tmp_path / "hailuo.sqlite3"
    fill_store(path)
    damage_middle_page(path)
    before = path.read_bytes()
    with pytest.raises(StoreError) as err:
        ChatStore(path)
    assert err.value.kind == "corrupt" and "damaged" in err.value.message
    assert path.read_bytes() == before


def test_another_programs_database_is_refused_untouched(tmp_path):
    path = tmp_path / "hailuo.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('keep me')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as err:
        ChatStore(path)
    assert err.value.kind == "foreign" and str(path) in err.value.message
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]
    finally:
        conn.close()


# --- the reply session keeps the text and retries ---------------------------------------------


@pytest.fixture
async def emu():
    async with Emulator(EmulatorConfig(seed=5, answer_text=ANSWER, num_events=25, events_per_second=25.0)) as e:
        yield e


async def _session(store, emu):
    host = Host(WebBackend(await token_login(emu.demo_token, emu.url), base_url=emu.url))
    host.store = store
    conversation = await store.create_conversation()
    _, reply = await ReplySession.begin(store, conversation.id, "tell me a long story")
    reply.view = View()
    return host, reply


async def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_an_answer_ends_only_once_saved_when_a_lock_is_held_across_its_end(tmp_path, emu, short_busy):
    path = tmp_path / "hailuo.sqlite3"
    store = await AsyncChatStore.open(path)
    try:
        host, reply = await _session(store, emu)
        with holding_lock(path) as holder:
            task = asyncio.ensure_future(reply.run(host))
            await _wait(lambda: reply.text == ANSWER, 30, "the whole answer")
            await asyncio.sleep(1.5)  # several retries of the final save, all refused
            assert not host.of(ReplyEnded) and reply.view.finished is None
            [problem] = host.of(SaveProblem)
            assert problem.reason == "locked by another program" and reply.unsaved == problem.reason
            holder.release()
            await asyncio.wait_for(task, 15)
        [ended] = host.of(ReplyEnded)
        assert ended.status == MessageStatus.COMPLETE and host.of(Saved) and reply.unsaved is None
        assert reply.view.finished == ("complete", None)
        row = (await store.messages(reply.conversation_id))[-1]
        assert row.status == MessageStatus.COMPLETE and row.content == ANSWER
    finally:
        await store.close()


async def test_a_disk_that_fills_mid_answer_keeps_the_text_until_there_is_space(emu):
    with tmpfs("6m") as disk:
        store = await AsyncChatStore.open(disk / "hailuo.sqlite3")
        try:
            host, reply = await _session(store, emu)
            junk = fill(disk, leave=0)
            task = asyncio.ensure_future(reply.run(host))
            await _wait(lambda: host.of(SaveProblem), 30, "the save problem")
            assert host.of(SaveProblem)[0].reason == "disk full"
            await _wait(lambda: reply.text == ANSWER, 30, "the whole answer")
            await asyncio.sleep(1.0)
            assert not host.of(ReplyEnded), "shown as ended although not saved"
            junk.unlink()
            await asyncio.wait_for(task, 15)
            [ended] = host.of(ReplyEnded)
            assert ended.status == MessageStatus.COMPLETE and host.of(Saved)
            row = (await store.messages(reply.conversation_id))[-1]
            assert row.status == MessageStatus.COMPLETE and row.content == ANSWER
            # the next answer saves again
            _, second = await ReplySession.begin(store, reply.conversation_id, "and another")
            await asyncio.wait_for(second.run(host), 30)
            assert (await store.messages(reply.conversation_id))[-1].content == ANSWER
        finally:
            await store.close()


async def test_a_message_that_cannot_be_saved_is_not_sent(tmp_path, short_busy):
    path = tmp_path / "hailuo.sqlite3"
    store = await AsyncChatStore.open(path)
    try:
        conversation = await store.create_conversation()
        with holding_lock(path):
            with pytest.raises(StoreError) as err:
                await ReplySession.begin(store, conversation.id, "do not lose me")
        assert err.value.kind == "locked"
        assert await store.messages(conversation.id) == []
    finally:
        await store.close()


def test_a_big_file_is_checked_beside_the_app_instead(tmp_path, monkeypatch):
    monkeypatch.setattr(connection, "CHECK_AT_OPEN_BYTES", 0)
    path = tmp_path / "hailuo.sqlite3"
    fill_store(path)
    assert connection.too_big_to_check_at_open(str(path)) and connection.verify(str(path)) is True
    damage_middle_page(path)
    before = path.read_bytes()
    ChatStore(path).close()  # too big to check at open: it opens
    error = connection.verify(str(path))
    assert isinstance(error, StoreError) and error.kind == "corrupt" and str(path) in error.message
    assert path.read_bytes() == before or not Path(f"{path}-wal").exists()
