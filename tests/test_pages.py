"""Parley's own pages: front page, article, feed, fragment, avatars."""

import io

import pytest
from django.test import Client
from django.utils import timezone

from parley.articles.images import make_renditions
from parley.articles.models import Figure
from parley.moderation.models import Policy
from tests.factories import ArticleFactory, SiteFactory, ThreadFactory, post_comment, say

pytestmark = pytest.mark.django_db


def make_article(published=True, **fields):
    return ArticleFactory.create(**fields, **({} if published else {"published_at": None}))


def test_front_page_lists_published_articles_with_comment_counts(client):
    article = make_article()
    make_article(slug="draft", headline="Secret draft", published=False)
    thread = ThreadFactory.create(site=article.site, uri=article.uri)
    post_comment(thread)
    post_comment(thread)

    html = client.get("/").content.decode()

    assert "The river" in html
    assert "2 comments" in html
    assert "Secret draft" not in html


def test_the_front_page_count_follows_a_new_comment(client, django_capture_on_commit_callbacks):
    article = make_article()
    Policy.objects.update_or_create(site=article.site, defaults={"use_scorer": False})
    thread = ThreadFactory.create(site=article.site, uri=article.uri)
    post_comment(thread)
    assert "1 comment" in client.get("/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        say(client, "Another view.", uri=article.uri)

    assert "2 comments" in client.get("/").content.decode()


def test_a_draft_article_is_not_found(client):
    make_article(slug="draft", published=False)
    assert client.get("/articles/draft/").status_code == 404


def test_article_page_includes_the_thread_server_side(client):
    article = make_article()
    thread = ThreadFactory.create(site=article.site, uri=article.uri)
    post_comment(thread, "Server-side **hello**", author="Ann")

    html = client.get(article.uri).content.decode()

    assert "<strong>hello</strong>" in html
    assert 'id="comment-form"' in html
    assert "Would love your thoughts, please comment" in html


def test_a_closed_discussion_shows_no_comment_box(client):
    article = make_article()
    ThreadFactory.create(site=article.site, uri=article.uri, closed_at=timezone.now())

    html = client.get(article.uri).content.decode()

    assert "This discussion is closed." in html
    assert 'id="comment-form"' not in html


def test_readers_markup_never_runs_on_the_page(client):
    article = make_article()
    thread = ThreadFactory.create(site=article.site, uri=article.uri)
    post_comment(thread, "<script>alert(1)</script>", author="<b>Mallory</b>")

    html = client.get(article.uri).content.decode()

    assert "<script>alert(1)" not in html
    assert "<b>Mallory</b>" not in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html


def test_a_bad_cursor_on_the_page_falls_back_to_the_first_page(client):
    article = make_article()
    post_comment(ThreadFactory.create(site=article.site, uri=article.uri), "still here")

    response = client.get(article.uri + "?cursor=nonsense")

    assert response.status_code == 200
    assert "still here" in response.content.decode()


def test_figures_are_placed_whatever_the_line_endings(client, tmp_path, settings):
    from django.core.files import File
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    article = make_article(body="Intro.\r\n\r\n{figure 1}\r\n\r\nMore text.\r\n")
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), "steelblue").save(buffer, "PNG")
    figure = Figure(article=article, position=1, alt="A map", caption="The front")
    figure.image.save("map.png", File(buffer, name="map.png"))
    make_renditions(figure)

    html = client.get(article.uri).content.decode()

    assert "{figure 1}" not in html
    assert 'alt="A map"' in html
    assert "map-480w.webp 480w" in html
    assert "Click to see the full-size image" in html


def test_atom_feed_lists_articles(client):
    make_article(headline="Feed me", dek="A standfirst")

    response = client.get("/feed.atom")

    assert response["Content-Type"].startswith("application/atom+xml")
    assert b"<title>Feed me</title>" in response.content


def test_thread_fragment_for_embedding(client):
    site = SiteFactory.create()
    thread = ThreadFactory.create(site=site, uri="/x/")
    post_comment(thread, "fragment body")

    response = client.get("/fragments/thread?site=news&uri=/x/&sort=oldest")

    assert response.status_code == 200
    assert b"fragment body" in response.content
    assert b'aria-current="true">Oldest' in response.content
    assert client.get("/fragments/thread?site=news").status_code == 422


def test_avatars_are_drawn_locally_and_cached_for_good(client):
    response = client.get("/avatars/0123456789abcdef01234567.svg")

    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    assert "immutable" in response["Cache-Control"]
    assert client.get("/avatars/not-a-hash.svg").status_code == 404


def test_comment_form_refuses_a_post_without_csrf_token():
    browser = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    SiteFactory.create()
    response = browser.post(
        "/comments/post", {"site": "news", "uri": "/x/", "body": "hi", "author_name": "A"}
    )
    assert response.status_code == 403


def test_a_post_into_a_discussion_closed_meanwhile_hands_the_text_back(client):
    article = make_article()
    ThreadFactory.create(site=article.site, uri=article.uri, closed_at=timezone.now())

    response = client.post(
        "/comments/post",
        {
            "site": "news",
            "uri": article.uri,
            "body": "My long careful reply",
            "author_name": "Ann",
            "next": article.uri,
        },
        follow=True,
    )

    html = response.content.decode()
    assert "This discussion is closed to new comments." in html
    assert "My long careful reply</textarea>" in html


def test_a_new_top_level_comment_lands_on_the_newest_page(client):
    article = make_article()

    response = client.post(
        "/comments/post",
        {
            "site": "news",
            "uri": article.uri,
            "body": "Hello",
            "author_name": "Ann",
            "next": article.uri + "?sort=oldest&cursor=abc",
        },
    )

    assert response.status_code == 302
    assert response["Location"].startswith(article.uri + "?sort=newest#comment-")


def test_a_form_without_its_security_cookie_explains_and_keeps_the_text():
    browser = Client(HTTP_HOST="127.0.0.1", enforce_csrf_checks=True)
    article = make_article()

    response = browser.post(
        "/comments/post",
        {"site": "news", "uri": article.uri, "body": "Keep me", "author_name": "A"},
    )

    assert response.status_code == 403
    assert "security cookie" in response.content.decode()
    assert "Keep me</textarea>" in response.content.decode()


def test_a_missing_page_is_a_friendly_404(client):
    response = client.get("/articles/nowhere/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_changing_an_articles_slug_moves_its_discussion(
    client, admin_user, django_capture_on_commit_callbacks
):
    article = make_article(slug="old-slug")
    post_comment(ThreadFactory.create(site=article.site, uri=article.uri), "kept")
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/articles/article/{article.pk}/change/",
            {
                "site": article.site.pk,
                "slug": "new-slug",
                "headline": article.headline,
                "dek": "",
                "author_name": "Ed",
                "published_at_0": "2026-01-01",
                "published_at_1": "10:00",
                "body": article.body,
                "figures-TOTAL_FORMS": "0",
                "figures-INITIAL_FORMS": "0",
            },
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert "kept" in client.get("/articles/new-slug/").content.decode()
