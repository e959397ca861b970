"""`parley export`: one site as one versioned JSON document, streamed, optionally gzip'd, and
read back by the `parley` import reader exactly as written."""

import gzip
import io
import json
import re
import tracemalloc
from collections import deque
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files import File
from django.core.management import CommandError, call_command
from django.db.models import F
from PIL import Image

from parley.articles.models import Figure
from parley.comments.actions import do_close_thread, do_edit_comment, do_vote
from parley.comments.models import Comment, Subscription, Thread
from parley.imports.export import write_export
from parley.imports.models import KeptItem
from parley.imports.readers import parley as parley_reader
from parley.imports.records import (
    ArticleRecord,
    CommentRecord,
    KeptRecord,
    Meter,
    Options,
    Record,
    SiteRecord,
    SourceError,
    SubscriptionRecord,
    ThreadRecord,
    VoteRecord,
)
from parley.moderation.models import Policy
from parley.sites.models import Site
from tests.factories import ArticleFactory, SiteFactory, ThreadFactory, post_comment
from tests.importdata import report_row

pytestmark = pytest.mark.django_db

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
T0 = datetime(2026, 11, 2, 8, 15, 30, 250000, tzinfo=UTC)


@pytest.fixture
def newsroom(tmp_path: Path, settings: Any) -> Site:
    """A site with one of everything the export carries."""
    settings.MEDIA_ROOT = tmp_path / "media"
    site = SiteFactory.create()
    editor = User.objects.create_user("editor", "editor@example.org")
    site.moderators.add(editor)
    Policy.objects.create(
        site=site,
        banned_phrases="spam\nscam",
        language_thresholds={"de": 0.6},
        hosted_scorer_url="https://scorer.example",
        hosted_scorer_key="secret-key",
    )
    article = ArticleFactory.create(site=site, dek="A standfirst", body="Intro.\n\n{figure 1}")
    figure = Figure(article=article, position=1, alt="A map", caption="The front")
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "steelblue").save(image, "PNG")
    figure.image.save("map.png", File(image, name="map.png"))

    story = ThreadFactory.create(site=site, uri=article.uri, title="The river")
    top = post_comment(
        story,
        "First! **bold** 🎉",
        author="Ann",
        author_email="ann@example.org",
        author_url="https://ann.example",
        created_at=T0,
    )
    reply = post_comment(story, "شكراً", parent=top, author="سارة", created_at=T0 + timedelta(1))
    post_comment(story, "Deeper", parent=reply, author="Bob", created_at=T0 + timedelta(2))
    post_comment(
        story,
        "About this passage",
        author="Cy",
        quote="the river rose",
        quote_prefix="At dawn ",
        quote_suffix=" by a metre",
    )
    post_comment(story, "Held for review", author="Dee", status="pending")
    reader = User.objects.create_user("reader", "reader@example.org")
    signed_in = post_comment(story, "Signed in", author="Reader")
    Comment.objects.filter(pk=signed_in.pk).update(account=reader, reader_key=f"u:{reader.pk}")
    do_edit_comment(top, "First! **bold** 🎉 (edited)")
    do_vote(top, "r:someone", 1)
    do_vote(top, f"u:{reader.pk}", 1)
    do_vote(reply, "r:someone", -1)
    # Two likes an Isso import brought, with no voter.
    Comment.objects.filter(pk=reply.pk).update(upvotes=F("upvotes") + 2, score=F("score") + 2)

    closed = ThreadFactory.create(site=site, uri="/closed/", title="")
    post_comment(closed, "Too late now", author="Eve")
    do_close_thread(closed, closed=True)

    Subscription.objects.create(
        site=site,
        uri=story.uri,
        email="ann@example.org",
        kind="thread",
        reader_key="r:Ann",
        lang="de",
        confirmed_at=T0,
    )
    Subscription.objects.create(
        site=site,
        uri=story.uri,
        email="reader@example.org",
        kind="comment",
        comment=top,
        reader_key=f"u:{reader.pk}",
        account=reader,
        delivery="daily",
        confirmed_at=T0,
    )
    KeptItem.objects.create(
        site=site,
        source="wpdiscuz",
        table="wp_wc_follow_users",
        key="7",
        data={"user_email": "fan@example.org", "confirm": 1},
        reason="Parley has no following of people",
    )
    return site


def export(tmp_path: Path, *args: str, name: str = "news.json") -> Path:
    path = tmp_path / name
    call_command("export", "--site", "news", "--output", str(path), *args)
    return path


