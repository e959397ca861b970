"""The wpDiscuz reader: a WordPress + wpDiscuz database in MariaDB, and mysqldump's dump of
it, come out as the same records, with every awkward case right; damaged sources are
refused with the place to look at; memory stays flat however big the site.

MariaDB must answer at 127.0.0.1:3306 (./scripts/test starts it); these tests fail, not
skip, when it does not."""

import dataclasses
import gzip
import io
import shutil
import tracemalloc
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from parley.imports.mysqldump import DumpParser, Row
from parley.imports.readers import wpdiscuz
from parley.imports.records import (
    CommentRecord,
    KeptRecord,
    Meter,
    NoteRecord,
    Options,
    Record,
    SkipRecord,
    SourceError,
    SubscriptionRecord,
    ThreadRecord,
    VoteRecord,
)
from tests.importdata import wpdiscuz as data
from tests.importdata.wpdiscuz import url, wordpress_database  # noqa: F401 (a fixture)

R = TypeVar("R")


def read(source: str | Path, prefix: str = "wp_", meter: Meter | None = None) -> list[Record]:
    return list(wpdiscuz.read(str(source), meter or Meter(), Options(table_prefix=prefix)))


def placeless(records: list[Any]) -> list[Any]:
    """The records without where they were found, which differs between the sources."""
    return [dataclasses.replace(r, where="") if hasattr(r, "where") else r for r in records]


def of(kind: type[R], records: list[Record]) -> list[R]:
    return [r for r in records if isinstance(r, kind)]


def notes(records: list[Record]) -> list[str]:
    return [r.text for r in of(NoteRecord, records)]


def test_the_database_and_any_dump_of_it_give_the_same_records(
    wordpress: str, tmp_path: Path
) -> None:
    data.write_awkward(wordpress)
    meter = Meter()
    expected = placeless(read(url(wordpress), meter=meter))
    assert meter.done == meter.total > 0  # rows
    dumped = data.dump(wordpress, tmp_path / "site.sql")
    with dumped.open("rb") as plain, gzip.open(tmp_path / "site.sql.gz", "wb") as packed:
        shutil.copyfileobj(plain, packed)
    dumps = {
        "mysqldump": dumped,
        "gzipped": tmp_path / "site.sql.gz",
        "MySQL's form, rows on one line": data.on_one_line(dumped, tmp_path / "one-line.sql"),
        "--complete-insert (columns named)": data.dump(
            wordpress, tmp_path / "complete.sql", "--complete-insert"
        ),
        "--skip-extended-insert (a row a statement)": data.dump(
            wordpress, tmp_path / "single.sql", "--skip-extended-insert"
        ),
        "--hex-blob": data.dump(wordpress, tmp_path / "hex.sql", "--hex-blob"),
    }
    for variant, path in dumps.items():
        meter = Meter()
        assert placeless(read(path, meter=meter)) == expected, variant
        assert meter.done == meter.total == path.stat().st_size, variant

    # A record from a dump says on which line of the file its row is.
    records = read(dumped)
    comment = next(r for r in of(CommentRecord, records) if r.key == "100")
    assert comment.where.startswith("site.sql line ")
    line = int(comment.where.rsplit(" ", 1)[1])
    assert dumped.read_text().splitlines()[line - 1].startswith("(100,10,'Alice'")


