"""A fake Stripe for the demo and the tests: a small HTTP server with the part of Stripe's API
that Parley calls, a checkout page, and webhooks signed as Stripe signs them. All state is in
memory; nothing leaves the machine but the webhooks it posts to Parley.

Stripe's API, as stripe-python speaks it (form-encoded bodies with bracketed keys, a secret
key in `Authorization: Bearer sk_…`, `Idempotency-Key` honoured, Stripe-shaped errors):
- `POST /v1/checkout/sessions` (one line item with `price_data`), `GET /v1/checkout/sessions/{id}`
- `POST /v1/refunds` `{payment_intent, amount?}`: sends `charge.refunded` once it has answered.

The checkout page, `GET /pay/{session}`: its Pay button completes the session and delivers
`checkout.session.completed` (then, for a subscription, `invoice.paid`) before redirecting to
the session's success_url, so the page the reader lands on already knows; Cancel redirects to
its cancel_url.

Test controls, for the tests and the demo (Stripe's own are its dashboard and CLI); each sends
its event before answering with it (`{"id", "type", "delivered", "object"}`, `delivered`
being the status Parley answered, null if it could not be reached):
- `POST /fake/renew/{subscription}`: the next invoice is paid (`invoice.paid`, billing_reason
  "subscription_cycle").
- `POST /fake/cancel/{subscription}`: `customer.subscription.deleted`.
- `POST /fake/dispute/{payment_intent}?outcome=lost|won`: `charge.dispute.closed`.
- `POST /fake/resend/{event}`: the same event delivered again, as Stripe may.
- `GET /fake/events`: every event sent, oldest first.

Run one with `parley fakestripe`; `parley demo` starts one on its port + 2.
"""

import hashlib
import hmac
import html
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

# What the demo gives Parley when STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are not set: public
# test values that only the fake accepts.
DEMO_SECRET_KEY = "sk_test_parley_demo"  # noqa: S105
DEMO_WEBHOOK_SECRET = "whsec_parley_demo"  # noqa: S105
# The event shapes below are this version's: 2025-03-31.basil moved an invoice's subscription
# and payment intent elsewhere.
API_VERSION = "2025-02-24.acacia"
WEBHOOK_TIMEOUT_SECONDS = 10


