"""The Isso reader on databases written from Isso's schema: what it yields, and how it
refuses a database that is not Isso's."""

import hashlib
import sqlite3
import tracemalloc
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

import pytest

from parley.imports.readers import isso
from parley.imports.records import (
    CommentRecord,
    Meter,
    NoteRecord,
    Options,
    Record,
    SkipRecord,
    SourceError,
    SubscriptionRecord,
    ThreadRecord,
)
from tests.importdata.isso import write_awkward, write_many


def read_all(path: Path, meter: Meter | None = None) -> list[Record]:
    return list(isso.read(str(path), meter or Meter(), Options()))


@pytest.fixture
def awkward(tmp_path: Path) -> Path:
    path = tmp_path / "comments.db"
    write_awkward(path)
    return path


def comments_of(records: list[Record]) -> dict[str, CommentRecord]:
    return {r.key: r for r in records if isinstance(r, CommentRecord)}


def test_every_thread_and_comment_comes_over_with_isso_statuses(tmp_path: Path) -> None:
    written = write_awkward(tmp_path / "comments.db")
    records = read_all(tmp_path / "comments.db")

    threads = [r for r in records if isinstance(r, ThreadRecord)]
    comments = comments_of(records)
    assert len(threads) == written.threads
    assert len(comments) == written.comments
    statuses: dict[str, int] = {}
    for comment in comments.values():
        statuses[comment.status] = statuses.get(comment.status, 0) + 1
    assert statuses == written.statuses
    assert {key: comments[key].body for key in written.bodies} == written.bodies
    assert {c.body_format for c in comments.values()} == {"markdown"}
    # Isso has no accounts: every author is a guest.
    assert {c.author_id for c in comments.values()} == {""}


def test_threads_keep_their_address_even_when_empty(awkward: Path) -> None:
    threads = {r.key: r for r in read_all(awkward) if isinstance(r, ThreadRecord)}

    assert threads["1"].url == "/2026/11/river-crossing/"
    assert threads["1"].title == "The river crossing"
    assert (threads["2"].url, threads["2"].title) == ("/ar/opinion/", "")
    assert threads["3"].url == ""
    assert comments_of(read_all(awkward))["10"].thread_key == "3"


def test_a_comment_keeps_its_author_times_tallies_and_parent(awkward: Path) -> None:
    comments = comments_of(read_all(awkward))

    first = comments["1"]
    assert first.thread_key == "1"
    assert first.created_at == datetime(2026, 11, 2, 8, 15, 30, 250000, tzinfo=UTC)
    assert first.edited_at is None
    assert (first.author_name, first.author_email, first.author_url) == (
        "Ann",
        "ann@example.org",
        "https://ann.example",
    )
    assert first.ip == "192.168.1.0"
    assert (first.upvotes, first.downvotes) == (5, 1)
    assert "<script>" in first.body  # Markdown as Isso has it; the loader renders it safely

    edited = comments["2"]
    assert edited.parent_key == "1"
    assert edited.edited_at == datetime(2026, 11, 2, 8, 17, 30, 750000, tzinfo=UTC)
    assert comments["9"].created_at.microsecond == 250001

    # Parents as Isso has them, even a larger id or one that is gone: the loader decides.
    assert comments["5"].parent_key == "9"
    assert comments["6"].parent_key == "404"
    assert comments["8"].author_name == "سارة"


def test_a_deleted_comment_with_replies_stays_a_placeholder(awkward: Path) -> None:
    comments = comments_of(read_all(awkward))

    assert comments["3"].status == "deleted"
    assert comments["3"].body == ""
    assert comments["4"].parent_key == "3"
    assert comments["7"].status == "pending"


def test_asking_for_replies_becomes_an_unconfirmed_subscription_to_that_comment(
    awkward: Path,
) -> None:
    subscriptions = [r for r in read_all(awkward) if isinstance(r, SubscriptionRecord)]

    assert {(s.email, s.comment_key) for s in subscriptions} == {
        ("ann@example.org", "1"),
        ("dee@example.org", "5"),
    }
    assert {s.kind for s in subscriptions} == {"comment"}
    assert not any(s.confirmed for s in subscriptions)
    notes = [r.text for r in read_all(awkward) if isinstance(r, NoteRecord)]
    assert any(
        n.startswith("2 requests for replies by e-mail came over unconfirmed") for n in notes
    )


