"""Parley's own export: one site as one versioned JSON document (docs/export-format.md).

The document is written item by item and never held whole: each array item on a line of its
own, so `readers/parley.py` reads it back line by line while it stays one valid JSON
document any JSON tool opens.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Protocol

import orjson
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Model, Q, QuerySet
from django.forms.models import model_to_dict
from django.utils import timezone

from parley.articles.models import Figure
from parley.comments.models import Comment, CommentRevision, Subscription, Thread, Vote
from parley.imports.models import KeptItem
from parley.moderation.models import Policy
from parley.sites.models import Site

FORMAT = "parley-export"
VERSION = 1
# The arrays of the document, in the order they are written: threads before the comments
# in them, comments (by id, so parents first) before their votes and subscriptions.
SECTIONS = ("articles", "threads", "comments", "votes", "subscriptions", "kept")
CHUNK = 2000
# The hosted scorer's key is a credential, not a setting: it is left out, to be entered again.
POLICY_LEFT_OUT = ["id", "site", "hosted_scorer_key"]
# A site's settings as the export writes them and an import creates a site from them; the
# rest (name, moderators) is per install.
SITE_SETTINGS = (
    "title",
    "domains",
    "origins",
    "moderation",
    "max_depth",
    "edit_window_minutes",
    "max_body_length",
    "account_deletion",
)


class Output(Protocol):
    """A file, standard output or a gzip stream."""

    def write(self, data: bytes, /) -> object: ...


def stamp(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds: 2026-11-02T08:15:30.250000Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Upto:
    """The last rows that existed when the export began. On a live site readers go on
    commenting while the arrays are written one after another; what they add meanwhile is
    left for the next export, so no comment in the file names a thread that is not in it."""

    thread: int
    comment: int
    vote: int
    subscription: int

    @classmethod
    def now(cls) -> "Upto":
        def last(model: type[Model]) -> int:
            return model._default_manager.aggregate(last=Max("id"))["last"] or 0

        return cls(last(Thread), last(Comment), last(Vote), last(Subscription))


def write_export(site: Site, out: Output) -> dict[str, int]:
    """Writes the site's document to `out`; returns how many items each array got."""
    header = {"format": FORMAT, "version": VERSION, "exported_at": stamp(timezone.now())}
    out.write(orjson.dumps(header)[:-1] + b",\n")
    out.write(b'"site":' + orjson.dumps(_site(site)) + b",\n")
    upto = Upto.now()
    items = {
        "articles": _articles(site),
        "threads": _threads(site, upto),
        "comments": _comments(site, upto),
        "votes": _votes(site, upto),
        "subscriptions": _subscriptions(site, upto),
        "kept": _kept(site),
    }
    counts = {}
    for name in SECTIONS:
        out.write(b'"' + name.encode() + b'":[\n')
        counts[name] = _write_array(items[name], out)
        out.write(b"],\n" if name != SECTIONS[-1] else b"]\n")
    out.write(b"}\n")
    return counts


def _write_array(items: Iterable[dict[str, Any]], out: Output) -> int:
    """One item a line, a comma after each but the last (hence writing one behind)."""
    count, previous = 0, None
    for item in items:
        if previous is not None:
            out.write(previous + b",\n")
        previous = orjson.dumps(item)
        count += 1
    if previous is not None:
        out.write(previous + b"\n")
    return count


def _site(site: Site) -> dict[str, Any]:
    policy = Policy.objects.filter(site=site).first()
    return {
        "name": site.name,
        **{key: getattr(site, key) for key in SITE_SETTINGS},
        "created_at": stamp(site.created_at),
        "moderators": sorted(site.moderators.exclude(email="").values_list("email", flat=True)),
        "moderation_policy": policy and model_to_dict(policy, exclude=POLICY_LEFT_OUT),
    }


def _batches(rows: QuerySet[Any]) -> Iterator[list[Any]]:
    """The rows a chunk at a time, for one look-up of what each chunk refers to."""
    iterator = rows.iterator(chunk_size=CHUNK)
    while batch := list(islice(iterator, CHUNK)):
        yield batch


def _articles(site: Site) -> Iterator[dict[str, Any]]:
    for batch in _batches(site.articles.order_by("id")):
        figures: dict[int, list[dict[str, Any]]] = {}
        for figure in Figure.objects.filter(article__in=batch).order_by("position"):
            figures.setdefault(figure.article_id, []).append(
                {
                    "position": figure.position,
                    "file": figure.image.name,
                    "width": figure.width,
                    "height": figure.height,
                    "caption": figure.caption,
                    "alt": figure.alt,
                }
            )
        for article in batch:
            yield {
                "id": article.pk,
                "uri": article.uri,
                "slug": article.slug,
                "headline": article.headline,
                "dek": article.dek,
                "author_name": article.author_name,
                "published_at": stamp(article.published_at),
                "updated_at": stamp(article.updated_at),
                "body": article.body,
                # The image files are copied separately, from media/ in the data directory.
                "figures": figures.get(article.pk, []),
            }


