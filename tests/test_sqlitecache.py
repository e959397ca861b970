"""The shared cache of one box without Redis (a SQLite file): Django's cache semantics, with
`add` and `incr` that concurrent writers cannot both win or lose updates in."""

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from parley.core import sqlitecache
from parley.core.sqlitecache import SQLiteCache


@pytest.fixture
def cache(tmp_path: Path) -> SQLiteCache:
    return SQLiteCache(str(tmp_path / "cache.sqlite3"), {})


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Time as the cache (and Django's timeout arithmetic) sees it; tests move it."""
    now = SimpleNamespace(value=1_000_000.0)
    fake = SimpleNamespace(time=lambda: now.value)
    monkeypatch.setattr(sqlitecache, "time", fake)
    monkeypatch.setattr("django.core.cache.backends.base.time", fake)
    return now


def test_values_come_back_as_they_went_in(cache: SQLiteCache) -> None:
    for key, value in [("n", 7), ("flag", True), ("text", "é"), ("data", {"a": [1, 2.5]})]:
        cache.set(key, value)
        assert cache.get(key) == value and type(cache.get(key)) is type(value)
    assert cache.get_many(["n", "text", "missing"]) == {"n": 7, "text": "é"}
    assert cache.get("missing", "default") == "default"
    assert cache.delete("n") and not cache.delete("n") and not cache.has_key("n")
    cache.clear()
    assert cache.get("text") is None


def test_add_wins_only_over_nothing_or_an_expired_value(
    cache: SQLiteCache, clock: SimpleNamespace
) -> None:
    assert cache.add("k", 1, timeout=60)
    assert not cache.add("k", 2, timeout=60)
    assert cache.get("k") == 1
    clock.value += 61
    assert cache.get("k") is None and not cache.has_key("k")
    assert cache.add("k", 3, timeout=60)
    assert cache.get("k") == 3
    assert cache.add("forever", 1, timeout=None)
    clock.value += 10**6
    assert not cache.add("forever", 2) and cache.get("forever") == 1


def test_incr_counts_in_place_and_refuses_what_is_missing(
    cache: SQLiteCache, clock: SimpleNamespace
) -> None:
    cache.set("hits", 1, timeout=60)
    assert cache.incr("hits") == 2 and cache.incr("hits", 5) == 7 and cache.decr("hits") == 6
    with pytest.raises(ValueError, match="not found"):
        cache.incr("nothing")
    assert cache.touch("hits", timeout=120)
    clock.value += 100
    assert cache.get("hits") == 6
    clock.value += 30
    with pytest.raises(ValueError, match="not found"):
        cache.incr("hits")


def test_threads_counting_at_once_lose_no_increment(cache: SQLiteCache) -> None:
    cache.set("shared", 0)

    def count() -> None:
        for _ in range(200):
            cache.incr("shared")

    threads = [threading.Thread(target=count) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("shared") == 1200