def test_an_unknown_mode_is_skipped_and_bad_bytes_are_reported(awkward: Path) -> None:
    records = read_all(awkward)

    skips = [r for r in records if isinstance(r, SkipRecord)]
    assert [(s.kind, s.key) for s in skips] == [("comment", "11")]
    assert "mode 8" in skips[0].reason
    assert "comments id 11" in skips[0].where
    notes = [r.text for r in records if isinstance(r, NoteRecord)]
    assert [n for n in notes if "not UTF-8" in n] == [
        "comments.db: bytes that are not UTF-8 in 1 texts were replaced by U+FFFD (�)"
    ]


def test_the_meter_counts_rows_and_the_database_is_left_untouched(awkward: Path) -> None:
    before = hashlib.sha256(awkward.read_bytes()).hexdigest()
    meter = Meter()

    read_all(awkward, meter)

    assert (meter.unit, meter.total, meter.done) == ("rows", 3 + 12, 15)
    assert hashlib.sha256(awkward.read_bytes()).hexdigest() == before
    assert not awkward.with_name("comments.db-journal").exists()


def test_a_database_isso_never_migrated_reads_without_subscriptions(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256), title VARCHAR);"
            "CREATE TABLE comments (tid, id INTEGER PRIMARY KEY, parent INTEGER, created FLOAT,"
            " modified FLOAT, mode INTEGER, remote_addr VARCHAR, text VARCHAR, author VARCHAR,"
            " email VARCHAR, website VARCHAR, likes INTEGER, dislikes INTEGER, voters BLOB);"
            "INSERT INTO threads VALUES (1, '/a/', 'A');"
            "INSERT INTO comments VALUES (1, 1, NULL, 1700000000, NULL, 1, '::', 'Hi',"
            " 'Al', 'al@example.org', NULL, NULL, NULL, x'00');"
        )
    db.close()

    records = read_all(path)

    assert [type(r) for r in records] == [ThreadRecord, CommentRecord]
    comment = records[1]
    assert isinstance(comment, CommentRecord)
    assert (comment.upvotes, comment.downvotes) == (0, 0)


def _database(path: Path, script: str) -> Path:
    db = sqlite3.connect(path)
    db.executescript(script)
    db.close()
    return path


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("CREATE TABLE posts (id INTEGER);", "there is no table threads"),
        (
            "CREATE TABLE threads (id INTEGER, uri TEXT, title TEXT);",
            "there is no table comments",
        ),
        (
            "CREATE TABLE threads (id INTEGER, uri TEXT, title TEXT);"
            "CREATE TABLE comments (id INTEGER, tid INTEGER, text TEXT, created REAL);",
            "table comments has columns (id, tid, text, created) but Isso's layout is (tid, id,"
            " parent, created, modified, mode, remote_addr, text, author, email, website, likes,"
            " dislikes): parent, modified, mode, remote_addr, author, email, website, likes,"
            " dislikes missing",
        ),
        (
            "CREATE TABLE threads (id INTEGER, path TEXT);",
            "table threads has columns (id, path) but Isso's layout is (id, uri, title): uri,"
            " title missing",
        ),
    ],
)
def test_a_database_of_another_layout_is_refused_naming_what_is_missing(
    tmp_path: Path, script: str, expected: str
) -> None:
    path = _database(tmp_path / "other.db", script)

    with pytest.raises(SourceError) as raised:
        read_all(path)

    assert str(raised.value).startswith(f"other.db: {expected}")
    assert raised.value.where == "other.db"


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "comments.json"
    path.write_text('{"threads": []}' * 200)

    with pytest.raises(
        SourceError, match=r"comments\.json: this is not a readable SQLite database"
    ):
        read_all(path)
    with pytest.raises(SourceError, match="there is no such file"):
        read_all(tmp_path / "missing.db")


def test_reading_streams_in_constant_memory(tmp_path: Path) -> None:
    def peak(comments: int) -> int:
        path = tmp_path / f"{comments}.db"
        write_many(path, comments)
        meter = Meter()
        tracemalloc.start()
        deque(isso.read(str(path), meter, Options()), maxlen=0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert meter.done == meter.total
        return peak

    small, large = peak(2_000), peak(20_000)

    assert large < small * 1.5, (small, large)
