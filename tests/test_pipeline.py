"""The moderation pipeline as a reader and a moderator meet it: what happens to a comment
between "Post" and the thread, under each site policy, with a scorer that is quick, harsh or
hanging (the real scorer is tested in test_scoring.py)."""

import threading
import time
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from parley.comments.models import Comment
from parley.moderation import gate, tasks
from parley.moderation.models import Assessment, AuditEntry, Report
from parley.moderation.scoring import CATEGORIES, Score

from .factories import SiteFactory, ThreadFactory, post_comment

pytestmark = pytest.mark.django_db


class FakeScorer:
    """Scores every text alike; `delay` makes it as slow as a hosted service that hangs."""

    def __init__(self, **scores: float) -> None:
        self.scores = {name: scores.get(name, 0.01) for name in CATEGORIES}
        self.delay = 0.0
        self.calls = 0
        self.released = threading.Event()

    def score(self, texts: list[str], langs: Any = None) -> list[Score]:
        self.calls += 1
        if self.delay:
            self.released.wait(self.delay)
        return [Score(dict(self.scores), "en", ["fake reason"]) for _text in texts]


@pytest.fixture
def scorer(monkeypatch: pytest.MonkeyPatch) -> FakeScorer:
    fake = FakeScorer()
    monkeypatch.setattr(gate, "scorer_for", lambda policy: fake)
    return fake


def post(client: Any, body: str = "A fair point about the budget.", **fields: Any) -> Any:
    data = {"site": "news", "uri": "/a/", "body": body, "author_name": "Ana", **fields}
    return client.post_json("/comments", data)


def thread_ids(client: Any) -> list[int]:
    comments = client.api_get("/threads", site="news", uri="/a/").json()["comments"]
    return [c["id"] for c in comments]


def test_post_moderation_publishes_at_once_and_scores_later(client, other_reader, scorer):
    SiteFactory.create()
    response = post(client)
    assert response.status_code == 201
    assert response.json()["status"] == "published"
    comment_id = response.json()["comment"]["id"]
    assert scorer.calls == 0, "posting must not wait for the scorer"
    # Queued in the comment's own transaction (this test's never commits, so nothing queued
    # on commit would be here): a process that dies right after the commit loses no score.
    assert DBTaskResult.objects.filter(args_kwargs__args=[comment_id]).exists()
    assert Assessment.objects.get(comment_id=comment_id).source == "waiting"

    tasks.score_comment.call(comment_id)
    assessment = Assessment.objects.get(comment_id=comment_id)
    assert assessment.source == "local" and assessment.lang == "en"
    assert thread_ids(other_reader) == [comment_id]


def test_the_background_score_takes_a_risky_comment_down_for_review(client, other_reader, scorer):
    SiteFactory.create()
    comment_id = post(client, "You are all idiots.").json()["comment"]["id"]
    scorer.scores["insult"] = 0.97

    tasks.score_comment.call(comment_id)
    assert Comment.objects.get(pk=comment_id).status == "pending"
    assert thread_ids(other_reader) == []
    entry = AuditEntry.objects.get(comment_id=comment_id)
    assert (entry.action, entry.actor_name) == ("scorer.hold", "Parley")
    assert entry.before == {"status": "published"} and entry.after == {"status": "pending"}
    assert Assessment.objects.get(comment_id=comment_id).risk == pytest.approx(0.97)


def test_spam_scores_are_filed_as_spam(client, scorer):
    SiteFactory.create()
    comment_id = post(client, "Cheap pills at pills.example").json()["comment"]["id"]
    scorer.scores["spam"] = 0.99
    tasks.score_comment.call(comment_id)
    assert Comment.objects.get(pk=comment_id).status == "spam"


def test_a_held_comment_is_not_republished_by_its_score(client, scorer):
    SiteFactory.create(moderation="pre")
    comment_id = post(client).json()["comment"]["id"]
    tasks.score_comment.call(comment_id)
    assert Comment.objects.get(pk=comment_id).status == "pending"


