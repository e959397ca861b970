"""The fake Stripe that the demo and the tests pay through: it must answer stripe-python as
Stripe does and sign its webhooks as Stripe does, or the demo proves nothing."""

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import stripe

from parley.articles.demo import CAMPAIGN_SLUG, seed_demo
from parley.core.readers import Actor
from parley.funding.actions import check_checkout
from parley.funding.fake_stripe import FakeStripeServer, start_fake_stripe
from parley.funding.ledger import reconcile
from parley.funding.models import Campaign, Donation

SECRET = "whsec_fake_stripe_test"


@dataclass
class Delivery:
    payload: bytes
    signature: str

    def verified(self) -> stripe.Event:
        return stripe.Webhook.construct_event(self.payload, self.signature, SECRET)


@dataclass
class Receiver:
    """Parley's webhook endpoint, as far as the fake can tell: records what it is sent and
    answers `status`."""

    server: ThreadingHTTPServer
    url: str
    status: int = 200
    deliveries: list[Delivery] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def events(self, count: int) -> list[dict[str, Any]]:
        """The first `count` events, each verified; waits for those sent after an answer."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.deliveries) >= count, timeout=5)
        assert len(self.deliveries) == count
        return [delivery.verified().to_dict() for delivery in self.deliveries]


def _receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.arrived:
                receiver.deliveries.append(Delivery(payload, self.headers["Stripe-Signature"]))
                receiver.arrived.notify_all()
            self.send_response(receiver.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(server, f"http://127.0.0.1:{server.server_port}/webhooks/stripe")
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return receiver


def _open(url: str, method: str = "GET") -> bytes:
    request = urllib.request.Request(url, method=method)  # noqa: S310 (the fake's own address)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return bytes(response.read())


def _post_form(base: str, path: str, form: dict[str, str]) -> http.client.HTTPResponse:
    """A browser's form POST, its redirect not followed."""
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=10)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", path, urlencode(form), headers)
    response = connection.getresponse()
    response.read()
    return response


@dataclass
class Fake:
    server: FakeStripeServer
    base: str
    receiver: Receiver
    client: stripe.StripeClient

    def post(self, path: str, form: dict[str, str] | None = None) -> http.client.HTTPResponse:
        return _post_form(self.base, path, form or {})

    def control(self, path: str) -> Any:
        return json.loads(_open(f"{self.base}{path}", "POST"))

    def events(self) -> Any:
        return json.loads(_open(f"{self.base}/fake/events"))

    def page(self, path: str) -> str:
        return _open(f"{self.base}{path}").decode()

    def checkout(self, interval: str | None = None, key: str = "", **params: Any) -> Any:
        price: dict[str, Any] = {
            "currency": "usd",
            "unit_amount": 2500,
            "product_data": {"name": "Keep The Frontline Review independent"},
        }
        if interval:
            price["recurring"] = {"interval": interval}
        return self.client.v1.checkout.sessions.create(
            params={  # type: ignore[arg-type]
                "mode": "subscription" if interval else "payment",
                "line_items": [{"price_data": price, "quantity": 1}],
                "success_url": "http://127.0.0.1:8000/support/thanks?session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": "http://127.0.0.1:8000/support/cancelled",
                "client_reference_id": "41",
                "metadata": {"donation": "41"},
                **params,
            },
            options={"idempotency_key": key or f"k-{time.monotonic_ns()}"},
        )

    def pay(self, session_id: str, email: str = "ada@example.org", name: str = "Ada") -> str:
        response = self.post(f"/pay/{session_id}", {"email": email, "name": name, "action": "pay"})
        assert response.status == 303
        return str(response.headers["Location"])


@pytest.fixture
def fake() -> Iterator[Fake]:
    receiver = _receiver()
    server, base = start_fake_stripe(0, receiver.url, SECRET)
    yield Fake(
        server, base, receiver, stripe.StripeClient("sk_test_x", base_addresses={"api": base})
    )
    server.shutdown()
    receiver.server.shutdown()


