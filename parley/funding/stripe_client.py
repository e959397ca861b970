"""The one place Parley talks to Stripe (or, in the demo and tests, the fake Stripe at
STRIPE_API_BASE). Card data never touches Parley: readers pay on Stripe's page."""

from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings

from parley.core.errors import ParleyError


class PaymentsUnavailable(ParleyError):
    status = 503
    code = "payments_unavailable"


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentsUnavailable("Payments are not set up on this site yet.")
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else {}
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses=base)  # type: ignore[arg-type]


def checkout_origin() -> str:
    """Where Stripe's payment page is: the support form's answer redirects there, and a
    browser checks that redirect against the page's form-action."""
    if settings.STRIPE_API_BASE:  # the fake Stripe serves its payment page itself
        base = urlsplit(settings.STRIPE_API_BASE)
        return f"{base.scheme}://{base.netloc}"
    return "https://checkout.stripe.com"


def create_checkout(params: dict[str, Any], idempotency_key: str) -> Any:
    """A Checkout Session; the key derives from our own row, so a retried request (ours or
    the network's) never creates a second session for one donation."""
    try:
        return client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise PaymentsUnavailable(
            "The payment service did not answer as expected; nothing was charged. "
            "Please try again in a moment."
        ) from error
