"""Applying Stripe's events to the ledger, each exactly once, whatever Stripe retries,
reorders or duplicates.

- An event is recorded by its id in the transaction that applies it: a duplicate finds the
  row and changes nothing (concurrent duplicates wait on the unique index, then find it).
- Money is a `Movement` whose (kind, provider object) is unique: two different events about
  the same payment cannot count it twice.
- An event about something not yet known (a refund before its payment, a renewal before the
  checkout that started the subscription) is kept as waiting and applied once an event it
  may depend on has been.
- The campaign's cached totals move in the same transaction, under the campaign's row lock;
  `reconcile` recomputes them from the ledger and reports any difference.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from .models import Campaign, Donation, Movement, ProviderEvent
from .signals import campaign_changed, donation_paid, donation_reversed

APPLIED, WAITING, IGNORED = (
    ProviderEvent.State.APPLIED,
    ProviderEvent.State.WAITING,
    ProviderEvent.State.IGNORED,
)
# How many waiting events one applied event retries (the oldest first).
RETRY_BATCH = 100


def receive(event: dict[str, Any]) -> str:
    """Record and apply a verified event; return what became of it, "duplicate" included."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = ProviderEvent.objects.create(
                    event_id=str(event["id"]), type=str(event["type"]), payload=event, state=WAITING
                )
        except IntegrityError:
            return "duplicate"
        state = _apply_and_mark(row)
        if state == APPLIED:
            retry_waiting(exclude=row.pk)
        return state


def retry_waiting(exclude: int = 0) -> int:
    """Apply the waiting events whose predecessors have come in; return how many were."""
    applied = 0
    waiting = ProviderEvent.objects.filter(state=WAITING).exclude(pk=exclude)
    for row in waiting.select_for_update().order_by("received_at", "pk")[:RETRY_BATCH]:
        ProviderEvent.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        applied += _apply_and_mark(row) == APPLIED
    return applied


def _apply_and_mark(row: ProviderEvent) -> str:
    state = APPLY.get(row.type, _ignore)(row, row.payload["data"]["object"])
    if state != WAITING:
        ProviderEvent.objects.filter(pk=row.pk).update(state=state, applied_at=timezone.now())
    return state


def _ignore(row: ProviderEvent, obj: dict[str, Any]) -> str:
    return IGNORED


