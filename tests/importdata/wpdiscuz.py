"""WordPress + wpDiscuz databases in the MariaDB at 127.0.0.1:3306 (root, no password), with
the tables written from the published layouts: WordPress 6's wp-admin/includes/schema.php
(wp_posts, wp_users, wp_comments, wp_commentmeta) and wpDiscuz 7.6's
WpdiscuzDBManager::dbCreateTables (wp_wc_users_voted, wp_wc_phrases,
wp_wc_comments_subscription, wp_wc_follow_users, wp_wc_feedback_forms, wp_wc_users_rated).

`write_awkward` fills a database with every case a real site throws at an importer,
`write_many` with a plain big one; both return what they wrote. `dump` runs the real
mysqldump over a database, and the helpers after it make the damaged dumps people send:
cut short, with bytes that are not UTF-8, or in MySQL's one-line form.
"""

import hashlib
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymysql
import pytest

SCHEMA = """
CREATE TABLE `{p}users` (
  ID bigint(20) unsigned NOT NULL auto_increment,
  user_login varchar(60) NOT NULL default '',
  user_pass varchar(255) NOT NULL default '',
  user_nicename varchar(50) NOT NULL default '',
  user_email varchar(100) NOT NULL default '',
  user_url varchar(100) NOT NULL default '',
  user_registered datetime NOT NULL default '0000-00-00 00:00:00',
  user_activation_key varchar(255) NOT NULL default '',
  user_status int(11) NOT NULL default '0',
  display_name varchar(250) NOT NULL default '',
  PRIMARY KEY (ID),
  KEY user_login_key (user_login),
  KEY user_nicename (user_nicename),
  KEY user_email (user_email)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE `{p}posts` (
  ID bigint(20) unsigned NOT NULL auto_increment,
  post_author bigint(20) unsigned NOT NULL default '0',
  post_date datetime NOT NULL default '0000-00-00 00:00:00',
  post_date_gmt datetime NOT NULL default '0000-00-00 00:00:00',
  post_content longtext NOT NULL,
  post_title text NOT NULL,
  post_excerpt text NOT NULL,
  post_status varchar(20) NOT NULL default 'publish',
  comment_status varchar(20) NOT NULL default 'open',
  ping_status varchar(20) NOT NULL default 'open',
  post_password varchar(255) NOT NULL default '',
  post_name varchar(200) NOT NULL default '',
  to_ping text NOT NULL,
  pinged text NOT NULL,
  post_modified datetime NOT NULL default '0000-00-00 00:00:00',
  post_modified_gmt datetime NOT NULL default '0000-00-00 00:00:00',
  post_content_filtered longtext NOT NULL,
  post_parent bigint(20) unsigned NOT NULL default '0',
  guid varchar(255) NOT NULL default '',
  menu_order int(11) NOT NULL default '0',
  post_type varchar(20) NOT NULL default 'post',
  post_mime_type varchar(100) NOT NULL default '',
  comment_count bigint(20) NOT NULL default '0',
  PRIMARY KEY (ID),
  KEY post_name (post_name(191)),
  KEY type_status_date (post_type,post_status,post_date,ID),
  KEY post_parent (post_parent),
  KEY post_author (post_author)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE `{p}comments` (
  comment_ID bigint(20) unsigned NOT NULL auto_increment,
  comment_post_ID bigint(20) unsigned NOT NULL default '0',
  comment_author tinytext NOT NULL,
  comment_author_email varchar(100) NOT NULL default '',
  comment_author_url varchar(200) NOT NULL default '',
  comment_author_IP varchar(100) NOT NULL default '',
  comment_date datetime NOT NULL default '0000-00-00 00:00:00',
  comment_date_gmt datetime NOT NULL default '0000-00-00 00:00:00',
  comment_content text NOT NULL,
  comment_karma int(11) NOT NULL default '0',
  comment_approved varchar(20) NOT NULL default '1',
  comment_agent varchar(255) NOT NULL default '',
  comment_type varchar(20) NOT NULL default 'comment',
  comment_parent bigint(20) unsigned NOT NULL default '0',
  user_id bigint(20) unsigned NOT NULL default '0',
  PRIMARY KEY (comment_ID),
  KEY comment_post_ID (comment_post_ID),
  KEY comment_approved_date_gmt (comment_approved,comment_date_gmt),
  KEY comment_date_gmt (comment_date_gmt),
  KEY comment_parent (comment_parent),
  KEY comment_author_email (comment_author_email(10))
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE `{p}commentmeta` (
  meta_id bigint(20) unsigned NOT NULL auto_increment,
  comment_id bigint(20) unsigned NOT NULL default '0',
  meta_key varchar(255) default NULL,
  meta_value longtext,
  PRIMARY KEY (meta_id),
  KEY comment_id (comment_id),
  KEY meta_key (meta_key(191))
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE `{p}wc_users_voted` (
  `id` INT(11) NOT NULL AUTO_INCREMENT, `user_id` VARCHAR(32) NOT NULL,
  `comment_id` INT(11) NOT NULL, `vote_type` INT(11) DEFAULT NULL,
  `is_guest` TINYINT(1) DEFAULT 0, `post_id` BIGINT(20) UNSIGNED NOT NULL DEFAULT 0,
  `date` INT(11) UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`), KEY `user_id` (`user_id`), KEY `comment_id` (`comment_id`),
  KEY `vote_type` (`vote_type`), KEY `is_guest` (`is_guest`), KEY `post_id` (`post_id`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE `{p}wc_phrases` (
  `id` INT(11) NOT NULL AUTO_INCREMENT, `phrase_key` VARCHAR(100) NOT NULL,
  `phrase_value` TEXT NOT NULL,
  PRIMARY KEY (`id`), KEY `phrase_key` (`phrase_key`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE `{p}wc_comments_subscription` (
  `id` INT(11) NOT NULL AUTO_INCREMENT, `email` VARCHAR(100) NOT NULL,
  `subscribtion_id` INT(11) NOT NULL, `post_id` INT(11) NOT NULL,
  `subscribtion_type` VARCHAR(20) NOT NULL, `activation_key` VARCHAR(32) NOT NULL,
  `confirm` TINYINT DEFAULT 0, `subscription_date` TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
  `imported_from` VARCHAR(25) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`), KEY `subscribtion_id` (`subscribtion_id`), KEY `post_id` (`post_id`),
  KEY `confirm`(`confirm`),
  UNIQUE KEY `subscribe_unique_index` (`subscribtion_id`,`email`,`post_id`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE `{p}wc_follow_users` (
  `id` int(11) NOT NULL AUTO_INCREMENT, `post_id` int(11) NOT NULL DEFAULT '0',
  `user_id` int(11) NOT NULL DEFAULT '0', `user_email` varchar(100) NOT NULL,
  `user_name` varchar(255) NOT NULL, `follower_id` int(11) NOT NULL DEFAULT '0',
  `follower_email` varchar(100) NOT NULL, `follower_name` varchar(255) NOT NULL,
  `activation_key` varchar(32) NOT NULL, `confirm` tinyint(1) NOT NULL DEFAULT '0',
  `follow_timestamp` int(11) NOT NULL,
  `follow_date` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`), KEY `post_id` (`post_id`), KEY `user_id` (`user_id`),
  KEY `user_email` (`user_email`), KEY `follower_id` (`follower_id`),
  KEY `follower_email` (`follower_email`), KEY `confirm` (`confirm`),
  KEY `follow_timestamp` (`follow_timestamp`),
  UNIQUE KEY `follow_unique_key` (`user_email`, `follower_email`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE `{p}wc_feedback_forms` (
  `id` int(11) NOT NULL AUTO_INCREMENT, `post_id` int(11) NOT NULL DEFAULT 0,
  `unique_id` VARCHAR(15) NOT NULL, `question` varchar(255) NOT NULL,
  `opened` TINYINT(4) UNSIGNED NOT NULL DEFAULT 0, `content` LONGTEXT NOT NULL,
  PRIMARY KEY (`id`), UNIQUE KEY `unique_id` (`unique_id`), KEY `post_id` (`post_id`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
CREATE TABLE `{p}wc_users_rated` (
  `id` int(11) NOT NULL AUTO_INCREMENT, `post_id` int(11) NOT NULL DEFAULT 0,
  `user_id` int(11) NOT NULL DEFAULT 0, `user_ip` VARCHAR(32) NOT NULL DEFAULT '',
  `rating` int(11) NOT NULL, `date` INT(11) UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`), KEY `post_id` (`post_id`), KEY `user_id` (`user_id`)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci;
"""
WPDISCUZ_TABLES = ("wc_users_voted", "wc_phrases", "wc_comments_subscription", "wc_follow_users",
                   "wc_feedback_forms", "wc_users_rated")  # fmt: skip
