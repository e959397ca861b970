"""Staged records → Parley's tables: a batch of whole threads per transaction.

A batch is all or nothing, so a run stopped anywhere (Ctrl-C, a crash, a full disk) leaves
whole threads behind, and running the same import again finds every comment it already wrote
by its source key, adds only what is missing and changes nothing else. Imported comments go
around moderation and notifications: they were published (or not) on the old system, and
nobody should get an e-mail about a comment from 2014.
"""

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape

from parley.accounts.actions import do_find_or_create_reader
from parley.articles.models import Article
from parley.comments import reads
from parley.comments.models import Comment, CommentRevision, Subscription, Thread, Vote
from parley.core.markdown import render_markdown
from parley.core.readers import hash_ip
from parley.sites.models import Site

from . import html
from .models import KeptItem
from .records import NoteRecord
from .staging import Staging
from .urlmap import UrlMap

BATCH_COMMENTS = 2000
ANONYMOUS = "Anonymous"
_STATUSES = set(Comment.Status.values)


@dataclass
class Tally:
    source: int = 0  # in the source and meant to be imported
    present: int = 0  # in Parley after the run (added now or by an earlier run)
    added: int = 0


@dataclass
class ThreadVerdict:
    key: str
    uri: str
    matched: bool  # a --map-url rule matched its address
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
    articles: Tally = field(default_factory=Tally)
    gone_links: int = 0
    site_created: bool = False


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