def test_pre_moderation_holds_everything_and_says_so(client, other_reader, scorer):
    SiteFactory.create(moderation="pre")
    response = post(client)
    assert response.json()["status"] == "pending"
    assert thread_ids(other_reader) == []
    reasons = Assessment.objects.get(comment_id=response.json()["comment"]["id"]).reasons
    assert reasons == ["the site holds every comment for review"]


def test_first_time_authors_wait_once(client, scorer):
    site = SiteFactory.create(moderation="pre_first")
    first = post(client).json()
    assert first["status"] == "pending"
    Comment.objects.filter(pk=first["comment"]["id"]).update(status="published")
    assert post(client, "And another thought.").json()["status"] == "published"
    # The same e-mail from another browser is not a new author either.
    post_comment(ThreadFactory.create(site=site), author="Bo", author_email="bo@example.org")
    assert (
        post(client, "Hi", author_name="Bo", author_email="BO@example.org").json()["status"]
        == "published"
    )


def test_risky_pre_moderation_scores_before_publishing(client, other_reader, scorer):
    SiteFactory.create(moderation="pre_risky")
    assert post(client).json()["status"] == "published"
    assert scorer.calls == 1
    scorer.scores["threat"] = 0.8
    held = post(client, "Watch your back.").json()
    assert held["status"] == "pending"
    assessment = Assessment.objects.get(comment_id=held["comment"]["id"])
    assert assessment.reasons == ["fake reason"] and assessment.scores["threat"] == 0.8
    assert len(thread_ids(other_reader)) == 1


def test_thresholds_per_language(client, scorer):
    site = SiteFactory.create(moderation="pre_risky")
    policy = gate.policy_for(site)
    policy.language_thresholds = {"en": 0.9}
    policy.save()
    scorer.scores["toxicity"] = 0.7
    assert post(client).json()["status"] == "published"
    policy.language_thresholds = {}
    policy.save()
    assert post(client, "Again.").json()["status"] == "pending"


def test_a_hanging_scorer_never_delays_a_post_beyond_the_budget(
    client, scorer, django_capture_on_commit_callbacks
):
    site = SiteFactory.create(moderation="pre_risky")
    policy = gate.policy_for(site)
    policy.scorer_budget_ms = 300
    policy.save()
    scorer.delay = 30
    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client)
        elapsed = time.monotonic() - started
    finally:
        scorer.released.set()
    assert response.status_code == 201 and response.json()["status"] == "pending"
    assert elapsed < 3, f"the post waited {elapsed:.1f} s for a scorer with a 0.3 s budget"
    comment_id = response.json()["comment"]["id"]
    assert Assessment.objects.get(comment_id=comment_id).reasons == [
        "the scorer did not answer in time"
    ]
    assert DBTaskResult.objects.filter(args_kwargs__args=[comment_id]).exists()

    # Once the scorer answers (in the background), a harmless comment is published.
    scorer.delay = 0
    tasks.score_comment.call(comment_id)
    assert Comment.objects.get(pk=comment_id).status == "published"
    entry = AuditEntry.objects.get(comment_id=comment_id)
    assert (entry.action, entry.after) == ("scorer.publish", {"status": "published"})


def test_a_site_can_turn_the_scorer_off(client, scorer):
    site = SiteFactory.create()
    policy = gate.policy_for(site)
    policy.use_scorer = False
    policy.save()
    comment_id = post(client).json()["comment"]["id"]
    assert not DBTaskResult.objects.filter(args_kwargs__args=[comment_id]).exists()


def test_a_score_of_a_text_edited_meanwhile_is_left_to_the_edit_s_own_task(client, scorer):
    SiteFactory.create()
    comment_id = post(client).json()["comment"]["id"]
    score = scorer.score

    def edited_while_scoring(texts: list[str], langs: Any = None) -> list[Score]:
        Comment.objects.filter(pk=comment_id).update(body="Edited while it was scored.")
        return score(texts, langs)

    scorer.score = edited_while_scoring  # type: ignore[method-assign]
    tasks.score_comment.call(comment_id)
    assert Assessment.objects.get(comment_id=comment_id).scored_at is None


