"""Every route Parley serves, requested as a visitor, a signed-in reader and staff would: a
small newsroom with something on each page, and the walk over the URL patterns."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from parley.articles.models import Article
from parley.comments.models import Comment, Subscription, Thread
from parley.core.avatars import avatar_hash
from parley.funding.donors import wall_token
from parley.funding.ledger import record_seeded_payment
from parley.funding.models import Campaign
from parley.moderation.models import Ban, Report
from parley.notifications import tokens
from parley.notifications.models import OutboundEmail
from tests.factories import ArticleFactory, post_comment

# Slugs of an article and of a campaign alike: /articles/<slug>/ and /support/<slug>/.
SLUG = "river"
READER_EMAIL = "rita@readers.example"


@dataclass(frozen=True)
class Newsroom:
    staff: User
    reader: User
    comment: Comment  # published, top-level
    samples: dict[str, str]  # a value for each URL parameter, by its name
    tokens: dict[str, str]  # the `token` of each route that takes one, by route name


def newsroom() -> Newsroom:
    """A site with an article and its discussion (a held and a reported comment among it),
    a campaign with a gift (and its receipt in the outbox), a ban, a subscription, staff and a
    reader."""
    article = ArticleFactory.create(slug=SLUG)
    site = article.site
    thread = Thread.objects.create(site=site, uri=article.uri, title=article.headline)
    published = post_comment(thread, "A first view.", author="Ann")
    post_comment(thread, "A reply.", parent=published, author="Bob")
    held = post_comment(thread, "Held back.", author="Cy", status="pending")
    Report.objects.create(comment=published, reason="insult", reader_key="r:reporter")
    staff = User.objects.create_superuser("editor", "editor@news.example", "pw-editor-1")
    reader = User.objects.create_user("rita", READER_EMAIL)
    campaign = Campaign.objects.create(
        site=site,
        slug=SLUG,
        title="Keep it going",
        goal=500_000,
        currency="USD",
        ends_at=timezone.now() + timedelta(days=30),
        suggested_amounts=[500, 2500],
        intervals=["once", "month"],
    )
    gift = record_seeded_payment(campaign, 2500, READER_EMAIL, "Rita", True)
    ban = Ban.objects.create(kind="email", value="troll@example.org", site=site, reason="abuse")
    subscription = Subscription.objects.create(
        site=site, uri=thread.uri, email=READER_EMAIL, kind="thread", reader_key="r:rita"
    )
    samples = {
        "slug": SLUG,
        "comment_id": str(held.pk),
        "action": "approve",
        "ban_id": str(ban.pk),
        "pk": str(OutboundEmail.objects.get(kind="receipt").pk),  # the gift's
        "digest": avatar_hash("ann"),
        "path": "nothing-here.png",
        "content_type_id": str(ContentType.objects.get_for_model(Article).pk),
        "id": str(staff.pk),
        "app_label": "parley_sites",
        "url": "nowhere/",
    }
    route_tokens = {
        "notifications:confirm": tokens.make(tokens.CONFIRM, s=subscription.pk, e=READER_EMAIL),
        "notifications:unsubscribe": tokens.make(
            tokens.UNSUBSCRIBE, s=subscription.pk, e=READER_EMAIL
        ),
        "notifications:manage": tokens.make(tokens.MANAGE, e=READER_EMAIL),
        "funding:donor-name": wall_token(gift),
        "accounts:signin": "no-such-link",
    }
    return Newsroom(staff, reader, published, samples, route_tokens)


# What a route needs besides its path to show what it is for.
QUERIES = {
    "thread-fragment": f"?site=news&uri=/articles/{SLUG}/",
    "api:read_thread": f"?site=news&uri=/articles/{SLUG}/",
    "api:read_counts": f"?site=news&uri=/articles/{SLUG}/",
}


@dataclass(frozen=True)
class Route:
    name: str  # "app:name", or the route itself where it has no name
    path: str  # with its query, if it needs one


def routes(world: Newsroom) -> list[Route]:
    """Every URL pattern, with each parameter filled in from the newsroom."""
    found = []
    for route, name in _patterns(get_resolver(), ""):
        label = name or route
        path = "/" + _PARAMETER.sub(partial(_value, world, label, route), route)
        path = path.replace("^", "").replace("$", "")
        resolve(path)  # a sample that does not fit its pattern fails here, by name
        found.append(Route(label, path + QUERIES.get(label, "")))
    return found


def _patterns(resolver: URLResolver, prefix: str, ns: str = "") -> Iterator[tuple[str, str]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [ns, pattern.namespace or ""]))
            yield from _patterns(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = ":".join(filter(None, [ns, pattern.name or ""])) if pattern.name else ""
            yield prefix + str(pattern.pattern), name


# <converter:name>, <name>, or a regex group (?P<name>…) up to its closing parenthesis.
_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)")
_ADMIN_OBJECT = re.compile(r"admin/(\w+)/(\w+)/")


def _value(world: Newsroom, label: str, route: str, match: re.Match[str]) -> str:
    name = match[1] or match[2]
    if name == "token":
        return world.tokens[label]
    if name == "object_id" and route.startswith("admin/r/"):  # "view on site"
        return str(Article.objects.get().pk)
    if name == "object_id" and (model := _ADMIN_OBJECT.match(route)):
        first = apps.get_model(model[1], model[2]).objects.first()
        return str(first.pk) if first is not None else "1"
    return world.samples[name]


def signed_in(user: User | None, *, enforce_csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    if user is not None:
        client.force_login(user)
    return client
