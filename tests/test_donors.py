"""What donors and readers notice of a gift: a receipt per payment (thanks with the first), a
notice when money goes back, a donor wall that names only those who asked, a supporter badge
beside a signed-in donor's comments; and the staff's export. Gifts are made here as the
ledger makes them: a donation and a movement, and the signal, in one transaction."""

import csv
import io
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction
from django.test import Client
from django.utils import timezone

from parley.comments.actions import Draft, do_post_comment
from parley.comments.models import Comment, Thread
from parley.comments.reads import PageQuery, load_page
from parley.core.markdown import render_markdown
from parley.core.readers import Actor
from parley.funding.models import Campaign, Donation, Movement, ProviderEvent
from parley.funding.signals import donation_paid, donation_reversed
from parley.notifications.models import OutboundEmail
from parley.sites.models import Site
from tests.factories import SiteFactory, ThreadFactory, post_comment

pytestmark = pytest.mark.django_db

BADGE = '<span class="parley-badge parley-supporter">Supporter</span>'
_refs = itertools.count(1)


@pytest.fixture
def campaign() -> Campaign:
    return Campaign.objects.create(
        site=SiteFactory.create(),
        slug="keep-going",
        title="Keep us going",
        goal=500_000,
        currency="USD",
        thank_you="Your support keeps our reporting free to read.",
    )


def _movement(donation: Donation, kind: str, amount: int, at: datetime | None) -> Movement:
    n = next(_refs)
    event = ProviderEvent.objects.create(
        event_id=f"evt_{n}", type="test", payload={}, state=ProviderEvent.State.APPLIED
    )
    return Movement.objects.create(
        donation=donation,
        campaign=donation.campaign,
        kind=kind,
        amount=amount,
        provider_ref=f"ref_{n}",
        event=event,
        created_at=at or timezone.now(),
    )


def give(
    campaign: Campaign,
    email: str = "ann@example.org",
    *,
    amount: int = 2500,
    interval: str = "once",
    name: str = "",
    show_name: bool = False,
    account: User | None = None,
    at: datetime | None = None,
    lang: str = "",
) -> tuple[Donation, Movement]:
    """A first payment, as the ledger writes it."""
    with transaction.atomic():
        donation = Donation.objects.create(
            campaign=campaign,
            amount=amount,
            currency=campaign.currency,
            interval=interval,
            status=Donation.Status.PAID,
            email=email,
            name=name,
            show_name=show_name,
            account=account,
            paid_at=at or timezone.now(),
            lang=lang,
        )
        movement = _movement(donation, Movement.Kind.PAYMENT, amount, at)
        donation_paid.send(sender=Donation, donation=donation, movement=movement)
    return donation, movement


def renew(donation: Donation, at: datetime | None = None) -> Movement:
    with transaction.atomic():
        movement = _movement(donation, Movement.Kind.RENEWAL, donation.amount, at)
        donation_paid.send(sender=Donation, donation=donation, movement=movement)
    return movement


def take_back(donation: Donation, kind: str = Movement.Kind.REFUND) -> Movement:
    """A refund or a lost dispute of the whole gift."""
    with transaction.atomic():
        movement = _movement(donation, kind, -donation.amount, None)
        Donation.objects.filter(pk=donation.pk).update(status=Donation.Status.REFUNDED)
        donation_reversed.send(sender=Donation, donation=donation, movement=movement)
    return movement


def mail(key: str) -> OutboundEmail:
    return OutboundEmail.objects.get(key=key)


MARCH_5 = datetime(2026, 3, 5, 12, tzinfo=UTC)


# --- receipts ---------------------------------------------------------------------------


def test_a_first_gift_gets_one_receipt_that_thanks_the_donor(campaign):
    donation, movement = give(campaign, amount=250_000, at=MARCH_5)

    receipt = mail(f"receipt:{movement.pk}")
    assert receipt.to == "ann@example.org"
    assert receipt.subject == "Thank you for supporting The News"
    for line in (
        "Thank you for supporting The News.",
        "Your support keeps our reporting free to read.",
        "Amount: 2,500\xa0$",
        "Date: March 5, 2026",
        "Campaign: Keep us going",
        "Frequency: Once",
        "Show my name on the donor wall:",
    ):
        assert line in receipt.text
    assert receipt.site == campaign.site

    # Stripe sends the same event again: the ledger's signal comes twice, the mail once.
    with transaction.atomic():
        donation_paid.send(sender=Donation, donation=donation, movement=movement)
    assert OutboundEmail.objects.filter(to="ann@example.org").count() == 1