def test_awkward_cases_come_out_right(wordpress: str) -> None:
    written = data.write_awkward(wordpress)
    records = read(url(wordpress))

    threads = {t.key: t for t in of(ThreadRecord, records)}
    # Posts a comment, subscription or feedback form refers to; not the page or revision.
    assert set(threads) == written.threads
    assert threads["10"].url == "https://news.example/?p=10"
    assert threads["11"].title == "الميزانية الجديدة"
    assert threads["11"].closed_at == data.T0 + timedelta(days=5)
    assert threads["10"].closed_at is None

    comments = {c.key: c for c in of(CommentRecord, records)}
    assert len(comments) == written.comments
    assert Counter(c.status for c in comments.values()) == written.statuses
    skipped = {s.key: s.reason for s in of(SkipRecord, records) if s.kind == "comment"}
    assert set(skipped) == set(written.skipped_comments)
    for key, word in written.skipped_comments.items():
        assert word in skipped[key]
    # Bodies as WordPress stores them: HTML, entities, emoji, Arabic, newlines, backslashes.
    assert {k: c.body for k, c in comments.items()} == {
        k: b for k, b in written.bodies.items() if k in comments
    }
    assert all(c.body_format == "html" for c in comments.values())
    assert comments["101"].parent_key == "104"  # its parent comes later
    assert comments["102"].parent_key == "999"  # its parent is not there
    assert comments["105"].parent_key == "101"
    assert comments["100"].parent_key == ""
    assert comments["100"].author_url == "https://alice.example"
    assert comments["100"].ip == "203.0.113.5"
    assert comments["103"].author_id == "2"
    assert comments["100"].author_id == ""
    # The WordPress account is gone; the comment keeps its name and its author's id.
    assert (comments["106"].author_name, comments["106"].author_id) == ("Former Member", "7")
    assert comments["104"].author_name == "O'Brien & Sons"  # WordPress stored it escaped
    assert comments["100"].created_at == data.T0 + timedelta(minutes=100)
    assert comments["114"].created_at == data.T0 + timedelta(minutes=114, hours=1)
    assert {k: c.quote for k, c in comments.items() if c.quote} == written.quotes
    assert comments["100"].extra["meta"] == {
        "akismet_result": ["false"],
        "custom_field": ["one", "two"],
    }
    assert comments["103"].extra["meta"]["wpdiscuz_votes_seperate"] == [
        'a:2:{s:4:"like";i:2;s:7:"dislike";i:0;}'
    ]
    assert comments["101"].extra == {}

    votes = of(VoteRecord, records)
    assert len(votes) == written.votes
    assert {(v.comment_key, v.voter, v.value) for v in votes} >= {
        ("103", "u:2", 1),
        ("103", f"guest:{data.guest('203.0.113.9')}", 1),
        ("100", "u:1", -1),
    }
    assert next(v for v in votes if v.comment_key == "103").created_at == data.T0
    assert next(v for v in votes if v.comment_key == "115").created_at is None
    assert len([s for s in of(SkipRecord, records) if s.kind == "vote"]) == written.skipped_votes

    subscriptions = {s.key: s for s in of(SubscriptionRecord, records)}
    assert Counter(s.kind for s in subscriptions.values()) == written.subscriptions
    assert sum(s.confirmed for s in subscriptions.values()) == written.confirmed
    assert (subscriptions["3"].kind, subscriptions["3"].comment_key) == ("comment", "103")
    assert (subscriptions["4"].thread_key, subscriptions["4"].confirmed) == ("12", False)
    assert subscriptions["1"].created_at == data.T0 + timedelta(days=1)
    skipped_subscriptions = [s for s in of(SkipRecord, records) if s.kind == "subscription"]
    assert len(skipped_subscriptions) == written.skipped_subscriptions

    kept = of(KeptRecord, records)
    assert Counter(k.table for k in kept) == written.kept
    form = next(k for k in kept if k.table == "wc_feedback_forms" and k.key == "1")
    assert form.data["question"] == "Is this fair?"
    assert all(k.reason for k in kept)

    said = notes(records)
    assert any("wc_reply_text ('Antworten')" in n and "'reply'" in n for n in said)
    assert any("wc_be_the_first_text" in n and "no Parley equivalent" in n for n in said)
    assert "1 comments have no GMT time" in " ".join(said)
    assert any(n.startswith("1 inline comments name a feedback form") for n in said)
    assert any(n.startswith("2 comments in wp_commentmeta have meta") for n in said)


def test_a_site_without_wpdiscuz_tables_reads_with_notes_saying_what_is_missing(
    wordpress: str,
) -> None:
    written = data.write_awkward(wordpress)
    with data.connect(wordpress) as connection, connection.cursor() as cursor:
        for table in data.WPDISCUZ_TABLES:
            cursor.execute(f"DROP TABLE `wp_{table}`")
    records = read(url(wordpress))
    assert len(of(CommentRecord, records)) == written.comments
    assert not of(VoteRecord, records) and not of(SubscriptionRecord, records)
    assert not [c for c in of(CommentRecord, records) if c.quote]
    said = notes(records)
    assert "There is no wp_wc_follow_users table: no follows." in said
    assert "There is no wp_wc_users_voted table: no votes." in said


def test_another_table_prefix_is_read_when_given_and_named_when_not(wordpress: str) -> None:
    written = data.write_awkward(wordpress, prefix="blog_")
    with pytest.raises(SourceError, match=r"no wp_comments table.*blog_comments.*--table-prefix"):
        read(url(wordpress))
    assert len(of(CommentRecord, read(url(wordpress), prefix="blog_"))) == written.comments


def test_a_table_of_another_layout_is_refused_naming_it_its_columns_and_place(
    wordpress: str, tmp_path: Path
) -> None:
    data.write_awkward(wordpress)
    with data.connect(wordpress) as connection, connection.cursor() as cursor:
        cursor.execute("ALTER TABLE wp_wc_users_voted DROP COLUMN vote_type")
    with pytest.raises(SourceError) as refused:
        read(url(wordpress))
    message = str(refused.value)
    assert "table wp_wc_users_voted has columns (id, user_id, comment_id, is_guest" in message
    assert "wpDiscuz's layout has" in message and "vote_type missing" in message
    assert refused.value.where == f"{url(wordpress)} table wp_wc_users_voted"

    dumped = data.dump(wordpress, tmp_path / "old.sql")
    with pytest.raises(SourceError, match="vote_type missing") as refused:
        read(dumped)
    line = int(refused.value.where.removeprefix("old.sql line "))
    assert dumped.read_text().splitlines()[line - 1] == "CREATE TABLE `wp_wc_users_voted` ("


