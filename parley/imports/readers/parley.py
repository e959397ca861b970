"""Parley's own export (docs/export-format.md), plain or gzip-compressed, read a line at a
time: the writer puts the header, the site and each array item on lines of their own, so a
file of any size is read in constant memory while it stays one JSON document."""

import gzip
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from parley.imports.export import FORMAT, SECTIONS, VERSION
from parley.imports.records import (
    ArticleRecord,
    CommentRecord,
    KeptRecord,
    Meter,
    Options,
    Record,
    SiteRecord,
    SourceError,
    SubscriptionRecord,
    ThreadRecord,
    VoteRecord,
)

METER_EVERY = 1000


class _Lines:
    """The file's lines, numbered, with the place of each for messages."""

    def __init__(self, stream: Iterator[bytes], name: str) -> None:
        self._stream = stream
        self.name = name
        self.number = 0

    @property
    def where(self) -> str:
        return f"{self.name} line {self.number}"

    def next(self, expecting: str) -> bytes:
        line = next(self._stream, None)
        self.number += 1
        if line is None:
            raise SourceError(f"the file ends before {expecting} (truncated export?)", self.where)
        if not line.endswith(b"\n"):
            raise SourceError(
                "the file ends in the middle of a line (truncated export?)", self.where
            )
        return line.rstrip(b"\r\n")

    def json(self, text: bytes, what: str) -> Any:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise SourceError(f"{what} is not valid JSON ({error})", self.where) from error

    def rest_is_empty(self) -> bool:
        for line in self._stream:
            self.number += 1
            if line.strip():
                return False
        return True


def read(source: str, meter: Meter, options: Options) -> Iterator[Record]:
    path = Path(source)
    if not path.is_file():
        raise SourceError("there is no such file", path.name)
    meter.start(path.stat().st_size)
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        lines = _Lines(iter(stream), path.name)
        try:
            for count, record in enumerate(_records(lines), start=1):
                yield record
                if count % METER_EVERY == 0:
                    meter.advance_to(raw.tell())
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise SourceError(
                f"the gzip compression is damaged or cut short ({error})", lines.where
            ) from error
        meter.advance_to(path.stat().st_size)


def _records(lines: _Lines) -> Iterator[Record]:
    first = lines.next("the header")
    if not (first.startswith(b"{") and first.endswith(b",")):
        raise SourceError(
            "this is not a Parley export in the layout Parley writes (the first line holds "
            '{"format": "parley-export", "version": …,)',
            lines.where,
        )
    header = lines.json(first[:-1] + b"}", "the header")
    if header.get("format") != FORMAT:
        raise SourceError(f"the format is {header.get('format')!r}, not {FORMAT!r}", lines.where)
    if header.get("version") != VERSION:
        raise SourceError(
            f"this is version {header.get('version')!r} of Parley's export format; this Parley "
            f"reads version {VERSION} (a newer Parley wrote it?)",
            lines.where,
        )
    site = lines.next("the site")
    if not (site.startswith(b'"site":') and site.endswith(b",")):
        raise SourceError('expected the site ("site": {…},)', lines.where)
    yield SiteRecord(data=_object(lines, site[len(b'"site":') : -1], "the site"))
    for section in SECTIONS:
        opening = lines.next(f"the {section} array")
        if opening != b'"' + section.encode() + b'":[':
            raise SourceError(f'expected the {section} array ("{section}":[)', lines.where)
        closing = b"]" if section == SECTIONS[-1] else b"],"
        to_record = READERS[section]
        # JSON allows an item after "[" or after a comma, and no comma before "]".
        item_may_follow, after_comma = True, False
        while (line := lines.next(f"the end of the {section} array")) != closing:
            if not item_may_follow:
                raise SourceError(
                    f"expected the end of the {section} array ({closing.decode()})", lines.where
                )
            item_may_follow = after_comma = line.endswith(b",")
            item = _object(lines, line[:-1] if after_comma else line, f"an item of {section}")
            try:
                yield to_record(item, lines.where)
            except (KeyError, TypeError, ValueError) as error:
                raise SourceError(
                    f"an item of {section} is not as Parley writes it ({error!r})", lines.where
                ) from error
        if after_comma:
            raise SourceError(f"the {section} array ends after a comma", lines.where)
    if lines.next("the end of the document") != b"}" or not lines.rest_is_empty():
        raise SourceError("expected the end of the document (})", lines.where)


