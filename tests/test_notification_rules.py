"""Who is mailed about what: never about a held, rejected or deleted comment, never the
author about their own, nobody who did not confirm; digests, throttling, moderators."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from parley.comments.actions import do_set_status
from parley.comments.models import Comment, Subscription, Thread
from parley.moderation import decisions, gate, tasks
from parley.moderation.models import Assessment, Policy
from parley.notifications import digests
from parley.notifications.delivery import deliver_due
from parley.notifications.models import DigestItem, ModeratorAlerts, OutboundEmail, Suppression
from tests.factories import say
from tests.test_pipeline import FakeScorer

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(unscored_site):
    return unscored_site


def follow(site, email, kind="thread", *, comment=None, delivery="instant", confirmed=True):
    return Subscription.objects.create(
        site=site,
        uri="/story/",
        email=email,
        kind=kind,
        comment_id=comment,
        delivery=delivery,
        reader_key="r:someone",
        confirmed_at=timezone.now() if confirmed else None,
    )


def mails_to(email):
    return list(OutboundEmail.objects.filter(to=email).order_by("id"))


def test_a_thread_follower_hears_of_each_new_comment_but_not_of_their_own(
    client, other_reader, site
):
    follow(site, "fan@example.org")
    say(client, "First!")
    say(other_reader, "Mine", email="fan@example.org", name="Fan")

    (mail,) = mails_to("fan@example.org")
    assert mail.subject == "New comment by Ann on The News"  # the site: the thread has no title
    assert "First!" in mail.text and "First!" in mail.html


def test_nothing_goes_to_an_address_that_did_not_confirm(client, site):
    follow(site, "maybe@example.org", confirmed=False)
    say(client, "Hello")
    assert mails_to("maybe@example.org") == []


def test_replies_to_my_comments_and_replies_under_one_comment(client, other_reader, site):
    mine = say(client, "My point", email="ann@example.org")
    follow(site, "ann@example.org", "replies")
    other = say(other_reader, "Another point", name="Bob")
    follow(site, "watcher@example.org", "comment", comment=other)

    say(other_reader, "Replying to Ann", parent=mine, name="Bob")
    under = say(client, "Replying to Bob", parent=other, email="ann@example.org")
    say(other_reader, "Deeper", parent=under, name="Bob")

    assert [m.subject for m in mails_to("ann@example.org")] == [
        "Bob replied to your comment on The News",
        "Bob replied to your comment on The News",  # "Deeper" answers Ann's reply
    ]
    assert [m.subject for m in mails_to("watcher@example.org")] == [
        "Ann replied in a discussion you follow on The News",
        "Bob replied in a discussion you follow on The News",
    ]


def test_one_address_gets_one_mail_per_comment_however_it_follows_it(client, other_reader, site):
    mine = say(client, "My point", email="ann@example.org")
    follow(site, "ann@example.org", "replies")
    follow(site, "ann@example.org", "thread")
    say(other_reader, "Reply", parent=mine, name="Bob")
    assert [m.kind for m in mails_to("ann@example.org")] == ["replies"]


def test_a_held_comment_is_news_only_once_a_moderator_publishes_it(client, site):
    site.moderation = "pre"
    site.save()
    follow(site, "fan@example.org")
    moderator = User.objects.create_user("mod", "mod@example.org", is_staff=True)
    site.moderators.add(moderator)

    held = say(client, "Wait for it")
    assert mails_to("fan@example.org") == []
    assert [m.kind for m in mails_to("mod@example.org")] == ["held"]

    decisions.decide(moderator, held, decisions.APPROVE)
    assert [m.kind for m in mails_to("fan@example.org")] == ["thread"]


def test_an_imported_comment_a_moderator_approves_now_is_no_news(client, site):
    follow(site, "fan@example.org")
    moderator = User.objects.create_user("mod", "mod@example.org", is_staff=True)
    site.moderators.add(moderator)
    held = say(client, "Written on the old system in 2014")
    Comment.objects.filter(pk=held).update(status="pending", source_key="wxr:77")
    OutboundEmail.objects.all().delete()

    decisions.decide(moderator, held, decisions.APPROVE)

    assert Comment.objects.get(pk=held).status == "published"
    assert mails_to("fan@example.org") == []


def test_a_rejected_comment_is_never_news(client, site):
    site.moderation = "pre"
    site.save()
    follow(site, "fan@example.org")
    moderator = User.objects.create_user("mod", "mod@example.org", is_staff=True)
    site.moderators.add(moderator)
    held = say(client, "Nope")
    decisions.decide(moderator, held, decisions.REJECT)
    assert mails_to("fan@example.org") == []


def test_a_comment_deleted_before_the_mail_went_out_is_not_mailed(client, site, mailoutbox):
    follow(site, "fan@example.org")
    comment_id = say(client, "Oops, wrong thread")
    with transaction.atomic():
        do_set_status(Comment.objects.select_for_update().get(pk=comment_id), "deleted")

    deliver_due()

    assert mailoutbox == []
    assert mails_to("fan@example.org")[0].state == OutboundEmail.State.CANCELLED


def test_on_a_scored_site_a_comment_is_news_once_the_scorer_lets_it_stand(
    client, site, monkeypatch
):
    Policy.objects.filter(site=site).update(use_scorer=True)
    fake = FakeScorer()
    monkeypatch.setattr(gate, "scorer_for", lambda policy: fake)
    follow(site, "fan@example.org")
    harmless = say(client, "A fair point")
    assert mails_to("fan@example.org") == []  # published, but the scorer has not spoken

    tasks.score_comment.call(harmless)
    assert len(mails_to("fan@example.org")) == 1

    fake.scores["insult"] = 0.99
    insult = say(client, "Something nasty")
    tasks.score_comment.call(insult)
    assert Comment.objects.get(pk=insult).status == "pending"
    assert len(mails_to("fan@example.org")) == 1


def test_a_score_task_run_again_after_its_worker_died_tells_nobody_twice(
    client, site, monkeypatch, settings
):
    Policy.objects.filter(site=site).update(use_scorer=True)
    monkeypatch.setattr(gate, "scorer_for", lambda policy: FakeScorer())
    settings.PARLEY_NOTIFY_PER_HOUR = 1
    follow(site, "fan@example.org")
    comment_id = say(client, "A fair point")

    tasks.score_comment.call(comment_id)
    # Its first run committed, then its worker died before marking it done: it runs again,
    # now that the fan's hour is full.
    tasks.score_comment.call(comment_id)

    assert len(mails_to("fan@example.org")) == 1
    assert not DigestItem.objects.exists()
    assert Assessment.objects.get(comment_id=comment_id).reasons == ["fake reason"]


def test_daily_readers_get_one_digest_and_a_second_run_sends_nothing_more(
    client, other_reader, site
):
    follow(site, "daily@example.org", delivery="daily")
    say(client, "Morning news")
    say(other_reader, "Evening news", name="Bob")
    gone = say(other_reader, "Deleted later", name="Bob")
    with transaction.atomic():
        do_set_status(Comment.objects.select_for_update().get(pk=gone), "deleted")
    assert mails_to("daily@example.org") == []

    tomorrow = timezone.now() + timedelta(days=1, hours=1)
    assert digests.write_due_digests(tomorrow) == 1
    assert digests.write_due_digests(tomorrow) == 0

    (digest,) = mails_to("daily@example.org")
    assert digest.subject == "Your daily digest: 2 new comments"
    assert "Morning news" in digest.text and "Evening news" in digest.text
    assert "Deleted later" not in digest.text
    assert digest.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_an_address_over_its_hourly_limit_gets_the_rest_in_its_digest(client, site, settings):
    settings.PARLEY_NOTIFY_PER_HOUR = 2
    follow(site, "busy@example.org")
    for n in range(4):
        say(client, f"Comment {n}")
    assert len(mails_to("busy@example.org")) == 2
    assert DigestItem.objects.filter(email="busy@example.org").count() == 2


def test_moderators_choose_instant_daily_or_no_alerts(client, other_reader, site):
    instant = User.objects.create_user("a", "instant@example.org", is_staff=True)
    daily = User.objects.create_user("b", "daily@example.org", is_staff=True)
    quiet = User.objects.create_user("c", "quiet@example.org", is_staff=True)
    site.moderators.add(instant, daily, quiet)
    ModeratorAlerts.objects.create(user=daily, delivery="daily")
    ModeratorAlerts.objects.create(user=quiet, delivery="off")
    comment_id = say(client, "Reported soon")

    response = other_reader.post_json(f"/comments/{comment_id}/report", {"reason": "spam"})

    assert response.status_code == 201, response.content
    (alert,) = mails_to("instant@example.org")
    assert alert.subject == "Reported: a comment by Ann on The News"
    assert "Reason: Spam" in alert.text
    assert "/moderation/" in alert.text
    assert DigestItem.objects.filter(email="daily@example.org", kind="reported").exists()
    assert mails_to("quiet@example.org") == mails_to("daily@example.org") == []


def test_a_suppressed_address_cannot_subscribe_and_is_never_mailed(client, site):
    Suppression.objects.create(email="gone@example.org", reason="bounce")
    response = client.post_json(
        "/subscriptions",
        {"site": "news", "uri": "/story/", "email": "gone@example.org", "kind": "thread"},
    )
    assert response.status_code == 422
    assert "bounced" in response.json()["error"]["fields"]["email"]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "email",
    [
        "ann@example.org\r\nBcc: everyone@example.org",
        "ann@example.org\nSubject: hi",
        "a@b.org, c@d.org",
    ],
)
def test_an_address_with_a_header_injection_attempt_is_refused(client, site, email):
    response = client.post_json(
        "/subscriptions", {"site": "news", "uri": "/story/", "email": email, "kind": "thread"}
    )
    assert response.status_code == 422
    assert "email" in response.json()["error"]["fields"]
    assert not Subscription.objects.exists() and not OutboundEmail.objects.exists()


def test_a_signed_in_reader_subscribes_their_own_address_without_confirming(client, site):
    reader = User.objects.create_user("reader", "me@example.org")
    client.force_login(reader)
    response = client.post_json(
        "/subscriptions",
        {"site": "news", "uri": "/story/", "email": "me@example.org", "kind": "thread"},
    )
    assert response.status_code == 202
    assert "me@example.org" in response.json()["message"]
    assert Subscription.objects.get().confirmed_at is not None
    assert not OutboundEmail.objects.exists()  # no confirmation needed


def test_mail_names_a_page_by_its_title_never_by_a_path_a_stranger_typed(client, site):
    Thread.objects.create(site=site, uri="/story/", title="The river crossing")
    for uri in ["/story/", "/WIN-A-PRIZE-at-evil.example/claim/"]:
        response = client.post_json(
            "/subscriptions",
            {"site": "news", "uri": uri, "email": "v@example.org", "kind": "thread"},
        )
        assert response.status_code == 202

    titled, untitled = mails_to("v@example.org")
    assert "new comments on The river crossing." in titled.text
    assert "evil.example" not in untitled.text + untitled.html + untitled.subject
    assert "new comments on The News." in untitled.text


def test_a_page_path_with_spaces_or_control_characters_is_refused(client, site):
    for uri in ["/ WIN A PRIZE at http://evil.example/ ", "/story/\nBcc: x@y.org"]:
        response = client.post_json(
            "/subscriptions",
            {"site": "news", "uri": uri, "email": "v@example.org", "kind": "thread"},
        )
        assert response.status_code == 422
        assert "uri" in response.json()["error"]["fields"]
    assert not OutboundEmail.objects.exists()
