"""Minimal valid objects; comments go through the real write actions so counters stay true."""

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from parley.articles.models import Article
from parley.comments.actions import Draft, do_post_comment
from parley.comments.models import Comment, Thread
from parley.core.markdown import render_markdown
from parley.core.readers import Actor
from parley.sites.models import Site


class SiteFactory(factory.django.DjangoModelFactory[Site]):
    class Meta:
        model = Site
        django_get_or_create = ("name",)

    name = "news"
    title = "The News"
    domains = factory.LazyFunction(lambda: ["127.0.0.1", "news.example"])
    origins = factory.LazyFunction(lambda: ["https://blog.example"])


class ArticleFactory(factory.django.DjangoModelFactory[Article]):
    class Meta:
        model = Article

    site = factory.SubFactory(SiteFactory)
    slug = "river"
    headline = "The river"
    author_name = "Ed Itor"
    body = "Para one.\n\nTwo."
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))


class ThreadFactory(factory.django.DjangoModelFactory[Thread]):
    class Meta:
        model = Thread

    site = factory.SubFactory(SiteFactory)
    uri = factory.Sequence(lambda n: f"/articles/{n}/")


def post_comment(
    thread: Thread,
    body: str = "A comment.",
    *,
    parent: Comment | None = None,
    author: str = "Reader",
    reader_key: str | None = None,
    status: str = "published",
    created_at: Any = None,
    **fields: Any,
) -> Comment:
    actor = Actor(reader_key=reader_key or f"r:{author}", reader_token="", ip_hash="test")
    draft = Draft(site=thread.site.name, uri=thread.uri, body=body, author_name=author, **fields)
    return do_post_comment(
        actor,
        thread,
        parent,
        draft,
        render_markdown(body),
        status=status,
        created_at=created_at or timezone.now(),
    )


def say(
    client: Any,
    body: str,
    *,
    parent: int | None = None,
    name: str = "Ann",
    email: str = "",
    uri: str = "/story/",
) -> int:
    """A reader posts through the API, as the widget does; returns the new comment's id."""
    data = {"site": "news", "uri": uri, "body": body, "author_name": name, "parent": parent}
    if email:
        data["author_email"] = email
    response = client.post_json("/comments", data)
    assert response.status_code == 201, response.content
    return int(response.json()["comment"]["id"])
