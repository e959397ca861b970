"""Thread reads: three queries whatever the thread's size, then served from the cache.

A warm read does no database work: the serialised, gzip-compressed page is cached in the
process under the thread's current generation, which every committed write to the thread
replaces in the cache all processes share.

A held comment (pending or spam) shows to its author alone. Beside the pages, each
generation keeps the set of readers with a held comment in the thread: anyone else gets
the shared page, and only such an author gets a page of their own, cached under their key.
"""

import base64
import binascii
import hashlib
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import orjson
from django.conf import settings
from django.core.cache import cache, caches
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from parley.core.compressed import Compressed
from parley.core.errors import Invalid, NotFound
from parley.core.readers import (
    READER_COOKIE,
    READER_HEADER,
    SESSION_HEADER,
    reader_key_from_token,
    session_user,
)
from parley.moderation import gate
from parley.realtime import hub
from parley.sites.models import Site

from .models import VISIBLE, Comment, Thread

# Held for a moderator: shown to the comment's author, to nobody else.
HELD = (Comment.Status.PENDING, Comment.Status.SPAM)

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
    # Set on the reader's own held comment: what its author is told ("pending", or
    # "published" for a shadow-banned author). It shows in full, and takes no replies.
    told: str | None = None
    # The author's account gave to one of the site's campaigns: shown with a badge.
    supporter: bool = False

    @property
    def is_placeholder(self) -> bool:
        """In a thread, an unpublished comment shows only to keep its replies' place: its
        text and author are not served, and readers see it as deleted."""
        return self.in_thread and self.comment.status != Comment.Status.PUBLISHED and not self.told

    @property
    def awaiting(self) -> bool:
        """Shown to its author marked "Awaiting moderation"."""
        return self.told == "pending"