def _checkout_completed(row: ProviderEvent, obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    donation = (
        Donation.objects.select_for_update().filter(pk=_int(metadata.get("donation"))).first()
    )
    if donation is None or donation.checkout_session_id not in (None, obj["id"]):
        return IGNORED  # not a checkout of ours
    details = obj.get("customer_details") or {}
    donation.email = donation.email or str(details.get("email") or "").lower()
    donation.name = donation.name or str(details.get("name") or "")[:100]
    donation.checkout_session_id = obj["id"]
    donation.customer_id = str(obj.get("customer") or "")
    donation.payment_intent_id = str(obj.get("payment_intent") or "")
    donation.subscription_id = str(obj.get("subscription") or "")
    if donation.account_id is None and donation.email:
        donation.account = User.objects.filter(email__iexact=donation.email).order_by("pk").first()
    if donation.status == Donation.Status.CREATED:
        donation.status, donation.paid_at = Donation.Status.PAID, timezone.now()
    donation.save()
    if obj.get("mode") == "payment" and obj.get("payment_status") == "paid":
        # A subscription's money comes with its invoices, the first one included.
        record(
            donation,
            Movement.Kind.PAYMENT,
            int(obj["amount_total"]),
            donation.payment_intent_id,
            row,
        )
    return APPLIED


def _invoice_paid(row: ProviderEvent, obj: dict[str, Any]) -> str:
    donation = _by_subscription(_invoice_subscription(obj))
    if donation is None:
        return WAITING  # the checkout that started the subscription has not come in yet
    first = obj.get("billing_reason") == "subscription_create"
    kind = Movement.Kind.PAYMENT if first else Movement.Kind.RENEWAL
    reference = _invoice_payment_intent(obj) or str(obj["id"])
    record(donation, kind, int(obj["amount_paid"]), reference, row)
    return APPLIED


# Stripe's API versions from 2025-03-31 moved these off the invoice itself; the endpoint's
# version decides which shape arrives, so both are read.
def _invoice_subscription(obj: dict[str, Any]) -> str:
    details = (obj.get("parent") or {}).get("subscription_details") or {}
    return str(obj.get("subscription") or details.get("subscription") or "")


def _invoice_payment_intent(obj: dict[str, Any]) -> str:
    if obj.get("payment_intent"):
        return str(obj["payment_intent"])
    for payment in (obj.get("payments") or {}).get("data", []):
        intent = (payment.get("payment") or {}).get("payment_intent")
        if intent:
            return str(intent)
    return ""


def _charge_refunded(row: ProviderEvent, obj: dict[str, Any]) -> str:
    payment = _payment_for(obj.get("payment_intent"))
    if payment is None:
        return WAITING  # the refund came before the payment it refunds
    donation = Donation.objects.select_for_update().get(pk=payment.donation_id)
    refunds = (obj.get("refunds") or {}).get("data")
    if refunds is not None:
        for refund in refunds:
            record(donation, Movement.Kind.REFUND, -int(refund["amount"]), str(refund["id"]), row)
    else:
        # Newer API versions send no refund list: the charge's running total says how much
        # has gone back, so what is new is the total less what is recorded for this charge.
        charge = str(obj["id"])
        recorded = -int(
            Movement.objects.filter(
                kind=Movement.Kind.REFUND, provider_ref__startswith=f"{charge}@"
            ).aggregate(total=Sum("amount"))["total"]
            or 0
        )
        total = int(obj.get("amount_refunded") or 0)
        if total > recorded:  # an older event arriving late repeats nothing
            record(donation, Movement.Kind.REFUND, recorded - total, f"{charge}@{total}", row)
    _settle_if_nothing_left(donation)
    return APPLIED


def _settle_if_nothing_left(donation: Donation) -> None:
    """A one-time gift whose money all went back (refunded, or lost in a dispute) no longer
    makes its donor a supporter."""
    if _net(donation) <= 0 and donation.interval == "once":
        Donation.objects.filter(pk=donation.pk).update(status=Donation.Status.REFUNDED)
        _recount_supporters(donation.campaign_id)


def _dispute_closed(row: ProviderEvent, obj: dict[str, Any]) -> str:
    if obj.get("status") != "lost":
        return IGNORED  # a dispute won moves no money
    payment = _payment_for(obj.get("payment_intent"))
    if payment is None:
        return WAITING
    donation = Donation.objects.select_for_update().get(pk=payment.donation_id)
    record(donation, Movement.Kind.DISPUTE_LOST, -int(obj["amount"]), str(obj["id"]), row)
    _settle_if_nothing_left(donation)
    return APPLIED


def _subscription_deleted(row: ProviderEvent, obj: dict[str, Any]) -> str:
    donation = _by_subscription(obj.get("id"))
    if donation is None:
        return WAITING
    Donation.objects.filter(pk=donation.pk).update(status=Donation.Status.CANCELLED)
    return APPLIED


def _checkout_expired(row: ProviderEvent, obj: dict[str, Any]) -> str:
    Donation.objects.filter(checkout_session_id=obj["id"], status=Donation.Status.CREATED).update(
        status=Donation.Status.EXPIRED
    )
    return APPLIED


APPLY = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.expired": _checkout_expired,
    "invoice.paid": _invoice_paid,
    "charge.refunded": _charge_refunded,
    "charge.dispute.closed": _dispute_closed,
    "customer.subscription.deleted": _subscription_deleted,
}