def test_each_monthly_renewal_gets_its_own_receipt(campaign):
    donation, first = give(campaign, interval="month", amount=500, at=MARCH_5)
    renewal = renew(donation, at=MARCH_5 + timedelta(days=31))

    assert mail(f"receipt:{first.pk}").subject == "Thank you for supporting The News"
    receipt = mail(f"receipt:{renewal.pk}")
    assert receipt.subject == "Your receipt from The News"
    assert "Thank you: your support of The News goes on." in receipt.text
    assert "Your support keeps our reporting free" not in receipt.text
    for line in ("Amount: 5\xa0$", "Date: April 5, 2026", "Frequency: Monthly"):
        assert line in receipt.text


def test_a_refund_and_a_lost_dispute_each_get_a_notice(campaign):
    refunded, _paid = give(campaign, amount=2500)
    disputed, _paid = give(campaign, "bo@example.org", amount=1000)

    refund = take_back(refunded)
    dispute = take_back(disputed, Movement.Kind.DISPUTE_LOST)

    notice = mail(f"reversal:{refund.pk}")
    assert (notice.to, notice.subject) == ("ann@example.org", "Your gift to The News was refunded")
    assert "25\xa0$ of your gift to Keep us going went back to you on" in notice.text
    notice = mail(f"reversal:{dispute.pk}")
    assert (notice.to, notice.subject) == ("bo@example.org", "A payment to The News was reversed")
    assert "After a dispute with your bank, 10\xa0$ of your gift" in notice.text


def test_a_gift_without_an_address_is_mailed_nothing(campaign):
    donation, _movement = give(campaign, email="")
    take_back(donation)

    assert not OutboundEmail.objects.exists()


def test_no_receipt_exists_for_a_payment_that_rolled_back(campaign):
    with pytest.raises(RuntimeError), transaction.atomic():
        give(campaign)
        raise RuntimeError("the webhook failed after the ledger wrote")

    assert not OutboundEmail.objects.exists()


# --- the donor wall -----------------------------------------------------------------------


def wall(client: Client, campaign: Campaign) -> str:
    response = client.get(f"/support/{campaign.slug}/donors/")
    assert response.status_code == 200
    return response.content.decode()


