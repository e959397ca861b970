"""The shared cache of a single box without Redis: one SQLite file in the data dir that every
app process opens.

It replaces Django's file-based cache, whose `add` and `incr` are a read then a write: two
granian workers counting the same rate limit at once both read 4 and both write 5, so a
burst spread over the workers got through several times the limit. Here each operation is
one SQL statement, and SQLite runs one writer at a time across processes, so `add` and
`incr` are atomic as Redis's SET NX and INCR are. A point read is also cheaper than opening,
decompressing and unpickling a file.

Integers are stored as SQLite integers (so `incr` is arithmetic in SQL), anything else
pickled. Expired rows are skipped by reads and deleted now and then by writes; rows without
a timeout stay until deleted (the thread generations: one small row per thread read).
"""

import pickle
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value, expires REAL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS cache_expires ON cache (expires) WHERE expires IS NOT NULL",
)
_LIVE = "(expires IS NULL OR expires > ?)"
# Every this many writes, a connection deletes what has expired.
_PURGE_EVERY = 1000


class SQLiteCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._path = Path(location)
        # One connection per thread: sqlite3 connections must not cross threads, and Django
        # may hand one cache object to several (asyncio.to_thread in the stream server).
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit: every statement is its own transaction.
            db = sqlite3.connect(self._path, timeout=20, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            # A cache: the last writes may be lost if the machine loses power, never torn.
            db.execute("PRAGMA synchronous=OFF")
            for statement in _SCHEMA:
                db.execute(statement)
            self._local.db = db
            self._local.writes = 0
        return db

    def _write(self, sql: str, params: Iterable[Any]) -> sqlite3.Cursor:
        db = self._db()
        self._local.writes += 1
        if self._local.writes % _PURGE_EVERY == 0:
            db.execute("DELETE FROM cache WHERE expires <= ?", (time.time(),))
        return db.execute(sql, tuple(params))

    @staticmethod
    def _dump(value: Any) -> Any:
        return value if type(value) is int else pickle.dumps(value, pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def _load(stored: Any) -> Any:
        return stored if isinstance(stored, int) else pickle.loads(stored)  # noqa: S301 (ours)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        row = (
            self._db()
            .execute(f"SELECT value FROM cache WHERE key = ? AND {_LIVE}", (key, time.time()))  # noqa: S608
            .fetchone()
        )
        return default if row is None else self._load(row[0])

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        by_key = {self.make_and_validate_key(k, version=version): k for k in keys}
        found: dict[Any, Any] = {}
        made = list(by_key)
        for start in range(0, len(made), 500):  # SQLite's limit on bound parameters
            part = made[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = self._db().execute(
                f"SELECT key, value FROM cache WHERE key IN ({marks}) AND {_LIVE}",  # noqa: S608
                (*part, time.time()),
            )
            for key, stored in rows:
                found[by_key[key]] = self._load(stored)
        return found

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        self._write(
            "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value, expires = excluded.expires",
            (key, self._dump(value), self.get_backend_timeout(timeout)),
        )

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        """Store `value` only if the key holds nothing live; True if it was stored."""
        key = self.make_and_validate_key(key, version=version)
        row = self._write(
            "INSERT INTO cache (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value, expires = excluded.expires "
            "WHERE cache.expires <= ? RETURNING 1",
            (key, self._dump(value), self.get_backend_timeout(timeout), time.time()),
        ).fetchone()
        return row is not None

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        row = self._write(
            f"UPDATE cache SET value = value + ? WHERE key = ? AND {_LIVE} "  # noqa: S608
            "AND typeof(value) = 'integer' RETURNING value",
            (delta, key, time.time()),
        ).fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(row[0])

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        cursor = self._write(
            f"UPDATE cache SET expires = ? WHERE key = ? AND {_LIVE}",  # noqa: S608
            (self.get_backend_timeout(timeout), key, time.time()),
        )
        return cursor.rowcount > 0

    def has_key(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        row = (
            self._db()
            .execute(f"SELECT 1 FROM cache WHERE key = ? AND {_LIVE}", (key, time.time()))  # noqa: S608
            .fetchone()
        )
        return row is not None

    def delete(self, key: Any, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return self._write("DELETE FROM cache WHERE key = ?", (key,)).rowcount > 0

    def clear(self) -> None:
        self._write("DELETE FROM cache", ())