def test_an_edit_that_turns_abusive_is_taken_down(client, other_reader, scorer):
    SiteFactory.create(moderation="pre_risky")
    posted = post(client).json()
    scorer.scores["insult"] = 0.9
    response = client.patch_json(
        f"/comments/{posted['comment']['id']}",
        {"body": "Actually, you are all idiots."},
        HTTP_AUTHORIZATION=f"Bearer {posted['edit_token']}",
    )
    assert response.status_code == 200
    assert Comment.objects.get(pk=posted["comment"]["id"]).status == "pending"
    assert thread_ids(other_reader) == []


def report(client: Any, comment_id: int, **data: Any) -> Any:
    return client.post_json(f"/comments/{comment_id}/report", {"reason": "insult", **data})


def test_enough_reader_reports_hold_a_comment(scorer):
    from .conftest import ApiClient

    site = SiteFactory.create()
    policy = gate.policy_for(site)
    policy.reports_to_hold = 2
    policy.save()
    comment = post_comment(ThreadFactory.create(site=site, uri="/a/"))
    assert report(ApiClient(REMOTE_ADDR="10.0.0.1"), comment.pk).status_code == 201
    assert Comment.objects.get(pk=comment.pk).status == "published"
    assert report(ApiClient(REMOTE_ADDR="10.0.0.2"), comment.pk).status_code == 201
    assert Comment.objects.get(pk=comment.pk).status == "pending"
    assert "held after 2 reader reports" in Assessment.objects.get(comment=comment).reasons
    assert AuditEntry.objects.get(comment_id=comment.pk).action == "reports.hold"


def test_an_illegal_content_report_is_a_dsa_notice(client):
    comment = post_comment(ThreadFactory.create(uri="/a/"))
    response = report(client, comment.pk, reason="illegal", note="x")
    assert response.status_code == 422
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"note", "reporter_name", "reporter_email", "good_faith"}

    response = report(
        client,
        comment.pk,
        reason="illegal",
        note="This incites violence against a named group (§ 130 StGB).",
        reporter_name="Eva Weber",
        reporter_email="eva@example.org",
        good_faith=True,
    )
    assert response.status_code == 201
    notice = Report.objects.get()
    assert (notice.reporter_name, notice.reporter_email, notice.good_faith) == (
        "Eva Weber",
        "eva@example.org",
        True,
    )


def test_shadow_banned_authors_believe_they_are_published(client, other_reader, scorer):
    from parley.moderation.models import Ban

    site = SiteFactory.create()
    first = post(client).json()
    reader_key = Comment.objects.get(pk=first["comment"]["id"]).reader_key
    Ban.objects.create(site=site, kind="reader", value=reader_key, shadow=True)
    shadowed = post(client, "My next opinion.").json()
    assert shadowed["status"] == "published"
    assert Comment.objects.get(pk=shadowed["comment"]["id"]).status == "pending"
    assert Assessment.objects.get(comment_id=shadowed["comment"]["id"]).shadow
    assert thread_ids(other_reader) == [first["comment"]["id"]]


def test_a_banned_author_is_told_until_when(client, scorer):
    from datetime import timedelta

    from django.utils import timezone

    from parley.moderation.models import Ban

    site = SiteFactory.create()
    Ban.objects.create(
        site=site,
        kind="email",
        value="troll@example.org",
        expires_at=timezone.now() + timedelta(days=1),
    )
    response = post(client, author_email="Troll@Example.org")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "banned" and "until" in error["message"]
    assert Comment.objects.count() == 0
    # An expired or lifted ban no longer applies.
    Ban.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert post(client, author_email="troll@example.org").status_code == 201