def test_a_retried_checkout_gets_the_same_session_and_a_reused_key_is_refused(fake: Fake) -> None:
    session = fake.checkout(key="donation-41-checkout")

    assert fake.checkout(key="donation-41-checkout").id == session.id
    with pytest.raises(stripe.IdempotencyError):
        fake.checkout(key="donation-41-checkout", customer_email="other@example.org")
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{fake.base}/pay/{session.id}"
    assert (session.mode, session.amount_total, session.currency) == ("payment", 2500, "usd")
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.metadata.to_dict() == {"donation": "41"}
    assert session.client_reference_id == "41"
    retrieved = fake.client.v1.checkout.sessions.retrieve(session.id)
    assert (retrieved.id, retrieved.status) == (session.id, "open")
    assert len(fake.server.stripe.sessions) == 1
    assert fake.receiver.deliveries == []


def test_invalid_checkouts_are_refused_as_stripe_refuses_them(fake: Fake) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        fake.checkout(success_url="")
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        fake.checkout(payment_method_types=["card"])
    with pytest.raises(stripe.InvalidRequestError) as no_interval:
        fake.checkout(mode="subscription")
    with pytest.raises(stripe.InvalidRequestError) as not_found:
        fake.client.v1.checkout.sessions.retrieve("cs_test_nothing")

    assert missing.value.param == "success_url"
    assert unknown.value.user_message == "Received unknown parameter: payment_method_types"
    assert no_interval.value.param == "line_items[0][price_data][recurring][interval]"
    assert (not_found.value.http_status, not_found.value.code) == (404, "resource_missing")
    assert fake.server.stripe.sessions == {}


def test_requests_without_a_secret_key_are_refused(fake: Fake) -> None:
    publishable = stripe.StripeClient("pk_test_x", base_addresses={"api": fake.base})

    with pytest.raises(stripe.AuthenticationError):
        publishable.v1.checkout.sessions.create(params={"mode": "payment"})
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        _open(f"{fake.base}/v1/checkout/sessions/cs_test_x")
    assert anonymous.value.code == 401
    assert json.load(anonymous.value)["error"]["type"] == "invalid_request_error"
    assert fake.server.stripe.sessions == {}


def test_the_checkout_page_shows_the_gift_and_asks_for_an_address(fake: Fake) -> None:
    session = fake.checkout(interval="month", customer_email="ada@example.org")

    page = fake.page(f"/pay/{session.id}")

    assert "<title>Fake Stripe — test checkout</title>" in page
    assert "<strong>25.00 USD</strong> every month" in page
    assert '<label for="email">E-mail</label>' in page
    assert 'name="email" type="email" autocomplete="email" required value="ada@example.org"' in page
    assert '<label for="name">Name</label>' in page
    assert "4242 4242 4242 4242" in page
    assert '<button name="action" value="pay">Pay</button>' in page
    assert '<button name="action" value="cancel" formnovalidate>Cancel</button>' in page


def test_paying_sends_the_signed_completed_event_before_redirecting_once(fake: Fake) -> None:
    session = fake.checkout(customer_email="ada@example.org")

    location = fake.pay(session.id, name="Ada Lovelace")

    # Delivered before the redirect: no waiting for it.
    assert len(fake.receiver.deliveries) == 1
    assert location == f"http://127.0.0.1:8000/support/thanks?session_id={session.id}"
    [event] = fake.receiver.events(1)
    obj = event["data"]["object"]
    assert event["id"].startswith("evt_")
    assert (event["object"], event["type"]) == ("event", "checkout.session.completed")
    assert event["livemode"] is False
    assert event["api_version"].startswith("2025-")
    assert abs(event["created"] - time.time()) < 60
    assert obj["id"] == session.id
    assert obj["object"] == "checkout.session"
    assert (obj["mode"], obj["amount_total"], obj["currency"]) == ("payment", 2500, "usd")
    assert obj["customer"].startswith("cus_")
    assert obj["customer_details"] == {"email": "ada@example.org", "name": "Ada Lovelace"}
    assert obj["payment_intent"].startswith("pi_")
    assert obj["subscription"] is None
    assert (obj["payment_status"], obj["status"]) == ("paid", "complete")
    assert obj["metadata"] == {"donation": "41"}
    assert obj["client_reference_id"] == "41"
    assert fake.client.v1.checkout.sessions.retrieve(session.id).status == "complete"
    # Paying twice (a double click, the back button) sends nothing more.
    assert fake.pay(session.id) == location
    assert len(fake.receiver.deliveries) == 1


