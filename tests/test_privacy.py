"""A person's data by e-mail address (GDPR access and erasure): what an administrator hands
over, what erasing leaves behind (for readers, for the books, for the audit), from the
command line and from the admin."""

import io
import json
import os
import stat
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from parley.accounts.privacy import erase_person, person_data
from parley.accounts.queries import export_data
from parley.comments.actions import do_vote
from parley.comments.models import Comment, Subscription
from parley.core.errors import Forbidden
from parley.funding.donors import donor_wall
from parley.funding.ledger import reconcile, record_seeded_payment
from parley.funding.models import Campaign, Donation, Movement, ProviderEvent
from parley.moderation.models import AuditEntry, Ban, Report
from parley.notifications.models import OutboundEmail, Suppression
from parley.notifications.subscriptions import send_manage_link
from tests.factories import say

pytestmark = pytest.mark.django_db

ANN = "ann@example.org"


@pytest.fixture(autouse=True)
def site(unscored_site: Any) -> Any:
    return unscored_site


@pytest.fixture
def campaign(site: Any) -> Campaign:
    return Campaign.objects.create(site=site, slug="keep-going", title="Keep going", goal=100_000)


def thread(client: Any) -> Any:
    return client.api_get("/threads", site="news", uri="/story/").json()


def account(email: str = ANN, **fields: Any) -> User:
    return User.objects.create_user(username=f"reader-{email}", email=email, **fields)


def held_by_ann(client: Any, other_reader: Any, campaign: Campaign) -> dict[str, Any]:
    """Ann as a guest: two comments (one answered by Bob), a subscription, a gift shown on
    the wall (its receipt still waiting to go), an e-mail sent, a report, a ban."""
    first = say(client, "Ann's first view", name="Ann", email="Ann@Example.org")
    second = say(client, "Ann again", name="Ann", email=ANN)
    bob = say(other_reader, "Bob answers", name="Bob", email="bob@example.org", parent=first)
    Subscription.objects.create(
        site=campaign.site, uri="/story/", email=ANN, kind="thread", reader_key="x"
    )
    record_seeded_payment(campaign, 2500, ANN, name="Ann A.", show_name=True)
    send_manage_link(ANN)
    OutboundEmail.objects.filter(kind="manage").update(state="sent", sent_at=timezone.now())
    Report.objects.create(
        comment_id=bob,
        reason="illegal",
        reporter_name="Ann A.",
        reporter_email=ANN,
        good_faith=True,
        reader_key="x",
    )
    Ban.objects.create(kind=Ban.Kind.EMAIL, value=ANN, reason="flooding")
    return {"first": first, "second": second, "bob": bob}


def test_the_export_gathers_a_guests_comments_subscriptions_mail_gifts_and_reports(
    client, other_reader, campaign
):
    held_by_ann(client, other_reader, campaign)

    data = person_data("  ANN@example.org ")

    assert data["email"] == ANN
    assert data["accounts"] == []
    assert [c["body"] for c in data["comments"]] == ["Ann's first view", "Ann again"]
    assert [(s["thread"], s["kind"]) for s in data["subscriptions"]] == [("/story/", "thread")]
    assert [(e["kind"], e["state"]) for e in data["emails"]] == [
        ("receipt", "queued"),
        ("manage", "sent"),
    ]
    assert all("text" not in e and "html" not in e for e in data["emails"])
    ((gift),) = data["donations"]
    assert (gift["amount"], gift["currency"], gift["name"], gift["shown_on_wall"]) == (
        2500,
        "USD",
        "Ann A.",
        True,
    )
    assert [(r["reason"], r["reporter_name"]) for r in data["reports"]] == [("illegal", "Ann A.")]
    assert [(b["kind"], b["reason"]) for b in data["bans"]] == [("email", "flooding")]
    assert "Bob answers" not in json.dumps(data)


def test_an_accounts_export_includes_its_own_download_once(client, other_reader, campaign):
    guest = say(client, "Before I signed up", name="Ann", email=ANN)
    mine = say(client, "As my account", name="Ann", email=ANN)
    bob = say(other_reader, "Bob's", name="Bob")
    user = account()
    Comment.objects.filter(pk=mine).update(account=user)
    with transaction.atomic():
        do_vote(Comment.objects.select_for_update().get(pk=bob), f"u:{user.pk}", 1)
    Subscription.objects.create(
        site=campaign.site, uri="/story/", email=ANN, kind="thread", reader_key="x"
    )

    data = person_data(ANN)

    (own,) = data["accounts"]
    assert own == {**export_data(user), "staff": False, "moderator_alerts": None}
    assert [c["id"] for c in own["comments"]] == [mine]
    assert [v["comment"] for v in own["votes"]] == [bob]
    assert len(own["subscriptions"]) == 1
    # Listed beside the account: what its download leaves out, and nothing twice.
    assert [c["id"] for c in data["comments"]] == [guest]
    assert data["subscriptions"] == []


