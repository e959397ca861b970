"""Thread reads: three queries whatever the thread's size, then served from the cache.

A warm read does no database work: the serialised, gzip-compressed page is cached in the
process under the thread's current generation, which every committed write to the thread
replaces in the cache all processes share.
"""

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson
from django.core.cache import cache, caches
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from parley.core.compressed import Compressed
from parley.core.errors import Invalid, NotFound
from parley.realtime import hub
from parley.sites.models import Site

from .models import VISIBLE, Comment, Thread

Sort = Literal["newest", "oldest", "votes"]
SORTS: tuple[Sort, ...] = ("newest", "oldest", "votes")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_ORDER = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "votes": ("-score", "-id"),
}


@dataclass
class Node:
    """A comment as a thread shows it, with the replies nested under it."""

    comment: Comment
    level: int
    in_reply_to: str | None = None
    replies: list["Node"] = field(default_factory=list)
    in_thread: bool = True

    @property
    def is_placeholder(self) -> bool:
        """In a thread, an unpublished comment shows only to keep its replies' place: its
        text and author are not served, and readers see it as deleted."""
        return self.in_thread and self.comment.status != Comment.Status.PUBLISHED


@dataclass(frozen=True)
class PageQuery:
    """Which page of a thread: its order, size, where it starts, and whether it shows only
    inline feedback (comments that quote the article)."""

    sort: Sort = "newest"
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    inline: bool = False

    def check(self) -> None:
        if self.sort not in SORTS:
            raise Invalid(
                _("Sort by newest, oldest or votes."), fields={"sort": _("Unknown order.")}
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise Invalid(
                _("A page has 1 to %(n)d comments.") % {"n": MAX_LIMIT},
                fields={"limit": _("Out of range.")},
            )


@dataclass
class ThreadPage:
    site: Site
    uri: str
    thread: Thread | None
    query: PageQuery
    nodes: list[Node]
    next_cursor: str | None

    @property
    def count(self) -> int:
        return self.thread.published_count if self.thread else 0

    @property
    def sort(self) -> Sort:
        return self.query.sort

    @property
    def cursor(self) -> str | None:
        return self.query.cursor


def encode_cursor(comment: Comment, sort: Sort) -> str:
    key: Any = comment.score if sort == "votes" else comment.created_at.isoformat()
    return base64.urlsafe_b64encode(orjson.dumps([key, comment.pk])).decode().rstrip("=")


def _after_cursor(cursor: str, sort: Sort) -> Q:
    try:
        key, pk = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = int(key) if sort == "votes" else datetime.fromisoformat(key)
        pk = int(pk)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise Invalid(_("That cursor is not valid; start again from the first page.")) from None
    field_name = "score" if sort == "votes" else "created_at"
    if sort == "oldest":
        return Q(**{f"{field_name}__gt": key}) | Q(**{field_name: key, "pk__gt": pk})
    return Q(**{f"{field_name}__lt": key}) | Q(**{field_name: key, "pk__lt": pk})


def load_page(site_name: str, uri: str, query: PageQuery) -> ThreadPage:
    """One query for the thread, one for a page of top-level comments, one for their replies."""
    query.check()
    sort, limit = query.sort, query.limit
    after = _after_cursor(query.cursor, sort) if query.cursor else Q()
    if query.inline:
        after &= ~Q(quote="")
    thread = Thread.objects.select_related("site").filter(site__name=site_name, uri=uri).first()
    if thread is None:
        try:
            site = Site.objects.get(name=site_name)
        except Site.DoesNotExist:
            raise NotFound(_("There is no site named “%(name)s”.") % {"name": site_name}) from None
        return ThreadPage(site, uri, None, query, [], None)
    top: QuerySet[Comment] = Comment.objects.filter(VISIBLE, after, thread=thread, depth=1)
    roots = list(top.order_by(*_ORDER[sort])[: limit + 1])
    next_cursor = encode_cursor(roots[limit - 1], sort) if len(roots) > limit else None
    roots = roots[:limit]
    replies = Comment.objects.filter(VISIBLE, root__in=roots).order_by("created_at", "id")
    nodes = build_tree(roots, list(replies), thread.site.max_depth)
    return ThreadPage(thread.site, uri, thread, query, nodes, next_cursor)


def count_comments(site_name: str, uris: list[str]) -> dict[str, int]:
    """Published comments per uri, replies included; a page nobody commented on counts 0."""
    stored = dict(
        Thread.objects.filter(site__name=site_name, uri__in=uris).values_list(
            "uri", "published_count"
        )
    )
    if not stored and not Site.objects.filter(name=site_name).exists():
        raise NotFound(_("There is no site named “%(name)s”.") % {"name": site_name})
    return {uri: stored.get(uri, 0) for uri in uris}


def build_tree(roots: list[Comment], replies: list[Comment], max_depth: int) -> list[Node]:
    """Nest replies under their parents; a reply deeper than `max_depth` is shown at the
    deepest level, beside the comment it answers, and says whom it answers."""
    nodes: dict[int, Node] = {c.pk: Node(c, 1) for c in roots}
    holder: dict[int, Node] = {}  # the node whose `replies` list shows a reply
    for reply in replies:  # oldest first, so a parent is always placed before its replies
        parent = nodes.get(reply.parent_id or 0)
        if parent is None:  # the parent is hidden (pending or spam): so is the reply
            continue
        if parent.level < max_depth:
            node, holder[reply.pk] = Node(reply, parent.level + 1), parent
        else:
            node = Node(reply, parent.level, in_reply_to=parent.comment.author_name)
            holder[reply.pk] = holder.get(parent.comment.pk, parent)
        holder[reply.pk].replies.append(node)
        nodes[reply.pk] = node
    return [nodes[c.pk] for c in roots]


# --- JSON ---------------------------------------------------------------------------------


def avatar_url(comment: Comment) -> str:
    return reverse("avatar", args=[comment.avatar_hash])


def comment_json(node: Node) -> dict[str, Any]:
    c = node.comment
    deleted = node.is_placeholder
    return {
        "id": c.pk,
        "parent": c.parent_id,
        "level": node.level,
        "in_reply_to": node.in_reply_to,
        "author": {
            "name": "" if deleted else c.author_name,
            "url": None if deleted or not c.author_url else c.author_url,
            "avatar": None if deleted else avatar_url(c),
        },
        "html": "" if deleted else c.body_html,
        "created_at": c.created_at.isoformat(),
        "edited_at": c.edited_at.isoformat() if c.edited_at else None,
        "status": Comment.Status.DELETED.value if deleted else c.status,
        "score": c.score,
        "upvotes": c.upvotes,
        "downvotes": c.downvotes,
        "quote": None if deleted or not c.quote else c.quote,
        "quote_selector": None
        if deleted or not c.quote
        else {"exact": c.quote, "prefix": c.quote_prefix, "suffix": c.quote_suffix},
        "replies": [comment_json(r) for r in node.replies],
    }


def single_comment_json(comment: Comment) -> dict[str, Any]:
    """A comment outside its thread's tree (just posted, edited, or looked up alone)."""
    level = min(comment.depth, comment.thread.site.max_depth)
    return comment_json(Node(comment, level, in_thread=False))


def thread_json(page: ThreadPage) -> dict[str, Any]:
    thread = page.thread
    return {
        "thread": {
            "site": page.site.name,
            "uri": page.uri,
            "title": thread.title if thread else "",
            "closed": bool(thread and thread.is_closed),
            "count": page.count,
            "max_depth": page.site.max_depth,
        },
        "comments": [comment_json(n) for n in page.nodes],
        "next_cursor": page.next_cursor,
    }


# --- cache --------------------------------------------------------------------------------


def _generation_key(site_name: str, uri: str) -> str:
    digest = hashlib.sha256(f"{site_name}\n{uri}".encode()).hexdigest()[:32]
    return f"thread-gen:{digest}"


def invalidate(site_name: str, uri: str) -> None:
    """After a committed write: readers get a fresh page, live streams a wake-up."""
    key = _generation_key(site_name, uri)
    cache.set(key, time.time_ns(), timeout=None)
    hub.publish(key)


def stream_channel(site_name: str, uri: str) -> str:
    return _generation_key(site_name, uri)


def cached_body(
    kind: str, site_name: str, uri: str, params: tuple[Any, ...], render: Callable[[], bytes]
) -> Compressed:
    """The rendered body for (`kind`, thread, params), from the cache when the thread has not
    changed since it was stored; `render()` builds the bytes on a miss."""
    gen_key = _generation_key(site_name, uri)
    generation = cache.get(gen_key)
    if generation is None:
        generation = time.time_ns()
        if not cache.add(gen_key, generation, timeout=None):  # another process was first
            generation = cache.get(gen_key, generation)
    language = translation.get_language()
    key = f"{kind}:{gen_key}:{generation}:{language}:" + ":".join(map(str, params))
    rendered = caches["rendered"]
    entry = rendered.get(key)
    if entry is not None:
        return entry
    # One thread renders a page while the others with the same miss wait for it: a write to
    # a busy thread must not set every worker thread rendering the same page at once.
    with _render_lock(key):
        entry = rendered.get(key)
        if entry is None:
            entry = Compressed.of(render())
            rendered.set(key, entry, timeout=24 * 3600)
    with _render_locks_guard:
        _render_locks.pop(key, None)
    return entry


_render_locks: dict[str, threading.Lock] = {}
_render_locks_guard = threading.Lock()


def _render_lock(key: str) -> threading.Lock:
    with _render_locks_guard:
        return _render_locks.setdefault(key, threading.Lock())


def thread_json_body(site_name: str, uri: str, query: PageQuery) -> Compressed:
    """The JSON of a page of a thread, as `/api/v1/threads` serves it."""

    def render() -> bytes:
        return orjson.dumps(thread_json(load_page(site_name, uri, query)))

    return cached_body("json", site_name, uri, astuple(query), render)