def test_a_subscription_checkout_sends_completed_then_the_first_invoice(fake: Fake) -> None:
    session = fake.checkout(interval="year")

    fake.pay(session.id, email="bo@example.org", name="")

    completed, invoice = fake.receiver.events(2)
    checkout = completed["data"]["object"]
    assert completed["type"] == "checkout.session.completed"
    assert checkout["mode"] == "subscription"
    assert checkout["payment_intent"] is None
    assert checkout["subscription"].startswith("sub_")
    assert checkout["customer_details"] == {"email": "bo@example.org", "name": None}
    assert invoice["type"] == "invoice.paid"
    paid = invoice["data"]["object"]
    assert paid["id"].startswith("in_")
    assert paid["object"] == "invoice"
    assert paid["subscription"] == checkout["subscription"]
    assert paid["customer"] == checkout["customer"]
    assert (paid["amount_paid"], paid["currency"]) == (2500, "usd")
    assert paid["billing_reason"] == "subscription_create"
    assert paid["payment_intent"].startswith("pi_")
    assert paid["customer_email"] == "bo@example.org"


def test_cancel_returns_to_the_cancel_url_and_sends_nothing(fake: Fake) -> None:
    session = fake.checkout()

    response = fake.post(f"/pay/{session.id}", {"action": "cancel"})

    assert response.status == 303
    assert response.headers["Location"] == "http://127.0.0.1:8000/support/cancelled"
    assert fake.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert fake.receiver.deliveries == []


def test_paying_without_an_address_shows_the_page_again(fake: Fake) -> None:
    session = fake.checkout()

    response = fake.post(f"/pay/{session.id}", {"action": "pay", "email": ""})

    assert response.status == 400
    assert fake.client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert fake.receiver.deliveries == []


def test_each_refund_sends_charge_refunded_with_every_refund_so_far(fake: Fake) -> None:
    fake.pay(fake.checkout().id)
    payment_intent = fake.receiver.events(1)[0]["data"]["object"]["payment_intent"]

    first = fake.client.v1.refunds.create(params={"payment_intent": payment_intent, "amount": 1000})
    rest = fake.client.v1.refunds.create(params={"payment_intent": payment_intent})
    with pytest.raises(stripe.InvalidRequestError):
        fake.client.v1.refunds.create(params={"payment_intent": payment_intent})

    assert (first.object, first.amount, first.status) == ("refund", 1000, "succeeded")
    assert first.payment_intent == payment_intent
    assert rest.amount == 1500
    _, partial, full = fake.receiver.events(3)
    assert [partial["type"], full["type"]] == ["charge.refunded", "charge.refunded"]
    charge = full["data"]["object"]
    assert charge["id"].startswith("ch_")
    assert charge["object"] == "charge"
    assert charge["payment_intent"] == payment_intent
    assert (charge["amount"], charge["amount_refunded"], charge["currency"]) == (2500, 2500, "usd")
    assert charge["refunds"] == {
        "object": "list",
        "data": [
            {"id": first.id, "amount": 1000, "payment_intent": payment_intent},
            {"id": rest.id, "amount": 1500, "payment_intent": payment_intent},
        ],
    }
    assert partial["data"]["object"]["amount_refunded"] == 1000
    assert len(partial["data"]["object"]["refunds"]["data"]) == 1


def test_renewing_and_cancelling_a_subscription(fake: Fake) -> None:
    fake.pay(fake.checkout(interval="month").id)
    first = fake.receiver.events(2)[1]["data"]["object"]
    subscription = first["subscription"]

    renewed = fake.control(f"/fake/renew/{subscription}")
    cancelled = fake.control(f"/fake/cancel/{subscription}")
    with pytest.raises(urllib.error.HTTPError) as again:
        fake.control(f"/fake/renew/{subscription}")

    assert again.value.code == 400
    _, _, renewal, deletion = fake.receiver.events(4)
    assert renewed == {
        "id": renewal["id"],
        "type": "invoice.paid",
        "delivered": 200,
        "object": renewal["data"]["object"],
    }
    invoice = renewal["data"]["object"]
    assert invoice["billing_reason"] == "subscription_cycle"
    assert invoice["subscription"] == subscription
    assert invoice["amount_paid"] == 2500
    assert invoice["payment_intent"].startswith("pi_")
    assert invoice["payment_intent"] != first["payment_intent"]
    assert invoice["id"] != first["id"]
    assert (cancelled["id"], cancelled["type"]) == (deletion["id"], "customer.subscription.deleted")
    assert deletion["data"]["object"] == {
        "id": subscription,
        "object": "subscription",
        "customer": first["customer"],
        "status": "canceled",
    }


