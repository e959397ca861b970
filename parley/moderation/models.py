from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.comments.models import Comment


class Report(models.Model):
    """A reader's report of a comment, waiting in the moderation queue."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("Spam or advertising")
        INSULT = "insult", _("Insult or harassment")
        HATE = "hate", _("Hate against a group")
        THREAT = "threat", _("Threat of violence")
        ILLEGAL = "illegal", _("Illegal content")
        OFF_TOPIC = "off_topic", _("Off topic")
        OTHER = "other", _("Something else")

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=Reason)
    note = models.TextField(blank=True, max_length=1000)
    reader_key = models.CharField(max_length=80)
    ip_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "reader_key"], name="report_once_per_reader")
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: comment {self.comment_id}"