def test_erasing_keeps_the_comments_as_by_a_deleted_user(
    client, other_reader, campaign, django_capture_on_commit_callbacks
):
    ids = held_by_ann(client, other_reader, campaign)
    user = account()
    Comment.objects.filter(pk=ids["second"]).update(account=user, author_url="https://ann.example")
    before = thread(other_reader)  # cached: the erasure must replace it

    with django_capture_on_commit_callbacks(execute=True):
        report = erase_person(ANN, comments="anonymise")

    after = thread(other_reader)
    assert after["thread"]["count"] == before["thread"]["count"] == 3
    names = {c["author"]["name"]: c for c in after["comments"]}
    assert set(names) == {"Deleted user"}
    assert "Ann again" in json.dumps(after) and "Ann's first view" in json.dumps(after)
    assert after["comments"][-1]["replies"][0]["author"]["name"] == "Bob"
    for comment in Comment.objects.filter(pk__in=[ids["first"], ids["second"]]):
        assert (comment.author_email, comment.author_url, comment.ip_hash) == ("", "", "")
        assert comment.account is None
    assert not User.objects.filter(pk=user.pk).exists()
    assert report.counts["accounts"] == 1
    assert (report.counts["comments_anonymised"], report.counts["comments_removed"]) == (2, 0)


def test_erasing_can_remove_the_comments_while_replies_keep_their_place(
    client, other_reader, campaign, django_capture_on_commit_callbacks
):
    ids = held_by_ann(client, other_reader, campaign)
    thread(other_reader)

    with django_capture_on_commit_callbacks(execute=True):
        report = erase_person(ANN, comments="remove")

    after = thread(other_reader)
    assert after["thread"]["count"] == 1
    (placeholder,) = after["comments"]
    assert (placeholder["id"], placeholder["status"], placeholder["html"]) == (
        ids["first"],
        "deleted",
        "",
    )
    assert [r["author"]["name"] for r in placeholder["replies"]] == ["Bob"]
    assert report.counts["comments_removed"] == 2


def test_erasing_keeps_the_money_but_not_the_donor(client, other_reader, campaign):
    held_by_ann(client, other_reader, campaign)
    record_seeded_payment(campaign, 1000, ANN)  # Ann gave twice
    ProviderEvent.objects.create(
        event_id="evt_checkout",
        type="checkout.session.completed",
        state=ProviderEvent.State.APPLIED,
        payload={
            "data": {
                "object": {
                    "amount_total": 2500,
                    "customer_email": "Ann@Example.org",
                    "customer_details": {"email": ANN, "name": "Ann A.", "phone": "+4930123"},
                }
            }
        },
    )
    campaign.refresh_from_db()
    raised = campaign.raised
    assert donor_wall(campaign).names == ["Ann A."]

    report = erase_person(ANN, comments="anonymise")

    campaign.refresh_from_db()
    assert campaign.raised == raised == 3500
    assert sorted(Movement.objects.values_list("amount", flat=True)) == [1000, 2500]
    assert sorted(Donation.objects.values_list("amount", "email", "name")) == [
        (1000, "", ""),
        (2500, "", ""),
    ]
    assert donor_wall(campaign).names == []
    assert reconcile() == []  # the bar's totals still agree with the ledger
    assert report.counts["donations"] == 2
    event = ProviderEvent.objects.get(event_id="evt_checkout").payload["data"]["object"]
    assert event["amount_total"] == 2500
    assert ANN not in json.dumps(event).lower() and "Ann A." not in json.dumps(event)


def test_erasing_cancels_mail_not_yet_sent_and_keeps_the_log_without_the_address(
    client, other_reader, campaign
):
    held_by_ann(client, other_reader, campaign)
    Suppression.objects.create(email=ANN, reason=Suppression.Reason.COMPLAINT)

    report = erase_person(ANN, comments="anonymise")

    receipt = OutboundEmail.objects.get(kind="receipt")
    sent = OutboundEmail.objects.get(kind="manage")
    assert receipt.state == "cancelled"
    assert (sent.state, sent.subject) == ("sent", "Your e-mail notifications")
    assert sent.sent_at is not None
    for row in (receipt, sent):
        stored = json.dumps([row.to, row.key, row.message_id, row.text, row.html, row.headers])
        assert "ann@" not in stored.lower()
    assert not Subscription.objects.exists() and not Suppression.objects.exists()
    report_row = Report.objects.get()
    assert (report_row.reporter_name, report_row.reporter_email, report_row.reason) == (
        "",
        "",
        "illegal",
    )
    assert (report.counts["emails_cancelled"], report.counts["emails"]) == (1, 2)
    assert report.counts["suppressions"] == report.counts["subscriptions"] == 1
    # The ban stays, as the defence of the other readers; staff are told.
    assert Ban.objects.filter(value=ANN).exists() and report.bans_kept == 1


