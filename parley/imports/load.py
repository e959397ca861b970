"""Staged records → Parley's tables: a batch of whole threads per transaction.

A batch is all or nothing, so a run stopped anywhere (Ctrl-C, a crash, a full disk) leaves
whole threads behind, and running the same import again finds every comment it already wrote
by its source key, adds only what is missing and changes nothing else. Imported comments go
around moderation and notifications: they were published (or not) on the old system, and
nobody should get an e-mail about a comment from 2014.
"""

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import orjson
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Model, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from parley.accounts.actions import do_find_or_create_reader
from parley.accounts.privacy import erased_digest, erased_digests
from parley.articles.models import Article, Figure
from parley.comments import reads
from parley.comments.models import Comment, CommentRevision, Subscription, Thread, Vote
from parley.core.readers import hash_ip
from parley.sites.models import Site

from . import html
from .models import KeptItem
from .records import NoteRecord
from .staging import Staging
from .urlmap import UrlMap

BATCH_COMMENTS = 10_000
ANONYMOUS = "Anonymous"
_STATUSES = set(Comment.Status.values)
# Spelled as the partial index on source_key is, so SQLite's planner uses that index.
HAS_SOURCE = ~Q(source_key="")


@dataclass
class Tally:
    source: int = 0  # in the source and meant to be imported
    present: int = 0  # in Parley after the run (added now or by an earlier run)
    added: int = 0


@dataclass
class ThreadVerdict:
    key: str
    uri: str  # the page in Parley
    matched: bool  # a --map-url rule matched its address
    url: str = ""  # its address in the source
    source: int = 0
    present: int = 0
    added: int = 0
    source_checksum: str = ""  # over (author, time, text) as the source has them
    expected_checksum: str = ""  # the same after the changes listed in `changes`
    imported_checksum: str = ""  # read back from Parley's tables
    changes: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.imported_checksum == self.expected_checksum and self.present == self.source:
            return "changed" if self.changes else "ok"
        # Every comment was here before this run: what differs was done in Parley since.
        if self.added == 0 and self.present == self.source:
            return "edited-here"
        return "lost"


@dataclass
class Outcome:
    dry_run: bool
    threads: list[ThreadVerdict] = field(default_factory=list)
    comments: Tally = field(default_factory=Tally)
    authors: Tally = field(default_factory=Tally)
    votes: Tally = field(default_factory=Tally)
    subscriptions: Tally = field(default_factory=Tally)
    quotes: Tally = field(default_factory=Tally)
    kept: Tally = field(default_factory=Tally)
    meta: Tally = field(default_factory=Tally)  # comments whose meta is kept beside them
    articles: Tally = field(default_factory=Tally)
    gone_links: int = 0
    # --copy-media: {"linked", "copied", "copied_before", "not_copied": [{"url", "why"}]}.
    media: dict[str, Any] | None = None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def checksum(rows: Iterable[tuple[str, str, str, str]]) -> str:
    """Over (key, author, time, text) in key order: the same on both sides iff the same."""
    digest = hashlib.sha256()
    for row in sorted(rows):
        digest.update("\x1f".join(row).encode("utf-8", "surrogatepass") + b"\x1e")
    return digest.hexdigest()[:16]