def test_a_dump_cut_short_is_refused_with_where_it_ends(wordpress: str, tmp_path: Path) -> None:
    data.write_awkward(wordpress)
    dumped = data.dump(wordpress, tmp_path / "site.sql")
    inside = data.truncated(dumped, tmp_path / "inside.sql", b"INSERT INTO `wp_comments`")
    with pytest.raises(SourceError, match=r"ends in the middle of an INSERT into wp_comments"):
        read(inside)
    between = data.cut_before_end(dumped, tmp_path / "between.sql")
    with pytest.raises(SourceError, match="before mysqldump's closing '-- Dump completed' line"):
        read(between)
    with gzip.open(tmp_path / "cut.sql.gz", "wb") as packed:
        packed.write(dumped.read_bytes())
    (tmp_path / "cut.sql.gz").write_bytes((tmp_path / "cut.sql.gz").read_bytes()[:-40])
    with pytest.raises(SourceError, match=r"cut\.sql\.gz"):
        read(tmp_path / "cut.sql.gz")


def test_bytes_that_are_not_utf8_are_replaced_and_counted(wordpress: str, tmp_path: Path) -> None:
    data.write_awkward(wordpress)
    dumped = data.with_invalid_utf8(data.dump(wordpress, tmp_path / "a.sql"), tmp_path / "b.sql")
    records = read(dumped)
    comment = next(c for c in of(CommentRecord, records) if c.key == "119")
    assert comment.body == "Bad bytes here: \ufffd\ufffd caf\ufffd \ufffd("
    line = next(n for n, text in enumerate(dumped.read_bytes().splitlines(), 1) if b"\xff" in text)
    assert (
        f"b.sql: 4 invalid byte sequences in wp_comments (the first on line {line}) were "
        "replaced by U+FFFD (�)." in notes(records)
    )


def test_mysql_literals_read_right_wherever_the_chunks_end() -> None:
    dump = (
        "-- MySQL dump 10.13\n/*!40101 SET NAMES utf8mb4 */;\n"
        "CREATE TABLE `t` (\n  `id` int,\n  `a` text COMMENT 'x, y (z)',\n  `b` text\n);\n"
        "INSERT INTO `t` VALUES (1,'it''s \\'quoted\\'','back\\\\slash \\n\\r\\t\\0\\Z\\b'),"
        '(2,\'50\\% of a_b\\_c\',"double "" quote"),'
        "(3,_binary 'bytes',0x48656C6C6F),(4,X'4869',b'101'),(5,-1.5e3,NULL),"
        "(6,'a;b),(c',null),( 7 , 12.50 ,'😀 עברית');\n"
        "INSERT INTO `skipped` VALUES (1,'a;b'),(2,'c');\n"
        "INSERT INTO `t` (`b`, `id`) VALUES ('named',8);\n"
        "-- Dump completed on 2026-03-02\n"
    ).encode()

    def rows(chunk: int) -> list[Row]:
        parser = DumpParser(io.BytesIO(dump), "t.sql", lambda table: table == "t", chunk)
        return [event for event in parser if isinstance(event, Row)]

    found = rows(1 << 20)
    assert [row.values for row in found] == [
        (1, "it's 'quoted'", "back\\slash \n\r\t\0\x1a\b"),
        (2, "50\\% of a_b\\_c", 'double " quote'),
        (3, "bytes", "Hello"),
        (4, "Hi", 5),
        (5, "-1.5e3", None),
        (6, "a;b),(c", None),
        (7, "12.50", "😀 עברית"),
        ("named", 8),
    ]
    assert found[-1].columns == ["b", "id"] and found[-1].line == 10
    for chunk in (1, 2, 3, 7, 64):
        assert rows(chunk) == found, chunk


def test_a_source_that_cannot_be_read_is_a_source_error(wordpress: str, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read the database") as refused:
        read("mysql://root:secret@127.0.0.1:3306/no_such_database")
    assert "secret" not in str(refused.value)
    with pytest.raises(SourceError, match="no such file"):
        read(tmp_path / "missing.sql")
    with pytest.raises(SourceError, match="no wp_comments table"):
        read(url(wordpress))  # a database, but not WordPress's


@pytest.mark.slow
def test_memory_stays_flat_on_a_large_site(wordpress: str, tmp_path: Path) -> None:
    written = data.write_many(wordpress, comments=20_000)
    dumped = data.dump(wordpress, tmp_path / "big.sql")
    # Holding the records would take tens of megabytes; reading takes a buffer's worth.
    for source, bound in ((url(wordpress), 1_000_000), (str(dumped), 6_000_000)):
        counts: Counter[str] = Counter()
        tracemalloc.start()
        try:
            for record in wpdiscuz.read(source, Meter(), Options()):
                counts[type(record).__name__] += 1
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert counts["CommentRecord"] == written.comments, source
        assert counts["VoteRecord"] == written.votes, source
        assert counts["ThreadRecord"] == len(written.threads), source
        assert peak < bound, (source, peak)


def test_a_file_that_is_no_dump_at_all_is_named_so(tmp_path: Path) -> None:
    path = tmp_path / "export.sql"
    path.write_text('<?xml version="1.0"?>\n<rss version="2.0"></rss>\n')
    with pytest.raises(SourceError, match="this is not a mysqldump file") as refused:
        read(str(path))
    assert refused.value.where == "export.sql line 1"