def test_erasing_twice_finds_nothing_the_second_time(client, other_reader, campaign):
    held_by_ann(client, other_reader, campaign)
    account()
    erase_person(ANN, comments="remove")
    data = person_data(ANN)

    again = erase_person(ANN, comments="remove")

    assert again.total == 0 and set(again.counts.values()) == {0}
    assert person_data(ANN) | {"exported_at": ""} == data | {"exported_at": ""}
    assert all(not data[key] for key in data if key not in ("email", "exported_at", "bans"))


def test_each_erasure_is_in_the_audit_log_without_the_address(client, other_reader, campaign):
    held_by_ann(client, other_reader, campaign)
    admin = User.objects.create_superuser("editor", "editor@example.org")

    erase_person(ANN, comments="anonymise", actor=admin)

    entry = AuditEntry.objects.get(action="privacy.erase")
    assert (entry.actor_name, entry.site_name) == ("editor", "")
    assert entry.after["comments_anonymised"] == 2
    assert "ann" not in json.dumps([entry.before, entry.after, entry.note]).lower()


def test_a_staff_members_address_is_refused_and_nothing_changes(client):
    say(client, "A moderator's comment", name="Mo", email="mo@example.org")
    account("mo@example.org", is_staff=True)

    with pytest.raises(Forbidden, match="take away its staff status"):
        erase_person("mo@example.org", comments="remove")

    assert Comment.objects.get().author_email == "mo@example.org"
    assert User.objects.exists() and not AuditEntry.objects.exists()


# --- The command line ------------------------------------------------------------------


def test_parley_privacy_export_prints_json_or_writes_a_private_file(client, tmp_path):
    say(client, "Hello", name="Ann", email=ANN)
    out = io.StringIO()

    call_command("privacy", "export", ANN, stdout=out)
    call_command(
        "privacy", "export", ANN, "--output", str(tmp_path / "ann.json"), stdout=io.StringIO()
    )

    assert [c["body"] for c in json.loads(out.getvalue())["comments"]] == ["Hello"]
    written = tmp_path / "ann.json"
    assert json.loads(written.read_text())["email"] == ANN
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("privacy", "export", ANN, "--output", str(written))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_parley_privacy_erase_asks_first_and_refuses_to_guess_when_nobody_can_answer(client):
    say(client, "Hello", name="Ann", email=ANN)

    with pytest.raises(CommandError, match="add --yes") as refused:
        call_command("privacy", "erase", ANN, stdin=io.StringIO(), stdout=io.StringIO())
    out = io.StringIO()
    call_command("privacy", "erase", ANN, stdin=Terminal("no\n"), stdout=out)

    assert refused.value.returncode == 2
    assert "Comments kept, shown as by a deleted user: 1" in out.getvalue()
    assert "Nothing was erased." in out.getvalue()
    assert Comment.objects.get().author_email == ANN
    assert not AuditEntry.objects.exists()

    call_command("privacy", "erase", ANN, stdin=Terminal("yes\n"), stdout=io.StringIO())
    assert Comment.objects.get().author_email == ""


def test_parley_privacy_erase_yes_removes_comments_when_asked(client):
    say(client, "Take it all back", name="Ann", email=ANN)
    out = io.StringIO()

    call_command("privacy", "erase", ANN, "--remove-comments", "--yes", stdout=out)

    assert "Comments removed: 1" in out.getvalue() and f"Erased {ANN}." in out.getvalue()
    assert Comment.objects.get().status == "deleted"
    with pytest.raises(CommandError, match="not an e-mail address"):
        call_command("privacy", "erase", "not-an-address", "--yes")


# --- The admin -------------------------------------------------------------------------

PAGE = "/admin/accounts/personaldata/"


@pytest.fixture
def administrator() -> Client:
    browser = Client()
    browser.force_login(User.objects.create_superuser("editor", "editor@example.org"))
    return browser


def test_the_admin_index_leads_administrators_alone_to_the_page(administrator):
    moderator = Client()
    moderator.force_login(User.objects.create_user("mod", "mod@example.org", is_staff=True))

    assert PAGE in administrator.get("/admin/").content.decode()
    assert PAGE not in moderator.get("/admin/").content.decode()
    assert moderator.get(PAGE).status_code == 403
    assert moderator.post(PAGE, {"email": ANN, "download": "1"}).status_code == 403
    assert moderator.post(PAGE, {"email": ANN, "confirm": "1"}).status_code == 403


