"""The model-list cache: a day long, per host and key, never holding the key."""

from __future__ import annotations

import json
import stat

from hailuo_tui.model_cache import DAY, ModelCache, fingerprint

HOST = "https://api.minimax.io/v1"
KEY = "sk-api-cache-test-0123456789abcdef"


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_saved_list_is_used_for_a_day_then_dropped(tmp_path):
    clock = Clock()
    cache = ModelCache(tmp_path / "cache" / "models.json", clock=clock)
    assert cache.load(HOST, KEY) is None
    cache.save(HOST, KEY, ["MiniMax-M3", "MiniMax-M2.7"])
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    clock.now += DAY - 1
    assert cache.load(HOST, KEY) == ["MiniMax-M3", "MiniMax-M2.7"]
    clock.now += 1
    assert cache.load(HOST, KEY) is None
    clock.now -= 2 * DAY  # a clock set back does not make an entry fresh
    assert cache.load(HOST, KEY) is None


def test_entries_are_per_host_and_key_and_never_hold_the_key(tmp_path):
    path = tmp_path / "models.json"
    cache = ModelCache(path)
    cache.save(HOST, KEY, ["MiniMax-M3"])
    cache.save(HOST + "/", "sk-api-another-key-987654321", ["MiniMax-M2"])
    cache.save("http://127.0.0.1:1/v1", KEY, ["local"])
    assert cache.load(HOST, KEY) == ["MiniMax-M3"]
    assert cache.load(HOST, "sk-api-another-key-987654321") == ["MiniMax-M2"]
    assert cache.load("http://127.0.0.1:1/v1", KEY) == ["local"]
    assert cache.load(HOST, "sk-api-unknown") is None
    raw = path.read_bytes()
    assert KEY.encode() not in raw and b"another-key" not in raw
    assert fingerprint(HOST, KEY) in raw.decode() and len(fingerprint(HOST, KEY)) == 16
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["models.json"]  # no temporary file left


def test_a_damaged_or_foreign_file_is_a_miss_and_gets_replaced(tmp_path):
    path = tmp_path / "models.json"
    cache = ModelCache(path)
    for text in ("not json", "[]", '{"version": 99, "entries": {}}',
                 json.dumps({"version": 1, "entries": {fingerprint(HOST, KEY): {"fetched_at": "x", "models": 1}}})):
        path.write_text(text)
        assert cache.load(HOST, KEY) is None
    cache.save(HOST, KEY, ["MiniMax-M3"])
    assert cache.load(HOST, KEY) == ["MiniMax-M3"]
    cache.clear()
    assert not path.exists()
    cache.clear()  # twice is fine


def test_an_unwritable_cache_is_skipped(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ModelCache(blocker / "models.json")  # its directory cannot be made
    cache.save(HOST, KEY, ["MiniMax-M3"])
    assert cache.load(HOST, KEY) is None

