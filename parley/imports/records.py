"""What a reader of a foreign format yields: one record per thread, comment, vote,
subscription or kept item, in whatever order the source has them.

Readers only read: they never touch the database. `staging.py` collects their records and
`load.py` writes them, so every format gets the same handling of duplicate ids, parents that
come after their children or never come, URL rules, resuming and the verification report.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# Where in the source a record was found, for messages a person can act on
# ("disqus.xml line 1204", "wp_comments row 17").
Where = str


class SourceError(Exception):
    """The source cannot be read on: truncated, malformed, dangerous or of the wrong layout.
    The import stops before writing anything."""

    def __init__(self, message: str, where: Where = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


@dataclass
class ThreadRecord:
    key: str  # the source's id, unique within the source
    url: str  # the page's address in the source; "" when it has none
    title: str = ""
    created_at: datetime | None = None
    closed_at: datetime | None = None
    where: Where = ""


@dataclass
class CommentRecord:
    key: str
    thread_key: str
    created_at: datetime  # timezone-aware
    body: str  # as the source has it, decoded
    body_format: Literal["html", "markdown", "text"]
    # Comment.Status values: published, pending, spam, rejected, deleted.
    status: str = "published"
    parent_key: str = ""
    author_name: str = ""
    author_email: str = ""
    author_url: str = ""
    # The source's stable id for the author (a username, a user id); "" for guests.
    author_id: str = ""
    anonymous: bool = False
    ip: str = ""  # stored only as Parley's keyed hash
    # Parley's own export carries what Parley stores instead of the raw values above: the
    # address already hashed, the reader key, the signed-in account's address, the HTML.
    ip_hash: str = ""
    reader_key: str = ""
    account_email: str = ""
    body_html: str = ""
    # Where the comment first came from, when Parley imported it from elsewhere earlier.
    source_key: str = ""
    # Earlier versions of an edited comment: {"body", "body_html", "replaced_at"}.
    revisions: list[dict[str, Any]] = field(default_factory=list)
    edited_at: datetime | None = None
    # Tallies a source keeps without its voters (Isso); votes with voters are VoteRecords.
    upvotes: int = 0
    downvotes: int = 0
    # Inline feedback: the passage of the article the comment is about.
    quote: str = ""
    quote_prefix: str = ""
    quote_suffix: str = ""
    # Anything else the source says about the comment (WordPress comment meta…), kept as is.
    extra: dict[str, Any] = field(default_factory=dict)
    where: Where = ""


@dataclass
class VoteRecord:
    comment_key: str
    voter: str  # the source's id for who voted; one vote per voter and comment
    value: int  # +1 or -1
    created_at: datetime | None = None
    account_email: str = ""  # Parley's own export: the voter's account
    where: Where = ""


@dataclass
class SubscriptionRecord:
    key: str
    thread_key: str
    email: str
    kind: Literal["thread", "replies", "comment"]
    comment_key: str = ""  # for kind "comment"
    confirmed: bool = False
    confirmed_at: datetime | None = None  # when known; else the import's time if confirmed
    created_at: datetime | None = None
    delivery: Literal["instant", "daily"] = "instant"
    lang: str = ""
    account_email: str = ""
    reader_key: str = ""  # Parley's own export
    where: Where = ""


@dataclass
class KeptRecord:
    """Source data Parley has no place for (a wpDiscuz follow, a post rating, a custom UI
    phrase): stored as it is, counted in the report and written out again by the export."""

    table: str
    key: str
    data: dict[str, Any]
    reason: str  # why it is kept rather than mapped, shown in the report
    source: str = ""  # the format it came from; "" means the format being imported
    where: Where = ""


@dataclass
class ArticleRecord:
    """A WordPress post or page, imported as a Parley article when asked for."""

    key: str
    thread_key: str
    title: str
    body: str
    body_format: Literal["html", "markdown"]
    author_name: str = ""
    slug: str = ""
    dek: str = ""
    published_at: datetime | None = None
    # Parley's own export: {"position", "file", "width", "height", "caption", "alt"}; the
    # files themselves are copied separately (docs/export-format.md).
    figures: list[dict[str, Any]] = field(default_factory=list)
    where: Where = ""


@dataclass
class SiteRecord:
    """A site's settings (Parley's own export): the import creates the site from them when
    the target install has no site of that name."""

    data: dict[str, Any]


@dataclass
class SkipRecord:
    """An item the reader saw but could not use, with the reason; the report lists it."""

    kind: str  # "thread", "comment", "vote", "subscription"…
    key: str
    reason: str
    where: Where = ""


@dataclass
class NoteRecord:
    """A line for the report that is not about one item (a mapped UI phrase, repaired bytes)."""

    text: str


Record = (
    SiteRecord
    | ThreadRecord
    | CommentRecord
    | VoteRecord
    | SubscriptionRecord
    | KeptRecord
    | ArticleRecord
    | SkipRecord
    | NoteRecord
)


class Meter:
    """How far a reader has got, for the progress bar: bytes or rows done of a total."""

    def __init__(self, on_change: Callable[["Meter"], None] | None = None) -> None:
        self.total = 0
        self.done = 0
        self.unit = "bytes"
        self._on_change = on_change

    def start(self, total: int, unit: str = "bytes") -> None:
        self.total, self.unit, self.done = total, unit, 0

    def advance_to(self, done: int) -> None:
        self.done = done
        if self._on_change is not None:
            self._on_change(self)


@dataclass
class Options:
    """What the command line says beyond the source and site."""

    # WordPress posts and pages become Parley articles (WXR only).
    articles: bool = False
    # wpDiscuz: the WordPress table prefix.
    table_prefix: str = "wp_"


Reader = Callable[[str, Meter, Options], Iterator[Record]]