def test_an_administrator_downloads_a_persons_data(administrator, other_reader):
    say(other_reader, "Hello", name="Ann", email=ANN)

    response = administrator.post(PAGE, {"email": ANN, "download": "Download data"})

    assert response["Content-Disposition"] == 'attachment; filename="parley-personal-data.json"'
    assert [c["body"] for c in json.loads(response.content)["comments"]] == ["Hello"]


def test_an_administrator_erases_after_seeing_what_goes_and_confirming(administrator, other_reader):
    say(other_reader, "Hello", name="Ann", email=ANN)
    Subscription.objects.create(
        site_id=Comment.objects.get().thread.site_id,
        uri="/story/",
        email=ANN,
        kind="thread",
        reader_key="x",
    )

    asked = administrator.get(PAGE, {"email": ANN, "erase": "1", "confirm": "1"})
    preview = administrator.post(PAGE, {"email": ANN, "comments": "remove", "erase": "Erase…"})
    unticked = administrator.post(
        PAGE, {"email": ANN, "comments": "remove", "step": "confirm", "erase": "Erase"}
    )
    assert asked.status_code == 200 and 'name="email"' in asked.content.decode()
    assert f"Erasing {ANN} would change:" in preview.content.decode()
    assert "Comments removed" in preview.content.decode()
    assert "Subscriptions deleted" in preview.content.decode()
    assert "Tick this box to confirm." in unticked.content.decode()
    assert Comment.objects.get().status == "published" and Subscription.objects.exists()
    assert not AuditEntry.objects.exists()

    done = administrator.post(
        PAGE,
        {"email": ANN, "comments": "remove", "step": "confirm", "confirm": "1", "erase": "Erase"},
    )

    assert f"Erased {ANN}." in done.content.decode()
    assert Comment.objects.get().status == "deleted" and not Subscription.objects.exists()
    assert AuditEntry.objects.get().actor_name == "editor"


def test_the_admin_page_refuses_a_post_without_its_csrf_token(other_reader):
    say(other_reader, "Hello", name="Ann", email=ANN)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.create_superuser("editor", "editor@example.org"))

    response = browser.post(PAGE, {"email": ANN, "confirm": "1", "step": "confirm", "erase": "1"})

    assert response.status_code == 403
    assert Comment.objects.get().author_email == ANN


def test_the_admin_page_says_what_is_not_an_address(administrator):
    response = administrator.post(PAGE, {"email": "ann at example", "erase": "Erase…"})

    assert response.status_code == 422
    assert "That is not an e-mail address." in response.content.decode()


def test_what_an_import_kept_naming_the_address_is_handed_over_and_erased(site: Any) -> None:
    from parley.imports.models import KeptItem

    follow = {
        "user_email": "Ann@Example.org",
        "user_name": "Ann",
        "follower_email": "bob@example.org",
        "follower_name": "Bob",
        "follower_id": "7",
    }
    KeptItem.objects.create(site=site, source="wpdiscuz", table="wc_follow_users", key="1",
                            data=follow, reason="no follows")  # fmt: skip
    KeptItem.objects.create(site=site, source="wpdiscuz", table="wc_phrases", key="wc_x",
                            data={"phrase_value": "Leave a reply"}, reason="phrase")  # fmt: skip

    handed_over = [item["data"] for item in person_data(ANN)["imported"]]
    other = "(another person)"
    assert handed_over == [
        {
            "user_email": "Ann@Example.org",
            "user_name": "Ann",
            "follower_email": other,
            "follower_name": other,
            "follower_id": other,
        }
    ]
    assert erase_person(ANN, comments="anonymise").counts["imported"] == 1
    assert list(KeptItem.objects.values_list("table", flat=True)) == ["wc_phrases"]


def test_an_import_after_erasure_does_not_bring_the_person_back(
    site: Any, client: Any, tmp_path: Any
) -> None:
    from parley.imports.models import KeptItem

    say(client, "Mine", name="Ann", email=ANN)
    Subscription.objects.create(site=site, uri="/story/", email=ANN, kind="thread",
                                reader_key="r:ann", confirmed_at=timezone.now())  # fmt: skip
    KeptItem.objects.create(site=site, source="wpdiscuz", table="wc_follow_users", key="1",
                            data={"follower_email": ANN}, reason="no follows")  # fmt: skip
    export = tmp_path / "news.json"
    call_command("export", "--site", "news", "--output", str(export), stderr=io.StringIO())
    erase_person(ANN, comments="anonymise")

    out = io.StringIO()
    call_command("import", "parley", str(export), "--site", "news", "--report",
                 str(tmp_path / "r.json"), stdout=out, stderr=io.StringIO())  # fmt: skip

    assert not Subscription.objects.filter(email=ANN).exists()
    assert not KeptItem.objects.exists()
    assert not Comment.objects.filter(author_email=ANN).exists()
    assert "names an address erased at its owner's request" in out.getvalue()
    assert ANN not in json.dumps(person_data(ANN)["comments"])