def read_back(path: Path) -> list[Record]:
    return list(parley_reader.read(str(path), Meter(), Options()))


def test_the_export_is_one_versioned_json_document_of_the_whole_site(
    newsroom: Site, tmp_path: Path
) -> None:
    document = json.loads(export(tmp_path).read_bytes())

    assert document["format"] == "parley-export"
    assert document["version"] == 1
    assert STAMP.match(document["exported_at"])
    assert list(document) == [
        "format",
        "version",
        "exported_at",
        "site",
        "articles",
        "threads",
        "comments",
        "votes",
        "subscriptions",
        "kept",
    ]
    site = document["site"]
    assert (site["name"], site["title"], site["domains"]) == (
        "news",
        "The News",
        ["127.0.0.1", "news.example"],
    )
    assert site["moderators"] == ["editor@example.org"]
    assert site["moderation_policy"]["banned_phrases"] == "spam\nscam"
    assert site["moderation_policy"]["language_thresholds"] == {"de": 0.6}
    assert "hosted_scorer_key" not in site["moderation_policy"]
    assert "secret-key" not in json.dumps(document)

    (article,) = document["articles"]
    assert article["figures"] == [
        {
            "position": 1,
            "file": "figures/map.png",
            "width": 40,
            "height": 30,
            "caption": "The front",
            "alt": "A map",
        }
    ]
    assert [t["uri"] for t in document["threads"]] == [article["uri"], "/closed/"]
    assert STAMP.match(document["threads"][1]["closed_at"])
    assert len(document["comments"]) == 7
    assert [v["value"] for v in document["votes"]] == [1, 1, -1]
    assert len(document["subscriptions"]) == 2
    assert document["kept"][0]["data"] == {"user_email": "fan@example.org", "confirm": 1}


def test_a_comment_carries_everything_parley_stores_about_it(
    newsroom: Site, tmp_path: Path
) -> None:
    document = json.loads(export(tmp_path).read_bytes())
    comments = document["comments"]
    first = Comment.objects.get(author_name="Ann")

    assert comments[0] == {
        "id": first.pk,
        "thread": "/articles/river/",
        "parent": None,
        "author_name": "Ann",
        "author_email": "ann@example.org",
        "author_url": "https://ann.example",
        "account_email": "",
        "reader_key": "r:Ann",
        "ip_hash": "test",
        "body": "First! **bold** 🎉 (edited)",
        "body_html": first.body_html,
        "quote": "",
        "quote_prefix": "",
        "quote_suffix": "",
        "status": "published",
        "created_at": "2026-11-02T08:15:30.250000Z",
        "edited_at": comments[0]["edited_at"],
        # Both votes have their voter in the votes array.
        "upvotes": 0,
        "downvotes": 0,
        "revisions": [
            {
                "body": "First! **bold** 🎉",
                "body_html": "<p>First! <strong>bold</strong> 🎉</p>",
                "replaced_at": comments[0]["edited_at"],
            }
        ],
        "source_key": "",
    }
    assert STAMP.match(comments[0]["edited_at"])
    # Parents come before their replies, whatever the order of the times.
    assert [c["parent"] for c in comments[:3]] == [None, comments[0]["id"], comments[1]["id"]]
    # The two likes with no voter stay; the vote with its voter is in the votes array.
    assert (comments[1]["upvotes"], comments[1]["downvotes"]) == (2, 0)
    assert comments[3]["quote"] == "the river rose"
    assert comments[4]["status"] == "pending"
    assert comments[5]["account_email"] == "reader@example.org"
    assert document["votes"][1]["account_email"] == "reader@example.org"
    assert document["votes"][0]["account_email"] == ""


