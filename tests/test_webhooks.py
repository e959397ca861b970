"""Stripe's webhooks: verified, and money counted exactly once whatever Stripe retries,
reorders or duplicates."""

import hashlib
import hmac
import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from parley.funding import ledger
from parley.funding.models import Campaign, Donation, Movement, ProviderEvent
from tests.factories import SiteFactory

SECRET = "whsec_test_secret"
_ids = count(1)


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = SECRET


@pytest.fixture
def campaign(db: None) -> Campaign:
    return Campaign.objects.create(
        site=SiteFactory.create(), slug="support", title="Support us", goal=500_000
    )


def donation(campaign: Campaign, interval: str = "once", **fields: Any) -> Donation:
    return Donation.objects.create(
        campaign=campaign,
        amount=fields.pop("amount", 2500),
        currency="USD",
        interval=interval,
        **fields,
    )


def signed(payload: bytes, t: int | None = None, secret: str = SECRET) -> str:
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(type_: str, obj: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{next(_ids)}",
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def paid(d: Donation, amount: int | None = None, pi: str | None = None) -> dict[str, Any]:
    return event(
        "checkout.session.completed",
        {
            "id": f"cs_{d.pk}",
            "mode": "payment" if d.interval == "once" else "subscription",
            "amount_total": amount or d.amount,
            "currency": "usd",
            "customer": "cus_1",
            "customer_details": {"email": f"donor{d.pk}@example.org", "name": f"Donor {d.pk}"},
            "payment_intent": pi or (f"pi_{d.pk}" if d.interval == "once" else None),
            "subscription": None if d.interval == "once" else f"sub_{d.pk}",
            "payment_status": "paid",
            "status": "complete",
            "metadata": {"donation": str(d.pk)},
        },
    )


def refunded(pi: str, *refunds: tuple[str, int]) -> dict[str, Any]:
    data = [{"id": rid, "amount": amount, "payment_intent": pi} for rid, amount in refunds]
    return event(
        "charge.refunded",
        {"id": f"ch_{pi}", "payment_intent": pi, "refunds": {"object": "list", "data": data}},
    )


def invoice(sub: str, amount: int, reason: str, pi: str) -> dict[str, Any]:
    return event(
        "invoice.paid",
        {
            "id": f"in_{pi}",
            "subscription": sub,
            "amount_paid": amount,
            "currency": "usd",
            "billing_reason": reason,
            "payment_intent": pi,
        },
    )


def deliver(client: Client, body: dict[str, Any], **sign: Any) -> Any:
    payload = json.dumps(body).encode()
    return client.post(
        "/webhooks/stripe",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signed(payload, **sign),
    )


def raised(campaign: Campaign) -> tuple[int, int]:
    campaign.refresh_from_db()
    return campaign.raised, campaign.supporters


@pytest.mark.django_db
def test_a_payment_counts_once_however_often_stripe_sends_it(client, campaign):
    d = donation(campaign)
    body = paid(d)

    first, second = deliver(client, body), deliver(client, body)

    assert (first.status_code, first.json()["outcome"]) == (200, "applied")
    assert (second.status_code, second.json()["outcome"]) == (200, "duplicate")
    assert raised(campaign) == (2500, 1)
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_a_forged_signature_is_refused_and_changes_nothing(client, campaign):
    d = donation(campaign)
    response = deliver(client, paid(d), secret="whsec_guessed")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_webhook"
    assert raised(campaign) == (0, 0) and not ProviderEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("skew", [-301, 301])  # a replay of an old one; one from the future
def test_a_timestamp_outside_the_tolerance_is_refused(client, campaign, skew):
    d = donation(campaign)
    response = deliver(client, paid(d), t=int(time.time()) + skew)
    assert response.status_code == 400
    assert raised(campaign) == (0, 0)


@pytest.mark.django_db
def test_a_refund_takes_the_money_off_the_bar_once(client, campaign):
    d = donation(campaign, amount=5000)
    deliver(client, paid(d))
    deliver(client, refunded(f"pi_{d.pk}", ("re_1", 2000)))
    # Stripe lists every refund of the charge so far: the first is not counted again.
    deliver(client, refunded(f"pi_{d.pk}", ("re_1", 2000), ("re_2", 3000)))

    assert raised(campaign) == (0, 0)  # fully refunded: no longer a supporter
    assert Donation.objects.get().status == "refunded"
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_a_refund_before_its_payment_waits_and_is_applied_once_the_payment_is_in(client, campaign):
    d = donation(campaign, amount=4000)
    early = deliver(client, refunded(f"pi_{d.pk}", ("re_1", 1000)))
    assert early.json()["outcome"] == "waiting" and raised(campaign) == (0, 0)

    deliver(client, paid(d))

    assert raised(campaign) == (3000, 1)
    assert set(ProviderEvent.objects.values_list("state", flat=True)) == {"applied"}


@pytest.mark.django_db
def test_a_subscription_counts_each_invoice_even_one_that_came_before_its_checkout(
    client, campaign
):
    d = donation(campaign, interval="month", amount=1000)
    deliver(client, invoice(f"sub_{d.pk}", 1000, "subscription_create", "pi_a"))  # early
    deliver(client, paid(d))
    deliver(client, invoice(f"sub_{d.pk}", 1000, "subscription_cycle", "pi_b"))
    deliver(
        client,
        event("customer.subscription.deleted", {"id": f"sub_{d.pk}", "status": "canceled"}),
    )

    assert raised(campaign) == (2000, 1)  # a cancelled subscription still supported
    assert [m.kind for m in Movement.objects.order_by("pk")] == ["payment", "renewal"]
    assert Donation.objects.get().status == "cancelled"


@pytest.mark.django_db
def test_a_lost_dispute_comes_off_and_a_won_one_changes_nothing(client, campaign):
    d = donation(campaign, amount=3000)
    deliver(client, paid(d))
    deliver(
        client,
        event(
            "charge.dispute.closed",
            {"id": "dp_1", "payment_intent": f"pi_{d.pk}", "amount": 3000, "status": "won"},
        ),
    )
    assert raised(campaign)[0] == 3000
    deliver(
        client,
        event(
            "charge.dispute.closed",
            {"id": "dp_2", "payment_intent": f"pi_{d.pk}", "amount": 3000, "status": "lost"},
        ),
    )
    assert raised(campaign)[0] == 0


@pytest.mark.django_db
def test_reconciliation_finds_a_tampered_total_and_can_correct_it(client, campaign):
    deliver(client, paid(donation(campaign)))
    Campaign.objects.filter(pk=campaign.pk).update(raised=999_999)

    (difference,) = ledger.reconcile()

    assert (difference.field, difference.cached, difference.ledger) == ("raised", 999_999, 2500)
    ledger.reconcile(fix=True)
    assert ledger.reconcile() == [] and raised(campaign)[0] == 2500


@pytest.mark.django_db(transaction=True)
def test_fifty_events_delivered_at_once_make_the_exact_total(live_server, campaign):
    donations = [donation(campaign, amount=100 + n) for n in range(50)]
    bodies = [paid(d) for d in donations]
    bodies += bodies[:10]  # and ten of them delivered twice, concurrently too

    def send(body: dict[str, Any]) -> int:
        payload = json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (the test's own live server)
            live_server.url + "/webhooks/stripe",
            data=payload,
            headers={"Content-Type": "application/json", "Stripe-Signature": signed(payload)},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return int(response.status)

    # As many at once as the test server's listen queue takes without resetting connections.
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, bodies))

    assert statuses == [200] * len(bodies)
    assert raised(campaign) == (sum(100 + n for n in range(50)), 50)
    assert Movement.objects.count() == 50
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_the_reconcile_command_reports_a_difference_with_exit_status_1(client, campaign):
    deliver(client, paid(donation(campaign)))
    call_command("funding", "reconcile")  # matches: no error

    Campaign.objects.filter(pk=campaign.pk).update(supporters=7)
    with pytest.raises(CommandError, match="1 difference"):
        call_command("funding", "reconcile")
    call_command("funding", "reconcile", "--fix")
    assert raised(campaign) == (2500, 1)


