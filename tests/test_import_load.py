"""What every import does whatever the format: awkward structures, re-runs and resuming.

Records are fed straight into the staging file here; each format's own tests feed real files.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from parley.comments.models import Comment, Subscription, Thread, Vote
from parley.imports import load
from parley.imports.load import Loader, Outcome
from parley.imports.models import KeptItem
from parley.imports.records import (
    CommentRecord,
    KeptRecord,
    Record,
    SubscriptionRecord,
    ThreadRecord,
    VoteRecord,
)
from parley.imports.staging import Staging
from parley.imports.urlmap import build
from parley.sites.models import Site
from tests.factories import SiteFactory, say

pytestmark = pytest.mark.django_db

T0 = datetime(2015, 3, 1, 12, 0, tzinfo=UTC)


def comment(key: str, thread: str = "t1", parent: str = "", **fields: Any) -> CommentRecord:
    values: dict[str, Any] = {
        "author_name": f"Author {key}",
        "body": f"<p>Comment {key}</p>",
        "body_format": "html",
        "created_at": T0 + timedelta(minutes=int(key) if key.isdigit() else 0),
    }
    return CommentRecord(key=key, thread_key=thread, parent_key=parent, **(values | fields))


def run(
    tmp_path: Path,
    site: Site,
    records: Iterable[Record],
    *,
    rules: Iterable[str] = (),
    dry_run: bool = False,
) -> tuple[Outcome, list[tuple[str, str, str, str]]]:
    staging = Staging(tmp_path / f"staging-{datetime.now().timestamp()}.sqlite3")
    for record in records:
        staging.add(record)
    staging.finish()
    try:
        outcome = Loader(staging, site, "disqus", build(rules), dry_run=dry_run).run()
        return outcome, staging.skips()
    finally:
        staging.close()


def awkward() -> list[Record]:
    return [
        # A reply before its parent, a reply to a reply, a reply to a missing parent.
        comment("3", parent="2"),
        ThreadRecord(key="t1", url="https://old.example/2015/03/bridge/", title="The bridge"),
        comment("1"),
        comment("2", parent="1"),
        comment("4", parent="99"),
        # A loop: 5 and 6 answer each other.
        comment("5", parent="6"),
        comment("6", parent="5"),
        # A deleted comment whose reply still shows, spam, a nameless author.
        comment("7", status="deleted"),
        comment("8", parent="7"),
        comment("9", status="spam"),
        comment("10", author_name=""),
        # The same id twice: the first wins.
        comment("1"),
        comment("2", body="<p>other text</p>"),
        # A comment of a thread the source does not have.
        comment("11", thread="t-missing"),
        VoteRecord(comment_key="1", voter="ann", value=1),
        VoteRecord(comment_key="1", voter="bob", value=-1),
        VoteRecord(comment_key="1", voter="ann", value=1),
        VoteRecord(comment_key="404", voter="ann", value=1),
        SubscriptionRecord(
            key="s1", thread_key="t1", email="Reader@Example.org", kind="thread", confirmed=True
        ),
        SubscriptionRecord(
            key="s2", thread_key="t1", email="x@y.org", kind="comment", comment_key="2"
        ),
        KeptRecord(
            table="wc_users_rated",
            key="1",
            data={"rating": 4, "user_ip": "203.0.113.5"},
            reason="no ratings",
        ),
        ThreadRecord(key="t2", url="", title="No link"),
        comment("20", thread="t2"),
    ]


def test_awkward_structures_arrive_whole_with_every_change_and_omission_explained(
    tmp_path: Path, client: Any
) -> None:
    site = SiteFactory.create()
    outcome, skips = run(tmp_path, site, awkward(), rules=["https://old.example/=>/"])

    thread = Thread.objects.get(site=site, uri="/2015/03/bridge/")
    assert thread.title == "The bridge"
    by_key = {c.source_key: c for c in Comment.objects.filter(thread=thread)}
    assert len(by_key) == 10
    assert by_key["disqus:3"].parent == by_key["disqus:2"]
    assert by_key["disqus:3"].root == by_key["disqus:1"] and by_key["disqus:3"].depth == 3
    assert by_key["disqus:4"].parent is None  # its parent never came
    assert {by_key["disqus:5"].parent_id, by_key["disqus:6"].parent_id} & {None}
    assert by_key["disqus:10"].author_name == "Anonymous"
    assert by_key["disqus:2"].body == "<p>Comment 2</p>"  # the first of the two
    assert (by_key["disqus:1"].upvotes, by_key["disqus:1"].downvotes) == (1, 1)
    assert Vote.objects.filter(comment=by_key["disqus:1"]).count() == 2
    # Counters as if the comments had been written here one by one.
    assert thread.published_count == 8
    assert by_key["disqus:7"].reply_count == 1 and by_key["disqus:1"].reply_count == 1

    page = client.get(f"/api/v1/threads?site=news&uri={thread.uri}&sort=oldest").json()
    shown = [c["id"] for c in page["comments"]]
    assert by_key["disqus:7"].pk in shown  # a placeholder for its visible reply

    subscription = Subscription.objects.get(kind="thread")
    assert subscription.email == "reader@example.org" and subscription.confirmed_at is not None
    assert Subscription.objects.get(kind="comment").comment == by_key["disqus:2"]

    reasons = {(kind, key): reason for kind, key, reason, _where in skips}
    assert "the first is used" in reasons[("comment", "1")]
    assert "with the same id came earlier" in reasons[("comment", "2")]
    assert "not in the source" in reasons[("comment", "11")]
    assert "same voter" in reasons[("vote", "1/ann")]
    assert "not in the source" in reasons[("vote", "404/ann")]
    changes = " ".join(c for t in outcome.threads for c in t.changes)
    assert "its parent (99) is not in the source" in changes
    assert "loop" in changes and "Anonymous" in changes

    assert Thread.objects.get(site=site, uri="/imported/disqus/t2/").comments.count() == 1
    assert [t.state for t in outcome.threads] == ["changed", "ok"]
    assert outcome.comments.source == outcome.comments.present == 11
    assert outcome.kept.added == 1
    rating = KeptItem.objects.get().data
    assert rating["rating"] == 4 and rating["user_ip"].startswith("hash:")
    assert "203.0.113.5" not in str(rating)  # addresses are kept hashed, as on comments


def test_a_second_run_adds_nothing_and_changes_nothing(tmp_path: Path) -> None:
    site = SiteFactory.create()
    run(tmp_path, site, awkward())
    before = list(Comment.objects.order_by("pk").values())
    votes = list(Vote.objects.order_by("pk").values())

    outcome, _skips = run(tmp_path, site, awkward())

    assert list(Comment.objects.order_by("pk").values()) == before
    assert list(Vote.objects.order_by("pk").values()) == votes
    assert outcome.comments.added == 0 and outcome.comments.present == 11
    assert outcome.subscriptions.added == 0 and outcome.kept.added == 0
    assert all(t.state in ("ok", "changed") for t in outcome.threads)


def test_an_interrupted_run_leaves_whole_threads_and_the_next_run_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = SiteFactory.create()
    records: list[Record] = []
    for t in range(6):
        records.append(ThreadRecord(key=f"t{t}", url=f"/story-{t}/"))
        records += [comment(f"{t}{n:02d}", thread=f"t{t}") for n in range(30)]
    monkeypatch.setattr(load, "BATCH_COMMENTS", 50)
    real = Loader._load_batch
    calls = 0

    def crash_in_the_second_batch(self: Loader, *args: Any) -> None:
        nonlocal calls
        calls += 1
        real(self, *args)
        if calls == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Loader, "_load_batch", crash_in_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, site, records)
    # Batches of two threads: the first batch is in; the second, stopped after writing,
    # rolled back whole.
    assert Comment.objects.count() == 60
    assert sorted(Thread.objects.values_list("uri", flat=True)) == ["/story-0/", "/story-1/"]

    monkeypatch.setattr(Loader, "_load_batch", real)
    outcome, _skips = run(tmp_path, site, records)
    assert Comment.objects.count() == 180
    assert outcome.comments.added == 120 and outcome.comments.present == 180
    assert all(t.state == "ok" for t in outcome.threads)


def test_imported_comments_join_a_thread_that_already_has_comments(
    tmp_path: Path, client: Any, unscored_site: Site
) -> None:
    site = unscored_site
    say(client, "Written here before the move")
    run(tmp_path, site, [ThreadRecord(key="t1", url="https://old.example/story/"),
                         comment("1"), comment("2", parent="1")])  # fmt: skip
    thread = Thread.objects.get(site=site, uri="/story/")
    assert thread.published_count == 3
    assert thread.comments.get(source_key="disqus:1").reply_count == 1


def test_a_dry_run_writes_nothing_and_says_what_it_would_add(tmp_path: Path) -> None:
    site = SiteFactory.create()
    outcome, _skips = run(tmp_path, site, awkward(), dry_run=True)
    assert not Comment.objects.exists() and not Thread.objects.exists()
    assert outcome.comments.source == 11 and outcome.comments.present == 0


def test_comments_of_an_erased_address_arrive_by_a_deleted_user(tmp_path: Path) -> None:
    from parley.accounts.models import ErasedAddress
    from parley.accounts.privacy import erased_digest

    site = SiteFactory.create()
    ErasedAddress.objects.create(digest=erased_digest("Gone@Example.org"))
    outcome, _skips = run(tmp_path, site, [
        ThreadRecord(key="t1", url="/a/"),
        comment("1", author_name="Gone Person", author_email="gone@example.org", ip="192.0.2.1"),
        comment("2", author_name="Stays", author_email="stays@example.org"),
    ])  # fmt: skip
    gone, stays = Comment.objects.order_by("source_key")
    assert (gone.author_name, gone.author_email, gone.ip_hash) == ("Deleted user", "", "")
    assert stays.author_email == "stays@example.org"
    assert "erased at their request" in " ".join(outcome.threads[0].changes)