class Commenting:
    """An output during whose writing readers go on commenting, as on a live site."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.written = io.BytesIO()

    def write(self, data: bytes, /) -> int:
        if data == b'"comments":[\n':
            new = ThreadFactory.create(site=self.site, uri="/breaking/")
            post_comment(new, "Posted while the export ran", author="Late")
            story = Thread.objects.get(uri="/articles/river/")
            latest = post_comment(story, "Me too", author="Later")
            do_vote(latest, "r:someone", 1)
        return self.written.write(data)


def test_what_readers_add_while_the_export_runs_waits_for_the_next_one(
    newsroom: Site,
) -> None:
    output = Commenting(newsroom)

    write_export(newsroom, output)

    document = json.loads(output.written.getvalue())
    assert [t["uri"] for t in document["threads"]] == ["/articles/river/", "/closed/"]
    assert len(document["comments"]) == 7
    assert len(document["votes"]) == 3
    assert Comment.objects.count() == 9


def test_the_export_goes_to_standard_output_unless_a_file_is_named(
    newsroom: Site, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    call_command("export", "--site", "news")
    plain = capsysbinary.readouterr()
    call_command("export", "--site", "news", "--gzip")
    zipped = capsysbinary.readouterr()

    assert json.loads(plain.out)["site"]["name"] == "news"
    assert json.loads(gzip.decompress(zipped.out))["comments"] == json.loads(plain.out)["comments"]
    assert b"Exported site news: 1 articles, 2 threads, 7 comments, 3 votes" in plain.err


def test_an_output_ending_in_gz_is_compressed_and_reads_back_the_same(
    newsroom: Site, tmp_path: Path
) -> None:
    plain = export(tmp_path)
    zipped = export(tmp_path, name="news.json.gz")

    assert zipped.read_bytes()[:2] == b"\x1f\x8b"
    assert (
        json.loads(gzip.decompress(zipped.read_bytes()))["votes"]
        == (json.loads(plain.read_bytes())["votes"])
    )
    assert [where_left_out(r) for r in read_back(zipped)] == [
        where_left_out(r) for r in read_back(plain)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["media", "news.json", "news.json.gz"]


def test_exporting_an_unknown_site_writes_nothing(tmp_path: Path, db: None) -> None:
    with pytest.raises(CommandError, match="There is no site 'gone'"):
        call_command("export", "--site", "gone", "--output", str(tmp_path / "gone.json"))

    assert list(tmp_path.iterdir()) == []


def test_the_parley_reader_yields_back_what_was_exported(newsroom: Site, tmp_path: Path) -> None:
    path = export(tmp_path)
    document = json.loads(path.read_bytes())
    meter = Meter()

    records = list(parley_reader.read(str(path), meter, Options()))

    assert (meter.done, meter.total) == (path.stat().st_size, path.stat().st_size)
    assert [type(r) for r in records[:2]] == [SiteRecord, ArticleRecord]
    site = records[0]
    assert isinstance(site, SiteRecord) and site.data == document["site"]
    article = records[1]
    assert isinstance(article, ArticleRecord)
    assert (article.key, article.thread_key, article.title, article.slug, article.dek) == (
        str(document["articles"][0]["id"]),
        "/articles/river/",
        "The river",
        "river",
        "A standfirst",
    )
    threads = [r for r in records if isinstance(r, ThreadRecord)]
    assert [(t.key, t.url) for t in threads] == [
        ("/articles/river/", "/articles/river/"),
        ("/closed/", "/closed/"),
    ]
    assert threads[1].closed_at == Thread.objects.get(uri="/closed/").closed_at

    comments = [r for r in records if isinstance(r, CommentRecord)]
    assert [c.key for c in comments] == [str(c["id"]) for c in document["comments"]]
    for record, stored in zip(
        comments, Comment.objects.order_by("id").select_related("account"), strict=True
    ):
        assert record.body_format == "markdown"
        assert (record.body, record.body_html, record.status) == (
            stored.body,
            stored.body_html,
            stored.status,
        )
        assert (record.created_at, record.edited_at) == (stored.created_at, stored.edited_at)
        assert record.parent_key == (str(stored.parent_id) if stored.parent_id else "")
        assert (record.reader_key, record.ip_hash) == (stored.reader_key, stored.ip_hash)
        assert record.account_email == (stored.account.email if stored.account else "")
        assert (record.quote, record.quote_prefix, record.quote_suffix) == (
            stored.quote,
            stored.quote_prefix,
            stored.quote_suffix,
        )
        assert [r["replaced_at"] for r in record.revisions] == [
            r.replaced_at for r in stored.revisions.all()
        ]
    votes = [r for r in records if isinstance(r, VoteRecord)]
    assert [(v.voter, v.value) for v in votes] == [
        ("r:someone", 1),
        (f"u:{User.objects.get(username='reader').pk}", 1),
        ("r:someone", -1),
    ]
    subscriptions = [r for r in records if isinstance(r, SubscriptionRecord)]
    assert [(s.email, s.kind, s.confirmed, s.confirmed_at) for s in subscriptions] == [
        ("ann@example.org", "thread", True, T0),
        ("reader@example.org", "comment", True, T0),
    ]
    assert subscriptions[1].comment_key == comments[0].key
    assert subscriptions[1].account_email == "reader@example.org"
    (kept,) = [r for r in records if isinstance(r, KeptRecord)]
    assert (kept.table, kept.key, kept.data) == (
        "wp_wc_follow_users",
        "7",
        {"user_email": "fan@example.org", "confirm": 1},
    )


def where_left_out(record: Record) -> dict[str, Any]:
    return {key: value for key, value in asdict(record).items() if key != "where"}


def _cut(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda lines: lines[:11],
            r"news\.json line 12: the file ends before the end of the comments array "
            r"\(truncated export\?\)",
        ),
        (
            lambda lines: [*lines[:10], lines[10][:20]],
            r"news\.json line 11: the file ends in the middle of a line \(truncated export\?\)",
        ),
        (
            lambda lines: [*lines[:10], b'{"id": 1, "thread": ,\n', *lines[11:]],
            r"news\.json line 11: an item of comments is not valid JSON",
        ),
        (
            lambda lines: [*lines[:10], b'{"id": 1},\n', *lines[11:]],
            r"news\.json line 11: an item of comments is not as Parley writes it \(KeyError",
        ),
        (
            lambda lines: [lines[0].replace(b'"version":1', b'"version":2'), *lines[1:]],
            r"news\.json line 1: this is version 2 of Parley's export format; this Parley "
            r"reads version 1",
        ),
        (
            lambda lines: [b'{"format":"remark42","version":1,\n', *lines[1:]],
            r"news\.json line 1: the format is 'remark42', not 'parley-export'",
        ),
        (
            lambda lines: [b"<?xml version='1.0'?>\n"],
            r"news\.json line 1: this is not a Parley export",
        ),
        (
            lambda lines: lines[:-1],
            r"news\.json line \d+: the file ends before the end of the document",
        ),
    ],
)
def test_a_damaged_export_is_refused_naming_the_line(
    newsroom: Site, tmp_path: Path, damage: Any, message: str
) -> None:
    lines = export(tmp_path).read_bytes().splitlines(keepends=True)
    assert lines[9] == b'"comments":[\n'  # the damage is placed in the comments array
    path = _cut(tmp_path / "news.json", damage(lines))

    with pytest.raises(SourceError, match=message):
        read_back(path)


def test_keys_a_later_parley_adds_to_version_1_are_passed_over(
    newsroom: Site, tmp_path: Path
) -> None:
    path = export(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[10] = lines[10].replace(b'{"id":', b'{"mood":"glad","id":', 1)
    path.write_bytes(b"".join(lines))

    comments = [r for r in read_back(path) if isinstance(r, CommentRecord)]

    assert comments[0].author_name == "Ann"


def test_a_cut_short_gzip_export_is_refused(newsroom: Site, tmp_path: Path) -> None:
    path = export(tmp_path, name="news.json.gz")
    path.write_bytes(path.read_bytes()[:-40])

    with pytest.raises(SourceError, match="the gzip compression is damaged or cut short"):
        read_back(path)


class Counting:
    """An output that keeps nothing but the number of bytes written."""

    size = 0

    def write(self, data: bytes, /) -> int:
        self.size += len(data)
        return len(data)


def test_export_and_reading_back_stream_in_constant_memory(
    unscored_site: Site, tmp_path: Path
) -> None:
    thread = ThreadFactory.create(site=unscored_site, uri="/big/")

    def peaks(total: int) -> tuple[int, int]:
        missing = total - Comment.objects.count()
        Comment.objects.bulk_create(
            Comment(
                thread=thread,
                author_name=f"Reader {n % 97}",
                reader_key=f"r:{n % 97}",
                body="words " * 40,
                body_html="<p>" + "words " * 40 + "</p>",
                created_at=T0,
            )
            for n in range(missing)
        )
        tracemalloc.start()
        write_export(unscored_site, Counting())
        _, writing = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        path = tmp_path / f"{total}.json"
        with path.open("wb") as out:
            write_export(unscored_site, out)
        tracemalloc.start()
        deque(parley_reader.read(str(path), Meter(), Options()), maxlen=0)
        _, reading = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return writing, reading

    # Past two chunks of rows (the export reads 2,000 at a time), more rows take no more memory.
    small, large = peaks(4_000), peaks(12_000)

    assert large[0] < small[0] * 1.5, (small, large)
    assert large[1] < small[1] * 1.5, (small, large)


def left_out(item: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in keys}


def normalised(document: dict[str, Any], ids: dict[int, int]) -> dict[str, Any]:
    """The document without what an import is free to change: the install's own ids (`ids`
    maps them to the first export's), their order, and the times the database sets itself."""

    def same(value: int | None) -> int | None:
        return None if value is None else ids[value]

    def account_key(item: dict[str, Any]) -> dict[str, Any]:
        """A signed-in reader's key names their account, whose id is the install's own."""
        if item["reader_key"].startswith("u:") and item["account_email"]:
            return item | {"reader_key": "u:" + item["account_email"]}
        return item

    return {
        "site": left_out(document["site"], "created_at"),
        "articles": [left_out(a, "id", "updated_at") for a in document["articles"]],
        "threads": document["threads"],
        "comments": sorted(
            (
                account_key(c) | {"id": same(c["id"]), "parent": same(c["parent"])}
                for c in document["comments"]
            ),
            key=lambda c: c["id"],
        ),
        "votes": sorted(
            (account_key(v) | {"comment": same(v["comment"])} for v in document["votes"]),
            key=lambda v: (v["comment"], v["reader_key"]),
        ),
        "subscriptions": [
            left_out(s, "id") | {"comment": same(s["comment"])} for s in document["subscriptions"]
        ],
        "kept": [left_out(item, "imported_at") for item in document["kept"]],
    }


