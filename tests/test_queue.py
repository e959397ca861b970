"""The moderator queue: who may work it, what each decision does, and what banned authors meet."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from parley.comments.models import Comment
from parley.moderation.models import Assessment, AuditEntry, Ban, Label, Note, Report
from tests.conftest import ApiClient
from tests.factories import ArticleFactory, SiteFactory, ThreadFactory, post_comment

pytestmark = pytest.mark.django_db

QUEUE = "/moderation/"


def post(client: ApiClient, site: str, body: str, author: str = "Ana", **fields):
    data = {"site": site, "uri": "/story/", "body": body, "author_name": author, **fields}
    return client.post_json("/comments", data)


def held(site_name: str, body: str, author: str = "Ana", **fields) -> Comment:
    """A comment held by a pre-moderated site, posted by its own reader."""
    response = post(ApiClient(), site_name, body, author, **fields)
    assert response.status_code == 201, response.content
    return Comment.objects.get(pk=response.json()["comment"]["id"])


def set_risk(comment: Comment, risk: float, **scores: float) -> None:
    Assessment.objects.filter(comment=comment).update(
        risk=risk, scores={"toxicity": risk, **scores}, lang="en", source="local"
    )


@pytest.fixture
def site():
    return SiteFactory.create(name="news", moderation="pre")


@pytest.fixture
def other_site():
    return SiteFactory.create(name="sport", moderation="pre", domains=["sport.example"])


@pytest.fixture
def mona(site):
    user = User.objects.create_user("mona", password="pw-mona-123", is_staff=True)
    site.moderators.add(user)
    return user


@pytest.fixture
def moderator(mona) -> ApiClient:
    client = ApiClient()
    client.force_login(mona)
    return client


def act(client: ApiClient, comment: Comment, action: str, **data):
    return client.post(
        f"/moderation/comments/{comment.pk}/{action}",
        {"next": QUEUE, **data},
        HTTP_ACCEPT="application/json",
    )


def queue_ids(client: ApiClient, **params) -> list[int]:
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    return [item.comment.pk for item in response.context["items"]]


# --- Who may work the queue ---------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in():
    response = ApiClient().get(QUEUE)

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/moderation/"


def test_staff_member_who_moderates_no_site_is_refused(site):
    staff = User.objects.create_user("sam", is_staff=True)
    client = ApiClient()
    client.force_login(staff)

    assert client.get(QUEUE).status_code == 403


def test_signed_in_reader_is_refused(site):
    reader = User.objects.create_user("rita")
    site.moderators.add(reader)  # named, but not staff: no way into the admin either
    client = ApiClient()
    client.force_login(reader)

    assert client.get(QUEUE).status_code == 403


def test_moderator_sees_only_their_sites_comments(site, other_site, moderator):
    mine = held("news", "Mine to judge.")
    held("sport", "Someone else's.")

    assert queue_ids(moderator) == [mine.pk]


def test_moderator_of_another_site_cannot_act_on_its_comments(site, other_site, moderator):
    theirs = held("sport", "Someone else's.")

    response = act(moderator, theirs, "approve")

    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == Comment.Status.PENDING
    assert not AuditEntry.objects.filter(comment_id=theirs.pk).exists()
    assert not Label.objects.exists()


def test_admin_sees_and_acts_on_every_site(site, other_site, admin_user):
    news, sport = held("news", "One."), held("sport", "Two.")
    client = ApiClient()
    client.force_login(admin_user)

    assert sorted(queue_ids(client)) == sorted([news.pk, sport.pk])
    assert act(client, sport, "approve").status_code == 200


# --- What each decision does --------------------------------------------------------------


def test_approving_publishes_the_comment_and_keeps_the_decision(site, moderator, mona):
    comment = held("news", "A fair point, well made.")
    Assessment.objects.filter(comment=comment).update(lang="en")

    response = act(moderator, comment, "approve")

    assert response.status_code == 200
    assert response.json()["message"] == "Approved comment by Ana."
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert comment.thread.published_count == 1
    entry = AuditEntry.objects.get(comment_id=comment.pk)
    assert (entry.action, entry.actor_name, entry.actor_id) == ("approve", "mona", mona.pk)
    assert (entry.before, entry.after) == ({"status": "pending"}, {"status": "published"})
    label = Label.objects.get(comment_id=comment.pk)
    assert (label.verdict, label.text, label.lang, label.decided_by) == (
        "ok",
        "A fair point, well made.",
        "en",
        mona,
    )
    assert (
        ApiClient().api_get("/threads", site="news", uri="/story/").json()["thread"]["count"] == 1
    )


@pytest.mark.parametrize(
    ("action", "status", "verdict"), [("reject", "rejected", "abusive"), ("spam", "spam", "spam")]
)
def test_rejecting_or_filing_as_spam_keeps_the_comment_hidden(
    site, moderator, action, status, verdict
):
    comment = held("news", "Buy cheap watches")

    assert act(moderator, comment, action).status_code == 200

    comment.refresh_from_db()
    assert comment.status == status
    assert comment.thread.published_count == 0
    assert Label.objects.get(comment_id=comment.pk).verdict == verdict
    assert AuditEntry.objects.get(comment_id=comment.pk).after == {"status": status}
    assert queue_ids(moderator) == []


def test_rejecting_a_reported_comment_resolves_its_reports_and_lowers_the_count(moderator):
    thread = ThreadFactory.create(site__name="news")
    comment = post_comment(thread, "You people are vermin.")
    for n in range(2):
        Report.objects.create(comment=comment, reason="hate", reader_key=f"r:{n}")
    assert queue_ids(moderator, status="reported") == [comment.pk]

    act(moderator, comment, "reject")

    thread.refresh_from_db()
    assert thread.published_count == 0
    assert not Report.objects.filter(resolved_at__isnull=True).exists()
    entry = AuditEntry.objects.get(comment_id=comment.pk)
    assert entry.before == {"status": "published", "open_reports": 2}
    assert entry.after == {"status": "rejected", "open_reports": 0}


def test_approving_a_reported_comment_keeps_it_up_and_closes_the_reports(moderator):
    thread = ThreadFactory.create(site__name="news")
    comment = post_comment(thread, "An unpopular but fair opinion.")
    Report.objects.create(comment=comment, reason="off_topic", reader_key="r:1")

    act(moderator, comment, "approve")

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert Report.objects.get().resolved_at is not None
    assert queue_ids(moderator) == []


def test_a_note_is_kept_for_the_other_moderators(site, moderator):
    comment = held("news", "Borderline.")

    response = moderator.post(
        f"/moderation/comments/{comment.pk}/note",
        {"text": "Regular poster, usually fine."},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 200
    assert Note.objects.get().text == "Regular poster, usually fine."
    assert AuditEntry.objects.get().action == "note"
    page = moderator.get(QUEUE).content.decode()
    assert "Regular poster, usually fine." in page


def test_without_javascript_a_decision_redirects_back_with_a_message(site, moderator):
    comment = held("news", "Hello.")

    response = moderator.post(
        f"/moderation/comments/{comment.pk}/approve", {"next": "/moderation/?status=held"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/moderation/?status=held"
    page = moderator.get(response["Location"]).content.decode()
    assert "Approved comment by Ana." in page


def test_a_decision_needs_the_csrf_token(site, mona):
    comment = held("news", "Hello.")
    client = ApiClient(enforce_csrf_checks=True)
    client.force_login(mona)

    response = client.post(f"/moderation/comments/{comment.pk}/approve")

    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING


# --- Bans ---------------------------------------------------------------------------------


def test_banned_author_is_told_until_when_they_cannot_comment(site, moderator):
    author = ApiClient()
    comment = Comment.objects.get(
        pk=post(author, "news", "You are all idiots.", author_email="Ana@Example.org").json()[
            "comment"
        ]["id"]
    )

    response = act(moderator, comment, "ban", kind=["email", "reader"], duration="1d")

    assert response.status_code == 200
    comment.refresh_from_db()
    assert comment.status == Comment.Status.REJECTED
    bans = Ban.objects.order_by("kind")
    assert [(b.kind, b.value) for b in bans] == [
        ("email", "ana@example.org"),
        ("reader", comment.reader_key),
    ]
    day = timezone.now() + timedelta(days=1)
    assert all(b.expires_at and abs((b.expires_at - day).total_seconds()) < 60 for b in bans)
    assert Label.objects.get().verdict == "abusive"
    entry = AuditEntry.objects.get(comment_id=comment.pk)
    assert entry.action == "ban"
    assert entry.after["status"] == "rejected"
    assert entry.after["ban"]["kinds"] == ["email", "reader"]

    refused = post(author, "news", "Let me back in.")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "banned"
    assert error["message"].startswith("You cannot comment here until ")
    # Another browser with the same e-mail address is held to the same ban.
    again = post(ApiClient(), "news", "New browser.", author_email="ana@example.org")
    assert again.json()["error"]["code"] == "banned"


def test_a_permanent_ban_says_so(site, moderator):
    author = ApiClient()
    comment = Comment.objects.get(pk=post(author, "news", "Spam spam").json()["comment"]["id"])

    act(moderator, comment, "ban", kind=["reader"], duration="permanent")

    assert Ban.objects.get().expires_at is None
    message = post(author, "news", "Again.").json()["error"]["message"]
    assert message == "You can no longer comment here: a moderator has banned you."


def test_a_ban_needs_something_to_ban(site, moderator):
    comment = held("news", "No account, no e-mail.")

    response = act(moderator, comment, "ban", kind=["account", "email"], duration="1h")

    assert response.status_code == 422
    assert not Ban.objects.exists()
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING


def test_shadow_banned_author_believes_they_are_published(site, moderator):
    SiteFactory.create(name="open", moderation="post")
    author = ApiClient()
    first = Comment.objects.get(pk=post(author, "news", "Troll.").json()["comment"]["id"])
    act(moderator, first, "ban", kind=["reader"], duration="7d", shadow="on")

    response = post(author, "news", "Troll again.")

    assert response.status_code == 201
    assert response.json()["status"] == "published"
    comment = Comment.objects.get(pk=response.json()["comment"]["id"])
    assert comment.status == Comment.Status.PENDING
    assert Assessment.objects.get(comment=comment).shadow is True
    # Shadow-held comments wait under their own tab, not among the held ones.
    assert comment.pk not in queue_ids(moderator)
    assert queue_ids(moderator, status="shadow") == [comment.pk]
    # The ban is the site's: elsewhere the author posts as anyone does.
    elsewhere = post(author, "open", "Hello there.").json()["comment"]["id"]
    assert Comment.objects.get(pk=elsewhere).status == Comment.Status.PUBLISHED


def test_approving_a_shadow_held_comment_lifts_the_shadow(site, moderator):
    author = ApiClient()
    first = Comment.objects.get(pk=post(author, "news", "One.").json()["comment"]["id"])
    act(moderator, first, "ban", kind=["reader"], duration="1h", shadow="on")
    comment = Comment.objects.get(
        pk=post(author, "news", "Fine after all.").json()["comment"]["id"]
    )

    act(moderator, comment, "approve")

    comment.refresh_from_db()
    assert comment.status == Comment.Status.PUBLISHED
    assert Assessment.objects.get(comment=comment).shadow is False
    assert AuditEntry.objects.get(comment_id=comment.pk, action="approve").before == {
        "status": "pending",
        "shadow": True,
    }


def test_lifting_a_ban_lets_the_author_post_again(site, moderator):
    author = ApiClient()
    comment = Comment.objects.get(pk=post(author, "news", "Oops.").json()["comment"]["id"])
    act(moderator, comment, "ban", kind=["reader"], duration="30d")
    ban = Ban.objects.get()
    assert "Oops" not in moderator.get("/moderation/bans/").content.decode()
    assert moderator.get("/moderation/bans/").context["current"].object_list[0] == ban

    response = moderator.post(f"/moderation/bans/{ban.pk}/lift", {"next": "/moderation/bans/"})

    assert response.status_code == 302
    ban.refresh_from_db()
    assert ban.lifted_at is not None
    assert AuditEntry.objects.filter(action="ban.lift", actor_name="mona").count() == 1
    assert post(author, "news", "Sorry.").status_code == 201


def test_moderator_cannot_lift_another_sites_ban(site, other_site, moderator):
    ban = Ban.objects.create(site=other_site, kind="reader", value="r:x")

    response = moderator.post(f"/moderation/bans/{ban.pk}/lift", HTTP_ACCEPT="application/json")

    assert response.status_code == 403
    ban.refresh_from_db()
    assert ban.lifted_at is None


# --- Bulk, order and filters --------------------------------------------------------------


def test_bulk_approve_publishes_every_selected_comment(site, moderator):
    comments = [held("news", f"Comment {n}.", author=f"A{n}") for n in range(3)]

    response = moderator.post(
        "/moderation/bulk",
        {"action": "approve", "comment": [c.pk for c in comments[:2]]},
        HTTP_ACCEPT="application/json",
    )

    assert response.json()["message"] == "Approved 2 comments."
    assert [Comment.objects.get(pk=c.pk).status for c in comments] == [
        "published",
        "published",
        "pending",
    ]
    assert AuditEntry.objects.filter(action="approve").count() == 2


def test_bulk_refuses_the_whole_batch_when_one_comment_is_another_sites(
    site, other_site, moderator
):
    mine, theirs = held("news", "Mine."), held("sport", "Theirs.")

    response = moderator.post(
        "/moderation/bulk",
        {"action": "reject", "comment": [mine.pk, theirs.pk]},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 403
    assert Comment.objects.get(pk=mine.pk).status == Comment.Status.PENDING
    assert not AuditEntry.objects.exists()


def test_the_riskiest_comment_comes_first_and_each_report_adds_a_quarter(site, moderator):
    mild, nasty, worst = (
        held("news", t, author=a) for t, a in [("m", "M"), ("n", "N"), ("w", "W")]
    )
    set_risk(mild, 0.2)
    set_risk(nasty, 0.9)
    set_risk(worst, 0.6)
    thread = ThreadFactory.create(site=site)
    reported = post_comment(thread, "reported twice")
    for n in range(2):
        Report.objects.create(comment=reported, reason="insult", reader_key=f"r:{n}")

    assert queue_ids(moderator) == [nasty.pk, worst.pk, reported.pk, mild.pk]
    tabs = {tab: count for tab, _label, count, _url in moderator.get(QUEUE).context["tabs"]}
    assert tabs == {"all": 4, "held": 3, "reported": 1, "shadow": 0}


def test_filters_by_language_reason_and_site(site, other_site, admin_user):
    german = held("news", "Du Idiot.")
    Assessment.objects.filter(comment=german).update(
        lang="de", risk=0.8, scores={"insult": 0.8, "threat": 0.1}, source="local"
    )
    english = held("sport", "Calm words.")
    Assessment.objects.filter(comment=english).update(lang="en", scores={"insult": 0.1})
    thread = ThreadFactory.create(site=site)
    spammy = post_comment(thread, "cheap pills")
    Report.objects.create(comment=spammy, reason="spam", reader_key="r:1")
    client = ApiClient()
    client.force_login(admin_user)

    assert queue_ids(client, lang="de") == [german.pk]
    assert queue_ids(client, reason="score:insult") == [german.pk]
    assert queue_ids(client, reason="score:threat") == []
    assert queue_ids(client, reason="report:spam") == [spammy.pk]
    by_rule = held("news", "buy now buy now")
    Assessment.objects.filter(comment=by_rule).update(
        reasons=['banned phrase "buy now"'], source="rules"
    )
    assert queue_ids(client, reason="rule") == [by_rule.pk]
    assert sorted(queue_ids(client, site="sport")) == [english.pk]


def test_each_item_shows_what_a_moderator_needs(site, moderator):
    thread = ThreadFactory.create(site=site, uri="/story/")
    parent = post_comment(thread, "The original point.", author="Bo")
    comment = held("news", "**Rude** reply", author_email="ana@example.org", parent=parent.pk)
    Assessment.objects.filter(comment=comment).update(
        scores={"insult": 0.87}, risk=0.87, reasons=["insult: “rude”"], lang="en", source="local"
    )
    Report.objects.create(
        comment=comment,
        reason="illegal",
        note="This is defamation under §186 StGB.",
        reporter_name="Lea Law",
        reporter_email="lea@example.org",
        good_faith=True,
        reader_key="r:lea",
    )
    earlier = post_comment(thread, "Old one.", author="Ana", reader_key=comment.reader_key)
    earlier.status = Comment.Status.SPAM
    earlier.save()

    page = moderator.get(QUEUE).content.decode()

    for shown in [
        "Comment by Ana",
        "ana@example.org",
        comment.ip_hash[:8],
        "<strong>Rude</strong> reply",
        "In reply to Bo",
        "The original point.",
        "https://127.0.0.1/story/",
        'value="0.87"',
        "insult: “rude”",
        "Notice of illegal content",
        "Lea Law",
        "lea@example.org",
        "This is defamation under §186 StGB.",
        "Confirmed by the reporter",
        "0 published, 0 rejected, 1 spam",
        "Local scorer",
    ]:
        assert shown in page, shown


def test_a_comment_on_an_article_links_to_the_article_page(site, moderator):
    article = ArticleFactory.create(site=site, slug="a-story")
    post(ApiClient(), "news", "On the article.", uri=article.uri)
    response = moderator.get(QUEUE)

    assert response.context["items"][0].page_url == "/articles/a-story/"


def test_the_queue_reads_in_the_same_number_of_queries_for_any_page_size(site, moderator, settings):
    settings.PARLEY_RATE_LIMITS_ENABLED = False
    for n in range(3):
        held("news", f"Comment {n}.", author=f"A{n}")
    with CaptureQueriesContext(connection) as few:
        moderator.get(QUEUE)
    for n in range(3, 15):
        held("news", f"Comment {n}.", author=f"A{n}")

    with CaptureQueriesContext(connection) as many:
        response = moderator.get(QUEUE)

    assert len(response.context["items"]) == 15
    assert len(many) == len(few) == 13


# --- The audit log ------------------------------------------------------------------------


def test_the_audit_log_cannot_be_changed(site, moderator):
    comment = held("news", "Hello.")
    act(moderator, comment, "approve")
    entry = AuditEntry.objects.get()

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor_name="someone else")

    entry.refresh_from_db()
    assert entry.actor_name == "mona"


def test_the_audit_page_lists_actions_and_filters_by_moderator(site, moderator, admin_user):
    first, second = held("news", "One."), held("news", "Two.", author="Bo")
    act(moderator, first, "approve")
    admin = ApiClient()
    admin.force_login(admin_user)
    act(admin, second, "reject")

    everything = moderator.get("/moderation/audit/")
    only_mona = moderator.get("/moderation/audit/", {"moderator": "mona"})

    assert [line.entry.action for line in everything.context["entries"]] == ["reject", "approve"]
    assert [line.entry.actor_name for line in only_mona.context["entries"]] == ["mona"]
    assert "Status: Held → Published" in only_mona.content.decode()


def test_queue_page_has_no_inline_script(site, moderator):
    held("news", "<script>alert(1)</script>")

    page = moderator.get(QUEUE).content.decode()

    assert "<script>alert" not in page
    assert page.count("<script") == 1
    assert 'src="/static/moderation/queue.js"' in page
    assert " onclick=" not in page


def test_json_answers_carry_the_error_shape(site, moderator):
    comment = held("news", "Hi.")

    response = act(moderator, comment, "ban", kind=["reader"], duration="forever")

    assert response.status_code == 422
    assert json.loads(response.content)["error"]["code"] == "invalid"


# --- The admin ----------------------------------------------------------------------------


def site_form(site, **policy):
    data = {
        "name": site.name,
        "title": site.title,
        "domains": "news.example",
        "origins": "",
        "moderation": "pre",
        "max_depth": 4,
        "edit_window_minutes": 15,
        "max_body_length": 10000,
        "account_deletion": "choice",
        "moderation_policy-TOTAL_FORMS": 1,
        "moderation_policy-INITIAL_FORMS": 0,
        "moderation_policy-MIN_NUM_FORMS": 0,
        "moderation_policy-MAX_NUM_FORMS": 1,
        "moderation_policy-0-hold_threshold": 0.5,
        "moderation_policy-0-spam_threshold": 0.9,
        "moderation_policy-0-language_thresholds": "{}",
        "moderation_policy-0-max_links": 3,
        "moderation_policy-0-max_mentions": 5,
        "moderation_policy-0-min_submit_seconds": 3,
        "moderation_policy-0-flood_comments": 5,
        "moderation_policy-0-flood_window_seconds": 60,
        "moderation_policy-0-reports_to_hold": 3,
        "moderation_policy-0-scorer_budget_ms": 800,
    }
    data |= {f"moderation_policy-0-{name}": value for name, value in policy.items()}
    return data


def test_admin_names_moderators_and_edits_the_policy_beside_the_site(site, mona, admin_user):
    client = ApiClient()
    client.force_login(admin_user)
    url = f"/admin/parley_sites/site/{site.pk}/change/"

    page = client.get(url).content.decode()
    assert "Moderation policy" in page
    assert 'name="moderators"' in page

    wrong = client.post(url, site_form(site, blocked_networks="203.0.113.0/24\nnot-a-net"))
    assert wrong.status_code == 200
    assert "Not an address or network: not-a-net" in wrong.content.decode()
    wrong = client.post(url, site_form(site, language_thresholds='{"de": 7}'))
    assert "between 0 and 1" in wrong.content.decode()

    data = site_form(
        site, blocked_networks=" 203.0.113.0/24 \n2001:db8::/32", language_thresholds='{"DE": 0.6}'
    )
    data["moderators"] = [mona.pk]
    assert client.post(url, data).status_code == 302
    policy = site.moderation_policy
    policy.refresh_from_db()
    assert policy.blocked_networks == "203.0.113.0/24\n2001:db8::/32"
    assert policy.language_thresholds == {"de": 0.6}
    assert list(site.moderators.all()) == [mona]


def test_audit_entries_and_labels_are_read_only_in_the_admin(site, moderator, admin_user):
    comment = held("news", "Hello.")
    act(moderator, comment, "approve")
    entry, label = AuditEntry.objects.get(), Label.objects.get()
    client = ApiClient()
    client.force_login(admin_user)

    assert client.get(f"/admin/moderation/auditentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/moderation/auditentry/add/").status_code == 403
    assert client.get(f"/admin/moderation/auditentry/{entry.pk}/delete/").status_code == 403
    assert client.get(f"/admin/moderation/label/{label.pk}/delete/").status_code == 403
    assert client.get("/admin/moderation/ban/").status_code == 200
    assert client.get("/admin/moderation/report/").status_code == 200
