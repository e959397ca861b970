"""Campaigns and the money they raise. The ledger (`Movement`) is the truth; every amount
a reader sees is a cached total that the reconciliation job recomputes from it."""

from datetime import datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parley.sites.models import Site

# ISO 4217 codes readers can give in, with how many minor units each has.
CURRENCIES = {"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "SEK": 2, "PLN": 2}


class Interval(models.TextChoices):
    ONCE = "once", _("Once")
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


class Campaign(models.Model):
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="campaigns")
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    goal = models.PositiveBigIntegerField(
        help_text=_("In minor units: cents for dollars and euros"),
        validators=[MinValueValidator(1)],
    )
    currency = models.CharField(max_length=3, choices=[(c, c) for c in CURRENCIES], default="USD")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    suggested_amounts = models.JSONField(
        default=list, blank=True, help_text=_("Amounts offered, in minor units, e.g. [500, 1000]")
    )
    intervals = models.JSONField(default=list, blank=True, help_text=_("once, month, year"))
    minimum_amount = models.PositiveIntegerField(default=100, validators=[MinValueValidator(50)])
    thank_you = models.TextField(blank=True)
    # Cached from the ledger in the transaction of each movement; `reconcile` checks them.
    raised = models.BigIntegerField(default=0)
    supporters = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(goal__gt=0), name="campaign_goal_positive")
        ]

    def __str__(self) -> str:
        return self.title

    def allows(self, interval: str) -> bool:
        return interval in (self.intervals or Interval.values)

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


class Donation(models.Model):
    """One checkout: a one-time gift, or a subscription whose renewals are its movements."""

    class Status(models.TextChoices):
        CREATED = "created", _("Checkout started")
        PAID = "paid", _("Paid")  # a subscription: active
        CANCELLED = "cancelled", _("Subscription cancelled")
        REFUNDED = "refunded", _("Refunded")
        EXPIRED = "expired", _("Checkout abandoned")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="donations")
    amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    interval = models.CharField(max_length=5, choices=Interval, default=Interval.ONCE)
    status = models.CharField(max_length=10, choices=Status, default=Status.CREATED)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=100, blank=True)
    show_name = models.BooleanField(default=False)  # the donor wall is private by default
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reader_key = models.CharField(max_length=80, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    # The language the donor gave in: receipts are written in it.
    lang = models.CharField(max_length=10, blank=True)
    checkout_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    subscription_id = models.CharField(max_length=255, blank=True, db_index=True)
    customer_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="donation_amount_positive")
        ]
        indexes = [models.Index(fields=["email"], name="donation_by_email")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} to {self.campaign_id}"


class ProviderEvent(models.Model):
    """Every event Stripe sent, once (keyed by its id): a duplicate is recognised here, and an
    event that came before the one it depends on waits here to be applied."""

    class State(models.TextChoices):
        APPLIED = "applied", _("Applied")
        WAITING = "waiting", _("Waiting for an earlier event")
        IGNORED = "ignored", _("Nothing to do")

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State)
    attempts = models.PositiveIntegerField(default=1)
    received_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "received_at"], name="event_waiting")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type} ({self.state})"


class Movement(models.Model):
    """The ledger: money in (a payment, a renewal) and out (a refund, a lost dispute), each
    from exactly one provider event and for exactly one provider object."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        RENEWAL = "renewal", _("Renewal")
        REFUND = "refund", _("Refund")
        DISPUTE_LOST = "dispute_lost", _("Dispute lost")

    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="movements")
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=15, choices=Kind)
    amount = models.BigIntegerField()  # signed, in the campaign's minor units
    # The provider's object this moves money for (a charge, an invoice, a refund, a dispute):
    # unique per kind, so the same money is never counted twice by two different events.
    provider_ref = models.CharField(max_length=255)
    event = models.ForeignKey(ProviderEvent, on_delete=models.PROTECT, related_name="movements")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "provider_ref"], name="movement_once"),
            models.CheckConstraint(
                condition=Q(kind__in=["payment", "renewal"], amount__gt=0)
                | Q(kind__in=["refund", "dispute_lost"], amount__lt=0),
                name="movement_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"