class StripeError(Exception):
    """Answered as Stripe answers: `{"error": {"type", "message", …}}` with the status."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"type": type, "message": message}
        if code:
            self.body["code"] = code
        if param:
            self.body["param"] = param


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


@dataclass
class Charge:
    id: str
    payment_intent: str
    amount: int
    currency: str
    refunds: list[dict[str, Any]] = field(default_factory=list)
    disputed: bool = False

    @property
    def amount_refunded(self) -> int:
        return sum(refund["amount"] for refund in self.refunds)


@dataclass
class Subscription:
    id: str
    customer: str
    email: str
    amount: int
    currency: str
    status: str = "active"


@dataclass
class Session:
    id: str
    mode: str
    amount: int
    currency: str
    interval: str | None
    product: str
    success_url: str
    cancel_url: str | None
    customer_email: str | None
    client_reference_id: str | None
    metadata: dict[str, str]
    url: str
    customer: str | None = None
    customer_details: dict[str, str | None] | None = None
    payment_intent: str | None = None
    subscription: str | None = None

    def as_json(self) -> dict[str, Any]:
        complete = self.customer is not None
        return {
            "id": self.id,
            "object": "checkout.session",
            "mode": self.mode,
            "amount_total": self.amount,
            "currency": self.currency,
            "customer": self.customer,
            "customer_email": self.customer_email,
            "customer_details": self.customer_details,
            "payment_intent": self.payment_intent,
            "subscription": self.subscription,
            "payment_status": "paid" if complete else "unpaid",
            "status": "complete" if complete else "open",
            "metadata": self.metadata,
            "client_reference_id": self.client_reference_id,
            "success_url": self.success_url,
            "cancel_url": self.cancel_url,
            "url": None if complete else self.url,
            "livemode": False,
        }


@dataclass
class Event:
    body: dict[str, Any]
    delivered: list[int | None] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.body["id"],
            "type": self.body["type"],
            "delivered": self.delivered[-1] if self.delivered else None,
            "object": self.body["data"]["object"],
        }


@dataclass
class _Replay:
    request: tuple[str, list[tuple[str, str]]]
    response: dict[str, Any]


class FakeStripe:
    """The account's state, shared by the server's threads: changed under `lock`, while
    webhooks go out without it (Parley's handler may take its time)."""

    def __init__(self, base_url: str, webhook_url: str, secret: str) -> None:
        self.base_url = base_url
        self.webhook_url = webhook_url
        self.secret = secret
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.charges: dict[str, Charge] = {}  # by payment intent
        self.subscriptions: dict[str, Subscription] = {}
        self.events: dict[str, Event] = {}
        self.replays: dict[str, _Replay] = {}

    # Stripe's API

    def create_session(self, params: dict[str, Any]) -> tuple[dict[str, Any], list[Event]]:
        _refuse_unknown(
            params,
            {
                "mode",
                "line_items",
                "success_url",
                "cancel_url",
                "customer_email",
                "client_reference_id",
                "metadata",
            },
            "",
        )
        mode = params.get("mode")
        if mode not in ("payment", "subscription"):
            raise StripeError("Invalid mode: must be one of payment or subscription", param="mode")
        items = params.get("line_items")
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            raise StripeError("The fake Stripe takes exactly one line item.", param="line_items")
        item = items[0]
        _refuse_unknown(item, {"price_data", "quantity"}, "line_items[0]")
        price = item.get("price_data")
        if not isinstance(price, dict):
            raise StripeError(
                "Missing required param: line_items[0][price_data].",
                param="line_items[0][price_data]",
            )
        _refuse_unknown(
            price,
            {"currency", "unit_amount", "product_data", "recurring"},
            "line_items[0][price_data]",
        )
        currency = str(price.get("currency", ""))
        if not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise StripeError("Invalid currency.", param="line_items[0][price_data][currency]")
        unit_amount = _positive_int(
            price.get("unit_amount"), "line_items[0][price_data][unit_amount]"
        )
        quantity = _positive_int(item.get("quantity"), "line_items[0][quantity]")
        product = price.get("product_data")
        if not isinstance(product, dict) or not product.get("name"):
            raise StripeError(
                "Missing required param: line_items[0][price_data][product_data][name].",
                param="line_items[0][price_data][product_data][name]",
            )
        recurring = price.get("recurring")
        interval = recurring.get("interval") if isinstance(recurring, dict) else None
        if mode == "subscription" and interval not in ("month", "year"):
            raise StripeError(
                "A subscription needs line_items[0][price_data][recurring][interval]: "
                "month or year.",
                param="line_items[0][price_data][recurring][interval]",
            )
        if mode == "payment" and recurring is not None:
            raise StripeError(
                "You must use `mode=subscription` for a recurring price.", param="mode"
            )
        success_url = params.get("success_url")
        if not isinstance(success_url, str) or not _is_url(success_url):
            raise StripeError("Not a valid URL: success_url.", param="success_url")
        cancel_url = params.get("cancel_url")
        if cancel_url is not None and not (isinstance(cancel_url, str) and _is_url(cancel_url)):
            raise StripeError("Not a valid URL: cancel_url.", param="cancel_url")
        metadata = params.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise StripeError("Invalid metadata: must be a hash.", param="metadata")
        session_id = _new_id("cs")
        session = Session(
            id=session_id,
            mode=mode,
            amount=unit_amount * quantity,
            currency=currency.lower(),
            interval=interval,
            product=str(product["name"]),
            success_url=success_url,
            cancel_url=cancel_url,
            customer_email=params.get("customer_email") or None,
            client_reference_id=params.get("client_reference_id") or None,
            metadata={str(key): str(value) for key, value in metadata.items()},
            url=f"{self.base_url}/pay/{session_id}",
        )
        self.sessions[session_id] = session
        return session.as_json(), []

    def get_session(self, session_id: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeError(
                f"No such checkout.session: '{session_id}'",
                status=404,
                code="resource_missing",
                param="id",
            )
        return session

    def create_refund(self, params: dict[str, Any]) -> tuple[dict[str, Any], list[Event]]:
        _refuse_unknown(params, {"payment_intent", "amount"}, "")
        payment_intent = str(params.get("payment_intent") or "")
        charge = self.charges.get(payment_intent)
        if charge is None:
            raise StripeError(
                f"No such payment_intent: '{payment_intent}'",
                code="resource_missing",
                param="payment_intent",
            )
        left = charge.amount - charge.amount_refunded
        if left <= 0:
            raise StripeError(
                f"Charge {charge.id} has already been refunded.", code="charge_already_refunded"
            )
        amount = left if params.get("amount") is None else _positive_int(params["amount"], "amount")
        if amount > left:
            raise StripeError(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                param="amount",
            )
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "currency": charge.currency,
            "payment_intent": payment_intent,
            "charge": charge.id,
            "status": "succeeded",
        }
        charge.refunds.append(refund)
        return refund, [self._event("charge.refunded", _charge_json(charge))]

    # The checkout page

    def pay(self, session: Session, email: str, name: str) -> list[Event]:
        """Complete an open session; a completed one sends nothing again."""
        if session.customer is not None:
            return []
        session.customer = _new_id("cus")
        session.customer_details = {"email": email, "name": name or None}
        if session.mode == "payment":
            session.payment_intent = self._charge(session.amount, session.currency)
            return [self._event("checkout.session.completed", session.as_json())]
        subscription = Subscription(
            id=_new_id("sub"),
            customer=session.customer,
            email=email,
            amount=session.amount,
            currency=session.currency,
        )
        self.subscriptions[subscription.id] = subscription
        session.subscription = subscription.id
        return [
            self._event("checkout.session.completed", session.as_json()),
            self._invoice_paid(subscription, "subscription_create"),
        ]

    # Test controls

    def renew(self, subscription_id: str) -> Event:
        subscription = self._active_subscription(subscription_id)
        return self._invoice_paid(subscription, "subscription_cycle")

    def cancel(self, subscription_id: str) -> Event:
        subscription = self._active_subscription(subscription_id)
        subscription.status = "canceled"
        return self._event(
            "customer.subscription.deleted",
            {
                "id": subscription.id,
                "object": "subscription",
                "customer": subscription.customer,
                "status": "canceled",
            },
        )

    def dispute(self, payment_intent: str, outcome: str) -> Event:
        if outcome not in ("lost", "won"):
            raise StripeError("outcome must be lost or won.", param="outcome")
        charge = self.charges.get(payment_intent)
        if charge is None:
            raise StripeError(
                f"No such payment_intent: '{payment_intent}'", status=404, code="resource_missing"
            )
        if charge.disputed:
            raise StripeError(f"Charge {charge.id} has already been disputed.")
        charge.disputed = True
        return self._event(
            "charge.dispute.closed",
            {
                "id": _new_id("dp"),
                "object": "dispute",
                "charge": charge.id,
                "payment_intent": payment_intent,
                "amount": charge.amount,
                "currency": charge.currency,
                "status": outcome,
            },
        )

    def event(self, event_id: str) -> Event:
        event = self.events.get(event_id)
        if event is None:
            raise StripeError(f"No such event: '{event_id}'", status=404, code="resource_missing")
        return event

    # Webhooks

    def deliver(self, event: Event) -> None:
        """POST the event to Parley, signed as Stripe signs (a fresh timestamp each time), and
        note what it answered; like Stripe, a failure is recorded, not raised."""
        payload = json.dumps(event.body).encode()
        timestamp = int(time.time())
        signature = hmac.new(
            self.secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
        ).hexdigest()
        request = urllib.request.Request(  # noqa: S310 (the configured webhook URL)
            self.webhook_url,
            data=payload,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": f"t={timestamp},v1={signature}",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
            method="POST",
        )
        status: int | None
        try:
            with _OPENER.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, TimeoutError, ConnectionError):
            status = None
        with self.lock:
            event.delivered.append(status)

    def _event(self, type: str, obj: dict[str, Any]) -> Event:
        event = Event(
            {
                "id": _new_id("evt"),
                "object": "event",
                "type": type,
                "created": int(time.time()),
                "livemode": False,
                "api_version": API_VERSION,
                "data": {"object": obj},
            }
        )
        self.events[event.body["id"]] = event
        return event

    def _charge(self, amount: int, currency: str) -> str:
        payment_intent = _new_id("pi")
        self.charges[payment_intent] = Charge(_new_id("ch"), payment_intent, amount, currency)
        return payment_intent

    def _invoice_paid(self, subscription: Subscription, billing_reason: str) -> Event:
        return self._event(
            "invoice.paid",
            {
                "id": _new_id("in"),
                "object": "invoice",
                "subscription": subscription.id,
                "customer": subscription.customer,
                "customer_email": subscription.email,
                "amount_paid": subscription.amount,
                "currency": subscription.currency,
                "billing_reason": billing_reason,
                "payment_intent": self._charge(subscription.amount, subscription.currency),
                "status": "paid",
            },
        )

    def _active_subscription(self, subscription_id: str) -> Subscription:
        subscription = self.subscriptions.get(subscription_id)
        if subscription is None:
            raise StripeError(
                f"No such subscription: '{subscription_id}'", status=404, code="resource_missing"
            )
        if subscription.status != "active":
            raise StripeError(f"Subscription {subscription_id} has been canceled.")
        return subscription


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # Stripe does not follow a webhook endpoint's redirect: it counts as a failed delivery.
    def redirect_request(self, *args: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _charge_json(charge: Charge) -> dict[str, Any]:
    return {
        "id": charge.id,
        "object": "charge",
        "payment_intent": charge.payment_intent,
        "amount": charge.amount,
        "amount_refunded": charge.amount_refunded,
        "currency": charge.currency,
        "refunded": charge.amount_refunded == charge.amount,
        "refunds": {
            "object": "list",
            "data": [
                {"id": r["id"], "amount": r["amount"], "payment_intent": r["payment_intent"]}
                for r in charge.refunds
            ],
        },
    }


def _refuse_unknown(params: dict[str, Any], known: set[str], prefix: str) -> None:
    # Stripe refuses what it does not know; so does the fake, so a typo in Parley shows here.
    for key in params:
        if key not in known:
            name = f"{prefix}[{key}]" if prefix else key
            raise StripeError(f"Received unknown parameter: {name}", param=name)


def _positive_int(value: object, param: str) -> int:
    if value is None:
        raise StripeError(f"Missing required param: {param}.", param=param)
    try:
        number = int(str(value))
    except ValueError:
        raise StripeError(f"Invalid integer: {value}", param=param) from None
    if number < 1:
        raise StripeError(f"Invalid {param}: must be at least 1", param=param)
    return number


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding back into objects: `a[b][0][c]=v` is {"a": {"b": [{"c": v}]}}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        path = [head] + (rest[:-1].split("][") if rest.endswith("]") else [])
        node = root
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StripeError(f"Invalid parameter: {key}", param=key)
        node[path[-1]] = value
    return cast(dict[str, Any], _lists(root))


def _lists(node: object) -> object:
    if not isinstance(node, dict):
        return node
    values = {key: _lists(value) for key, value in node.items()}
    if values and all(key.isdigit() for key in values):
        return [values[key] for key in sorted(values, key=int)]
    return values


class FakeStripeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, webhook_url: str, secret: str) -> None:
        super().__init__((host, port), _Handler)
        self.stripe = FakeStripe(f"http://{host}:{self.server_port}", webhook_url, secret)