HOST, PORT, USER = "127.0.0.1", 3306, "root"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
INVALID_UTF8_MARKER = "INVALID-UTF8-GOES-HERE"
INVALID_UTF8 = b"\xff\xfe caf\xe9 \xc3("  # three bad sequences: ff, fe, e9; and c3 cut short
HTML_BODY = (
    '<p>Hello <strong>world</strong> &amp; <a href="https://example.org/a?b=1&amp;c=2">a link'
    "</a></p><script>alert(1)</script><img src=x onerror=alert(2)>"
)
ENTITIES_BODY = "Caf&eacute; &amp; &#8220;quotes&#8221; &lt;not a tag&gt; &#x1F600;"
EMOJI_BODY = "Great reporting 🎉👏🏽 — thanks! 👨‍👩‍👧"
ARABIC_BODY = "شكراً على هذا المقال، إنه مفيد جداً.\nسطر ثانٍ"
MULTILINE_BODY = "First line\nsecond line\n\nA new paragraph with a tab\tand a backslash \\ here."
FORM_CONTENTS = {
    1: "<p>The rate rises to <strong>3&nbsp;%</strong> &amp; stays there.</p>",
    2: "Everyone pays the same.",
}
PASSAGES = {1: "The rate rises to 3 % & stays there.", 2: "Everyone pays the same."}


