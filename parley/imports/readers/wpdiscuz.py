"""WordPress comments with wpDiscuz's votes, subscriptions and inline feedback, read from the
site's MySQL/MariaDB database (`mysql://user:password@host:3306/dbname`, or `mariadb://…`)
or from a mysqldump of it (`.sql`, `.sql.gz`).

Layouts: WordPress 6's (wp-admin/includes/schema.php) and wpDiscuz 7.6's
(WpdiscuzDBManager::dbCreateTables in includes/class.WpdiscuzDBManager.php, 7.6.37). Only
the columns read below must be there, so other versions with more columns read as well.

- wp_posts → a thread for each post a comment, subscription or feedback form refers to;
  its address is the guid (`https://site/?p=123`; --map-url rules map it to permalinks),
  closed since it was last modified when comment_status is "closed".
- wp_comments → comments, their HTML as stored; pingbacks and trackbacks are skipped.
  user_id is the author's id even when the account is gone (the name stays as written).
- wp_commentmeta → CommentRecord.extra["meta"] (key → values); wpDiscuz's
  `wpdiscuz_feedback_form_id` makes the passage of that wp_wc_feedback_forms row the
  comment's quote. Its vote tallies (`wpdiscuz_votes`, `wpdiscuz_votes_seperate`) stay meta:
  the votes themselves come from wp_wc_users_voted.
- wp_wc_users_voted → votes; wp_wc_comments_subscription → subscriptions ("post" is the
  thread kind, "all_comment" replies to the subscriber's comments, "comment" one comment).
- wp_wc_feedback_forms, wp_wc_follow_users, wp_wc_users_rated, wp_wc_phrases → kept as
  they are; each phrase also says which of Parley's widget strings it corresponds to.

The database is read with server-side cursors and the meta merged in comment order, so
memory stays flat. A dump lists its tables in any order (mysqldump's is alphabetical:
meta before comments, feedback forms after them), so it is first copied, row by row, into a
scratch SQLite file, then read with the same queries as a live database.
"""

import gzip
import html
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol
from urllib.parse import unquote, urlsplit

import pymysql
import pymysql.converters
import pymysql.cursors
from django.utils.html import strip_tags

from parley.embed.strings import WIDGET_STRINGS
from parley.imports.mysqldump import CreateTable, DumpParser, Row
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

METER_EVERY = 1000
SCHEMES = ("mysql", "mariadb")


@dataclass(frozen=True)
class Table:
    name: str  # without the site's table prefix
    owner: str  # whose layout it is, for messages
    columns: tuple[str, ...]  # those read, so those required
    # Integer ids the rows are read in order of, and joined on.
    ids: tuple[str, ...]
    keep_all: bool = False  # kept as it is: every column comes along
    absent: str = ""  # what is missing when the table is


POSTS = Table(
    "posts",
    "WordPress",
    ("ID", "post_title", "guid", "post_date_gmt", "post_modified_gmt", "comment_status"),
    ("ID",),
)
COMMENTS = Table(
    "comments",
    "WordPress",
    ("comment_ID", "comment_post_ID", "comment_author", "comment_author_email",
     "comment_author_url", "comment_author_IP", "comment_date", "comment_date_gmt",
     "comment_content", "comment_approved", "comment_type", "comment_parent", "user_id"),
    ("comment_ID", "comment_post_ID"),
)  # fmt: skip
COMMENTMETA = Table(
    "commentmeta",
    "WordPress",
    ("meta_id", "comment_id", "meta_key", "meta_value"),
    ("meta_id", "comment_id"),
    absent="comments come without their meta (and inline comments without their passage)",
)
FEEDBACK_FORMS = Table(
    "wc_feedback_forms",
    "wpDiscuz",
    ("id", "post_id", "unique_id", "question", "opened", "content"),
    ("id", "post_id"),
    keep_all=True,
    absent="no inline feedback forms, so no quoted passages",
)
USERS_VOTED = Table(
    "wc_users_voted",
    "wpDiscuz",
    ("id", "user_id", "comment_id", "vote_type", "is_guest", "date"),
    ("id",),
    absent="no votes",
)
SUBSCRIPTIONS = Table(
    "wc_comments_subscription",
    "wpDiscuz",
    ("id", "email", "subscribtion_id", "post_id", "subscribtion_type", "confirm",
     "subscription_date"),
    ("id", "post_id"),
    absent="no subscriptions",
)  # fmt: skip
FOLLOWS = Table(
    "wc_follow_users",
    "wpDiscuz",
    ("id", "user_id", "user_email", "follower_id", "follower_email", "confirm"),
    ("id",),
    keep_all=True,
    absent="no follows",
)
RATINGS = Table(
    "wc_users_rated",
    "wpDiscuz",
    ("id", "post_id", "user_id", "rating"),
    ("id",),
    keep_all=True,
    absent="no article ratings",
)
PHRASES = Table(
    "wc_phrases",
    "wpDiscuz",
    ("id", "phrase_key", "phrase_value"),
    ("id",),
    keep_all=True,
    absent="no customised wording",
)
TABLES = (POSTS, COMMENTS, COMMENTMETA, FEEDBACK_FORMS, USERS_VOTED, SUBSCRIPTIONS, FOLLOWS,
          RATINGS, PHRASES)  # fmt: skip