def start_fake_stripe(port: int, webhook_url: str, secret: str) -> tuple[FakeStripeServer, str]:
    """A fake Stripe on 127.0.0.1:`port` (0 for any free port), served by a daemon thread until
    `server.shutdown()`; returns the server and its base URL."""
    server = FakeStripeServer("127.0.0.1", port, webhook_url, secret)
    # Polling often, `shutdown()` returns at once: the tests start and stop one per test.
    threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-stripe", daemon=True
    ).start()
    return server, server.stripe.base_url


_ROUTES = [
    ("POST", re.compile(r"/v1/checkout/sessions"), "_create_session"),
    ("GET", re.compile(r"/v1/checkout/sessions/(?P<id>[\w-]+)"), "_get_session"),
    ("POST", re.compile(r"/v1/refunds"), "_create_refund"),
    ("GET", re.compile(r"/pay/(?P<id>[\w-]+)"), "_checkout_page"),
    ("POST", re.compile(r"/pay/(?P<id>[\w-]+)"), "_checkout_submit"),
    ("POST", re.compile(r"/fake/renew/(?P<id>[\w-]+)"), "_renew"),
    ("POST", re.compile(r"/fake/cancel/(?P<id>[\w-]+)"), "_cancel"),
    ("POST", re.compile(r"/fake/dispute/(?P<id>[\w-]+)"), "_dispute"),
    ("POST", re.compile(r"/fake/resend/(?P<id>[\w-]+)"), "_resend"),
    ("GET", re.compile(r"/fake/events"), "_events"),
]


