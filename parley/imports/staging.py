"""A reader's records, collected in a scratch SQLite file before anything is written.

Sources list their items in any order (replies before their parents, votes before their
comments, a dump's tables alphabetically), repeat ids, and are too big for memory. The
staging file holds them on disk, indexed, so the loader can take one thread at a time with
everything that belongs to it, whatever order the source had.
"""

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .records import (
    ArticleRecord,
    CommentRecord,
    KeptRecord,
    NoteRecord,
    Record,
    SiteRecord,
    SkipRecord,
    SubscriptionRecord,
    ThreadRecord,
    VoteRecord,
)

_SCHEMA = """
CREATE TABLE threads (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, data BLOB NOT NULL,
                      dup INTEGER NOT NULL DEFAULT 0);
CREATE TABLE comments (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, thread_key TEXT NOT NULL,
                       data BLOB NOT NULL, dup INTEGER NOT NULL DEFAULT 0);
CREATE TABLE votes (seq INTEGER PRIMARY KEY, comment_key TEXT NOT NULL, voter TEXT NOT NULL,
                    data BLOB NOT NULL, thread_key TEXT, dup INTEGER NOT NULL DEFAULT 0);
CREATE TABLE subscriptions (seq INTEGER PRIMARY KEY, thread_key TEXT NOT NULL,
                            data BLOB NOT NULL);
CREATE TABLE articles (seq INTEGER PRIMARY KEY, thread_key TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE kept (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE sites (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE skips (seq INTEGER PRIMARY KEY, kind TEXT, key TEXT, reason TEXT, place TEXT);
CREATE TABLE notes (seq INTEGER PRIMARY KEY, text TEXT NOT NULL);
"""
_INDEXES = """
CREATE INDEX threads_key ON threads (key, seq);
CREATE INDEX comments_key ON comments (key, seq);
CREATE INDEX comments_thread ON comments (thread_key, seq);
CREATE INDEX votes_comment ON votes (comment_key, voter, seq);
CREATE INDEX subscriptions_thread ON subscriptions (thread_key);
CREATE INDEX articles_thread ON articles (thread_key);
"""
_FLUSH_EVERY = 5000


def _dump(record: Any) -> bytes:
    return orjson.dumps(record)


@dataclass
class Counts:
    threads: int = 0
    comments: int = 0
    votes: int = 0
    subscriptions: int = 0
    kept: int = 0
    articles: int = 0
    skipped: int = 0