def _key80(prefix: str, value: str) -> str:
    """A reader key (80 characters at most) for a source's author or voter."""
    key = f"{prefix}{value}"
    if len(key) <= 80:
        return key
    return prefix + hashlib.sha256(value.encode()).hexdigest()[:32]


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
            for thread, comments in batch:
                self._load_thread(thread, comments)
            return
        with transaction.atomic():
            # Two imports into one site take turns, so neither adds what the other just did.
            Site.objects.select_for_update().filter(pk=self.site.pk).first()
            for thread, comments in batch:
                self._load_thread(thread, comments)

    # One thread --------------------------------------------------------------------

    def _uri_for(self, thread: dict[str, Any], article: Article | None) -> tuple[str, bool]:
        if article is not None:
            return article.uri, True
        if not thread["url"]:
            return f"/imported/{self.format}/{quote(thread['key'], safe='')}/", False
        uri, matched = self.urlmap.map(thread["url"])
        return uri[:500], matched

    def _load_thread(self, record: dict[str, Any], comments: list[dict[str, Any]]) -> None:
        key = record["key"]
        article = self._article(key)
        uri, matched = self._uri_for(record, article)
        if not record["url"] and article is None:
            self.staging.add(NoteRecord(
                f"Thread {key} has no address in the source; its comments are kept under "
                f"{uri}: moderators see them, no page shows them until they are moved."
            ))  # fmt: skip
        verdict = ThreadVerdict(key=key, uri=uri, matched=matched)
        self.outcome.threads.append(verdict)
        thread = self._thread(record, uri)
        is_new = thread is not None and thread.comments.exists() is False
        existing, comments = self._existing(comments, thread)
        prepared = self._prepare_all(comments, verdict)
        new = [p for p in prepared if p.source_key not in existing]
        verdict.source = len(prepared)
        verdict.added = len(new)
        self.outcome.comments.source += len(prepared)
        self.outcome.comments.added += len(new)
        votes = self.staging.votes_of(key)
        self.outcome.votes.source += len(votes) + sum(p.tallies for p in prepared)
        self.outcome.quotes.source += sum(1 for p in prepared if p.fields["quote"])
        for p in prepared:
            self._source_authors.add(p.fields["reader_key"])
        if self.dry_run or thread is None:
            verdict.present = len(prepared) - len(new)
            self.outcome.comments.present += verdict.present
            self.outcome.subscriptions.source += len(self.staging.subscriptions_of(key))
            return
        if new:
            placed = {p.key: existing[p.source_key] for p in prepared if p.source_key in existing}
            self._insert(thread, new, placed, votes, counted=is_new)
            if is_new:
                published = sum(1 for p in new if p.fields["status"] == Comment.Status.PUBLISHED)
                Thread.objects.filter(pk=thread.pk).update(published_count=published)
            else:
                _recount(thread)
            thread_site, thread_uri = self.site.name, thread.uri
            transaction.on_commit(lambda: reads.invalidate(thread_site, thread_uri))
        self._subscriptions(key, thread)
        self._verify(verdict, thread, prepared)

    def _article(self, thread_key: str) -> Article | None:
        if not self.articles:
            return None
        record = self.staging.article_of(thread_key)
        if record is None:
            return None
        slug = (record["slug"] or f"{self.format}-{record['key']}")[:120]
        found = Article.objects.filter(site=self.site, slug=slug).first()
        if found is not None or self.dry_run:
            self.outcome.articles.source += 1
            self.outcome.articles.present += found is not None
            return found
        if Article.objects.filter(slug=slug).exists():  # another site's article
            slug = f"{slug[:100]}-{self.site.name}"[:120]
        body = (
            record["body"]
            if record["body_format"] == "markdown"
            else html.as_markdown(record["body"])
        )
        article = Article.objects.create(
            site=self.site,
            slug=slug,
            headline=record["title"][:300] or slug,
            dek=record.get("dek", "")[:500],
            author_name=record["author_name"][:200],
            published_at=_time(record["published_at"]),
            body=body,
        )
        self.outcome.articles.source += 1
        self.outcome.articles.present += 1
        self.outcome.articles.added += 1
        return article

    def _thread(self, record: dict[str, Any], uri: str) -> Thread | None:
        title = record["title"][:300]
        thread = Thread.objects.filter(site=self.site, uri=uri).first()
        if thread is not None or self.dry_run:
            if thread is not None and title and not thread.title:
                thread.title = title
                thread.save(update_fields=["title"])
            return thread
        return Thread.objects.create(
            site=self.site,
            uri=uri,
            title=title,
            created_at=_time(record["created_at"]) or timezone.now(),
            closed_at=_time(record["closed_at"]),
        )

    def _existing(
        self, comments: list[dict[str, Any]], thread: Thread | None
    ) -> tuple[dict[str, "Placed"], list[dict[str, Any]]]:
        """Comments of these source keys already in Parley (from an earlier run), and the
        records still to consider: one an earlier run put on another page stays there."""
        keys = [self._source_key(c) for c in comments]
        found: dict[str, Placed] = {}
        for start in range(0, len(keys), 5000):
            rows = Comment.objects.filter(
                thread__site=self.site, source_key__in=keys[start : start + 5000]
            ).values_list("source_key", "pk", "thread_id", "depth", "root_id")
            for source_key, pk, thread_id, depth, root_id in rows:
                found[source_key] = Placed(pk, depth, root_id or pk, thread_id)
        here = thread.pk if thread is not None else None
        elsewhere = {k for k, p in found.items() if p.thread_id != here}
        for source_key in elsewhere:
            self.staging.skip(
                "comment", source_key, "an earlier import put it on another page; it stays there"
            )
            del found[source_key]
        return found, [c for c in comments if self._source_key(c) not in elsewhere]

    def _source_key(self, record: dict[str, Any]) -> str:
        return record.get("source_key") or f"{self.format}:{record['key']}"

    # Comments ----------------------------------------------------------------------

    def _prepare_all(
        self, records: list[dict[str, Any]], verdict: ThreadVerdict
    ) -> list["Prepared"]:
        by_key = {r["key"]: r for r in records}
        prepared = [self._prepare(r) for r in records]
        for item in prepared:
            parent = item.parent_key
            if not parent:
                continue
            if parent == item.key:
                item.orphan("it names itself as its parent")
            elif parent not in by_key:
                item.orphan(f"its parent ({parent}) is not in the source")
        _break_loops(prepared)
        for item in prepared:
            verdict.changes.extend(f"{item.key}: {change}" for change in item.changes)
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
        if len(url) > 500:
            changes.append("author's web address longer than 500 characters: left out")
            url = ""
        status = record["status"]
        if status not in _STATUSES:
            changes.append(f"unknown status {status!r}: held for a moderator")
            status = Comment.Status.PENDING
        if self.format == "parley":
            reader_key = record["reader_key"] or _key80("parley:", record["key"])
            ip_hash = record["ip_hash"]
        else:
            author = (
                f"u:{record['author_id']}"
                if record["author_id"]
                else f"e:{hashlib.sha256(email.lower().encode()).hexdigest()[:24]}"
                if email
                else f"n:{name}"
            )
            reader_key = _key80(f"{self.format}:", author)
            ip_hash = hash_ip(record["ip"]) if record["ip"] else ""
        body_html = self._render(record, body)
        quote = _no_nul(record["quote"], changes, "quoted passage")
        created_at = _time(record["created_at"])
        assert created_at is not None
        return Prepared(
            key=record["key"],
            source_key=self._source_key(record),
            parent_key=record["parent_key"],
            source_row=(record["author_name"], _iso(created_at), record["body"]),
            changes=changes,
            account_email=record.get("account_email", ""),
            revisions=record.get("revisions", []),
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
                "source_key": self._source_key(record),
            },
        )

    def _render(self, record: dict[str, Any], body: str) -> str:
        if record.get("body_html"):
            rendered = html.clean(record["body_html"])
        elif record["body_format"] == "html":
            rendered = html.clean(body)
        elif record["body_format"] == "markdown":
            rendered = render_markdown(body)
        else:
            rendered = html.clean(escape(body))
        self.outcome.gone_links += html.gone_links(rendered)
        return rendered

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
        thread: Thread,
        new: list["Prepared"],
        placed: dict[str, "Placed"],
        votes: list[dict[str, Any]],
        *,
        counted: bool,
    ) -> None:
        """Write `new`; `placed` has the thread's comments already written, by source id.
        `counted`: the thread had no comments, so reply counts are worked out here."""
        by_comment: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for vote in votes:
            by_comment[vote["comment_key"]].append(vote)
        if counted:
            _count_replies(new)
        new_keys = {p.key for p in new}
        pending = list(new)
        while pending:
            # A level at a time: each comment's parent has its id before the comment is made.
            level = [p for p in pending if not p.parent_key or p.parent_key in placed]
            if not level:  # parents in a loop were cut; anything left has none in reach
                raise AssertionError(f"comments without a reachable parent: {pending[:3]}")
            rows = []
            for item in level:
                parent = placed.get(item.parent_key) if item.parent_key else None
                up, down = item.fields["upvotes"], item.fields["downvotes"]
                for vote in by_comment.get(item.key, ()):
                    up, down = (up + 1, down) if vote["value"] > 0 else (up, down + 1)
                rows.append(
                    Comment(
                        thread=thread,
                        parent_id=parent.pk if parent else None,
                        root_id=parent.root if parent else None,
                        depth=parent.depth + 1 if parent else 1,
                        account=self._account(item.account_email),
                        reply_count=item.reply_count,
                        **{**item.fields, "upvotes": up, "downvotes": down, "score": up - down},
                    )
                )
            for item, comment in zip(level, Comment.objects.bulk_create(rows), strict=True):
                placed[item.key] = Placed(
                    comment.pk, comment.depth, comment.root_id or comment.pk, thread.pk
                )
            level_keys = {p.key for p in level}
            pending = [p for p in pending if p.key not in level_keys]
        self.outcome.votes.added += sum(p.tallies for p in new)
        written = Vote.objects.bulk_create(
            Vote(
                comment_id=placed[vote["comment_key"]].pk,
                reader_key=vote["voter"]
                if self.format == "parley"
                else _key80(f"{self.format}:", vote["voter"]),
                value=1 if vote["value"] > 0 else -1,
                created_at=_time(vote["created_at"]) or timezone.now(),
            )
            for vote in votes
            if vote["comment_key"] in new_keys
        )
        self.outcome.votes.added += len(written)
        CommentRevision.objects.bulk_create(
            CommentRevision(
                comment_id=placed[item.key].pk,
                body=revision["body"],
                body_html=html.clean(revision["body_html"]),
                replaced_at=_time(revision["replaced_at"]) or timezone.now(),
            )
            for item in new
            for revision in item.revisions
        )

    def _verify(self, verdict: ThreadVerdict, thread: Thread, prepared: list["Prepared"]) -> None:
        wanted = {p.source_key: p for p in prepared}
        stored = Comment.objects.filter(
            thread=thread, source_key__in=list(wanted)
        ).values_list("source_key", "author_name", "created_at", "body", "reader_key", "quote",
                      "upvotes", "downvotes")  # fmt: skip
        imported = []
        for source_key, name, created_at, body, reader_key, quoted, up, down in stored:
            imported.append((wanted[source_key].key, name, _iso(created_at), body))
            self._present_authors.add(reader_key)
            self.outcome.quotes.present += bool(quoted)
            self.outcome.votes.present += up + down
        verdict.present = len(imported)
        self.outcome.comments.present += len(imported)
        verdict.source_checksum = checksum((p.key, *p.source_row) for p in prepared)
        verdict.expected_checksum = checksum(
            (p.key, p.fields["author_name"], _iso(p.fields["created_at"]), p.fields["body"])
            for p in prepared
        )
        verdict.imported_checksum = checksum(imported)

    # Subscriptions and kept items ----------------------------------------------------

    def _subscriptions(self, thread_key: str, thread: Thread) -> None:
        tally = self.outcome.subscriptions
        for record in self.staging.subscriptions_of(thread_key):
            tally.source += 1
            email = record["email"].strip().lower()
            try:
                validate_email(email)
            except ValidationError:
                self.staging.skip("subscription", record["key"], f"{email[:80]!r} is not an "
                                  "e-mail address", record.get("where", ""))  # fmt: skip
                tally.source -= 1
                continue
            comment_id = None
            if record["kind"] == "comment":
                comment_id = (
                    Comment.objects.filter(
                        thread=thread, source_key=self._source_key({"key": record["comment_key"]})
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
                reader_key=_key80(
                    f"{self.format}:", f"e:{hashlib.sha256(email.encode()).hexdigest()[:24]}"
                ),
                created_at=created_at,
                confirmed_at=confirmed_at,
            )
            tally.present += 1
            tally.added += 1

    def _write_kept(self) -> None:
        tally = self.outcome.kept
        batch: list[KeptItem] = []
        for record in self.staging.kept():
            tally.source += 1
            batch.append(
                KeptItem(
                    site=self.site,
                    source=record.get("source") or self.format,
                    table=record["table"][:64],
                    key=record["key"][:150],
                    data=record["data"],
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
            return
        KeptItem.objects.bulk_create(new, ignore_conflicts=True)
        self.outcome.kept.added += len(new)


@dataclass
class Placed:
    """A comment already written: what its replies need."""

    pk: int
    depth: int
    root: int
    thread_id: int


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
    tallies: int
    reply_count: int = 0

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


def _count_replies(prepared: list[Prepared]) -> None:
    """reply_count as Parley keeps it: the direct replies a reader sees — published ones,
    and placeholders of unpublished comments that have such replies themselves."""
    by_key = {p.key: p for p in prepared}
    children: dict[str, list[Prepared]] = defaultdict(list)
    for item in prepared:
        if item.parent_key in by_key:
            children[item.parent_key].append(item)

    def visible(item: Prepared) -> bool:
        return item.fields["status"] == Comment.Status.PUBLISHED or item.reply_count > 0

    # Deepest first, so a comment's replies are counted before it is.
    depth: dict[str, int] = {}
    for item in prepared:
        chain, node = 0, item
        while node.parent_key in by_key and chain <= len(prepared):
            chain, node = chain + 1, by_key[node.parent_key]
        depth[item.key] = chain
    for item in sorted(prepared, key=lambda p: -depth[p.key]):
        item.reply_count = sum(1 for child in children[item.key] if visible(child))


def _recount(thread: Thread) -> None:
    """Reply counts and the thread's count from what is stored, after comments joined a
    thread that already had some."""
    rows = list(thread.comments.values_list("pk", "parent_id", "status", "reply_count", "depth"))
    children: dict[int, list[int]] = defaultdict(list)
    status = {}
    for pk, parent_id, state, _count, _depth in rows:
        status[pk] = state
        if parent_id is not None:
            children[parent_id].append(pk)
    counts: dict[int, int] = {}
    for pk, _parent, _state, _count, _depth in sorted(rows, key=lambda r: -r[4]):
        counts[pk] = sum(
            1
            for child in children[pk]
            if status[child] == Comment.Status.PUBLISHED or counts.get(child, 0) > 0
        )
    changed = [
        Comment(pk=pk, reply_count=counts[pk]) for pk, *_rest in rows if counts[pk] != _rest[2]
    ]
    Comment.objects.bulk_update(changed, ["reply_count"], batch_size=500)
    published = sum(1 for state in status.values() if state == Comment.Status.PUBLISHED)
    Thread.objects.filter(pk=thread.pk).update(published_count=published)
