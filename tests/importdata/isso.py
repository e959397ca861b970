"""Isso databases written from Isso's published schema (version 5): threads(id, uri, title),
comments(tid, id, parent, created, modified, mode, remote_addr, text, author, email, website,
likes, dislikes, voters, notification) and preferences(key, value). Times are Unix seconds as
REAL, `mode` 1 accepted, 2 in moderation, 4 deleted (a placeholder kept for its replies),
`remote_addr` anonymised by Isso, `voters` a 256-byte Bloom filter of voters' addresses.

`write_awkward` writes a small database with every case a real one throws at an importer;
`write_many` a plain big one. Both return what they wrote.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
PRAGMA user_version = 5;
CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE comments (
    tid REFERENCES threads(id),
    id INTEGER PRIMARY KEY,
    parent INTEGER,
    created FLOAT NOT NULL,
    modified FLOAT,
    mode INTEGER,
    remote_addr VARCHAR,
    text VARCHAR NOT NULL,
    author VARCHAR,
    email VARCHAR,
    website VARCHAR,
    likes INTEGER DEFAULT 0,
    dislikes INTEGER DEFAULT 0,
    voters BLOB NOT NULL,
    notification INTEGER DEFAULT 0
);
INSERT INTO preferences VALUES ('session-key', '8f2c3c1bd0e54e3f9a7d5b1e2f4a6c8d0e1f2a3b4c5d6e7f');
"""
VOTERS = bytes(256)
INSERT = (
    "INSERT INTO comments (tid, id, parent, created, modified, mode, remote_addr, text, author,"
    " email, website, likes, dislikes, voters, notification)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# 2026-11-02 08:15:30.250000 UTC: Isso keeps fractions of a second.
T0 = 1793607330.25
MARKDOWN_WITH_HTML = (
    "**Bold** and a [link](https://example.org).\n\n<script>alert(1)</script>"
    '<b onclick="x()">raw tag</b> &amp; an entity'
)
EMOJI = "Great reporting 🎉👏🏽 — thanks!"
ARABIC = "شكراً على هذا المقال، إنه مفيد جداً."


@dataclass
class Written:
    """What the reader should make of the database."""

    threads: int = 0
    comments: int = 0  # CommentRecords
    statuses: dict[str, int] = field(default_factory=dict)
    subscriptions: int = 0
    skipped: int = 0  # comments the reader must report as unusable
    repaired: int = 0  # texts with bytes that are not UTF-8
    bodies: dict[str, str] = field(default_factory=dict)  # comment id → expected body


@contextmanager
def _database(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path)
    try:
        connection.executescript(SCHEMA)
        yield connection
        connection.commit()
    finally:
        connection.close()


def write_awkward(path: Path) -> Written:
    written = Written()
    with _database(path) as db:
        db.executemany(
            "INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)",
            [
                (1, "/2026/11/river-crossing/", "The river crossing"),
                (2, "/ar/opinion/", None),  # Isso takes a title from the page, or none
                (3, "", "A page Isso saw with no address"),
            ],
        )
        # fmt: off
        rows: list[tuple[object, ...]] = [
            # tid, id, parent, created, modified, mode, addr, text, author, email, website,
            # likes, dislikes, notification
            (1, 1, None, T0, None, 1, "192.168.1.0", MARKDOWN_WITH_HTML, "Ann", "ann@example.org",
             "https://ann.example", 5, 1, 1),
            (1, 2, 1, T0 + 60, T0 + 120.5, 1, "10.0.0.0", "Edited once.", "Bob", "", None,
             0, 0, 1),  # asked for replies but gave no address: nothing to subscribe
            # Deleted by its author after it was answered: Isso blanks it and keeps the row.
            (1, 3, None, T0 + 180, T0 + 240, 4, "10.0.0.0", "", None, "gone@example.org",
             None, 0, 0, 0),
            (1, 4, 3, T0 + 200, None, 1, "10.0.1.0", "Reply to a deleted comment", "Cy", None,
             None, 2, 0, 0),
            # The parent has a larger id than its reply (rows copied between databases).
            (1, 5, 9, T0 + 300, None, 1, "10.0.2.0", EMOJI, "Dee", "dee@example.org", None,
             0, 3, 1),
            (1, 6, 404, T0 + 320, None, 1, "10.0.3.0", "My parent is gone", "Eve", None, None,
             0, 0, 0),
            (1, 7, None, T0 + 400, None, 2, "10.0.4.0", "Waiting for a moderator", "Fay",
             "fay@example.org", None, 0, 0, 0),
            (2, 8, None, T0 + 500, None, 1, "10.0.5.0", ARABIC, "سارة", None, None, 1, 0, 0),
            (1, 9, None, T0 + 60.000001, None, 1, "10.0.6.0", "An early parent", "Gus", None,
             None, 0, 0, 0),
            (3, 10, None, T0 + 600, None, 1, "10.0.7.0", "On the page with no address",
             "Hal", None, None, 0, 0, 0),
            (1, 11, None, T0 + 700, None, 8, "10.0.8.0", "A mode Isso never writes", "Ivy",
             None, None, 0, 0, 0),
        ]
        # fmt: on
        db.executemany(INSERT, [(*row[:13], VOTERS, row[13]) for row in rows])
        # SQLite keeps whatever bytes it is given in a text column.
        db.execute(
            "INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author,"
            " voters) VALUES (1, 12, NULL, ?, 1, '10.0.9.0', CAST(? AS TEXT), 'Jo', ?)",
            (T0 + 800, b"caf\xe9 in Latin-1", VOTERS),
        )
    written.threads = 3
    written.comments = 11  # twelve rows, one with an unknown mode
    written.statuses = {"published": 9, "deleted": 1, "pending": 1}
    written.subscriptions = 2  # Ann and Dee
    written.skipped = 1
    written.repaired = 1
    written.bodies = {
        "1": MARKDOWN_WITH_HTML,
        "3": "",
        "5": EMOJI,
        "8": ARABIC,
        "12": "caf\ufffd in Latin-1",
    }
    return written


def write_many(path: Path, comments: int, per_thread: int = 50) -> Written:
    """`comments` comments, every third one a reply, in threads of `per_thread`."""
    threads = -(-comments // per_thread)
    with _database(path) as db:
        db.executemany(
            "INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)",
            ((n, f"/story/{n}/", f"Story {n}") for n in range(1, threads + 1)),
        )
        db.executemany(
            INSERT,
            (
                (
                    (n - 1) // per_thread + 1,
                    n,
                    n - 1 if n % 3 == 0 else None,
                    T0 + n,
                    None,
                    1,
                    "10.0.0.0",
                    f"Comment {n}: " + "words " * 40,
                    f"Reader {n % 97}",
                    f"reader{n % 97}@example.org",
                    None,
                    n % 4,
                    0,
                    VOTERS,
                    0,
                )
                for n in range(1, comments + 1)
            ),
        )
    return Written(threads=threads, comments=comments, statuses={"published": comments})
