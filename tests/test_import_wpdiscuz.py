"""`parley import wpdiscuz` from end to end: from the live database, then from its mysqldump,
the report says nothing was lost, votes, subscriptions and quoted passages all arrive, the
?p=N addresses map to permalinks, and the second run changes nothing."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from parley.comments.models import Comment, Subscription, Thread, Vote
from parley.imports.models import KeptItem
from parley.sites.models import Site
from tests.factories import SiteFactory
from tests.importdata import wpdiscuz as data
from tests.importdata.wpdiscuz import url, wordpress_database  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
RULES = ("--map-url", "?p=10=>/2026/03/budget/", "--map-url", "?p=15=>/2026/03/tax/")


def run_import(source: str, site: Site, report: Path) -> str:
    out = StringIO()
    call_command(
        "import", "wpdiscuz", source, "--site", site.name, *RULES, "--report", str(report),
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    return out.getvalue()


def totals(report: str) -> dict[str, tuple[int, ...]]:
    """The report's table: per line, in the source, in Parley, added now."""
    names = "comments|votes|subscriptions|quotes|kept items|comment meta"
    rows = re.findall(rf"^({names})\s+([\d,\s]+)$", report, re.MULTILINE)
    return {name: tuple(int(n.replace(",", "")) for n in numbers.split()) for name, numbers in rows}


def snapshot(site: Site) -> list[tuple[object, ...]]:
    return list(
        Comment.objects.filter(thread__site=site)
        .order_by("pk")
        .values_list("pk", "source_key", "parent_id", "status", "author_name", "body", "quote")
    )


def test_import_from_the_database_then_its_dump_loses_nothing_and_changes_nothing_twice(
    wordpress: str, tmp_path: Path
) -> None:
    site = SiteFactory.create()
    written = data.write_awkward(wordpress)
    dumped = data.dump(wordpress, tmp_path / "site.sql")

    report = run_import(url(wordpress), site, tmp_path / "first.json")
    assert "Nothing was lost" in report
    with data.connect(wordpress) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT m.comment_id FROM wp_commentmeta m"
            " JOIN wp_comments c ON c.comment_ID = m.comment_id"
        )
        with_meta = {str(row[0]) for row in cursor.fetchall()} - set(written.skipped_comments)
    # wpDiscuz's own tables kept as they are, and each comment's meta beside it.
    kept, meta = sum(written.kept.values()), len(with_meta)
    quotes = len(written.quotes)
    subscriptions = sum(written.subscriptions.values())
    assert totals(report) == {
        "comments": (written.comments,) * 3,
        "votes": (written.votes,) * 3,
        "subscriptions": (subscriptions,) * 3,
        "quotes": (quotes,) * 3,
        "kept items": (kept,) * 3,
        "comment meta": (meta,) * 3,
    }
    assert "comment 111: a pingback" in report

    comments = Comment.objects.filter(thread__site=site)
    inline = comments.get(body__contains="Too high.")
    assert inline.thread.uri == "/2026/03/tax/"
    assert inline.quote == data.PASSAGES[1]
    reply = comments.get(body__contains="Third level down.")
    assert reply.thread.uri == "/2026/03/budget/"
    assert reply.parent is not None and reply.parent.author_name == "Bob"
    assert comments.get(body="I was a member.").author_name == "Former Member"
    # WordPress keeps post titles HTML-escaped; e-mails and pages show the title as written.
    assert Thread.objects.filter(title="Roadworks & detours on Main Street").exists()
    assert Vote.objects.filter(comment__thread__site=site).count() == written.votes
    by_kind = Subscription.objects.filter(site=site).values_list("kind", flat=True)
    assert sorted(by_kind) == sorted(k for k, n in written.subscriptions.items() for _ in range(n))
    assert KeptItem.objects.filter(site=site).count() == kept + meta
    kept_meta = KeptItem.objects.get(table="comment_meta", key="wpdiscuz:103").data["meta"]
    assert kept_meta["wpdiscuz_votes"] == ["2"]
    before = snapshot(site)

    again = run_import(str(dumped), site, tmp_path / "second.json")
    assert "Nothing was lost" in again
    assert totals(again) == {
        "comments": (written.comments, written.comments, 0),
        "votes": (written.votes, written.votes, 0),
        "subscriptions": (subscriptions, subscriptions, 0),
        "quotes": (quotes, quotes, 0),
        "kept items": (kept, kept, 0),
        "comment meta": (meta, meta, 0),
    }
    assert snapshot(site) == before
    assert Vote.objects.filter(comment__thread__site=site).count() == written.votes


def test_a_dump_of_another_layout_stops_naming_the_table_and_line_and_changes_nothing(
    wordpress: str, tmp_path: Path
) -> None:
    site = SiteFactory.create()
    data.write_awkward(wordpress)
    run_import(str(data.dump(wordpress, tmp_path / "good.sql")), site, tmp_path / "r1")
    before = snapshot(site)
    with data.connect(wordpress) as connection, connection.cursor() as cursor:
        cursor.execute("ALTER TABLE wp_wc_users_voted DROP COLUMN vote_type")
        cursor.execute("UPDATE wp_comments SET comment_content = 'changed'")
    dumped = data.dump(wordpress, tmp_path / "old.sql")

    with pytest.raises(CommandError) as stopped:
        run_import(str(dumped), site, tmp_path / "r2")

    message = str(stopped.value)
    assert re.search(r"old\.sql line \d+: table wp_wc_users_voted has columns", message), message
    assert "vote_type missing" in message and "Nothing was written" in message
    assert snapshot(site) == before
