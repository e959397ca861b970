"""Starting a donation: bad amounts, intervals, currencies and ended campaigns get a clear
error and no checkout session; checkout creation is rate-limited against card testing."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from parley.funding import actions
from parley.funding.models import Campaign, Donation
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign() -> Campaign:
    return Campaign.objects.create(
        site=SiteFactory.create(),
        slug="support",
        title="Support us",
        goal=500_000,
        intervals=["once", "month"],
        minimum_amount=300,
    )


@pytest.fixture(autouse=True)
def no_stripe(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Stripe is never asked when the request is refused; when it is asked, it answers."""
    calls: list[Any] = []

    def create(params: dict[str, Any], key: str) -> Any:
        calls.append((params, key))
        return type("Session", (), {"id": f"cs_{len(calls)}", "url": "https://pay.example/x"})

    monkeypatch.setattr(actions, "create_checkout", create)
    return calls


def checkout(client: Any, **data: Any) -> Any:
    return client.post_json("/campaigns/support/checkout", {"interval": "once"} | data)


@pytest.mark.parametrize(
    ("amount", "field", "says"),
    [
        (299, "amount", "The smallest gift is 3\xa0$."),
        (-500, "amount", "The smallest gift"),
        ("ten dollars", "amount", ""),
        (12.5, "amount", ""),
        (None, "amount", ""),
    ],
)
def test_a_bad_amount_is_refused_and_nothing_is_started(
    client, campaign, no_stripe, amount, field, says
):
    response = checkout(client, amount=amount)

    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert says in response.json()["error"]["fields"][field]
    assert not Donation.objects.exists() and no_stripe == []


def test_an_interval_the_campaign_does_not_take_is_refused(client, campaign, no_stripe):
    response = checkout(client, amount=1000, interval="year")
    assert response.status_code == 422
    assert "interval" in response.json()["error"]["fields"]
    assert no_stripe == []


def test_a_campaign_in_a_currency_that_cannot_be_paid_in_is_refused(client, campaign, no_stripe):
    Campaign.objects.filter(pk=campaign.pk).update(currency="XTS")
    response = checkout(client, amount=1000)
    assert response.status_code == 422
    assert "currency" in response.json()["error"]["fields"]
    assert no_stripe == []


def test_an_ended_campaign_takes_no_more_gifts(client, campaign, no_stripe):
    Campaign.objects.filter(pk=campaign.pk).update(ends_at=timezone.now() - timedelta(days=1))
    response = checkout(client, amount=1000)
    assert response.status_code == 409
    assert "ended" in response.json()["error"]["message"]
    assert no_stripe == []


def test_an_unknown_campaign_is_404(client, no_stripe):
    assert client.post_json("/campaigns/nope/checkout", {"amount": 1000}).status_code == 404


def test_a_good_request_gets_the_payment_page_with_a_key_from_our_own_row(
    client, campaign, no_stripe, settings
):
    settings.PUBLIC_URL = "https://comments.news.example"
    response = checkout(client, amount=1000, interval="month", email="Ann@Example.org")

    assert response.status_code == 201
    assert response.json() == {"url": "https://pay.example/x"}
    ((params, key),) = no_stripe
    donation = Donation.objects.get()
    assert key == f"parley-donation-{donation.pk}"
    assert params["mode"] == "subscription"
    assert params["line_items"][0]["price_data"]["recurring"] == {"interval": "month"}
    assert params["customer_email"] == "ann@example.org"
    assert params["success_url"].startswith("https://comments.news.example/support/support/")
    assert (donation.amount, donation.checkout_session_id, donation.status) == (
        1000,
        "cs_1",
        "created",
    )


def test_checkout_creation_is_rate_limited_per_address(client, campaign, settings):
    settings.PARLEY_RATE_LIMITS_ENABLED = True
    statuses = [checkout(client, amount=1000).status_code for _ in range(11)]
    assert statuses[:10] == [201] * 10 and statuses[10] == 429
