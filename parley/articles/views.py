from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.feedgenerator import Atom1Feed
from django.utils.safestring import mark_safe

from parley.comments.forms import CommentForm
from parley.comments.fragments import thread_fragment
from parley.comments.models import Comment, Thread
from parley.comments.views import DRAFT_SESSION_KEY, thread_options

from .models import Article
from .rendering import render_article_body


def front_page(request: HttpRequest) -> HttpResponse:
    articles = list(Article.objects.published().select_related("site")[:50])
    counts = dict(
        Thread.objects.filter(uri__in=[a.uri for a in articles]).values_list(
            "uri", "published_count"
        )
    )
    for article in articles:
        article.comment_count = counts.get(article.uri, 0)  # type: ignore[attr-defined]
    return render(request, "articles/front.html", {"articles": articles})


def article_page(request: HttpRequest, slug: str) -> HttpResponse:
    article = get_object_or_404(
        Article.objects.published().select_related("site").prefetch_related("figures"), slug=slug
    )
    options = thread_options(request)
    fragment = thread_fragment(article.site.name, article.uri, **options)
    initial: dict[str, object] = {
        "site": article.site.name,
        "uri": article.uri,
        "next": request.path,
    }
    initial.update(request.session.pop(DRAFT_SESSION_KEY, {}))
    replying_to = None
    if (reply := request.GET.get("reply", "")).isdigit():
        replying_to = Comment.objects.filter(
            pk=int(reply),
            thread__site=article.site,
            thread__uri=article.uri,
            status=Comment.Status.PUBLISHED,
        ).first()
    if replying_to:
        initial["parent"] = replying_to.pk
    return render(
        request,
        "articles/article.html",
        {
            "article": article,
            "body": render_article_body(article),
            "thread_html": mark_safe(fragment.raw.decode()),  # noqa: S308 - sanitised at write
            "form": CommentForm(initial=initial),
            "replying_to": replying_to,
            "is_closed": Thread.objects.filter(
                site=article.site, uri=article.uri, closed_at__isnull=False
            ).exists(),
            "sort": options["sort"],
        },
    )


class ArticleFeed(Feed):
    feed_type = Atom1Feed
    title = "Parley"
    link = "/"
    subtitle = "Latest articles"

    def items(self) -> list[Article]:
        return list(Article.objects.published()[:20])

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
