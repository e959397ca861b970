"""`POST /webhooks/stripe`: verify the signature, refuse stale and future timestamps, then
hand the event to the ledger."""

import json
import time

import stripe
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from parley.core.errors import error_response

from . import ledger


class BadWebhook(Exception):
    pass


def verify(payload: bytes, header: str) -> dict:
    secret = settings.STRIPE_WEBHOOK_SECRET
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    if not secret:
        raise BadWebhook("This site has no webhook secret set (STRIPE_WEBHOOK_SECRET).")
    try:
        stripe.WebhookSignature.verify_header(payload.decode(), header, secret, tolerance)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
        raise BadWebhook(f"The signature does not verify: {error}") from None
    # Stripe's check refuses a timestamp too old; one from the future is as suspect.
    stamps = [part[2:] for part in header.split(",") if part.startswith("t=")]
    if not stamps or int(stamps[0]) > time.time() + tolerance:
        raise BadWebhook("The signature's timestamp is outside the tolerance.")
    try:
        event = json.loads(payload)
    except ValueError:
        raise BadWebhook("The body is not JSON.") from None
    if not isinstance(event, dict) or not {"id", "type", "data"} <= event.keys():
        raise BadWebhook("The body is not a Stripe event.")
    return event


@csrf_exempt  # Stripe signs its requests; it has no cookie or form token
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = verify(request.body, request.headers.get("Stripe-Signature", ""))
    except BadWebhook as error:
        return error_response(400, "bad_webhook", str(error))
    outcome = ledger.receive(event)
    return JsonResponse({"received": True, "outcome": outcome})