@pytest.fixture
def round_trip(newsroom: Site, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The newsroom exported, imported into an empty install and exported again, both
    documents normalised; each comment's source key is what the import should make it."""
    # A comment an earlier import brought keeps saying where from.
    Comment.objects.filter(author_name="Bob").update(source_key="disqus:42")
    # …and a reader follows the replies to it.
    Subscription.objects.filter(kind="comment").update(
        comment=Comment.objects.get(author_name="Bob")
    )
    first = export(tmp_path)
    before = json.loads(first.read_bytes())
    Site.objects.all().delete()
    User.objects.all().delete()
    # The new install's staff exist before the import (an import file makes nobody staff).
    User.objects.create_user("editor", "editor@example.org", is_staff=True)

    call_command(
        "import", "parley", str(first), "--site", "news", "--report", str(tmp_path / "r.json")
    )

    after = json.loads(export(tmp_path, name="again.json").read_bytes())
    by_source = {}
    for comment in before["comments"]:
        by_source[f"parley:{comment['id']}"] = comment["id"]
        comment["source_key"] = comment["source_key"] or f"parley:{comment['id']}"
        by_source[comment["source_key"]] = comment["id"]
    originals = {c["id"]: by_source[c["source_key"]] for c in after["comments"]}
    return (
        normalised(before, {c["id"]: c["id"] for c in before["comments"]}),
        normalised(after, originals),
    )


def test_comments_threads_and_articles_come_back_the_same_from_an_export(
    round_trip: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    before, after = round_trip

    assert after["threads"] == before["threads"]
    assert [left_out(c, "source_key") for c in after["comments"]] == [
        left_out(c, "source_key") for c in before["comments"]
    ]
    assert [left_out(a, "figures") for a in after["articles"]] == [
        left_out(a, "figures") for a in before["articles"]
    ]
    assert [left_out(v, "account_email") for v in after["votes"]] == [
        left_out(v, "account_email") for v in before["votes"]
    ]
    assert left_out(after["site"], "moderators", "moderation_policy") == left_out(
        before["site"], "moderators", "moderation_policy"
    )


def test_an_export_imported_into_an_empty_install_exports_the_same(
    round_trip: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    before, after = round_trip

    assert after == before
    reader = User.objects.get(email="reader@example.org")
    assert Comment.objects.get(account=reader).reader_key == f"u:{reader.pk}"


def test_importing_the_same_export_again_adds_nothing(newsroom: Site, tmp_path: Path) -> None:
    path = export(tmp_path)

    def run() -> str:
        out = io.StringIO()
        call_command("import", "parley", str(path), "--site", "copy", "--report",
                     str(tmp_path / "r.json"), stdout=out, stderr=io.StringIO())  # fmt: skip
        return out.getvalue()

    first = run()
    copied = list(Comment.objects.filter(thread__site__name="copy").order_by("pk").values())
    again = run()

    assert "Nothing was lost" in first and "Nothing was lost" in again
    total = Comment.objects.filter(thread__site=newsroom).count()
    assert report_row(first) == (total, total, total)
    assert report_row(again) == (total, total, 0)
    assert list(Comment.objects.filter(thread__site__name="copy").order_by("pk").values()) == copied