class _Handler(BaseHTTPRequestHandler):
    server: FakeStripeServer
    server_version = "FakeStripe"

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo's terminal is for Parley's output

    @property
    def stripe(self) -> FakeStripe:
        return self.server.stripe

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        self.form = parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
        for route_method, pattern, name in _ROUTES:
            match = pattern.fullmatch(url.path)
            if match and route_method == method:
                try:
                    getattr(self, name)(*match.groups())
                except StripeError as error:
                    self._json(error.status, {"error": error.body})
                return
        message = f"Unrecognized request URL ({method}: {url.path})."
        self._json(404, {"error": {"type": "invalid_request_error", "message": message}})

    # Stripe's API

    def _authorize(self) -> None:
        if not self.headers.get("Authorization", "").startswith("Bearer sk_"):
            raise StripeError(
                "Invalid API Key provided: give a secret key as `Authorization: Bearer sk_…`.",
                status=401,
            )

    def _api_post(
        self, act: Callable[[dict[str, Any]], tuple[dict[str, Any], list[Event]]]
    ) -> None:
        """Run `act` once per Idempotency-Key: a retry gets the first answer again, and a reuse
        with other parameters is refused, as Stripe does."""
        self._authorize()
        params = parse_form(self.form)
        key = self.headers.get("Idempotency-Key")
        request = (self.path, sorted(self.form))
        with self.stripe.lock:
            replay = self.stripe.replays.get(key) if key else None
            if replay is None:
                response, events = act(params)
                if key:
                    self.stripe.replays[key] = _Replay(request, response)
        if replay is not None:
            if replay.request != request:
                raise StripeError(
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request.",
                    type="idempotency_error",
                )
            self._json(200, replay.response, replayed=True)
            return
        self._json(200, response)
        # Stripe sends an event after it has answered the request that caused it.
        for event in events:
            self.stripe.deliver(event)

    def _create_session(self) -> None:
        self._api_post(self.stripe.create_session)

    def _get_session(self, session_id: str) -> None:
        self._authorize()
        with self.stripe.lock:
            session = self.stripe.get_session(session_id).as_json()
        self._json(200, session)

    def _create_refund(self) -> None:
        self._api_post(self.stripe.create_refund)

    # The checkout page

    def _checkout_page(self, session_id: str) -> None:
        with self.stripe.lock:
            page = _checkout_html(self.stripe.get_session(session_id))
        self._html(200, page)

    def _checkout_submit(self, session_id: str) -> None:
        form = dict(self.form)
        email = form.get("email", "").strip()
        events: list[Event] = []
        with self.stripe.lock:
            session = self.stripe.get_session(session_id)
            if form.get("action") == "cancel" and session.cancel_url:
                location = session.cancel_url
            elif not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                location, page = "", _checkout_html(session, error="Enter your e-mail address.")
            else:
                events = self.stripe.pay(session, email, form.get("name", "").strip()[:100])
                location = session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
        if not location:
            self._html(400, page)
            return
        # Unlike Stripe, before redirecting: the success page then finds the gift paid.
        for event in events:
            self.stripe.deliver(event)
        self._redirect(location)

    # Test controls

    def _control(self, act: Callable[..., Event], *args: str) -> None:
        with self.stripe.lock:
            event = act(*args)
        self.stripe.deliver(event)
        with self.stripe.lock:
            summary = event.summary()
        self._json(200, summary)

    def _renew(self, subscription_id: str) -> None:
        self._control(self.stripe.renew, subscription_id)

    def _cancel(self, subscription_id: str) -> None:
        self._control(self.stripe.cancel, subscription_id)

    def _dispute(self, payment_intent: str) -> None:
        self._control(self.stripe.dispute, payment_intent, self.query.get("outcome", ""))

    def _resend(self, event_id: str) -> None:
        self._control(self.stripe.event, event_id)

    def _events(self) -> None:
        with self.stripe.lock:
            events = [event.summary() for event in self.stripe.events.values()]
        self._json(200, events)

    # Answers

    def _json(self, status: int, body: object, *, replayed: bool = False) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(8)}")
        if replayed:
            self.send_header("Idempotent-Replayed", "true")
        self.end_headers()
        self.wfile.write(data)

    def _html(self, status: int, page: str) -> None:
        data = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.SEE_OTHER)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