def _threads(site: Site, upto: Upto) -> Iterator[dict[str, Any]]:
    threads = Thread.objects.filter(site=site, id__lte=upto.thread).order_by("id")
    for thread in threads.iterator(chunk_size=CHUNK):
        yield {
            "uri": thread.uri,
            "title": thread.title,
            "created_at": stamp(thread.created_at),
            "closed_at": stamp(thread.closed_at),
        }


def _comments(site: Site, upto: Upto) -> Iterator[dict[str, Any]]:
    comments: QuerySet[Comment] = (
        Comment.objects.filter(thread__site=site, id__lte=upto.comment, thread__lte=upto.thread)
        .annotate(
            thread_uri=F("thread__uri"),
            account_email=F("account__email"),
            listed_up=Count("votes", filter=Q(votes__value=1)),
            listed_down=Count("votes", filter=Q(votes__value=-1)),
        )
        .order_by("id")
    )
    # Revisions one query a chunk (prefetch_related on an iterator holds on to far more).
    for batch in _batches(comments):
        revisions: dict[int, list[dict[str, Any]]] = {}
        edited = [comment.pk for comment in batch if comment.edited_at is not None]
        for revision in CommentRevision.objects.filter(comment__in=edited).order_by(
            "replaced_at", "id"
        ):
            revisions.setdefault(revision.comment_id, []).append(
                {
                    "body": revision.body,
                    "body_html": revision.body_html,
                    "replaced_at": stamp(revision.replaced_at),
                }
            )
        for comment in batch:
            yield _comment(comment, revisions.get(comment.pk, []))


def _comment(comment: Any, revisions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": comment.pk,
        "thread": comment.thread_uri,
        "parent": comment.parent_id,
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_url": comment.author_url,
        "account_email": comment.account_email or "",
        "reader_key": comment.reader_key,
        "ip_hash": comment.ip_hash,
        "body": comment.body,
        "body_html": comment.body_html,
        "quote": comment.quote,
        "quote_prefix": comment.quote_prefix,
        "quote_suffix": comment.quote_suffix,
        "status": comment.status,
        "created_at": stamp(comment.created_at),
        "edited_at": stamp(comment.edited_at),
        # Votes with no voter (tallies an import brought); the votes array has the others.
        "upvotes": max(comment.upvotes - comment.listed_up, 0),
        "downvotes": max(comment.downvotes - comment.listed_down, 0),
        "revisions": revisions,
        "source_key": comment.source_key,
    }


def _votes(site: Site, upto: Upto) -> Iterator[dict[str, Any]]:
    votes = Vote.objects.filter(
        comment__thread__site=site, id__lte=upto.vote, comment__lte=upto.comment
    ).order_by("id")
    # A signed-in reader votes as "u:<account id>", which means nothing to another install:
    # the vote names the account's address too.
    for batch in _batches(votes):
        account_ids = {v.reader_key[2:] for v in batch if v.reader_key.startswith("u:")}
        emails = dict(
            get_user_model()
            .objects.filter(pk__in=[i for i in account_ids if i.isdigit()])
            .values_list("pk", "email")
        )
        for vote in batch:
            account = vote.reader_key[2:] if vote.reader_key.startswith("u:") else ""
            yield {
                "comment": vote.comment_id,
                "reader_key": vote.reader_key,
                "account_email": emails.get(int(account), "") if account.isdigit() else "",
                "value": vote.value,
                "created_at": stamp(vote.created_at),
            }


def _subscriptions(site: Site, upto: Upto) -> Iterator[dict[str, Any]]:
    subscriptions = (
        Subscription.objects.filter(site=site, id__lte=upto.subscription)
        .exclude(comment__gt=upto.comment)
        .annotate(account_email=F("account__email"))
        .order_by("id")
    )
    for subscription in subscriptions.iterator(chunk_size=CHUNK):
        yield {
            "id": subscription.pk,
            "uri": subscription.uri,
            "email": subscription.email,
            "kind": subscription.kind,
            "comment": subscription.comment_id,
            "delivery": subscription.delivery,
            "lang": subscription.lang,
            "reader_key": subscription.reader_key,
            "account_email": subscription.account_email or "",  # type: ignore[attr-defined]
            "created_at": stamp(subscription.created_at),
            "confirmed_at": stamp(subscription.confirmed_at),
        }


def _kept(site: Site) -> Iterator[dict[str, Any]]:
    for item in KeptItem.objects.filter(site=site).order_by("id").iterator(chunk_size=CHUNK):
        yield {
            "source": item.source,
            "table": item.table,
            "key": item.key,
            "data": item.data,
            "reason": item.reason,
            "imported_at": stamp(item.imported_at),
        }