@dataclass
class Written:
    """What the reader should make of the database."""

    threads: set[str] = field(default_factory=set)
    comments: int = 0  # CommentRecords
    skipped_comments: dict[str, str] = field(default_factory=dict)  # key → a word of the reason
    statuses: dict[str, int] = field(default_factory=dict)
    votes: int = 0
    skipped_votes: int = 0
    subscriptions: dict[str, int] = field(default_factory=dict)  # kind → count
    confirmed: int = 0
    skipped_subscriptions: int = 0
    quotes: dict[str, str] = field(default_factory=dict)  # comment key → passage
    kept: dict[str, int] = field(default_factory=dict)  # table → rows
    bodies: dict[str, str] = field(default_factory=dict)  # comment key → body as stored


def connect(database: str | None = None) -> "pymysql.Connection[Any]":
    return pymysql.connect(
        host=HOST, port=PORT, user=USER, database=database, charset="utf8mb4", autocommit=True
    )


@contextmanager
def new_database() -> Iterator[str]:
    """A database of its own for one test, dropped after."""
    name = f"parley_wpdiscuz_{uuid.uuid4().hex[:12]}"
    with connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield name
    finally:
        with connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(name="wordpress")
def wordpress_database() -> Iterator[str]:
    """The name of an empty database for the test, for WordPress's tables; MariaDB not
    answering fails the test (never skips it)."""
    try:
        connect().close()
    except pymysql.err.OperationalError as error:
        pytest.fail(f"MariaDB does not answer at {HOST}:{PORT} ({error}); ./scripts/test starts it")
    with new_database() as name:
        yield name


def url(database: str) -> str:
    return f"mysql://{USER}@{HOST}:{PORT}/{database}"


def create_tables(database: str, prefix: str = "wp_") -> None:
    with connect(database) as connection, connection.cursor() as cursor:
        for statement in SCHEMA.format(p=prefix).split(";"):
            if statement.strip():
                cursor.execute(statement)


