import dataclasses

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.feedgenerator import Atom1Feed
from django.utils.safestring import mark_safe

from parley.comments import reads
from parley.comments.fragments import thread_fragment
from parley.comments.models import Thread
from parley.comments.views import comment_box, thread_options
from parley.core.errors import Invalid
from parley.funding.queries import current_campaign

from .models import Article
from .rendering import render_article_body


def front_page(request: HttpRequest) -> HttpResponse:
    articles = list(Article.objects.published().select_related("site")[:50])
    counts: dict[tuple[str, str], int] = {}
    for site in {article.site for article in articles}:
        uris = [article.uri for article in articles if article.site == site]
        for uri, count in reads.count_comments(site.name, uris).items():
            counts[site.name, uri] = count
    for article in articles:
        article.comment_count = counts[article.site.name, article.uri]  # type: ignore[attr-defined]
    return render(
        request,
        "articles/front.html",
        {"articles": articles, "masthead": publication_title(articles)},
    )


def publication_title(articles: list[Article]) -> str:
    """The site's title where all the articles are one site's (most installs), else Parley."""
    sites = {article.site for article in articles}
    return str(sites.pop()) if len(sites) == 1 else "Parley"


def article_page(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(
        Article.objects.published().select_related("site").prefetch_related("figures"), slug=slug
    )
    site_name, uri = article.site.name, article.uri
    query = thread_options(request)
    try:
        fragment = thread_fragment(site_name, uri, query)
    except Invalid:  # a stale or mangled cursor: show the first page rather than no article
        query = dataclasses.replace(query, cursor=None)
        fragment = thread_fragment(site_name, uri, query)
    return render(
        request,
        "articles/article.html",
        {
            "article": article,
            "body": render_article_body(article),
            "campaign": current_campaign(article.site_id),
            "thread_html": mark_safe(fragment.raw.decode()),  # noqa: S308 - sanitised at write
            "sort": query.sort,
            "is_closed": Thread.objects.filter(
                site=article.site, uri=uri, closed_at__isnull=False
            ).exists(),
            **comment_box(request, site_name, uri),
        },
    )


class ArticleFeed(Feed):
    feed_type = Atom1Feed
    link = "/"
    subtitle = "Latest articles"

    def items(self) -> list[Article]:
        return list(Article.objects.published().select_related("site")[:20])

    def title(self) -> str:
        return publication_title(self.items())

    def item_title(self, item: Article) -> str:
        return item.headline

    def item_description(self, item: Article) -> str:
        return item.dek

    def item_author_name(self, item: Article) -> str:
        return item.author_name

    def item_pubdate(self, item: Article):  # type: ignore[no-untyped-def]
        return item.published_at

    def item_updateddate(self, item: Article):  # type: ignore[no-untyped-def]
        return item.updated_at
