"""`parley import disqus|wxr` from end to end on the awkward exports: the report says nothing
was lost, the comments are where they belong, and running it again changes nothing."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from parley.articles.models import Article
from parley.comments.models import Comment
from parley.sites.models import Site
from tests.factories import SiteFactory
from tests.importdata import disqus, report_row, wxr

pytestmark = pytest.mark.django_db


def run_import(*args: str) -> str:
    out = StringIO()
    call_command("import", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot(site: Site) -> list[tuple[object, ...]]:
    return list(
        Comment.objects.filter(thread__site=site)
        .order_by("pk")
        .values_list("pk", "source_key", "parent_id", "status", "author_name", "body", "created_at")
    )


def test_disqus_import_loses_nothing_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    site = SiteFactory.create()
    path = tmp_path / "disqus.xml"
    written = disqus.write_awkward(path)
    report = run_import("disqus", str(path), "--site", site.name, "--report", str(tmp_path / "1"))
    assert "Nothing was lost" in report
    # Left out, each with its reason: the undated post, the second copy of a duplicated id,
    # and the two posts of a thread that is not in the file.
    imported = written.comments - 1 - 2
    assert report_row(report) == (imported, imported, imported)
    assert "comment 1900: its date 'last Tuesday' cannot be read  [disqus.xml line " in report
    assert "2 byte sequence(s) that were not valid UTF-8" in report
    comments = Comment.objects.filter(thread__site=site)
    assert comments.count() == imported
    assert comments.get(body__contains="بالعالم").thread.uri == "/2019/05/cafe"
    reply = comments.get(body__contains="שלום")
    assert reply.parent is not None and "بالعالم" in reply.parent.body
    assert comments.filter(status="spam").count() == 1
    before = snapshot(site)

    again = run_import("disqus", str(path), "--site", site.name, "--report", str(tmp_path / "2"))
    assert "Nothing was lost" in again
    assert report_row(again) == (imported, imported, 0)
    assert snapshot(site) == before


def test_wxr_import_with_articles_loses_nothing_and_a_second_run_changes_nothing(
    tmp_path: Path,
) -> None:
    site = SiteFactory.create()
    path = tmp_path / "wordpress.xml"
    written = wxr.write_awkward(path, version="1.1")
    args = ("wxr", str(path), "--site", site.name, "--articles")
    preview = run_import(*args, "--dry-run", "--report", str(tmp_path / "0"))
    assert re.search(r"^  \S+ +\d+ +\d+ /articles/river/$", preview, re.MULTILINE), preview
    assert not Article.objects.exists()
    report = run_import(*args, "--report", str(tmp_path / "1"))
    assert "Nothing was lost" in report
    imported = written.comments - 1  # the second comment 1105
    assert report_row(report) == (imported, imported, imported)
    assert "comment 1109: pingback: not a reader comment" in report
    articles = Article.objects.filter(site=site)
    assert sorted(articles.values_list("slug", flat=True)) == ["about", "closed", "quiet", "river"]
    river = Comment.objects.get(thread__site=site, body__contains="A reply to the first")
    assert river.thread.uri == "/articles/river/"
    assert river.parent is not None and "First!" in river.parent.body
    before = snapshot(site)

    again = run_import(*args, "--report", str(tmp_path / "2"))
    assert report_row(again) == (imported, imported, 0)
    assert snapshot(site) == before
    assert articles.count() == written.articles
