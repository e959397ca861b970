"""The outbox and what decides who is mailed: every message is a row written in the
transaction of the event that causes it, so a crash loses nothing and sends nothing twice."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parley.comments.models import Comment, Subscription
from parley.sites.models import Site


class OutboundEmail(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    # One row per message that must go out once: "notify:<comment>:<address>", "digest:…".
    key = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=30)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=300)
    # A message about a comment is not sent once the comment stops being published.
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.SET_NULL)
    state = models.CharField(max_length=10, choices=State, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A claimed message belongs to one worker until its lease ends; a worker that died
    # leaves it to be taken over then.
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["to", "created_at"], name="outbox_by_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class Suppression(models.Model):
    """An address that is never mailed again: it bounced, complained or left everything."""

    class Reason(models.TextChoices):
        BOUNCE = "bounce", _("Bounced")
        COMPLAINT = "complaint", _("Marked as spam")
        MANUAL = "manual", _("Suppressed by staff")

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=10, choices=Reason)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class DigestItem(models.Model):
    """Something a recipient will read in their next daily digest."""

    class Kind(models.TextChoices):
        COMMENT = "comment", _("New comment")
        HELD = "held", _("Held for review")
        REPORTED = "reported", _("Reported")

    email = models.EmailField()
    lang = models.CharField(max_length=10, blank=True)
    kind = models.CharField(max_length=10, choices=Kind)
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE)
    subscription = models.ForeignKey(Subscription, null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)
    # Set in the transaction that writes the digest to the outbox.
    digest = models.ForeignKey(OutboundEmail, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["email", "kind", "comment"], name="digest_item_once")
        ]
        indexes = [models.Index(fields=["digest", "email"], name="digest_pending")]

    def __str__(self) -> str:
        return f"{self.email}: {self.kind} {self.comment_id}"


class ModeratorAlerts(models.Model):
    """How a moderator hears of held and reported comments."""

    class Delivery(models.TextChoices):
        INSTANT = "instant", _("At once")
        DAILY = "daily", _("In a daily digest")
        OFF = "off", _("Not by e-mail")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderator_alerts"
    )
    delivery = models.CharField(max_length=10, choices=Delivery, default=Delivery.INSTANT)
    lang = models.CharField(max_length=10, blank=True)

    class Meta:
        verbose_name = _("moderator alerts")
        verbose_name_plural = _("moderator alerts")

    def __str__(self) -> str:
        return f"{self.user}: {self.delivery}"