def names_on(page: str) -> list[str]:
    listed = re.search(r'<ul class="donor-names">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", listed.group(1)) if listed else []


def test_the_wall_names_only_donors_who_asked_newest_first(client, campaign):
    day = timedelta(days=1)
    give(campaign, "ann@example.org", name="Ann", show_name=True, at=MARCH_5)
    give(campaign, "bo@example.org", name="Bo", show_name=True, at=MARCH_5 + day)
    give(campaign, "cy@example.org", name="Cy Private", at=MARCH_5 + 2 * day)
    give(campaign, "", at=MARCH_5 + 3 * day)  # no address: a supporter all the same
    refunded, _movement = give(campaign, "dee@example.org", name="Dee", show_name=True)
    take_back(refunded)
    # Ann gives again; the new gift does not hide the name she chose.
    give(campaign, "ANN@example.org", at=MARCH_5 + 4 * day)

    page = wall(client, campaign)

    assert names_on(page) == ["Ann", "Bo"]
    assert "And 2 supporters who gave without being named." in page
    assert "Cy Private" not in page and "Dee" not in page


def test_a_wall_nobody_asked_to_be_on_shows_only_a_count(client, campaign):
    give(campaign, name="Ann")

    page = wall(client, campaign)

    assert names_on(page) == []
    assert "1 supporter gave without being named." in page
    assert "Ann" not in page


def wall_link(movement: Movement) -> str:
    text = mail(f"receipt:{movement.pk}").text
    url = text.split("Show my name on the donor wall:\n", 1)[1].split("\n", 1)[0]
    return url.removeprefix("http://127.0.0.1:8000")


def test_the_receipts_link_lets_the_donor_show_and_hide_their_name(client, campaign):
    _donation, movement = give(campaign, name="Ann Lee")
    link = wall_link(movement)

    form = client.get(link)
    assert form.status_code == 200
    assert 'value="Ann Lee"' in form.content.decode()

    shown = client.post(link, {"name": "Ann L.", "show_name": "1"})
    assert shown.status_code == 200
    assert "Saved: your name shows on the donor wall as “Ann L.”." in shown.content.decode()
    assert names_on(wall(client, campaign)) == ["Ann L."]

    hidden = client.post(link, {"name": "Ann L."})
    assert "Saved: your name is not shown on the donor wall." in hidden.content.decode()
    assert names_on(wall(client, campaign)) == []


def test_showing_a_name_needs_one(client, campaign):
    donation, movement = give(campaign)

    response = client.post(wall_link(movement), {"name": " ", "show_name": "1"})

    assert response.status_code == 422
    assert "Give the name to show." in response.content.decode()
    donation.refresh_from_db()
    assert (donation.name, donation.show_name) == ("", False)


def test_a_changed_link_changes_nothing(client, campaign):
    _donation, movement = give(campaign, name="Ann")
    link = wall_link(movement)
    other, _movement = give(campaign, "bo@example.org", name="Bo")
    token = link.rstrip("/").rsplit("/", 1)[1]
    _payload, signature = token.split(":", 1)
    # The signature of Ann's link on Bo's donation.
    bos_payload = signing.b64_encode(str(other.pk).encode()).decode()
    forged = link.replace(token, f"{bos_payload}:{signature}")
    assert forged != link

    for tampered in (link.replace(token, token[:-2] + "xx"), forged):
        assert client.get(tampered).status_code == 400
        response = client.post(tampered, {"name": "Mallory", "show_name": "1"})
        assert response.status_code == 400
        assert "This link is not valid" in response.content.decode()
    assert set(Donation.objects.values_list("name", "show_name")) == {("Ann", False), ("Bo", False)}


def test_the_form_needs_its_csrf_token(campaign):
    donation, movement = give(campaign, name="Ann")
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(wall_link(movement), {"name": "Ann", "show_name": "1"})

    assert response.status_code == 403
    donation.refresh_from_db()
    assert donation.show_name is False


def test_a_refunded_gifts_link_no_longer_works(client, campaign):
    donation, movement = give(campaign, name="Ann")
    take_back(donation)

    assert client.get(wall_link(movement)).status_code == 400


# --- the supporter badge ------------------------------------------------------------------


def account(email: str) -> User:
    return User.objects.create_user(username=email, email=email)


def post_as(user: User | None, thread: Thread, body: str, name: str = "Reader") -> Comment:
    key = f"u:{user.pk}" if user else f"r:{name}"
    actor = Actor(reader_key=key, reader_token="", ip_hash="test", user=user)
    draft = Draft(site=thread.site.name, uri=thread.uri, body=body, author_name=name)
    return do_post_comment(actor, thread, None, draft, render_markdown(body), status="published")


def badges(client: Client, thread: Thread) -> dict[str, bool]:
    """Each comment's author: whether the thread API calls them a supporter."""
    data = client.get("/api/v1/threads", {"site": thread.site.name, "uri": thread.uri}).json()
    return {c["author"]["name"]: c["author"]["supporter"] for c in data["comments"]}


def fragment(client: Client, thread: Thread) -> str:
    response = client.get("/fragments/thread", {"site": thread.site.name, "uri": thread.uri})
    assert response.status_code == 200
    return response.content.decode()


def comment_header(html: str, comment: Comment) -> str:
    match = re.search(rf'id="comment-{comment.pk}".*?</header>', html, re.S)
    assert match is not None
    return match.group(0)


def test_a_supporters_comments_carry_the_badge_and_nobody_elses(client, campaign):
    thread = ThreadFactory.create(site=campaign.site)
    ann, bo = account("Ann@Example.org"), account("bo@example.org")
    give(campaign, "ann@example.org")  # paid under her address, not signed in
    by_ann = post_as(ann, thread, "I gave.", "Ann")
    by_bo = post_as(bo, thread, "I did not.", "Bo")
    by_guest = post_as(None, thread, "Nor I.", "Ann")  # the same name proves nothing

    data = client.get("/api/v1/threads", {"site": "news", "uri": thread.uri}).json()
    supporter = {c["id"]: c["author"]["supporter"] for c in data["comments"]}
    assert supporter == {by_ann.pk: True, by_bo.pk: False, by_guest.pk: False}

    html = fragment(client, thread)
    assert BADGE in comment_header(html, by_ann)
    assert html.count(BADGE) == 1


def test_a_gift_made_signed_in_counts_whatever_address_paid(client, campaign):
    thread = ThreadFactory.create(site=campaign.site)
    ann = account("ann@example.org")
    give(campaign, "ann.work@example.org", account=ann)
    comment = post_as(ann, thread, "Hello.", "Ann")

    assert BADGE in comment_header(fragment(client, thread), comment)


def test_a_cancelled_subscription_still_counts_a_refunded_gift_does_not(client, campaign):
    thread = ThreadFactory.create(site=campaign.site)
    ann, bo = account("ann@example.org"), account("bo@example.org")
    subscription, _movement = give(campaign, "ann@example.org", interval="month")
    Donation.objects.filter(pk=subscription.pk).update(status=Donation.Status.CANCELLED)
    refunded, _movement = give(campaign, "bo@example.org")
    take_back(refunded)
    post_as(ann, thread, "Was monthly.", "Ann")
    post_as(bo, thread, "Got it back.", "Bo")

    assert badges(client, thread) == {"Ann": True, "Bo": False}


def test_a_gift_to_another_sites_campaign_earns_no_badge_here(client, campaign):
    elsewhere = Site.objects.create(name="other", title="Other")
    thread = ThreadFactory.create(site=elsewhere)
    post_as(account("ann@example.org"), thread, "Hi.", "Ann")
    give(campaign, "ann@example.org")

    assert badges(client, thread) == {"Ann": False}


def test_a_cached_thread_shows_the_badge_once_the_gift_commits_and_loses_it_on_refund(
    client, campaign, django_capture_on_commit_callbacks
):
    thread = ThreadFactory.create(site=campaign.site)
    post_as(account("ann@example.org"), thread, "Hello.", "Ann")
    assert badges(client, thread) == {"Ann": False}  # cached now

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        donation, _movement = give(campaign, "ann@example.org")
    assert callbacks, "the threads are refreshed after the commit"
    assert badges(client, thread) == {"Ann": True}

    with django_capture_on_commit_callbacks(execute=True):
        take_back(donation)
    assert badges(client, thread) == {"Ann": False}


@pytest.mark.parametrize("authors", [3, 30])
def test_badges_cost_one_query_per_page_whatever_its_size(
    campaign, authors, django_assert_num_queries
):
    thread = ThreadFactory.create(site=campaign.site)
    for n in range(authors):
        user = account(f"reader{n}@example.org")
        top = post_as(user, thread, f"Comment {n}.", f"Reader {n}")
        post_comment(thread, "A guest's reply.", parent=top)
        if n % 2:
            give(campaign, user.email)

    with django_assert_num_queries(4):  # thread, top-level comments, replies, supporters
        page = load_page("news", thread.uri, PageQuery(limit=100))

    assert sum(node.supporter for node in page.nodes) == authors // 2


def test_a_page_of_guests_asks_nothing_about_supporters(campaign, django_assert_num_queries):
    thread = ThreadFactory.create(site=campaign.site)
    post_comment(thread, "A guest's comment.")

    with django_assert_num_queries(3):
        load_page("news", thread.uri, PageQuery())


# --- staff --------------------------------------------------------------------------------


def export(browser: Client, donations: list[Donation]) -> Any:
    return browser.post(
        "/admin/funding/donation/",
        {"action": "export_csv", "_selected_action": [d.pk for d in donations]},
    )


def test_staff_export_the_selected_donations_as_csv(campaign):
    ann, _movement = give(campaign, name="Ann", show_name=True, at=MARCH_5)
    bo, _movement = give(
        campaign,
        "bo@example.org",
        amount=1_234_500,
        interval="year",
        name="=HYPERLINK(1)",
        at=MARCH_5 + timedelta(hours=1),
    )
    give(campaign, "not-selected@example.org")
    staff = Client()
    staff.force_login(User.objects.create_superuser("editor", "editor@example.org"))

    response = export(staff, [ann, bo])

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="donations.csv"'
    content = b"".join(response.streaming_content)
    assert content.startswith("\ufeff".encode())  # spreadsheets read it as UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows == [
        [
            "date",
            "campaign",
            "amount",
            "currency",
            "interval",
            "status",
            "email",
            "name",
            "shown_on_wall",
        ],
        [
            "2026-03-05T12:00:00+00:00",
            "Keep us going",
            "25.00",
            "USD",
            "once",
            "paid",
            "ann@example.org",
            "Ann",
            "yes",
        ],
        [
            "2026-03-05T13:00:00+00:00",
            "Keep us going",
            "12345.00",
            "USD",
            "year",
            "paid",
            "bo@example.org",
            "'=HYPERLINK(1)",
            "no",
        ],
    ]