def test_a_dispute_closes_lost_or_won_once_per_charge(fake: Fake) -> None:
    fake.pay(fake.checkout().id)
    payment_intent = fake.receiver.events(1)[0]["data"]["object"]["payment_intent"]

    with pytest.raises(urllib.error.HTTPError) as bad_outcome:
        fake.control(f"/fake/dispute/{payment_intent}?outcome=maybe")
    fake.control(f"/fake/dispute/{payment_intent}?outcome=lost")
    with pytest.raises(urllib.error.HTTPError) as twice:
        fake.control(f"/fake/dispute/{payment_intent}?outcome=won")

    assert (bad_outcome.value.code, twice.value.code) == (400, 400)
    _, closed = fake.receiver.events(2)
    dispute = closed["data"]["object"]
    assert closed["type"] == "charge.dispute.closed"
    assert dispute["id"].startswith("dp_")
    assert dispute["object"] == "dispute"
    assert (dispute["payment_intent"], dispute["amount"], dispute["currency"]) == (
        payment_intent,
        2500,
        "usd",
    )
    assert dispute["status"] == "lost"


def test_resend_delivers_the_same_event_again_freshly_signed(fake: Fake) -> None:
    fake.pay(fake.checkout().id)
    [original] = fake.receiver.events(1)

    fake.control(f"/fake/resend/{original['id']}")

    first, again = fake.receiver.deliveries
    assert json.loads(again.payload) == json.loads(first.payload)
    assert again.verified().id == original["id"]
    assert [(e["id"], e["type"], e["delivered"]) for e in fake.events()] == [
        (original["id"], "checkout.session.completed", 200)
    ]


def test_a_failed_delivery_is_recorded_not_retried(fake: Fake) -> None:
    fake.receiver.status = 500
    fake.pay(fake.checkout().id)
    fake.server.stripe.webhook_url = "http://127.0.0.1:9/nobody-listens"
    fake.pay(fake.checkout().id)

    assert [event["delivered"] for event in fake.events()] == [500, None]
    assert len(fake.receiver.deliveries) == 1


@pytest.mark.django_db(transaction=True)
def test_the_demo_campaign_takes_gifts_through_parley_and_the_fake_end_to_end(
    live_server: Any, settings: Any
) -> None:
    """What `parley demo` wires up: Parley's Stripe client pointed at the fake, the fake's
    webhooks pointed at Parley, one secret on both sides."""
    seed_demo()
    fake, base = start_fake_stripe(0, f"{live_server.url}/webhooks/stripe", SECRET)
    settings.STRIPE_API_BASE, settings.STRIPE_SECRET_KEY = base, "sk_test_demo"
    settings.STRIPE_WEBHOOK_SECRET, settings.PUBLIC_URL = SECRET, live_server.url
    reader = Actor(reader_key="r:ada", reader_token="", ip_hash="ada")
    campaign = Campaign.objects.get(slug=CAMPAIGN_SLUG)
    seeded = (campaign.goal, campaign.raised, campaign.supporters)
    try:
        once = urlsplit(check_checkout(reader, CAMPAIGN_SLUG, 2500, "once"))
        monthly = urlsplit(check_checkout(reader, CAMPAIGN_SLUG, 1000, "month"))
        for page in (once, monthly):
            form = {"email": "ada@example.org", "name": "Ada", "action": "pay"}
            response = _post_form(base, page.path, form)
            assert response.status == 303
            thanks = f"{live_server.url}/support/{CAMPAIGN_SLUG}/thanks/?session_id=cs_test_"
            assert response.headers["Location"].startswith(thanks)
        delivered = [(e.body["type"], e.delivered) for e in fake.stripe.events.values()]
    finally:
        fake.shutdown()

    campaign.refresh_from_db()
    assert seeded == (500_000, 255_000, 6)
    assert delivered == [
        ("checkout.session.completed", [200]),
        ("checkout.session.completed", [200]),
        ("invoice.paid", [200]),
    ]
    assert (campaign.raised, campaign.supporters) == (255_000 + 2500 + 1000, 7)
    assert set(
        Donation.objects.filter(email="ada@example.org").values_list("status", flat=True)
    ) == {Donation.Status.PAID}
    assert reconcile() == []