@dataclass(frozen=True)
class PageQuery:
    """Which page of a thread: its order, size, where it starts, and whether it shows only
    inline feedback (comments that quote the article)."""

    sort: Sort = "newest"
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    inline: bool = False

    def check(self) -> None:
        """Refuses an unknown order, a size out of range or a cursor that is not one."""
        if self.sort not in SORTS:
            raise Invalid(
                _("Sort by newest, oldest or votes."), fields={"sort": _("Unknown order.")}
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise Invalid(
                _("A page has 1 to %(n)d comments.") % {"n": MAX_LIMIT},
                fields={"limit": _("Out of range.")},
            )
        if self.cursor:
            _after_cursor(self.cursor, self.sort)


@dataclass
class ThreadPage:
    site: Site
    uri: str
    thread: Thread | None
    query: PageQuery
    nodes: list[Node]
    next_cursor: str | None
    # The reader's own held comments in the thread: id → what they are told.
    own: dict[int, str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Published comments; a shadow-banned author's own count as published to them."""
        shadow = sum(told == "published" for told in self.own.values())
        return (self.thread.published_count if self.thread else 0) + shadow

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
        key = int(key) if sort == "votes" else datetime.fromisoformat(key).astimezone(UTC)
        pk = int(pk)
    except (ValueError, TypeError, OverflowError, binascii.Error, orjson.JSONDecodeError):
        raise Invalid(_("That cursor is not valid; start again from the first page.")) from None
    field_name = "score" if sort == "votes" else "created_at"
    if sort == "oldest":
        return Q(**{f"{field_name}__gt": key}) | Q(**{field_name: key, "pk__gt": pk})
    return Q(**{f"{field_name}__lt": key}) | Q(**{field_name: key, "pk__lt": pk})


def _nobody(site_id: int, account_ids: Collection[int]) -> set[int]:
    return set()


# Which of these accounts gave to a campaign of the site. The funding app sets it when it
# starts: it comes after comments in the layers, so threads never import it.
_supporter_lookup: Callable[[int, Collection[int]], set[int]] = _nobody


def set_supporter_lookup(lookup: Callable[[int, Collection[int]], set[int]]) -> None:
    global _supporter_lookup
    _supporter_lookup = lookup


def load_page(site_name: str, uri: str, query: PageQuery, reader: str | None = None) -> ThreadPage:
    """One query for the thread, one for a page of top-level comments, one for their replies,
    one for which of their signed-in authors are supporters (none when no author signed in);
    for a `reader` with held comments in the thread, a few more to show them theirs."""
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
    own = _own_held(thread, reader) if reader else {}
    shown = VISIBLE | Q(pk__in=own) if own else VISIBLE
    top: QuerySet[Comment] = Comment.objects.filter(shown, after, thread=thread, depth=1)
    roots = list(top.order_by(*_ORDER[sort])[: limit + 1])
    next_cursor = encode_cursor(roots[limit - 1], sort) if len(roots) > limit else None
    roots = roots[:limit]
    replies = list(Comment.objects.filter(shown, root__in=roots).order_by("created_at", "id"))
    accounts = {c.account_id for c in (*roots, *replies) if c.account_id is not None}
    supporters = _supporter_lookup(thread.site_id, accounts) if accounts else set()
    nodes = build_tree(roots, replies, thread.site.max_depth, own, supporters)
    return ThreadPage(thread.site, uri, thread, query, nodes, next_cursor, own)


def _own_held(thread: Thread, reader: str) -> dict[int, str]:
    """The reader's held comments in `thread`, each with what its author is told."""
    mine = Q(reader_key=reader)
    if reader.startswith("u:") and reader[2:].isdigit():
        mine |= Q(account_id=int(reader[2:]))
    held = Comment.objects.filter(mine, thread=thread, status__in=HELD)
    return {comment.pk: gate.status_for_author(comment) for comment in held}


def count_comments(site_name: str, uris: list[str]) -> dict[str, int]:
    """Published comments per uri, replies included; a page nobody commented on counts 0.
    Kept in the process's cache under the generations of the threads asked for, so the
    database is asked again only after a write to one of them."""
    gen_keys = [_generation_key(site_name, uri) for uri in uris]
    known = cache.get_many(gen_keys)
    generations = [known.get(key) or _generation(key) for key in gen_keys]
    digest = hashlib.sha256(orjson.dumps([site_name, uris, generations])).hexdigest()
    rendered = caches["rendered"]
    counts: dict[str, int] | None = rendered.get(f"counts:{digest}")
    if counts is None:
        counts = _count_stored(site_name, uris)
        rendered.set(f"counts:{digest}", counts, timeout=_KEEP)
    return counts


def _count_stored(site_name: str, uris: list[str]) -> dict[str, int]:
    stored = dict(
        Thread.objects.filter(site__name=site_name, uri__in=uris).values_list(
            "uri", "published_count"
        )
    )
    if not stored and not Site.objects.filter(name=site_name).exists():
        raise NotFound(_("There is no site named “%(name)s”.") % {"name": site_name})
    return {uri: stored.get(uri, 0) for uri in uris}


def build_tree(
    roots: list[Comment],
    replies: list[Comment],
    max_depth: int,
    own: dict[int, str] | None = None,
    supporters: Collection[int] = (),
) -> list[Node]:
    """Nest replies under their parents; a reply deeper than `max_depth` is shown at the
    deepest level, beside the comment it answers, and says whom it answers. `own`: the
    reader's held comments, shown to them in full with what they are told; `supporters`:
    the accounts whose comments show the supporter badge."""
    own = own or {}

    def node(c: Comment, level: int, **extra: Any) -> Node:
        return Node(c, level, told=own.get(c.pk), supporter=c.account_id in supporters, **extra)

    nodes: dict[int, Node] = {c.pk: node(c, 1) for c in roots}
    holder: dict[int, Node] = {}  # the node whose `replies` list shows a reply
    for reply in replies:  # oldest first, so a parent is always placed before its replies
        parent = nodes.get(reply.parent_id or 0)
        if parent is None:  # the parent is hidden (pending or spam): so is the reply
            continue
        if parent.level < max_depth:
            shown, holder[reply.pk] = node(reply, parent.level + 1), parent
        else:
            shown = node(reply, parent.level, in_reply_to=parent.comment.author_name)
            holder[reply.pk] = holder.get(parent.comment.pk, parent)
        holder[reply.pk].replies.append(shown)
        nodes[reply.pk] = shown
    return [nodes[c.pk] for c in roots]


# --- JSON ---------------------------------------------------------------------------------


def avatar_url(comment: Comment) -> str:
    return reverse("avatar", args=[comment.avatar_hash])


def _status_json(node: Node) -> str:
    """Readers see a placeholder as deleted, whatever removed it; an author never learns
    that their comment went to spam or that they are shadow-banned."""
    c = node.comment
    if node.told:
        return node.told
    if node.is_placeholder or c.status == Comment.Status.REJECTED:
        return Comment.Status.DELETED.value
    if c.status in HELD:  # outside a thread: shown to its author (or to staff) alone
        return gate.status_for_author(c)
    return c.status


# Taken back by its author or a moderator: never served again, in a thread or alone.
GONE = (Comment.Status.DELETED, Comment.Status.REJECTED)


def comment_json(node: Node) -> dict[str, Any]:
    c = node.comment
    deleted = node.is_placeholder or c.status in GONE
    return {
        "id": c.pk,
        "parent": c.parent_id,
        "level": node.level,
        "in_reply_to": node.in_reply_to,
        "author": {
            "name": "" if deleted else c.author_name,
            "url": None if deleted or not c.author_url else c.author_url,
            "avatar": None if deleted else avatar_url(c),
            "supporter": not deleted and node.supporter,
        },
        "html": "" if deleted else c.body_html,
        "created_at": c.created_at.isoformat(),
        "edited_at": c.edited_at.isoformat() if c.edited_at else None,
        "status": _status_json(node),
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
    account = comment.account_id
    supporter = account is not None and account in _supporter_lookup(
        comment.thread.site_id, {account}
    )
    return comment_json(Node(comment, level, in_thread=False, supporter=supporter))


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
    _seen_generations.pop(key, None)
    hub.publish(key)


def invalidate_many(site_name: str, uris: Iterable[str]) -> None:
    """`invalidate` for a bulk write (an import): only threads someone has read have a
    generation to replace; one that was never read has nothing cached to go stale."""
    keys = [_generation_key(site_name, uri) for uri in uris]
    for start in range(0, len(keys), 500):
        for key in cache.get_many(keys[start : start + 500]):
            cache.set(key, time.time_ns(), timeout=None)
            hub.publish(key)


def stream_channel(site_name: str, uri: str) -> str:
    return _generation_key(site_name, uri)


# gen_key -> (when this process last read it, its value): see recent_generation.
_seen_generations: dict[str, tuple[float, Any]] = {}
_MAX_SEEN = 10_000


def recent_generation(gen_key: str, max_age: float) -> Any:
    """The thread's generation as read from the shared cache at most `max_age` seconds ago
    (at once after a write in this process): for `hotpath`, which cannot afford a shared
    look-up per request."""
    now = time.monotonic()
    seen = _seen_generations.get(gen_key)
    if seen is not None and now - seen[0] < max_age:
        return seen[1]
    if len(_seen_generations) >= _MAX_SEEN:
        _seen_generations.clear()
    value = cache.get(gen_key)
    _seen_generations[gen_key] = (now, value)
    return value


def _generation(gen_key: str) -> int:
    generation = cache.get(gen_key)
    if generation is None:
        generation = time.time_ns()
        if not cache.add(gen_key, generation, timeout=None):  # another process was first
            generation = cache.get(gen_key, generation)
    return int(generation)


T = TypeVar("T")
# How long a rendered page is kept: also the most a page can stay stale when a process died
# between a write's commit and its `invalidate`.
_KEEP = 600


def cached(
    kind: str, site_name: str, uri: str, params: tuple[Any, ...], build: Callable[[], T]
) -> T:
    """What `build()` makes for (`kind`, thread, params), from the cache when the thread has
    not changed since it was stored."""
    gen_key = _generation_key(site_name, uri)
    language = translation.get_language()
    # Hashed: the parameters come from the query string, at any length, in any characters.
    digest = hashlib.sha256(repr(params).encode()).hexdigest()[:32]
    key = f"{kind}:{gen_key}:{_generation(gen_key)}:{language}:{digest}"
    rendered = caches["rendered"]
    entry: T | None = rendered.get(key)
    if entry is not None:
        return entry
    # One thread renders a page while the others with the same miss wait for it: a write to
    # a busy thread must not set every worker thread rendering the same page at once.
    with _render_lock(key):
        entry = rendered.get(key)
        if entry is None:
            entry = build()
            rendered.set(key, entry, timeout=_KEEP)
    with _render_locks_guard:
        _render_locks.pop(key, None)
    return entry


def cached_body(
    kind: str, site_name: str, uri: str, params: tuple[Any, ...], render: Callable[[], bytes]
) -> Compressed:
    """The rendered body for (`kind`, thread, params); `render()` builds the bytes on a miss."""
    return cached(kind, site_name, uri, params, lambda: Compressed.of(render()))


def held_readers(site_name: str, uri: str) -> frozenset[str]:
    """Who has a held comment in the thread: reader keys, and "u:<id>" for accounts. Kept
    beside the thread's pages under the same generation, so it changes with every write."""

    def build() -> frozenset[str]:
        rows = (
            Comment.objects.filter(thread__site__name=site_name, thread__uri=uri, status__in=HELD)
            .values_list("reader_key", "account_id")
            .distinct()
        )
        return frozenset(
            {key for key, _account in rows} | {f"u:{account}" for _key, account in rows if account}
        )

    return cached("held", site_name, uri, (), build)


def held_reader(request: HttpRequest, site_name: str, uri: str) -> str | None:
    """The requesting reader's key where they have held comments in the thread, to be
    shown a page of their own; None for everyone else, who get the shared page. Costs no
    database query unless the set of such readers is not cached yet, or the reader is
    signed in and some account has a held comment here."""
    token, session = _credentials(request)
    if not token and not session:  # a first visit: nothing written here yet
        return None
    return _own_page_key(request, held_readers(site_name, uri), token, session)


def _own_page_key(
    request: HttpRequest, held: frozenset[str], token: str | None, session: bool
) -> str | None:
    if shared_page_is_theirs(held, token, session):
        return None
    key = reader_key_from_token(token) if token else None
    if key in held:
        return key
    user = session_user(request) or getattr(request, "user", None)
    if user is not None and user.is_authenticated and f"u:{user.pk}" in held:
        return f"u:{user.pk}"
    return None


def _credentials(request: HttpRequest) -> tuple[str | None, bool]:
    return credentials(request.META, request.COOKIES)


def credentials(meta: Mapping[str, Any], cookies: Mapping[str, str]) -> tuple[str | None, bool]:
    """The reader token a request carries, and whether it carries a session, from its WSGI
    environ (`request.META`) and cookies."""
    token = meta.get(READER_HEADER) or cookies.get(READER_COOKIE)
    session = settings.SESSION_COOKIE_NAME in cookies or SESSION_HEADER in meta
    return token, session


def shared_page_is_theirs(
    held: frozenset[str] | None, token: str | None, session: bool
) -> bool:
    """Whether a requester with this reader `token` (and a `session` or not) gets the shared
    page, given the thread's `held` readers (None: not looked up, so only a first visit
    is known to): no when the token is one of them, or when they are signed in and some
    account is (which account takes a look-up to tell)."""
    if held is None:
        return not token and not session
    if not held:
        return True
    if token and reader_key_from_token(token) in held:
        return False
    return not (session and any(key.startswith("u:") for key in held))


@dataclass(frozen=True)
class SharedPage:
    """The thread's generation when its shared page was built, and who must not be given
    that page (None: not looked up, as a first visit needs no look-up): what `hotpath`
    needs to answer the same request again without Django."""

    gen_key: str
    generation: int
    held: frozenset[str] | None


def page_for(
    request: HttpRequest, site_name: str, uri: str
) -> tuple[str | None, SharedPage | None]:
    """Whose page of the thread a request gets: `(reader, None)` for a reader with a page of
    their own (see held_reader), else `(None, the SharedPage)`. The generation is taken
    before the page is built: a write in between makes the page stale, never wrong."""
    gen_key = _generation_key(site_name, uri)
    generation = _generation(gen_key)
    token, session = _credentials(request)
    if not token and not session:
        return None, SharedPage(gen_key, generation, None)
    held = held_readers(site_name, uri)
    reader = _own_page_key(request, held, token, session)
    return reader, None if reader else SharedPage(gen_key, generation, held)


_render_locks: dict[str, threading.Lock] = {}
_render_locks_guard = threading.Lock()


def _render_lock(key: str) -> threading.Lock:
    with _render_locks_guard:
        return _render_locks.setdefault(key, threading.Lock())


def thread_json_body(
    site_name: str, uri: str, query: PageQuery, reader: str | None = None
) -> Compressed:
    """The JSON of a page of a thread, as `/api/v1/threads` serves it; with `reader` (from
    `held_reader`), as that reader sees it, their held comments included."""

    query.check()  # before anything is cached under it

    def render() -> bytes:
        return orjson.dumps(thread_json(load_page(site_name, uri, query, reader)))

    return cached_body("json", site_name, uri, (*astuple(query), reader or ""), render)