STATUSES = {"1": "published", "0": "pending", "spam": "spam", "trash": "deleted",
            "post-trashed": "deleted"}  # fmt: skip
# WordPress 5.5 and later write "comment"; WooCommerce's product reviews are readers' too.
COMMENT_TYPES = {"", "comment", "review"}
LINKBACKS = {"pingback", "trackback", "webmention"}
SUBSCRIPTION_KINDS: dict[str, Literal["thread", "replies", "comment"]] = {
    "post": "thread",
    "all_comment": "replies",
    "comment": "comment",
}
FEEDBACK_FORM_META = "wpdiscuz_feedback_form_id"
# A thread closed at a time WordPress did not record still reads as closed.
CLOSED_SINCE_UNKNOWN = datetime(1970, 1, 1, tzinfo=UTC)
KEPT_BECAUSE = {
    FEEDBACK_FORMS: "the inline feedback form's question; its passage is quoted by the "
    "comments made in it",
    FOLLOWS: "Parley has no follows of other readers yet",
    RATINGS: "Parley has no article ratings",
    PHRASES: "wpDiscuz's wording of its interface; Parley's widget has its own, in the "
    "reader's language",
}
# wpDiscuz's phrase keys (7.6, and wc_submit_text/wc_header_text of older versions) → the
# key of the widget string that says the same in Parley (parley/embed/strings.py).
PARLEY_STRING_FOR_PHRASE = {
    "wc_comment_start_text": "placeholder",
    "wc_comment_join_text": "placeholder",
    "wc_header_text": "count",
    "wc_submit_text": "post",
    "wc_email_text": "email",
    "wc_subscribe_anchor": "subscribe",
    "wc_notify_of": "notify",
    "wc_notify_on_new_comment": "notifyThread",
    "wc_notify_on_all_new_reply": "notifyReplies",
    "wc_notify_on_new_reply": "follow",
    "wc_reply_text": "reply",
    "wc_edit_text": "edit",
    "wc_show_replies_text": "viewReplies",
    "wc_vote_up": "up",
    "wc_vote_down": "down",
    "wc_awaiting_for_approval": "pending",
    "wc_comment_edit_save_button": "save",
    "wc_comment_edit_cancel_button": "cancel",
    "wc_error_empty_text": "required",
    "wc_msg_required_fields": "required",
    "wc_log_in": "signIn",
    "wc_log_out": "signOut",
    "wc_logged_in_as": "signedIn",
    "wc_confirm_comment_delete": "delAsk",
}


class Source(Protocol):
    """Where the tables are: the live database or a dump copied into SQLite."""

    def layouts(self) -> dict[str, list[str]]:
        """Every table's columns, in order."""
        ...

    def layout_place(self, table: str) -> str: ...

    def start(self, reads: dict[str, str]) -> None:
        """Reading these tables (name → WHERE clause) is what the meter measures, unless it
        measures something else already."""
        ...

    def rows(self, query: str) -> Iterator[tuple[Any, ...]]:
        """A query's rows as they come; the last value is the row's place (see `place`)."""
        ...

    def place_column(self, table: str) -> str: ...

    def place(self, table: str, key: Any, place: Any) -> str: ...