class Staging:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;"
            "PRAGMA cache_size=-65536;" + _SCHEMA
        )
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        self.counts = Counts()

    def close(self) -> None:
        self.db.close()
        self.path.unlink(missing_ok=True)

    # Collecting ------------------------------------------------------------------------

    def add(self, record: Record) -> None:
        match record:
            case CommentRecord():
                self._queue("comments(key, thread_key, data)",
                            (record.key, record.thread_key, _dump(record)))  # fmt: skip
                self.counts.comments += 1
            case ThreadRecord():
                self._queue("threads(key, data)", (record.key, _dump(record)))
                self.counts.threads += 1
            case VoteRecord():
                self._queue("votes(comment_key, voter, data)",
                            (record.comment_key, record.voter, _dump(record)))  # fmt: skip
                self.counts.votes += 1
            case SubscriptionRecord():
                self._queue("subscriptions(thread_key, data)", (record.thread_key, _dump(record)))
                self.counts.subscriptions += 1
            case ArticleRecord():
                self._queue("articles(thread_key, data)", (record.thread_key, _dump(record)))
                self.counts.articles += 1
            case KeptRecord():
                self._queue("kept(data)", (_dump(record),))
                self.counts.kept += 1
            case SiteRecord():
                self._queue("sites(data)", (_dump(record),))
            case SkipRecord():
                self.skip(record.kind, record.key, record.reason, record.where)
            case NoteRecord():
                self._queue("notes(text)", (record.text,))

    def skip(self, kind: str, key: str, reason: str, where: str = "") -> None:
        self._queue("skips(kind, key, reason, place)", (kind, key, reason, where))
        self.counts.skipped += 1

    def _queue(self, target: str, row: tuple[Any, ...]) -> None:
        rows = self._pending.setdefault(target, [])
        rows.append(row)
        if len(rows) >= _FLUSH_EVERY:
            self._flush(target)

    def _flush(self, target: str) -> None:
        rows = self._pending.pop(target, [])
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self.db.executemany(f"INSERT INTO {target} VALUES ({marks})", rows)  # noqa: S608

    def finish(self) -> None:
        """Index what was collected and set aside repeated ids, reporting each."""
        self._flush_all()
        self.db.executescript(_INDEXES)
        self._set_aside_repeats("threads", "thread")
        self._set_aside_repeats("comments", "comment")
        self.db.execute(
            "UPDATE votes SET thread_key = (SELECT thread_key FROM comments c"
            " WHERE c.key = votes.comment_key AND c.dup = 0)"
        )
        self.db.execute("CREATE INDEX votes_thread ON votes (thread_key)")
        self._set_aside_repeated_votes()

    def _set_aside_repeats(self, table: str, kind: str) -> None:
        """The first record of an id is used; a later one with the same content is a plain
        repeat, one with other content is reported as a clash."""
        repeated = self.db.execute(
            f"SELECT key FROM {table} GROUP BY key HAVING COUNT(*) > 1"  # noqa: S608
        ).fetchall()
        for (key,) in repeated:
            rows = self.db.execute(
                f"SELECT seq, data FROM {table} WHERE key = ? ORDER BY seq",  # noqa: S608
                (key,),
            ).fetchall()
            first = _without_place(rows[0][1])
            for seq, data in rows[1:]:
                reason = (
                    f"the same {kind} appears twice in the source; the first is used"
                    if _without_place(data) == first
                    else f"another {kind} with the same id came earlier in the source; that"
                    " one is used and this one is left out"
                )
                self.skip(kind, key, reason, orjson.loads(data).get("where", ""))
                self.db.execute(f"UPDATE {table} SET dup = 1 WHERE seq = ?", (seq,))  # noqa: S608
        self._flush("skips(kind, key, reason, place)")

    def _set_aside_repeated_votes(self) -> None:
        repeated = self.db.execute(
            "SELECT comment_key, voter FROM votes GROUP BY comment_key, voter HAVING COUNT(*) > 1"
        ).fetchall()
        for comment_key, voter in repeated:
            rows = self.db.execute(
                "SELECT seq, data FROM votes WHERE comment_key = ? AND voter = ? ORDER BY seq",
                (comment_key, voter),
            ).fetchall()
            for seq, data in rows[1:]:
                self.skip(
                    "vote",
                    f"{comment_key}/{voter}",
                    "a second vote by the same voter on the same comment; the first counts",
                    orjson.loads(data).get("where", ""),
                )
                self.db.execute("UPDATE votes SET dup = 1 WHERE seq = ?", (seq,))
        self._flush("skips(kind, key, reason, place)")

    # Reading back ----------------------------------------------------------------------

    def threads(self) -> Iterator[dict[str, Any]]:
        for (data,) in self.db.execute("SELECT data FROM threads WHERE dup = 0 ORDER BY seq"):
            yield orjson.loads(data)

    def comments_of(self, thread_key: str) -> list[dict[str, Any]]:
        return [
            orjson.loads(data)
            for (data,) in self.db.execute(
                "SELECT data FROM comments WHERE thread_key = ? AND dup = 0 ORDER BY seq",
                (thread_key,),
            )
        ]

    def votes_of(self, thread_key: str) -> list[dict[str, Any]]:
        return [
            orjson.loads(data)
            for (data,) in self.db.execute(
                "SELECT data FROM votes WHERE thread_key = ? AND dup = 0 ORDER BY seq",
                (thread_key,),
            )
        ]

    def subscriptions_of(self, thread_key: str) -> list[dict[str, Any]]:
        return [
            orjson.loads(data)
            for (data,) in self.db.execute(
                "SELECT data FROM subscriptions WHERE thread_key = ? ORDER BY seq", (thread_key,)
            )
        ]

    def article_of(self, thread_key: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT data FROM articles WHERE thread_key = ? ORDER BY seq LIMIT 1", (thread_key,)
        ).fetchone()
        return orjson.loads(row[0]) if row else None

    def orphans(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Items whose thread (or, for votes, comment) is not in the source."""
        for (data,) in self.db.execute(
            "SELECT data FROM comments c WHERE dup = 0 AND NOT EXISTS"
            " (SELECT 1 FROM threads t WHERE t.key = c.thread_key AND t.dup = 0)"
        ):
            yield "comment", orjson.loads(data)
        for (data,) in self.db.execute("SELECT data FROM votes WHERE thread_key IS NULL"):
            yield "vote", orjson.loads(data)
        for (data,) in self.db.execute(
            "SELECT data FROM subscriptions s WHERE NOT EXISTS"
            " (SELECT 1 FROM threads t WHERE t.key = s.thread_key AND t.dup = 0)"
        ):
            yield "subscription", orjson.loads(data)

    def kept(self) -> Iterator[dict[str, Any]]:
        for (data,) in self.db.execute("SELECT data FROM kept ORDER BY seq"):
            yield orjson.loads(data)

    def site(self) -> dict[str, Any] | None:
        row = self.db.execute("SELECT data FROM sites ORDER BY seq LIMIT 1").fetchone()
        return orjson.loads(row[0])["data"] if row else None

    def _flush_all(self) -> None:
        for target in list(self._pending):
            self._flush(target)

    def skips(self) -> list[tuple[str, str, str, str]]:
        self._flush_all()
        return self.db.execute("SELECT kind, key, reason, place FROM skips ORDER BY seq").fetchall()

    def notes(self) -> list[str]:
        self._flush_all()
        return [text for (text,) in self.db.execute("SELECT text FROM notes ORDER BY seq")]

    def thread_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM threads WHERE dup = 0").fetchone()[0])

    def comment_count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM comments WHERE dup = 0").fetchone()[0])


def _without_place(data: bytes) -> dict[str, Any]:
    record: dict[str, Any] = orjson.loads(data)
    record.pop("where", None)
    return record