def _object(lines: _Lines, text: bytes, what: str) -> dict[str, Any]:
    value = lines.json(text, what)
    if not isinstance(value, dict):
        raise SourceError(f"{what} is not a JSON object", lines.where)
    return value


def _time(value: str | None) -> datetime | None:
    return None if value is None else _required_time(value)


def _required_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def _key(value: int | None) -> str:
    return "" if value is None else str(value)


def _article(item: dict[str, Any], where: str) -> ArticleRecord:
    return ArticleRecord(
        key=str(item["id"]),
        thread_key=item["uri"],
        title=item["headline"],
        body=item["body"],
        body_format="markdown",
        author_name=item["author_name"],
        slug=item["slug"],
        dek=item["dek"],
        published_at=_time(item["published_at"]),
        figures=item["figures"],
        where=where,
    )


def _thread(item: dict[str, Any], where: str) -> ThreadRecord:
    return ThreadRecord(
        key=item["uri"],
        url=item["uri"],
        title=item["title"],
        created_at=_time(item["created_at"]),
        closed_at=_time(item["closed_at"]),
        where=where,
    )


def _comment(item: dict[str, Any], where: str) -> CommentRecord:
    return CommentRecord(
        key=str(item["id"]),
        thread_key=item["thread"],
        created_at=_required_time(item["created_at"]),
        body=item["body"],
        body_format="markdown",
        status=item["status"],
        parent_key=_key(item["parent"]),
        author_name=item["author_name"],
        author_email=item["author_email"],
        author_url=item["author_url"],
        ip_hash=item["ip_hash"],
        reader_key=item["reader_key"],
        account_email=item["account_email"],
        source_key=item["source_key"],
        body_html=item["body_html"],
        revisions=[
            {
                "body": revision["body"],
                "body_html": revision["body_html"],
                "replaced_at": _required_time(revision["replaced_at"]),
            }
            for revision in item["revisions"]
        ],
        edited_at=_time(item["edited_at"]),
        upvotes=item["upvotes"],
        downvotes=item["downvotes"],
        quote=item["quote"],
        quote_prefix=item["quote_prefix"],
        quote_suffix=item["quote_suffix"],
        where=where,
    )


def _vote(item: dict[str, Any], where: str) -> VoteRecord:
    return VoteRecord(
        comment_key=str(item["comment"]),
        voter=item["reader_key"],
        value=item["value"],
        created_at=_time(item["created_at"]),
        account_email=item["account_email"],
        where=where,
    )


def _subscription(item: dict[str, Any], where: str) -> SubscriptionRecord:
    return SubscriptionRecord(
        key=str(item["id"]),
        thread_key=item["uri"],
        email=item["email"],
        kind=item["kind"],
        comment_key=_key(item["comment"]),
        confirmed=item["confirmed_at"] is not None,
        confirmed_at=_time(item["confirmed_at"]),
        created_at=_time(item["created_at"]),
        delivery=item["delivery"],
        lang=item["lang"],
        account_email=item["account_email"],
        reader_key=item["reader_key"],
        where=where,
    )


def _kept(item: dict[str, Any], where: str) -> KeptRecord:
    return KeptRecord(
        table=item["table"],
        key=item["key"],
        data=item["data"],
        reason=item["reason"],
        source=item["source"],
        where=where,
    )


READERS: dict[str, Callable[[dict[str, Any], str], Record]] = {
    "articles": _article,
    "threads": _thread,
    "comments": _comment,
    "votes": _vote,
    "subscriptions": _subscription,
    "kept": _kept,
}