def record(
    donation: Donation, kind: str, amount: int, provider_ref: str, event: ProviderEvent
) -> None:
    """One movement of money, once; the campaign's totals move with it. Money going back is
    capped at what the gift still holds: a charge refunded and then lost in a dispute (or the
    other way round) came off the bar once."""
    if Movement.objects.filter(kind=kind, provider_ref=provider_ref).exists():
        return
    if amount < 0:
        amount = max(amount, -_net(donation))
    if amount == 0:
        return
    campaign = Campaign.objects.select_for_update().get(pk=donation.campaign_id)
    movement = Movement.objects.create(
        donation=donation,
        campaign=campaign,
        kind=kind,
        amount=amount,
        provider_ref=provider_ref,
        event=event,
    )
    Campaign.objects.filter(pk=campaign.pk).update(raised=F("raised") + amount)
    _recount_supporters(campaign.pk)
    campaign.refresh_from_db()
    signal = donation_paid if amount > 0 else donation_reversed
    signal.send(sender=Donation, donation=donation, movement=movement)
    campaign_changed.send(sender=Campaign, campaign=campaign)


def supporters_of(campaign_id: int) -> int:
    """Distinct donors (by address; a gift without one counts alone) who gave and were not
    refunded; a cancelled subscription still supported."""
    gave = Donation.objects.filter(
        campaign_id=campaign_id, status__in=[Donation.Status.PAID, Donation.Status.CANCELLED]
    )
    with_address = gave.exclude(email="").values("email").distinct().count()
    return with_address + gave.filter(email="").count()


def _recount_supporters(campaign_id: int) -> None:
    Campaign.objects.filter(pk=campaign_id).update(supporters=supporters_of(campaign_id))


def _by_subscription(subscription_id: object) -> Donation | None:
    if not subscription_id:
        return None
    return Donation.objects.select_for_update().filter(subscription_id=str(subscription_id)).first()


def _payment_for(payment_intent: object) -> Movement | None:
    if not payment_intent:
        return None
    kinds = [Movement.Kind.PAYMENT, Movement.Kind.RENEWAL]
    return Movement.objects.filter(kind__in=kinds, provider_ref=str(payment_intent)).first()


def _net(donation: Donation) -> int:
    return int(donation.movements.aggregate(total=Sum("amount"))["total"] or 0)


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


@dataclass(frozen=True)
class Difference:
    campaign: str
    field: str
    cached: int
    ledger: int


def reconcile(*, fix: bool = False) -> list[Difference]:
    """Recompute every campaign's totals from the ledger; report (and with `fix`, correct)
    each cached figure that differs."""
    differences = []
    for campaign in Campaign.objects.order_by("pk"):
        ledger = {
            "raised": int(campaign.movements.aggregate(total=Sum("amount"))["total"] or 0),
            "supporters": supporters_of(campaign.pk),
        }
        for field, value in ledger.items():
            cached = getattr(campaign, field)
            if cached != value:
                differences.append(Difference(campaign.slug, field, cached, value))
        if fix and any(d.campaign == campaign.slug for d in differences):
            Campaign.objects.filter(pk=campaign.pk).update(**ledger)
    return differences


def record_seeded_payment(
    campaign: Campaign, amount: int, email: str, name: str = "", show_name: bool = False
) -> Donation:
    """A paid one-time gift that did not come through Stripe (the demo's seed, a gift
    recorded by hand), written to the ledger like any other so the totals reconcile."""
    with transaction.atomic():
        donation = Donation.objects.create(
            campaign=campaign,
            amount=amount,
            currency=campaign.currency,
            email=email,
            name=name,
            show_name=show_name,
            status=Donation.Status.PAID,
            paid_at=timezone.now(),
        )
        row = ProviderEvent.objects.create(
            event_id=f"parley_seed_{donation.pk}",
            type="parley.seeded_payment",
            payload={},
            state=APPLIED,
            applied_at=timezone.now(),
        )
        record(donation, Movement.Kind.PAYMENT, amount, f"seed:{donation.pk}", row)
    return donation
