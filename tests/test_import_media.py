"""`--copy-media`: pictures still served are copied into Parley's storage; gone hosts, other
links and the server's own network are left alone."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from parley.articles.models import Article
from parley.comments.models import Comment, Thread
from parley.imports import media
from parley.imports.html import clean
from tests.factories import ArticleFactory, SiteFactory

pytestmark = pytest.mark.django_db


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(out, format="PNG")
    return out.getvalue()


def imported(body: str) -> Comment:
    site = SiteFactory.create()
    thread = Thread.objects.create(site=site, uri="/a/")
    return Comment.objects.create(
        thread=thread, author_name="Ann", reader_key="disqus:u:ann", body=body,
        body_html=clean(body), created_at=thread.created_at, source_key="disqus:1",
    )  # fmt: skip


def test_pictures_still_served_are_copied_once_and_their_links_point_at_parley(
    settings_media: None,
) -> None:
    comment = imported(
        '<p><img src="https://pics.example/cat.jpg" alt="cat">'
        '<img src="https://uploads.disquscdn.com/images/old.jpg">'
        '<img src="https://pics.example/broken.jpg">'
        '<a href="https://pics.example/page.html">a page</a></p>'
    )
    fetched = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return b"<html>not a picture" if "broken" in url else png()

    tally = media.copy_media(comment.thread.site, fetch=fetch)

    assert (tally.found, tally.copied) == (2, 1)
    [(url, why)] = tally.failed
    assert url == "https://pics.example/broken.jpg" and why.startswith("not a picture")
    assert fetched == ["https://pics.example/cat.jpg", "https://pics.example/broken.jpg"]
    html = Comment.objects.get(pk=comment.pk).body_html
    assert "https://pics.example/cat.jpg" not in html
    assert "/media/imported/" in html and "uploads.disquscdn.com/images/old.jpg" in html
    assert "https://pics.example/broken.jpg" in html and "https://pics.example/page.html" in html
    copied = list((Path(settings.MEDIA_ROOT) / "imported").iterdir())
    assert len(copied) == 1 and Image.open(copied[0]).size == (4, 3)

    again = media.copy_media(comment.thread.site, fetch=fetch)
    assert again.copied == 0 and len(fetched) == 3  # only the broken one is tried again


def test_pictures_in_articles_made_from_wordpress_posts_are_copied_too(
    settings_media: None,
) -> None:
    site = SiteFactory.create()
    article = ArticleFactory.create(
        site=site, body="Intro\n\n[🖼 The mill](https://pics.example/mill.jpg)\n\nMore"
    )

    tally = media.copy_media(site, fetch=lambda url: png())

    assert tally.copied == 1
    body = Article.objects.get(pk=article.pk).body
    assert "pics.example" not in body and "[🖼 The mill](http" in body and "/media/imported/" in body


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/x.png", "http://localhost/x.png", "http://10.1.2.3/x.png",
     "http://169.254.169.254/latest/meta-data", "file:///etc/passwd"],
)  # fmt: skip
def test_nothing_is_fetched_from_the_servers_own_network(url: str) -> None:
    with pytest.raises(media.NotCopied):
        media._download(url)


@pytest.fixture
def settings_media(tmp_path: Path, settings: object) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]