def _mysql(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _insert(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    listed = ", ".join(f"`{c}`" for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    cursor.executemany(
        f"INSERT INTO `{table}` ({listed}) VALUES ({marks})",  # noqa: S608
        [tuple(row[c] for c in columns) for row in rows],
    )


def _post(post_id: int, title: str, **fields: Any) -> dict[str, Any]:
    date = fields.pop("date", T0 - timedelta(days=1))
    return {
        "ID": post_id,
        "post_author": 1,
        "post_date": _mysql(date + timedelta(hours=1)),
        "post_date_gmt": _mysql(date),
        "post_content": fields.pop("content", f"<p>{title}</p>"),
        "post_title": title,
        "post_excerpt": "",
        "post_status": fields.pop("status", "publish"),
        "comment_status": fields.pop("comment_status", "open"),
        "post_name": f"post-{post_id}",
        "to_ping": "",
        "pinged": "",
        "post_modified": _mysql(fields.get("modified", date) + timedelta(hours=1)),
        "post_modified_gmt": _mysql(fields.pop("modified", date)),
        "post_content_filtered": "",
        "post_parent": fields.pop("parent", 0),
        "guid": f"https://news.example/?p={post_id}",
        "post_type": fields.pop("type", "post"),
    }


def _comment(
    comment_id: int, post_id: int, author: str, body: str, **fields: Any
) -> dict[str, Any]:
    date = fields.pop("date", T0 + timedelta(minutes=comment_id))
    gmt = fields.pop("gmt", _mysql(date))
    return {
        "comment_ID": comment_id,
        "comment_post_ID": post_id,
        "comment_author": author,
        "comment_author_email": fields.pop("email", f"{author.split()[0].lower()}@example.org"),
        "comment_author_url": fields.pop("url", ""),
        "comment_author_IP": fields.pop("ip", "203.0.113.7"),
        "comment_date": _mysql(date + timedelta(hours=1)),
        "comment_date_gmt": gmt,
        "comment_content": body,
        "comment_approved": fields.pop("approved", "1"),
        "comment_agent": "Mozilla/5.0",
        "comment_type": fields.pop("type", "comment"),
        "comment_parent": fields.pop("parent", 0),
        "user_id": fields.pop("user_id", 0),
    }


def guest(address: str) -> str:
    # wpDiscuz keys a guest's vote by a hash of the address.
    return hashlib.md5(address.encode()).hexdigest()  # noqa: S324


def write_awkward(database: str, prefix: str = "wp_") -> Written:
    create_tables(database, prefix)
    written = Written()
    p = prefix
    posts = [
        _post(10, "Council passes the budget"),
        _post(11, "الميزانية الجديدة", comment_status="closed", modified=T0 + timedelta(days=5)),
        _post(12, "Roadworks &amp; detours on Main Street"),  # a subscription, no comments
        _post(13, "About us", type="page"),  # nothing refers to it: no thread
        _post(14, "Council passes the budget", type="revision", status="inherit", parent=10),
        _post(15, "The new tax, explained", content='[wpdiscuz-feedback id="a1b2c3d4e5"]…'),
    ]
    written.threads = {"10", "11", "12", "15"}
    comments = [
        _comment(100, 10, "Alice", HTML_BODY, url="https://alice.example", ip="203.0.113.5"),
        _comment(101, 10, "Bob", MULTILINE_BODY, parent=104),  # its parent comes later
        _comment(102, 10, "Carol", "My parent was never exported.", parent=999),
        _comment(103, 10, "Rita Reader", EMOJI_BODY, user_id=2, email="rita@example.org"),
        _comment(104, 10, "O&#039;Brien &amp; Sons", ENTITIES_BODY, email="dan@example.org"),
        _comment(105, 10, "Eve", "Third level down.", parent=101),
        # Account 7 was deleted in WordPress; the comment keeps the name it was posted with.
        _comment(106, 10, "Former Member", "I was a member.", user_id=7),
        _comment(107, 10, "Pending Pete", "Waiting for a moderator.", approved="0"),
        _comment(108, 10, "Spammer", "Buy cheap pills", approved="spam"),
        _comment(109, 10, "Trashed Tom", "Binned by a moderator.", approved="trash"),
        _comment(110, 11, "Tina", "The post was binned.", approved="post-trashed"),
        _comment(111, 10, "Other Blog", "[…] a link […]", type="pingback",
                 url="https://blog.example/post"),
        _comment(112, 10, "Old Blog", "Trackback excerpt", type="trackback"),
        _comment(113, 11, "سارة", ARABIC_BODY, email="sara@example.org"),
        # Imported into WordPress without a GMT time: the local time is all there is.
        _comment(114, 10, "No GMT", "Only a local time.", gmt="0000-00-00 00:00:00"),
        _comment(115, 15, "Inline Ivy", "Too high.", type=""),  # WordPress < 5.5 wrote ""
        _comment(116, 15, "Inline Ian", "Not at all.", parent=115),
        _comment(117, 15, "Inline Ina", "Agreed."),
        _comment(118, 15, "Inline Ike", "The form I answered was removed."),
        _comment(119, 10, "Bytes", f"Bad bytes here: {INVALID_UTF8_MARKER}"),
        _comment(120, 10, "Plugin", "A state only a plugin knows.", approved="approved-ish"),
        _comment(121, 10, "WooCommerce", "Order status changed.", type="order_note"),
    ]  # fmt: skip
    written.skipped_comments = {"111": "pingback", "112": "trackback", "120": "approved-ish",
                                "121": "order_note"}  # fmt: skip
    written.comments = len(comments) - len(written.skipped_comments)
    written.statuses = {"published": 14, "pending": 1, "spam": 1, "deleted": 2}
    written.bodies = {str(c["comment_ID"]): c["comment_content"] for c in comments}
    written.quotes = {"115": PASSAGES[1], "116": PASSAGES[1], "117": PASSAGES[2]}
    form = "wpdiscuz_feedback_form_id"
    meta = [  # not in comment order, as WordPress adds meta whenever
        (1, 103, "wpdiscuz_votes", "2"),
        (2, 103, "wpdiscuz_votes_seperate", 'a:2:{s:4:"like";i:2;s:7:"dislike";i:0;}'),
        (3, 100, "akismet_result", "false"),
        (4, 115, form, "1"),
        (5, 5000, "left_behind", "a deleted comment's"),
        (6, 116, form, "1"),
        (7, 100, "custom_field", "one"),
        (8, 117, form, "2"),
        (9, 118, form, "99"),
        (10, 100, "custom_field", "two"),
        (11, 50, "left_behind", "older than any comment"),
        (12, 111, "pingback_meta", "kept with the skipped pingback"),
    ]
    votes = [
        (1, "2", 103, 1, 0, 10, T0),
        (2, guest("203.0.113.9"), 103, 1, 1, 10, T0 + timedelta(hours=1)),
        (3, "1", 100, -1, 0, 10, T0),
        (4, guest("198.51.100.7"), 100, -1, 1, 10, T0),
        (5, "2", 104, 1, 0, 10, T0),
        (6, "1", 104, 3, 0, 10, T0),  # neither up nor down
        (7, "2", 115, 1, 0, 15, None),  # from before wpDiscuz kept the date
    ]
    written.votes, written.skipped_votes = 6, 1
    subscriptions = [
        (1, "alice@example.org", 10, 10, "post", 1),
        (2, "bob@example.org", 10, 10, "all_comment", 0),
        (3, "rita@example.org", 103, 10, "comment", 1),
        (4, "carol@example.org", 12, 12, "post", 0),
        (5, "dan@example.org", 104, 10, "comment", 0),
        (6, "eve@example.org", 10, 10, "weekly", 1),  # no such type
    ]
    written.subscriptions = {"thread": 2, "replies": 1, "comment": 2}
    written.confirmed, written.skipped_subscriptions = 2, 1
    written.kept = {"wc_feedback_forms": 2, "wc_follow_users": 1, "wc_users_rated": 2,
                    "wc_phrases": 3}  # fmt: skip
    with connect(database) as connection, connection.cursor() as cursor:
        _insert(cursor, f"{p}users", [
            {"ID": 1, "user_login": "editor", "user_email": "ed@news.example",
             "display_name": "Ed Itor", "user_registered": _mysql(T0)},
            {"ID": 2, "user_login": "rita", "user_email": "rita@example.org",
             "display_name": "Rita Reader", "user_registered": _mysql(T0)},
        ])  # fmt: skip
        _insert(cursor, f"{p}posts", posts)
        _insert(cursor, f"{p}comments", comments)
        _insert(cursor, f"{p}commentmeta", [
            {"meta_id": i, "comment_id": c, "meta_key": k, "meta_value": v} for i, c, k, v in meta
        ])  # fmt: skip
        _insert(cursor, f"{p}wc_users_voted", [
            {"id": i, "user_id": u, "comment_id": c, "vote_type": t, "is_guest": g,
             "post_id": post, "date": int(d.timestamp()) if d else 0}
            for i, u, c, t, g, post, d in votes
        ])  # fmt: skip
        _insert(cursor, f"{p}wc_comments_subscription", [
            {"id": i, "email": e, "subscribtion_id": s, "post_id": post, "subscribtion_type": t,
             "activation_key": hashlib.md5(e.encode()).hexdigest(),  # noqa: S324
             "confirm": c, "subscription_date": _mysql(T0 + timedelta(days=i))}
            for i, e, s, post, t, c in subscriptions
        ])  # fmt: skip
        _insert(cursor, f"{p}wc_feedback_forms", [
            {"id": 1, "post_id": 15, "unique_id": "a1b2c3d4e5", "question": "Is this fair?",
             "opened": 0, "content": FORM_CONTENTS[1]},
            {"id": 2, "post_id": 15, "unique_id": "f6g7h8i9j0", "question": "Agree?",
             "opened": 1, "content": FORM_CONTENTS[2]},
        ])  # fmt: skip
        _insert(cursor, f"{p}wc_follow_users", [
            {"id": 1, "post_id": 10, "user_id": 2, "user_email": "rita@example.org",
             "user_name": "Rita Reader", "follower_id": 1, "follower_email": "ed@news.example",
             "follower_name": "Ed Itor", "activation_key": "k" * 32, "confirm": 1,
             "follow_timestamp": int(T0.timestamp()), "follow_date": _mysql(T0)},
        ])  # fmt: skip
        _insert(cursor, f"{p}wc_users_rated", [
            {"id": 1, "post_id": 10, "user_id": 2, "user_ip": "", "rating": 4,
             "date": int(T0.timestamp())},
            {"id": 2, "post_id": 10, "user_id": 0, "user_ip": "203.0.113.5", "rating": 5,
             "date": int(T0.timestamp())},
        ])  # fmt: skip
        _insert(cursor, f"{p}wc_phrases", [
            {"id": 1, "phrase_key": "wc_reply_text", "phrase_value": "Antworten"},
            {"id": 2, "phrase_key": "wc_be_the_first_text", "phrase_value": "Sei der Erste!"},
            {"id": 3, "phrase_key": "wc_notify_of", "phrase_value": "Benachrichtige mich bei"},
        ])  # fmt: skip
    return written


def write_many(database: str, comments: int, posts: int = 20) -> Written:
    """A plain site: `comments` comments over `posts` posts, a third of them replies, each
    with a meta row, every other one with a vote."""
    create_tables(database)
    written = Written(threads={str(100 + n) for n in range(posts)}, comments=comments)
    body = "A comment of ordinary length, with <em>some</em> HTML and an émoji 🎉. " * 4
    with connect(database) as connection, connection.cursor() as cursor:
        _insert(cursor, "wp_posts", [_post(100 + n, f"Story {n}") for n in range(posts)])
        for start in range(1, comments + 1, 1000):
            ids = range(start, min(start + 1000, comments + 1))
            _insert(cursor, "wp_comments", [
                _comment(i, 100 + i % posts, f"Reader {i % 97}", body,
                         parent=i - posts if i % 3 == 0 and i > posts else 0)
                for i in ids
            ])  # fmt: skip
            _insert(cursor, "wp_commentmeta", [
                {"meta_id": i, "comment_id": i, "meta_key": "akismet_result", "meta_value": "false"}
                for i in ids
            ])  # fmt: skip
            _insert(cursor, "wp_wc_users_voted", [
                {"id": i, "user_id": str(i % 50), "comment_id": i, "vote_type": 1, "is_guest": 0,
                 "post_id": 100 + i % posts, "date": int(T0.timestamp())}
                for i in ids if i % 2 == 0
            ])  # fmt: skip
    written.votes = comments // 2
    return written


def dump(database: str, path: Path, *options: str) -> Path:
    """The database as the real mysqldump writes it (MariaDB's, on this machine)."""
    with path.open("wb") as out:
        subprocess.run(
            ["/usr/bin/mysqldump", f"-u{USER}", f"-h{HOST}", f"-P{PORT}",
             "--default-character-set=utf8mb4", *options, database],
            stdout=out, check=True,
        )  # fmt: skip
    return path


def with_invalid_utf8(source: Path, path: Path) -> Path:
    """The dump with bytes that are not UTF-8 in one comment, as an editor or a transfer in
    the wrong mode leaves them."""
    data = source.read_bytes()
    assert INVALID_UTF8_MARKER.encode() in data
    path.write_bytes(data.replace(INVALID_UTF8_MARKER.encode(), INVALID_UTF8))
    return path


def truncated(source: Path, path: Path, inside: bytes) -> Path:
    """The dump cut off 100 bytes after `inside`, as an interrupted upload leaves it."""
    data = source.read_bytes()
    path.write_bytes(data[: data.index(inside) + len(inside) + 100])
    return path


def cut_before_end(source: Path, path: Path) -> Path:
    """The dump cut off between two statements, before mysqldump's closing line."""
    data = source.read_bytes()
    path.write_bytes(data[: data.index(b"UNLOCK TABLES;") + len(b"UNLOCK TABLES;\n")])
    return path


def on_one_line(source: Path, path: Path) -> Path:
    """The dump in MySQL's form: each INSERT's rows on one long line."""
    data = source.read_bytes().replace(b"VALUES\n(", b"VALUES (").replace(b"),\n(", b"),(")
    path.write_bytes(data)
    return path