@pytest.mark.django_db
def test_a_gift_recorded_by_hand_moves_the_bar_and_reconciles(campaign):
    ledger.record_seeded_payment(campaign, 2550_00, "ann@example.org", "Ann", show_name=True)
    ledger.record_seeded_payment(campaign, 100_00, "ann@example.org")
    assert raised(campaign) == (2650_00, 1)
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_events_in_stripes_newer_shapes_count_the_same(client, campaign):
    """From API version 2025-03-31 invoices name their subscription and payment under
    `parent` and `payments`, and refund events carry only the charge's running total."""
    sub = donation(campaign, interval="month", amount=1000)
    deliver(client, paid(sub))
    renewal = invoice(f"sub_{sub.pk}", 1000, "subscription_cycle", "pi_new")
    obj = renewal["data"]["object"]
    del obj["subscription"], obj["payment_intent"]
    obj["parent"] = {"subscription_details": {"subscription": f"sub_{sub.pk}"}}
    obj["payments"] = {"data": [{"payment": {"payment_intent": "pi_new"}}]}
    deliver(client, renewal)
    assert raised(campaign)[0] == 1000

    def refund_total(total: int) -> dict[str, Any]:
        charge = {"id": "ch_new", "payment_intent": "pi_new", "amount_refunded": total}
        return event("charge.refunded", charge)

    deliver(client, refund_total(300))
    deliver(client, refund_total(1000))
    deliver(client, refund_total(300))  # a late, older event: nothing more goes back
    assert raised(campaign)[0] == 0
    assert ledger.reconcile() == []


@pytest.mark.django_db
def test_a_charge_refunded_and_then_lost_in_a_dispute_comes_off_the_bar_once(client, campaign):
    refunded_first, disputed_first = (
        donation(campaign, amount=2500),
        donation(campaign, amount=5000),
    )
    deliver(client, paid(refunded_first))
    deliver(client, paid(disputed_first))
    deliver(client, refunded(f"pi_{refunded_first.pk}", ("re_a", 2500)))
    lost = {"id": "dp_a", "payment_intent": f"pi_{refunded_first.pk}", "amount": 2500}
    deliver(client, event("charge.dispute.closed", lost | {"status": "lost"}))
    lost = {"id": "dp_b", "payment_intent": f"pi_{disputed_first.pk}", "amount": 5000}
    deliver(client, event("charge.dispute.closed", lost | {"status": "lost"}))
    deliver(client, refunded(f"pi_{disputed_first.pk}", ("re_b", 5000)))

    assert raised(campaign) == (0, 0)  # a lost dispute ends the support, like a refund
    assert set(Donation.objects.values_list("status", flat=True)) == {"refunded"}
    assert ledger.reconcile() == []