def read(source: str, meter: Meter, options: Options) -> Iterator[Record]:
    prefix = options.table_prefix
    if not prefix.replace("_", "").isalnum() and prefix:
        raise SourceError(f"the table prefix {prefix!r} is not a WordPress table prefix")
    if urlsplit(source).scheme in SCHEMES:
        yield from _records(Database(source, meter), prefix)
        return
    path = Path(source)
    if not path.is_file():
        raise SourceError("there is no such file (nor a mysql://… address)", path.name)
    with tempfile.TemporaryDirectory(prefix="parley-wpdiscuz-") as scratch:
        dump = Dump(path, prefix, meter, Path(scratch) / "tables.sqlite3")
        try:
            yield from _records(dump, prefix)
            yield from dump.notes
        finally:
            dump.close()


# --- from the tables to records, the same for both sources


def _records(source: Source, prefix: str) -> Iterator[Record]:
    layouts = source.layouts()
    present = {table for table in TABLES if prefix + table.name in layouts}
    for table in (COMMENTS, POSTS):
        if table not in present:
            raise SourceError(_no_table(prefix + table.name, layouts))
    for table in TABLES:
        if table in present:
            _check_layout(source, prefix + table.name, table, layouts[prefix + table.name])
        else:
            yield NoteRecord(f"There is no {prefix}{table.name} table: {table.absent}.")
    name = {table: prefix + table.name for table in TABLES}
    posts = _posts_referred_to(name, present)
    source.start({name[t]: posts if t is POSTS else "" for t in TABLES if t in present})

    passages: dict[int, str] = {}
    if FEEDBACK_FORMS in present:
        forms = name[FEEDBACK_FORMS]
        for record in _kept(source, FEEDBACK_FORMS, forms, layouts[forms]):
            passages[int(record.data["id"])] = _passage(record.data["content"] or "")
            yield record
    yield from _threads(source, name[POSTS], posts)
    yield from _comments(source, name, present, passages)
    if USERS_VOTED in present:
        yield from _votes(source, name[USERS_VOTED])
    if SUBSCRIPTIONS in present:
        yield from _subscriptions(source, name[SUBSCRIPTIONS])
    for table in (FOLLOWS, RATINGS, PHRASES):
        if table in present:
            for record in _kept(source, table, name[table], layouts[name[table]]):
                yield record
                if table is PHRASES:
                    yield _phrase_note(record.data)


def _no_table(table: str, layouts: dict[str, list[str]]) -> str:
    others = sorted(name for name in layouts if name.endswith("comments"))
    hint = (
        f"; tables with another prefix: {', '.join(others)} (another --table-prefix?)"
        if others
        else ""
    )
    return f"there is no {table} table, so this is no WordPress database{hint}"


def _check_layout(source: Source, table: str, spec: Table, found: list[str]) -> None:
    missing = [column for column in spec.columns if column not in found]
    if missing:
        raise SourceError(
            f"table {table} has columns ({', '.join(found)}) but {spec.owner}'s layout has "
            f"({', '.join(spec.columns)}): {', '.join(missing)} missing",
            source.layout_place(table),
        )


def _select(source: Source, table: str, columns: Sequence[str], order: str, where: str = "") -> str:
    # Identifiers come from the table specs, a prefix checked to be a word and, for kept
    # tables, the source's own column names (quoted).
    listed = ", ".join(_quoted(column) for column in columns)
    return (
        f"SELECT {listed}, {source.place_column(table)} FROM `{table}` {where} "  # noqa: S608
        f"ORDER BY {order}"
    )