_INTERVALS = {None: "once", "month": "every month", "year": "every year"}


def _checkout_html(session: Session, error: str = "") -> str:
    # Every currency Parley takes has two decimals.
    amount = f"{session.amount / 100:,.2f} {session.currency.upper()}"
    email = html.escape(
        (session.customer_details or {}).get("email") or session.customer_email or ""
    )
    if session.customer is not None:
        body = "<p>This checkout is complete; thank you.</p>"
    else:
        alert = f'<p role="alert" class="error">{html.escape(error)}</p>' if error else ""
        body = f"""{alert}
<form method="post">
  <p><label for="email">E-mail</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="{email}"></p>
  <p><label for="name">Name</label>
  <input id="name" name="name" autocomplete="name"></p>
  <p class="note">Test mode: no card is charged. Real Stripe would ask for a card here; its test
  card is 4242 4242 4242 4242.</p>
  <p><button name="action" value="pay">Pay</button>
  <button name="action" value="cancel" formnovalidate>Cancel</button></p>
</form>"""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fake Stripe — test checkout</title>
<style>
body {{ font: 1rem/1.5 system-ui, sans-serif; max-width: 28rem; margin: 2rem auto;
  padding: 0 1rem; color: #1a1a1a; }}
label {{ display: block; font-weight: 600; }}
input {{ width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; }}
button {{ padding: .5rem 1.25rem; font: inherit; }}
button[value=pay] {{ background: #3b32a8; color: #fff; border: 0; border-radius: 4px; }}
.note {{ color: #555; font-size: .9rem; }}
.error {{ color: #a00; }}
</style></head>
<body><main>
<h1>Fake Stripe — test checkout</h1>
<p>{html.escape(session.product)}</p>
<p><strong>{amount}</strong> {_INTERVALS.get(session.interval, "")}</p>
{body}
</main></body></html>
"""