def counted(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _key80(prefix: str, value: str) -> str:
    """A reader key (80 characters at most) for a source's author or voter."""
    key = f"{prefix}{value}"
    if len(key) <= 80:
        return key
    return prefix + hashlib.sha256(value.encode()).hexdigest()[:32]


def _email_key(email: str) -> str:
    """A guest author or subscriber of a source, known by address, without the address."""
    return f"e:{hashlib.sha256(email.lower().encode()).hexdigest()[:24]}"


ERASED = "it names an address erased at its owner's request"
ADDRESS = re.compile(r"[^\s@\"<>,;:]+@[^\s@\"<>,;:]+\.[^\s@\"<>,;:]+")
_IP_KEY = re.compile(r"(^|_)ip($|_)|ip_?address|remote_addr", re.IGNORECASE)


def without_raw_addresses(data: Any, key: str = "") -> Any:
    """Kept source data with network addresses replaced by Parley's keyed hash, as comments
    keep them (a wpDiscuz rating names its rater's address)."""
    if isinstance(data, dict):
        return {k: without_raw_addresses(v, str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [without_raw_addresses(v, key) for v in data]
    if isinstance(data, str) and data and _IP_KEY.search(key):
        return f"hash:{hash_ip(data)}"
    return data


def _no_nul(text: str, changes: list[str], what: str) -> str:
    if "\x00" in text:
        changes.append(f"NUL characters removed from the {what} (databases cannot store them)")
        return text.replace("\x00", "")
    return text


class Loader:
    def __init__(
        self,
        staging: Staging,
        site: Site,
        format_name: str,
        urlmap: UrlMap,
        *,
        dry_run: bool,
        articles: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.staging = staging
        self.site = site
        self.format = format_name
        self.urlmap = urlmap
        self.dry_run = dry_run
        self.articles = articles
        self.on_progress = on_progress
        self.outcome = Outcome(dry_run=dry_run)
        self._accounts: dict[str, User] = {}
        self._source_authors: set[str] = set()
        self._present_authors: set[str] = set()

    # The run -----------------------------------------------------------------------

    def run(self) -> Outcome:
        self._report_orphans()
        # A site's first import can find nothing of itself in Parley: source keys are unique
        # within a run, so the look-ups for earlier runs' comments are skipped.
        self._first_import = not Comment.objects.filter(HAS_SOURCE, thread__site=self.site).exists()
        self._erased = erased_digests()
        if connection.vendor == "sqlite":
            # Eight indexes on the comments table: with SQLite's default 2 MB of page cache,
            # inserting into a big table spends its time re-reading index pages.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -65536")
        batch: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        size = done = 0
        total = self.staging.comment_count()
        for thread in self.staging.threads():
            comments = self.staging.comments_of(thread["key"])
            batch.append((thread, comments))
            size += len(comments)
            if size >= BATCH_COMMENTS:
                self._write_batch(batch)
                done += size
                batch, size = [], 0
                if self.on_progress:
                    self.on_progress(done, total)
        if batch:
            self._write_batch(batch)
        if self.on_progress:
            self.on_progress(total, total)
        self._write_kept()
        self.outcome.authors = Tally(
            source=len(self._source_authors), present=len(self._present_authors)
        )
        return self.outcome

    def _report_orphans(self) -> None:
        reasons = {
            "comment": "its thread ({}) is not in the source",
            "vote": "the comment voted on ({}) is not in the source",
            "subscription": "its page ({}) is not in the source",
        }
        for kind, record in self.staging.orphans():
            missing = record.get("thread_key") if kind != "vote" else record["comment_key"]
            key = record.get("key") or f"{record.get('comment_key')}/{record.get('voter')}"
            self.staging.skip(kind, key, reasons[kind].format(missing), record.get("where", ""))

    def _write_batch(self, batch: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
        if self.dry_run:
            self._load_batch(batch)
            return
        with transaction.atomic():
            # Two imports into one site take turns, so neither adds what the other just did.
            Site.objects.select_for_update().filter(pk=self.site.pk).first()
            self._load_batch(batch)

    def _load_batch(self, batch: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
        """A few queries per batch rather than per thread: a million comments come in
        tens of thousands of threads."""
        units = [self._unit(record, comments) for record, comments in batch]
        found = Thread.objects.filter(site=self.site, uri__in={u.uri for u in units})
        threads = {t.uri: t for t in found}
        existing = self._existing(units, threads)
        for unit in units:
            unit.prepared = self._prepare_all(unit)
            unit.new = [p for p in unit.prepared if p.source_key not in existing]
            self._count_source(unit)
        if self.dry_run:
            for unit in units:
                self._would_add(unit, threads.get(unit.uri))
            return
        fresh = self._create_threads(units, threads)
        placed = {
            (unit.thread_pk, p.key): existing[p.source_key]
            for unit in units
            for p in unit.prepared
            if p.source_key in existing
        }
        self._insert([u for u in units if u.new], placed, fresh)
        for unit in units:
            if unit.new and unit.uri not in fresh:
                _recount(threads[unit.uri])
        changed = [u.uri for u in units if u.new]
        site_name = self.site.name
        transaction.on_commit(lambda: reads.invalidate_many(site_name, changed))
        for unit in units:
            self._subscriptions(unit, threads.get(unit.uri) or fresh[unit.uri])
        self._verify(units)

    def _would_add(self, unit: "Unit", thread: Thread | None) -> None:
        """A dry run's counts: what is here already, and what the run would add."""
        outcome, new_keys = self.outcome, {p.key for p in unit.new}
        unit.verdict.present = len(unit.prepared) - len(unit.new)
        outcome.comments.present += unit.verdict.present
        outcome.votes.added += sum(p.tallies for p in unit.new) + sum(
            1 for vote in unit.votes if vote["comment_key"] in new_keys
        )
        outcome.quotes.added += sum(1 for p in unit.new if p.fields["quote"])
        outcome.meta.added += sum(1 for p in unit.new if p.extra)
        outcome.meta.present += sum(1 for p in unit.prepared if p.extra) - sum(
            1 for p in unit.new if p.extra
        )
        pages = [uri for uri in (unit.uri, unit.moved_from) if uri]
        for record in self.staging.subscriptions_of(unit.key):
            outcome.subscriptions.source += 1
            here = (thread is not None or bool(unit.moved_from)) and Subscription.objects.filter(
                site=self.site, uri__in=pages, email=record["email"].strip().lower(),
                kind=record["kind"],
            ).exists()  # fmt: skip
            outcome.subscriptions.present += here
            outcome.subscriptions.added += not here

    def _unit(self, record: dict[str, Any], comments: list[dict[str, Any]]) -> "Unit":
        key = record["key"]
        article_uri = self._article(key)
        uri, matched = self._uri_for(record, article_uri)
        if not record["url"] and not article_uri and not matched:
            self.staging.add(NoteRecord(
                f"Thread {key} has no address in the source; its comments are kept under "
                f"{uri}: moderators see them, no page shows them until a rule maps that "
                f"address to a page (--map-url '{uri}=>/the/page/') and the import runs again."
            ))  # fmt: skip
        verdict = ThreadVerdict(key=key, uri=uri, matched=matched, url=record["url"])
        self.outcome.threads.append(verdict)
        return Unit(key=key, uri=uri, record=record, comments=comments, verdict=verdict)

    def _count_source(self, unit: "Unit") -> None:
        unit.verdict.source = len(unit.prepared)
        unit.verdict.added = len(unit.new)
        self.outcome.comments.source += len(unit.prepared)
        self.outcome.comments.added += len(unit.new)
        unit.votes = self.staging.votes_of(unit.key)
        self.outcome.votes.source += len(unit.votes) + sum(p.tallies for p in unit.prepared)
        self.outcome.quotes.source += sum(1 for p in unit.prepared if p.fields["quote"])
        # A comment's meta is kept in the comment's transaction, so it is there with it.
        with_meta = sum(1 for p in unit.prepared if p.extra)
        self.outcome.meta.source += with_meta
        self.outcome.meta.present += with_meta if not self.dry_run else 0
        for p in unit.prepared:
            self._source_authors.add(p.fields["reader_key"])
        for change in (c for p in unit.prepared for c in p.changes_with_key()):
            unit.verdict.changes.append(change)

    def _uri_for(self, thread: dict[str, Any], article_uri: str) -> tuple[str, bool]:
        if article_uri:
            return article_uri, True
        # A thread with no address is kept under one of Parley's making, which a rule can
        # map to a page like any other.
        url = thread["url"] or f"/imported/{self.format}/{quote(thread['key'], safe='')}/"
        uri, matched = self.urlmap.map(url)
        return uri[:500], matched

    def _article(self, thread_key: str) -> str:
        """The page of the article a thread belongs to, made now unless it exists (or this
        is a dry run); "" when the thread has no article."""
        if not self.articles:
            return ""
        record = self.staging.article_of(thread_key)
        if record is None:
            return ""
        slug = (record["slug"] or f"{self.format}-{record['key']}")[:120]
        # Slugs are unique across sites: another site's article makes this one's longer.
        own = f"{slug[:100]}-{self.site.name}"[:120]
        found = Article.objects.filter(site=self.site, slug__in=[slug, own]).first()
        if found is not None or self.dry_run:
            self.outcome.articles.source += 1
            self.outcome.articles.present += found is not None
            self.outcome.articles.added += found is None  # a dry run's "would add"
            if found is not None:
                return found.uri
            taken = Article.objects.filter(slug=slug).exists()
            return reverse("article", args=[own if taken else slug])
        if Article.objects.filter(slug=slug).exists():
            slug = own
        body = record["body"]
        if record["body_format"] != "markdown":
            body = html.as_markdown(body)
        article = Article.objects.create(
            site=self.site,
            slug=slug,
            headline=record["title"][:300] or slug,
            dek=record.get("dek", "")[:500],
            author_name=record["author_name"][:200],
            published_at=_time(record["published_at"]),
            body=body,
        )
        Figure.objects.bulk_create(
            Figure(
                article=article,
                position=figure["position"],
                image=figure["file"],
                width=figure["width"],
                height=figure["height"],
                caption=figure["caption"][:500],
                alt=figure["alt"][:300],
            )
            for figure in record.get("figures", [])
        )
        self.outcome.articles.source += 1
        self.outcome.articles.present += 1
        self.outcome.articles.added += 1
        return article.uri

    def _create_threads(self, units: list["Unit"], threads: dict[str, Thread]) -> dict[str, Thread]:
        """Threads new to Parley, made with their counts already known; titles for existing
        threads that had none."""
        fresh: dict[str, Thread] = {}
        for unit in units:
            record, title = unit.record, unit.record["title"][:300]
            thread = threads.get(unit.uri) or fresh.get(unit.uri)
            if thread is None:
                fresh[unit.uri] = Thread(
                    site=self.site,
                    uri=unit.uri,
                    title=title,
                    created_at=_time(record["created_at"]) or timezone.now(),
                    closed_at=_time(record["closed_at"]),
                )
            elif title and not thread.title:
                thread.title = title
                if thread.pk:
                    thread.save(update_fields=["title"])
        by_uri: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            by_uri[unit.uri].append(unit)
        for uri, thread in fresh.items():
            merged = by_uri[uri]
            _count_replies([p for u in merged for p in u.new])
            thread.published_count = sum(
                1 for u in merged for p in u.new if p.fields["status"] == Comment.Status.PUBLISHED
            )
        Thread.objects.bulk_create(fresh.values())
        for unit in units:
            unit.thread_pk = (threads.get(unit.uri) or fresh[unit.uri]).pk
        return fresh

    def _existing(self, units: list["Unit"], threads: dict[str, Thread]) -> dict[str, "Placed"]:
        """Comments of these source keys already in Parley (from an earlier run). One that
        an earlier run put on another page stays there, and this run leaves it out."""
        keys = [] if self._first_import else [
            self._source_key(c) for unit in units for c in unit.comments
        ]  # fmt: skip
        found: dict[str, Placed] = {}
        for start in range(0, len(keys), 5000):
            rows = (
                Comment.objects.filter(source_key__in=keys[start : start + 5000])
                .filter(HAS_SOURCE, thread__site=self.site)
                .values_list("source_key", "pk", "thread_id", "depth", "root_id")
            )
            for source_key, pk, thread_id, depth, root_id in rows:
                found[source_key] = Placed(pk, depth, root_id or pk, thread_id)
        for unit in units:
            self._move_if_remapped(unit, threads, found)
            here = threads[unit.uri].pk if unit.uri in threads else None
            elsewhere = set()
            for record in unit.comments:
                source_key = self._source_key(record)
                if source_key in found and found[source_key].thread_id != here:
                    elsewhere.add(source_key)
                    self.staging.skip(
                        "comment",
                        record["key"],
                        "an earlier import put it on another page; it stays there",
                        record.get("where", ""),
                    )
            if elsewhere:
                unit.comments = [c for c in unit.comments if self._source_key(c) not in elsewhere]
        return found

    def _move_if_remapped(
        self, unit: "Unit", threads: dict[str, Thread], found: dict[str, "Placed"]
    ) -> None:
        """The rules now map a thread an earlier run imported elsewhere: its comments move
        to the new page, so a mistaken rule is put right by running the import again."""
        keys = [self._source_key(c) for c in unit.comments if self._source_key(c) in found]
        here = threads[unit.uri].pk if unit.uri in threads else None
        where = {found[k].thread_id for k in keys}
        old_id = where.pop() if len(where) == 1 else None
        if old_id is None or old_id == here:
            return  # nothing imported yet, already here, or split by hand: left as it is
        old = Thread.objects.get(pk=old_id)
        unit.moved_from = old.uri
        if self.dry_run:
            self.staging.add(NoteRecord(
                f"Thread {unit.key}: {counted(len(keys), 'comment')} would move from {old.uri} "
                f"to {unit.uri}."
            ))  # fmt: skip
            for key in keys:  # counted as here from now on, as after a real move
                found[key].thread_id = here
            return
        target = threads.get(unit.uri)
        if target is None:
            target = threads[unit.uri] = Thread.objects.create(
                site=self.site,
                uri=unit.uri,
                title=old.title,
                created_at=old.created_at,
                closed_at=old.closed_at,
            )
        # Parents first: on SQLite a trigger checks each reply's parent is in its thread.
        for depth in sorted({found[k].depth for k in keys}):
            Comment.objects.filter(
                pk__in=[found[k].pk for k in keys if found[k].depth == depth]
            ).update(thread=target)
        for key in keys:
            found[key].thread_id = target.pk
        Subscription.objects.filter(
            site=self.site, uri=old.uri, reader_key__startswith=f"{self.format}:"
        ).update(uri=target.uri)
        _recount(old)
        _recount(target)
        # A page the import itself made by mistake goes once the comments have left it.
        if (
            not old.comments.exists()
            and not Subscription.objects.filter(site=self.site, uri=old.uri).exists()
        ):
            old.delete()
        site_name, uris = self.site.name, [old.uri, target.uri]
        transaction.on_commit(lambda: reads.invalidate_many(site_name, uris))
        self.staging.add(NoteRecord(
            f"Thread {unit.key}: {counted(len(keys), 'comment')} moved from {old.uri} to "
            f"{target.uri}, where the rules now map it."
        ))  # fmt: skip

    def _source_key(self, record: dict[str, Any]) -> str:
        return record.get("source_key") or f"{self.format}:{record['key']}"

    # Comments ----------------------------------------------------------------------

    def _prepare_all(self, unit: "Unit") -> list["Prepared"]:
        by_key = {r["key"] for r in unit.comments}
        prepared = [self._prepare(r) for r in unit.comments]
        for item in prepared:
            parent = item.parent_key
            if parent == item.key:
                item.orphan("it names itself as its parent")
            elif parent and parent not in by_key:
                item.orphan(f"its parent ({parent}) is not in the source")
        _break_loops(prepared)
        return prepared

    def _prepare(self, record: dict[str, Any]) -> "Prepared":
        changes: list[str] = []
        name = _no_nul(record["author_name"], changes, "author's name")
        if not name.strip():
            name = ANONYMOUS
            changes.append(f"no author's name in the source: shown as {ANONYMOUS}")
        elif len(name) > 100:
            name = name[:100]
            changes.append("author's name cut to 100 characters")
        body = _no_nul(record["body"], changes, "text")
        email = record["author_email"].strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                changes.append(f"author's e-mail {email[:80]!r} is not an address: left out")
                email = ""
        url = record["author_url"].strip()
        erased = self._is_erased(email)
        if erased:
            # As erasing left the person's other comments: by a deleted user, nothing to
            # find them by.
            changes.append("its author's address was erased at their request: by a deleted user")
            name, email, url = _("Deleted user"), "", ""
        if len(url) > 500:
            changes.append("author's web address longer than 500 characters: left out")
            url = ""
        status = record["status"]
        if status not in _STATUSES:
            changes.append(f"unknown status {status!r}: held for a moderator")
            status = Comment.Status.PENDING
        if self.format == "parley":
            reader_key = self._account_key(record["reader_key"], record["account_email"])
            reader_key = reader_key or _key80("parley:", record["key"])
            ip_hash = record["ip_hash"]
        else:
            author = (
                f"u:{record['author_id']}"
                if record["author_id"]
                else _email_key(email)
                if email
                else f"n:{name}"
            )
            reader_key = _key80(f"{self.format}:", author)
            ip_hash = hash_ip(record["ip"]) if record["ip"] and not erased else ""
        body_html = self._render(record, body)
        quote = _no_nul(record["quote"], changes, "quoted passage")
        created_at = _time(record["created_at"])
        assert created_at is not None
        source_key = self._source_key(record)
        return Prepared(
            key=record["key"],
            source_key=source_key,
            parent_key=record["parent_key"],
            source_row=(record["author_name"], _iso(created_at), record["body"]),
            changes=changes,
            account_email=record.get("account_email", ""),
            revisions=record.get("revisions", []),
            extra=record["extra"],
            tallies=record["upvotes"] + record["downvotes"],
            fields={
                "author_name": name,
                "author_email": email,
                "author_url": url,
                "reader_key": reader_key,
                "body": body,
                "body_html": body_html,
                "quote": quote.strip(),
                "quote_prefix": record["quote_prefix"][:64] if quote.strip() else "",
                "quote_suffix": record["quote_suffix"][:64] if quote.strip() else "",
                "status": status,
                "created_at": created_at,
                "edited_at": _time(record["edited_at"]),
                "upvotes": record["upvotes"],
                "downvotes": record["downvotes"],
                "ip_hash": ip_hash,
                "source_key": source_key,
            },
        )

    def _render(self, record: dict[str, Any], body: str) -> str:
        if record.get("body_html"):
            rendered = html.sanitise(record["body_html"])
        elif record["body_format"] == "html":
            rendered = html.clean(body)
        elif record["body_format"] == "markdown":
            rendered = html.markdown(body)
        else:
            rendered = html.clean(escape(body))
        self.outcome.gone_links += html.gone_links(rendered)
        return rendered

    def _is_erased(self, email: str) -> bool:
        return bool(email and self._erased and erased_digest(email) in self._erased)

    def _names_erased(self, data: Any) -> bool:
        return bool(self._erased) and any(
            self._is_erased(address) for address in ADDRESS.findall(orjson.dumps(data).decode())
        )

    def _account_key(self, reader_key: str, account_email: str) -> str:
        """A signed-in reader's key names their account (`u:<id>`); ids differ between
        installs, so the key is made again from the account of the same address."""
        if account_email and reader_key.startswith("u:") and not self.dry_run:
            account = self._account(account_email)
            assert account is not None
            return f"u:{account.pk}"
        return reader_key

    def _account(self, email: str) -> User | None:
        if not email:
            return None
        if email not in self._accounts:
            user = User.objects.filter(email__iexact=email).order_by("pk").first()
            self._accounts[email] = user or do_find_or_create_reader(email)
            if len(self._accounts) > 10_000:  # a cache, not a copy of the users table
                self._accounts.clear()
        return self._accounts[email]

    def _insert(
        self,
        units: list["Unit"],
        placed: dict[tuple[int, str], "Placed"],
        fresh: dict[str, Thread],
    ) -> None:
        """Write the units' new comments with their votes, revisions and meta. `placed` has
        the comments already written, by (thread id, source id)."""
        tallies: dict[tuple[int, str], tuple[int, int]] = {}
        for unit in units:
            for vote in unit.votes:
                mark = (unit.thread_pk, vote["comment_key"])
                up, down = tallies.get(mark, (0, 0))
                tallies[mark] = (up + 1, down) if vote["value"] > 0 else (up, down + 1)
        # Ids are handed out here, parents before their replies, so that each row is ready
        # without a round trip; the rows then go in with one executemany, in that order.
        ordered = _parents_first([(unit, p) for unit in units for p in unit.new], placed)
        ids = iter(_reserve_ids(Comment, len(ordered)))
        rows = []
        for unit, item in ordered:
            parent = placed.get((unit.thread_pk, item.parent_key)) if item.parent_key else None
            pk = next(ids)
            placed[(unit.thread_pk, item.key)] = Placed(
                pk, parent.depth + 1 if parent else 1, parent.root if parent else pk, unit.thread_pk
            )
            voted_up, voted_down = tallies.get((unit.thread_pk, item.key), (0, 0))
            up = item.fields["upvotes"] + voted_up
            down = item.fields["downvotes"] + voted_down
            account = self._account(item.account_email)
            rows.append(
                {
                    **item.fields,
                    "id": pk,
                    "thread_id": unit.thread_pk,
                    "parent_id": parent.pk if parent else None,
                    "root_id": parent.root if parent else None,
                    "depth": parent.depth + 1 if parent else 1,
                    "account_id": account.pk if account else None,
                    "reply_count": item.reply_count if unit.uri in fresh else 0,
                    "upvotes": up,
                    "downvotes": down,
                    "score": up - down,
                }
            )
        _insert_rows(Comment, rows)
        self.outcome.votes.added += sum(p.tallies for u in units for p in u.new)
        self.outcome.quotes.added += sum(1 for u in units for p in u.new if p.fields["quote"])
        new_keys = {(u.thread_pk, p.key) for u in units for p in u.new}
        votes = [
            Vote(
                comment_id=placed[(unit.thread_pk, vote["comment_key"])].pk,
                reader_key=self._account_key(vote["voter"], vote.get("account_email", ""))
                if self.format == "parley"
                else _key80(f"{self.format}:", vote["voter"]),
                value=1 if vote["value"] > 0 else -1,
                created_at=_time(vote["created_at"]) or timezone.now(),
            )
            for unit in units
            for vote in unit.votes
            if (unit.thread_pk, vote["comment_key"]) in new_keys
        ]
        if votes:
            self.outcome.votes.added += len(Vote.objects.bulk_create(votes, batch_size=500))
        revisions = [
            CommentRevision(
                comment_id=placed[(unit.thread_pk, item.key)].pk,
                body=revision["body"],
                body_html=html.sanitise(revision["body_html"]),
                replaced_at=_time(revision["replaced_at"]) or timezone.now(),
            )
            for unit in units
            for item in unit.new
            for revision in item.revisions
        ]
        if revisions:
            CommentRevision.objects.bulk_create(revisions, batch_size=500)
        meta = [
            KeptItem(
                site=self.site,
                source=self.format,
                table="comment_meta",
                key=item.source_key[:150],
                data=without_raw_addresses(item.extra),
                reason="what the source says of a comment beyond its text (comment meta)",
            )
            for unit in units
            for item in unit.new
            if item.extra and not self._names_erased(item.extra)
        ]
        if meta:
            KeptItem.objects.bulk_create(meta, batch_size=500, ignore_conflicts=True)
            self.outcome.meta.added += len(meta)

    def _verify(self, units: list["Unit"]) -> None:
        """Read back what Parley now holds for each source thread and compare."""
        stored: dict[tuple[int, str], tuple[Any, ...]] = {}
        for start in range(0, len(units), 200):
            chunk = units[start : start + 200]
            rows = (
                Comment.objects.filter(thread_id__in={u.thread_pk for u in chunk})
                .filter(HAS_SOURCE)
                .values_list("thread_id", "source_key", "author_name", "created_at", "body",
                             "reader_key", "quote", "upvotes", "downvotes")
            )  # fmt: skip
            for thread_id, source_key, *values in rows:
                stored[(thread_id, source_key)] = tuple(values)
        for unit in units:
            imported = []
            for p in unit.prepared:
                row = stored.get((unit.thread_pk, p.source_key))
                if row is None:
                    continue
                name, created_at, body, reader_key, quoted, up, down = row
                imported.append((p.key, name, _iso(created_at), body))
                self._present_authors.add(reader_key)
                self.outcome.quotes.present += bool(quoted)
                self.outcome.votes.present += up + down
            verdict = unit.verdict
            verdict.present = len(imported)
            self.outcome.comments.present += len(imported)
            verdict.source_checksum = checksum((p.key, *p.source_row) for p in unit.prepared)
            verdict.expected_checksum = checksum(
                (p.key, p.fields["author_name"], _iso(p.fields["created_at"]), p.fields["body"])
                for p in unit.prepared
            )
            verdict.imported_checksum = checksum(imported)

    # Subscriptions and kept items ----------------------------------------------------

    def _subscriptions(self, unit: "Unit", thread: Thread) -> None:
        # A comment's source key may be its first source's (Parley's export keeps it).
        source_keys = {p.key: p.source_key for p in unit.prepared}
        tally = self.outcome.subscriptions
        for record in self.staging.subscriptions_of(unit.key):
            tally.source += 1
            email = record["email"].strip().lower()
            try:
                validate_email(email)
            except ValidationError:
                self.staging.skip("subscription", record["key"], f"{email[:80]!r} is not an "
                                  "e-mail address", record.get("where", ""))  # fmt: skip
                tally.source -= 1
                continue
            if self._is_erased(email):
                self.staging.skip("subscription", record["key"], ERASED, record.get("where", ""))
                tally.source -= 1
                continue
            comment_id = None
            if record["kind"] == "comment":
                comment_id = (
                    Comment.objects.filter(
                        thread=thread,
                        source_key=source_keys.get(record["comment_key"])
                        or self._source_key({"key": record["comment_key"]}),
                    )
                    .values_list("pk", flat=True)
                    .first()
                )
                if comment_id is None:
                    self.staging.skip("subscription", record["key"], "the comment it follows "
                                      f"({record['comment_key']}) is not in the source",
                                      record.get("where", ""))  # fmt: skip
                    tally.source -= 1
                    continue
            lookup = {"site": self.site, "uri": thread.uri, "email": email, "kind": record["kind"]}
            if comment_id is not None:
                lookup = {"email": email, "comment_id": comment_id}
            if Subscription.objects.filter(**lookup).exists():
                tally.present += 1
                continue
            created_at = _time(record["created_at"]) or timezone.now()
            confirmed_at = _time(record["confirmed_at"]) or (
                created_at if record["confirmed"] else None
            )
            Subscription.objects.create(
                site=self.site,
                uri=thread.uri,
                email=email,
                kind=record["kind"],
                comment_id=comment_id,
                account=self._account(record.get("account_email", "")),
                delivery=record["delivery"],
                lang=record.get("lang", "")[:10],
                reader_key=record.get("reader_key") or _key80(f"{self.format}:", _email_key(email)),
                created_at=created_at,
                confirmed_at=confirmed_at,
            )
            tally.present += 1
            tally.added += 1

    def _write_kept(self) -> None:
        tally = self.outcome.kept
        batch: list[KeptItem] = []
        for record in self.staging.kept():
            if self._names_erased(record["data"]):
                self.staging.skip(record["table"], record["key"], ERASED, record.get("where", ""))
                continue
            tally.source += 1
            batch.append(
                KeptItem(
                    site=self.site,
                    source=record.get("source") or self.format,
                    table=record["table"][:64],
                    key=record["key"][:150],
                    data=record["data"]
                    if self.format == "parley"
                    else without_raw_addresses(record["data"]),
                    reason=record["reason"][:300],
                )
            )
            if len(batch) >= 1000:
                self._save_kept(batch)
                batch = []
        self._save_kept(batch)

    def _save_kept(self, batch: list[KeptItem]) -> None:
        if not batch:
            return
        found = set(
            KeptItem.objects.filter(site=self.site, key__in=[k.key for k in batch]).values_list(
                "source", "table", "key"
            )
        )
        new = [k for k in batch if (k.source, k.table, k.key) not in found]
        self.outcome.kept.present += len(batch)
        if self.dry_run:
            self.outcome.kept.present -= len(new)
            self.outcome.kept.added += len(new)
            return
        KeptItem.objects.bulk_create(new, ignore_conflicts=True)
        self.outcome.kept.added += len(new)


def _parents_first(
    pending: list[tuple["Unit", "Prepared"]], placed: dict[tuple[int, str], "Placed"]
) -> list[tuple["Unit", "Prepared"]]:
    ready = {mark for mark in placed}
    ordered: list[tuple[Unit, Prepared]] = []
    while pending:
        level = [
            (u, p) for u, p in pending if not p.parent_key or (u.thread_pk, p.parent_key) in ready
        ]
        if not level:  # loops were cut in _break_loops; anything left is a bug
            raise AssertionError(f"comments with no reachable parent: {pending[:3]}")
        ordered += level
        ready.update((u.thread_pk, p.key) for u, p in level)
        done = {id(p) for _u, p in level}
        pending = [(u, p) for u, p in pending if id(p) not in done]
    return ordered


def _reserve_ids(model: type[Model], count: int) -> list[int]:
    """`count` new primary keys for `model`, taken inside the batch's transaction."""
    if not count:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so nobody else
        # takes an id meanwhile; AUTOINCREMENT never reuses one, hence sqlite_sequence.
        cursor.execute(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"  # noqa: S608
            f" (SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}))",
            [table],
        )
        first = cursor.fetchone()[0] + 1
        return list(range(first, first + count))


def _insert_rows(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """Rows straight into the table: the ORM's per-field preparation cost more than the
    database's work for a million comments."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if f.attname in rows[0]]
    columns = ", ".join(connection.ops.quote_name(f.attname) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(model._meta.db_table)
    datetimes = {f.attname for f in fields if f.get_internal_type() == "DateTimeField"}
    adapt = connection.ops.adapt_datetimefield_value
    values = [
        [adapt(row[f.attname]) if f.attname in datetimes else row[f.attname] for f in fields]
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: a fraction of the round trips and parsing of one INSERT per row.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row_values in values:
                    copy.write_row(row_values)
            return
        for start in range(0, len(values), 1000):
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 - model names
                values[start : start + 1000],
            )


@dataclass
class Unit:
    """One source thread on its way in."""

    key: str
    uri: str
    record: dict[str, Any]
    comments: list[dict[str, Any]]
    verdict: ThreadVerdict
    prepared: list["Prepared"] = field(default_factory=list)
    new: list["Prepared"] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    thread_pk: int = 0
    moved_from: str = ""  # the page an earlier run put this thread on


@dataclass
class Placed:
    """A comment already written: what its replies need."""

    pk: int
    depth: int
    root: int
    thread_id: int | None  # None: a dry run's move to a thread not made yet


@dataclass
class Prepared:
    key: str
    source_key: str
    parent_key: str
    source_row: tuple[str, str, str]  # (author, time, text) as the source has them
    changes: list[str]
    fields: dict[str, Any]
    account_email: str
    revisions: list[dict[str, Any]]
    extra: dict[str, Any]  # what else the source says of the comment: kept as a KeptItem
    tallies: int
    reply_count: int = 0

    def changes_with_key(self) -> list[str]:
        return [f"{self.key}: {change}" for change in self.changes]

    def orphan(self, why: str) -> None:
        self.parent_key = ""
        self.changes.append(f"{why}: shown as a top-level comment")


def _break_loops(prepared: list[Prepared]) -> None:
    """Replies whose parents lead round in a circle never reach a top-level comment; the
    first of each circle becomes top-level."""
    by_key = {p.key: p for p in prepared}
    settled: set[str] = set()
    for item in prepared:
        path: list[str] = []
        on_path: set[str] = set()
        node: Prepared | None = item
        while node is not None and node.key not in settled:
            if node.key in on_path:
                node.orphan("its replies form a loop")
                break
            path.append(node.key)
            on_path.add(node.key)
            node = by_key.get(node.parent_key) if node.parent_key else None
        settled.update(path)


K = TypeVar("K", str, int)


def _reply_counts(parent_of: dict[K, K | None], published: set[K]) -> dict[K, int]:
    """reply_count as Parley keeps it: the direct replies a reader sees — published ones,
    and placeholders of unpublished comments that have such replies themselves."""
    children: dict[K, list[K]] = defaultdict(list)
    for key, parent in parent_of.items():
        if parent is not None and parent in parent_of:
            children[parent].append(key)
    depth: dict[K, int] = {}
    for key in parent_of:
        chain: list[K] = []
        node: K | None = key
        while node is not None and node in parent_of and node not in depth:
            chain.append(node)
            node = parent_of[node]
        base = depth[node] if node is not None and node in depth else 0
        for offset, walked in enumerate(reversed(chain), start=1):
            depth[walked] = base + offset
    # Deepest first, so a comment's replies are counted before it is.
    counts: dict[K, int] = {}
    for key in sorted(parent_of, key=lambda k: -depth[k]):
        counts[key] = sum(1 for child in children[key] if child in published or counts[child])
    return counts


def _count_replies(prepared: list[Prepared]) -> None:
    """The reply counts of comments new to a thread that had none."""
    counts = _reply_counts(
        {p.key: p.parent_key or None for p in prepared},
        {p.key for p in prepared if p.fields["status"] == Comment.Status.PUBLISHED},
    )
    for item in prepared:
        item.reply_count = counts[item.key]


def _recount(thread: Thread) -> None:
    """Reply counts and the thread's count from what is stored, after comments joined a
    thread that already had some."""
    rows = list(thread.comments.values_list("pk", "parent_id", "status", "reply_count"))
    published = {pk for pk, _parent, state, _count in rows if state == Comment.Status.PUBLISHED}
    counts = _reply_counts({pk: parent for pk, parent, _state, _count in rows}, published)
    changed = [
        Comment(pk=pk, reply_count=counts[pk])
        for pk, _parent, _state, count in rows
        if counts[pk] != count
    ]
    Comment.objects.bulk_update(changed, ["reply_count"], batch_size=500)
    Thread.objects.filter(pk=thread.pk).update(published_count=len(published))