def test_readers_cannot_export_donations(campaign):
    donation, _movement = give(campaign)
    reader = Client()
    reader.force_login(account("reader@example.org"))

    for browser in (reader, Client()):
        response = export(browser, [donation])
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_staff_see_campaigns_and_the_ledger_but_cannot_change_money(campaign):
    donation, movement = give(campaign, amount=2550_00)
    staff = Client()
    staff.force_login(User.objects.create_superuser("editor", "editor@example.org"))

    campaigns = staff.get("/admin/funding/campaign/").content.decode()
    assert "Keep us going" in campaigns and "5,000\xa0$" in campaigns
    assert (
        staff.get("/admin/funding/donation/?q=ANN@example")
        .content.decode()
        .count("ann@example.org")
        == 1
    )
    for path in ("/admin/funding/movement/", "/admin/funding/providerevent/"):
        assert staff.get(path).status_code == 200
        assert staff.get(path + "add/").status_code == 403

    response = staff.post(
        f"/admin/funding/donation/{donation.pk}/change/",
        {
            "name": "Ann",
            "show_name": "on",
            "amount": "1",
            "status": "refunded",
            "movements-TOTAL_FORMS": "1",
            "movements-INITIAL_FORMS": "1",
            "movements-MIN_NUM_FORMS": "0",
            "movements-MAX_NUM_FORMS": "1000",
            "movements-0-id": movement.pk,
            "movements-0-donation": donation.pk,
        },
    )
    assert response.status_code == 302, response.content
    donation.refresh_from_db()
    assert (donation.name, donation.show_name) == ("Ann", True)
    assert (donation.amount, donation.status) == (2550_00, "paid")


def test_back_from_paying_a_donor_finds_the_way_to_the_wall_and_nobody_else_does(client, campaign):
    Donation.objects.create(
        campaign=campaign, amount=1000, currency="USD", checkout_session_id="cs_mine"
    )

    mine = client.get("/support/keep-going/thanks/", {"session_id": "cs_mine"}).content.decode()
    guessed = client.get("/support/keep-going/thanks/", {"session_id": "cs_x"}).content.decode()

    assert "Show my name on the donor wall" in mine and "/support/wall-name/" in mine
    assert "Show my name on the donor wall" not in guessed


def test_a_donor_who_gave_in_german_gets_a_german_receipt(campaign):
    _donation, movement = give(campaign, amount=2500, lang="de")

    receipt = mail(f"receipt:{movement.pk}")
    assert receipt.subject != "Thank you for supporting The News"
    assert "The News" in receipt.subject
    assert "2.500\xa0$" not in receipt.text and "25\xa0$" in receipt.text
    assert 'lang="de"' in receipt.html