def _quoted(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def _kept(source: Source, table: Table, name: str, columns: list[str]) -> Iterator[KeptRecord]:
    for row in source.rows(_select(source, name, columns, "`id`")):
        data = {column: _text_or_none(value) for column, value in zip(columns, row, strict=False)}
        yield KeptRecord(
            table=table.name,
            key=str(data["id"]),
            data=data,
            reason=KEPT_BECAUSE[table],
            where=source.place(name, data["id"], row[-1]),
        )


def _posts_referred_to(name: dict[Table, str], present: set[Table]) -> str:
    """The WHERE clause for the posts a comment, subscription or feedback form refers to."""
    referred = [("comment_post_ID", name[COMMENTS])]
    referred += [("post_id", name[t]) for t in (SUBSCRIPTIONS, FEEDBACK_FORMS) if t in present]
    # Identifiers of ours, as in _select.
    subqueries = [f"`ID` IN (SELECT `{c}` FROM `{t}`)" for c, t in referred]  # noqa: S608
    return "WHERE " + " OR ".join(subqueries)


def _threads(source: Source, table: str, where: str) -> Iterator[Record]:
    query = _select(source, table, POSTS.columns, "`ID`", where)
    for post_id, title, guid, date_gmt, modified_gmt, comment_status, place in source.rows(query):
        closed_at = None
        if _text(comment_status) == "closed":
            closed_at = _utc(modified_gmt) or _utc(date_gmt) or CLOSED_SINCE_UNKNOWN
        yield ThreadRecord(
            key=str(post_id),
            url=_text(guid),
            title=html.unescape(_text(title)),  # stored escaped, like commenters' names
            created_at=_utc(date_gmt),
            closed_at=closed_at,
            where=source.place(table, post_id, place),
        )


def _comments(
    source: Source, name: dict[Table, str], present: set[Table], passages: dict[int, str]
) -> Iterator[Record]:
    metas = _metas(source, name[COMMENTMETA]) if COMMENTMETA in present else iter(())
    pending: tuple[int, dict[str, list[str]]] | None = next(metas, None)
    orphans = local_dates = unknown_forms = 0
    query = _select(source, name[COMMENTS], COMMENTS.columns, "`comment_ID`")
    for row in source.rows(query):
        comment_id = int(row[0])
        meta: dict[str, list[str]] = {}
        while pending is not None and pending[0] <= comment_id:
            if pending[0] == comment_id:
                meta = pending[1]
            else:
                orphans += 1
            pending = next(metas, None)
        where = source.place(name[COMMENTS], comment_id, row[-1])
        record = _comment(row, meta, passages, where)
        if isinstance(record, CommentRecord):
            local_dates += _utc(row[7]) is None
            form = meta.get(FEEDBACK_FORM_META, [""])[0]
            unknown_forms += bool(form) and not record.quote
        yield record
    while pending is not None:
        orphans += 1
        pending = next(metas, None)
    if local_dates:
        yield NoteRecord(
            f"{local_dates} comments have no GMT time (comment_date_gmt is zero); their "
            "local time (comment_date) was read as UTC."
        )
    if unknown_forms:
        yield NoteRecord(
            f"{unknown_forms} inline comments name a feedback form that is not in "
            f"{name[FEEDBACK_FORMS]}; they come without the passage they were about."
        )
    if orphans:
        yield NoteRecord(
            f"{orphans} comments in {name[COMMENTMETA]} have meta but are not in "
            f"{name[COMMENTS]}; their meta was left out."
        )


def _metas(source: Source, table: str) -> Iterator[tuple[int, dict[str, list[str]]]]:
    """(comment id, {key: values}) in comment id order, one comment at a time."""
    query = _select(source, table, ("comment_id", "meta_key", "meta_value"),
                    "`comment_id`, `meta_id`")  # fmt: skip
    current: int | None = None
    meta: dict[str, list[str]] = {}
    for comment_id, key, value, _place in source.rows(query):
        if int(comment_id) != current:
            if current is not None:
                yield current, meta
            current, meta = int(comment_id), {}
        meta.setdefault(_text(key), []).append(_text(value))
    if current is not None:
        yield current, meta


def _comment(
    row: tuple[Any, ...], meta: dict[str, list[str]], passages: dict[int, str], where: str
) -> CommentRecord | SkipRecord:
    (comment_id, post_id, author, email, url, ip, date, date_gmt, content, approved, kind,
     parent, user_id, _place) = row  # fmt: skip
    key, kind = str(comment_id), _text(kind)
    if kind in LINKBACKS:
        return SkipRecord(
            "comment", key, f"a {kind}: another site saying it links here, not a reader's comment",
            where,
        )  # fmt: skip
    if kind not in COMMENT_TYPES:
        return SkipRecord(
            "comment", key, f"comment type {kind!r} is a plugin's note, not a reader's comment",
            where,
        )  # fmt: skip
    status = STATUSES.get(_text(approved))
    if status is None:
        return SkipRecord(
            "comment", key, f"comment_approved {_text(approved)!r} is none of WordPress's "
            "(1, 0, spam, trash, post-trashed)", where,
        )  # fmt: skip
    created_at = _utc(date_gmt) or _utc(date)
    if created_at is None:
        return SkipRecord("comment", key, f"no readable date ({_text(date_gmt)!r})", where)
    form = meta.get(FEEDBACK_FORM_META, [""])[0]
    return CommentRecord(
        key=key,
        thread_key=str(post_id),
        created_at=created_at,
        body=_text(content),
        body_format="html",
        status=status,
        parent_key="" if str(parent) == "0" else str(parent),
        # WordPress stores commenters' names HTML-escaped ("O&#039;Neil &amp; Sons").
        author_name=html.unescape(_text(author)),
        author_email=_text(email),
        author_url=_text(url),
        author_id="" if str(user_id) == "0" else str(user_id),
        ip=_text(ip),
        quote=passages.get(int(form), "") if form.isdigit() else "",
        extra={"meta": meta} if meta else {},
        where=where,
    )


def _passage(content: str) -> str:
    """The text of the passage a feedback form wraps (HTML in the post)."""
    return " ".join(html.unescape(strip_tags(content)).split())


def _votes(source: Source, table: str) -> Iterator[Record]:
    query = _select(source, table, USERS_VOTED.columns, "`id`")
    for vote_id, user_id, comment_id, vote_type, is_guest, date, place in source.rows(query):
        # The loader keys authors with an id "u:<id>", so a reader's votes and comments
        # are one reader; a guest's user_id is wpDiscuz's hash of the address.
        voter = ("guest:" if str(is_guest) == "1" else "u:") + _text(user_id)
        where = source.place(table, vote_id, place)
        value = _integer(vote_type)
        if value not in (1, -1):
            yield SkipRecord(
                "vote", f"{comment_id}/{voter}", f"vote_type {_text(vote_type)!r} is neither "
                "1 (up) nor -1 (down)", where,
            )  # fmt: skip
            continue
        seconds = _integer(date)
        yield VoteRecord(
            comment_key=str(comment_id),
            voter=voter,
            value=value,
            created_at=datetime.fromtimestamp(seconds, tz=UTC) if seconds else None,
            where=where,
        )


def _subscriptions(source: Source, table: str) -> Iterator[Record]:
    query = _select(source, table, SUBSCRIPTIONS.columns, "`id`")
    for sub_id, email, subscribed_to, post_id, kind, confirm, date, place in source.rows(query):
        where = source.place(table, sub_id, place)
        mapped = SUBSCRIPTION_KINDS.get(_text(kind))
        if mapped is None:
            yield SkipRecord(
                "subscription", str(sub_id), f"subscribtion_type {_text(kind)!r} is none of "
                "wpDiscuz's (post, all_comment, comment)", where,
            )  # fmt: skip
            continue
        yield SubscriptionRecord(
            key=str(sub_id),
            thread_key=str(post_id),
            email=_text(email),
            kind=mapped,
            comment_key=str(subscribed_to) if mapped == "comment" else "",
            # wpDiscuz sets confirm once the subscriber followed the e-mailed link, or at once
            # for a signed-in reader's own address: the double opt-in Parley asks for.
            confirmed=str(confirm) == "1",
            created_at=_utc(date),
            where=where,
        )


def _phrase_note(data: dict[str, Any]) -> NoteRecord:
    key, value = data["phrase_key"], data["phrase_value"]
    parley = PARLEY_STRING_FOR_PHRASE.get(key)
    if parley is None:
        return NoteRecord(f"wpDiscuz phrase {key} ({value!r}): no Parley equivalent.")
    return NoteRecord(
        f"wpDiscuz phrase {key} ({value!r}) is the widget's {parley!r} in Parley "
        f"({str(WIDGET_STRINGS[parley])!r}), which Parley words itself in the reader's "
        "language."
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else _text(value)


def _integer(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _utc(value: Any) -> datetime | None:
    """A MySQL DATETIME/TIMESTAMP read as UTC; None for the zero date or nothing."""
    try:
        return datetime.fromisoformat(_text(value)).replace(tzinfo=UTC)
    except ValueError:
        return None


# --- the live database


class Database:
    def __init__(self, url: str, meter: Meter) -> None:
        parts = urlsplit(url)
        try:
            port = parts.port or 3306
        except ValueError as error:
            raise SourceError(f"the address has no valid port ({error})") from error
        self.settings = {
            "host": parts.hostname or "127.0.0.1",
            "port": port,
            "user": unquote(parts.username or "root"),
            "password": unquote(parts.password or ""),
            "database": unquote(parts.path.lstrip("/")),
        }
        # The address as a person may read it: without the password.
        self.name = (
            f"{parts.scheme}://{self.settings['user']}@{self.settings['host']}:{port}"
            f"/{self.settings['database']}"
        )
        if not self.settings["database"]:
            raise SourceError("the address names no database (mysql://user@host/DATABASE)")
        self.meter = meter
        self.done = 0

    def _connect(self) -> "pymysql.Connection[Any]":
        try:
            return pymysql.connect(
                **self.settings,
                charset="utf8mb4",
                # Encoders only: every value comes back as the text the server sends, as in
                # a dump, so both sources give the same records.
                conv=dict(pymysql.converters.encoders),
                cursorclass=pymysql.cursors.SSCursor,
                connect_timeout=10,
                # TIMESTAMP columns in UTC; and time for the loader between rows before the
                # server gives up sending (the default is 60 s).
                init_command="SET SESSION time_zone = '+00:00', SESSION net_write_timeout = 3600",
            )
        except pymysql.err.Error as error:
            raise SourceError(f"cannot read the database: {error.args[-1]}", self.name) from error

    def layouts(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        query = (
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"
        )
        for table, column in self._query(query, counted=False):
            found.setdefault(table, []).append(column)
        return found

    def start(self, reads: dict[str, str]) -> None:
        total = 0
        for table, where in reads.items():
            query = f"SELECT COUNT(*) FROM `{table}` {where}"  # noqa: S608 (a checked prefix)
            total += sum(int(count) for (count,) in self._query(query, counted=False))
        self.meter.start(total, unit="rows")

    def layout_place(self, table: str) -> str:
        return f"{self.name} table {table}"

    def rows(self, query: str) -> Iterator[tuple[Any, ...]]:
        return self._query(query, counted=True)

    def _query(self, query: str, counted: bool) -> Iterator[tuple[Any, ...]]:
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(query)
            for row in cursor:
                if counted:
                    self.done += 1
                    if self.done % METER_EVERY == 0:
                        self.meter.advance_to(self.done)
                yield row
        except pymysql.err.Error as error:
            message = f"the database stopped answering: {error.args[-1]}"
            raise SourceError(message, self.name) from error
        finally:
            # Closing the connection, not the cursor: a server-side cursor closed early
            # would first read every row still to come.
            connection.close()
        if counted:
            self.meter.advance_to(self.done)

    def place_column(self, table: str) -> str:
        return "NULL"

    def place(self, table: str, key: Any, place: Any) -> str:
        return f"{table} row {key}"


# --- a dump, copied into SQLite


class Dump:
    def __init__(self, path: Path, prefix: str, meter: Meter, scratch: Path) -> None:
        self.name = path.name
        self.specs = {prefix + table.name: table for table in TABLES}
        self.created: dict[str, int] = {}  # table → line of its CREATE TABLE
        self.found: dict[str, list[str]] = {}  # table → its columns in the dump
        self.staged: dict[str, list[str]] = {}  # table → the columns copied
        self.notes: list[NoteRecord] = []
        self.connection = sqlite3.connect(scratch)
        self.connection.execute("PRAGMA journal_mode = OFF")
        self.connection.execute("PRAGMA synchronous = OFF")
        with path.open("rb") as raw:
            meter.start(os.fstat(raw.fileno()).st_size)
            stream: BinaryIO = raw
            if path.suffix == ".gz":
                stream = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
            try:
                self._copy(DumpParser(stream, self.name, self.specs.__contains__), raw, meter)
            except (OSError, EOFError) as error:  # a damaged .gz
                raise SourceError(f"the file cannot be read: {error}", self.name) from error
            meter.advance_to(raw.tell())
        self.connection.commit()

    def _copy(self, parser: DumpParser, raw: BinaryIO, meter: Meter) -> None:
        statement: list[str] | None = None
        positions: list[int | None] = []
        insert = ""
        for count, event in enumerate(parser, 1):
            if isinstance(event, CreateTable):
                self.found[event.table] = event.columns
                if event.table in self.specs:
                    self._create(event)
                continue
            assert isinstance(event, Row)
            columns = event.columns or self.found.get(event.table)
            if columns is None:
                raise SourceError(
                    f"an INSERT into {event.table} names no columns and comes before its "
                    "CREATE TABLE (dump it with its CREATE TABLE or with --complete-insert)",
                    f"{self.name} line {event.line}",
                )
            if event.table not in self.staged:
                self._create(CreateTable(event.table, columns, event.line))
            if columns is not statement:
                statement = columns
                staged = self.staged[event.table]
                positions = [columns.index(c) if c in columns else None for c in staged]
                marks = ", ".join("?" * (len(staged) + 1))
                insert = f'INSERT INTO "{event.table}" VALUES ({marks})'  # noqa: S608 (a wanted table)
            if len(event.values) != len(columns):
                raise SourceError(
                    f"a row of {len(event.values)} values in an INSERT into {event.table}, "
                    f"whose columns are {len(columns)}",
                    f"{self.name} line {event.line}",
                )
            values = [None if i is None else event.values[i] for i in positions]
            self.connection.execute(insert, [*values, event.line])
            if count % METER_EVERY == 0:
                meter.advance_to(raw.tell())
        for table, repairs in parser.repairs.items():
            self.notes.append(
                NoteRecord(
                    f"{self.name}: {repairs.count} invalid byte sequences in {table} (the "
                    f"first on line {repairs.first_line}) were replaced by U+FFFD (�)."
                )
            )

    def _create(self, event: CreateTable) -> None:
        spec = self.specs[event.table]
        self.created[event.table] = event.line
        if event.table in self.staged:
            return
        _check_layout(self, event.table, spec, event.columns)
        columns = event.columns if spec.keep_all else list(spec.columns)
        self.staged[event.table] = columns
        # Ids as INTEGER, so rows sort and join as numbers even where a dump quotes them.
        defined = ", ".join(
            f"{_quoted(column)} INTEGER" if column in spec.ids else _quoted(column)
            for column in columns
        )
        self.connection.execute(f'CREATE TABLE "{event.table}" ({defined}, _line INTEGER)')

    def layouts(self) -> dict[str, list[str]]:
        return {**self.found, **self.staged}

    def start(self, reads: dict[str, str]) -> None:
        pass  # the meter measured the bytes of the dump as they were copied

    def layout_place(self, table: str) -> str:
        return f"{self.name} line {self.created.get(table, '?')}"

    def rows(self, query: str) -> Iterator[tuple[Any, ...]]:
        yield from self.connection.execute(query)

    def place_column(self, table: str) -> str:
        return "_line"

    def place(self, table: str, key: Any, place: Any) -> str:
        return f"{self.name} line {place}"

    def close(self) -> None:
        self.connection.close()
