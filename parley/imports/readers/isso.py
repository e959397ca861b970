"""Isso's SQLite database (Isso's schema version 5, and older ones without `notification`).

threads(id, uri, title); comments(tid, id, parent, created, modified, mode, remote_addr, text,
author, email, website, likes, dislikes, voters, notification). Times are Unix seconds as
REAL, bodies Markdown, `mode` 1 accepted, 2 waiting for a moderator, 4 deleted but kept as a
placeholder because it has replies. Isso stores the poster's address already anonymised
(the last part zeroed) and keeps who voted only as a Bloom filter of addresses, so votes come
over as tallies.
"""

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

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

THREAD_COLUMNS = ("id", "uri", "title")
COMMENT_COLUMNS = (
    "tid",
    "id",
    "parent",
    "created",
    "modified",
    "mode",
    "remote_addr",
    "text",
    "author",
    "email",
    "website",
    "likes",
    "dislikes",
)
# Added in Isso's schema version 4; a database Isso has not opened since lacks it.
NOTIFICATION = "notification"
STATUS_BY_MODE = {1: "published", 2: "pending", 4: "deleted"}
METER_EVERY = 1000


class _Text:
    """Turns what SQLite holds in a text column into str. SQLite does not check that text is
    UTF-8 (and takes bytes in a text column), so bad bytes are replaced and counted."""

    def __init__(self) -> None:
        self.repaired = 0

    def __call__(self, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, bytes):
            return str(value)
        try:
            return value.decode()
        except UnicodeDecodeError:
            self.repaired += 1
            return value.decode(errors="replace")


def read(source: str, meter: Meter, options: Options) -> Iterator[Record]:
    path = Path(source)
    name = path.name
    if not path.is_file():
        raise SourceError("there is no such file", name)
    text = _Text()
    # Read-only, so an import never changes the Isso it moves away from, even a running one.
    connection = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    connection.text_factory = text
    try:
        notifications = _check_layout(connection, name)
        total = sum(
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in ("threads", "comments")
        )
        meter.start(total, unit="rows")
        done = subscriptions = 0
        for thread_id, uri, title in connection.execute(
            "SELECT id, uri, title FROM threads ORDER BY id"
        ):
            yield ThreadRecord(
                key=str(thread_id),
                url=text(uri),
                title=text(title),
                where=f"{name} threads id {thread_id}",
            )
            done += 1
            if done % METER_EVERY == 0:
                meter.advance_to(done)
        columns = ", ".join(COMMENT_COLUMNS + ((NOTIFICATION,) if notifications else ()))
        for row in connection.execute(f"SELECT {columns} FROM comments ORDER BY id"):  # noqa: S608
            for record in _comment(row, text, name):
                subscriptions += isinstance(record, SubscriptionRecord)
                yield record
            done += 1
            if done % METER_EVERY == 0:
                meter.advance_to(done)
        meter.advance_to(done)
    except sqlite3.DatabaseError as error:
        raise SourceError(f"this is not a readable SQLite database ({error})", name) from error
    finally:
        connection.close()
    if subscriptions:
        yield NoteRecord(
            f"{subscriptions} requests for replies by e-mail came over unconfirmed: Isso never "
            "checked the addresses, and Parley sends nothing to an address its owner has not "
            "confirmed. Each reader confirms by asking again."
        )
    if text.repaired:
        yield NoteRecord(
            f"{name}: bytes that are not UTF-8 in {text.repaired} texts were replaced by U+FFFD (�)"
        )


def _check_layout(connection: sqlite3.Connection, name: str) -> bool:
    """Whether comments have the `notification` column; SourceError unless the tables have
    Isso's layout."""
    found = {
        table: tuple(row[1] for row in connection.execute(f"PRAGMA table_info({table})"))
        for table in ("threads", "comments")
    }
    for table, needed in (("threads", THREAD_COLUMNS), ("comments", COMMENT_COLUMNS)):
        if not found[table]:
            raise SourceError(
                f"there is no table {table}, so this is not an Isso database "
                "(Isso's tables are threads, comments and preferences)",
                name,
            )
        missing = [column for column in needed if column not in found[table]]
        if missing:
            raise SourceError(
                f"table {table} has columns ({', '.join(found[table])}) but Isso's layout is "
                f"({', '.join(needed)}): {', '.join(missing)} missing",
                name,
            )
    return NOTIFICATION in found["comments"]


def _comment(row: tuple[Any, ...], text: _Text, name: str) -> Iterator[Record]:
    tid, comment_id, parent, created, modified, mode, addr, body, author, email, website = row[:11]
    likes, dislikes = row[11:13]
    notification = row[13] if len(row) > 13 else 0
    key, where = str(comment_id), f"{name} comments id {comment_id}"
    status = STATUS_BY_MODE.get(mode)
    if status is None:
        yield SkipRecord("comment", key, f"mode {mode!r} is none of Isso's (1, 2, 4)", where)
        return
    created_at = _time(created)
    if created_at is None:
        yield SkipRecord("comment", key, f"created {created!r} is not a Unix time", where)
        return
    email = text(email)
    yield CommentRecord(
        key=key,
        thread_key=str(tid),
        created_at=created_at,
        body=text(body),
        body_format="markdown",
        status=status,
        parent_key="" if parent is None else str(parent),
        author_name=text(author),
        author_email=email,
        author_url=text(website),
        ip=text(addr),
        edited_at=_time(modified),
        upvotes=_tally(likes),
        downvotes=_tally(dislikes),
        where=where,
    )
    if notification and email:
        # Isso mails a commenter who ticked "subscribe to replies" the replies to that one
        # comment, which is Parley's "comment" kind. Isso never checked that the address was
        # the commenter's, and Parley sends nothing to a guest's address that was not
        # confirmed (double opt-in): the subscription comes over unconfirmed, so it sends
        # nothing until the reader asks again and confirms the e-mailed link.
        yield SubscriptionRecord(
            key=f"comment:{key}",
            thread_key=str(tid),
            email=email,
            kind="comment",
            comment_key=key,
            created_at=created_at,
            where=where,
        )


def _time(value: Any) -> datetime | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _tally(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0
