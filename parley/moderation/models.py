from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parley.comments.models import Comment
from parley.sites.models import Site


class Policy(models.Model):
    """A site's moderation rules and thresholds; the mode (post / pre) is on the Site."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="moderation_policy")
    # Risk is the highest category score (0 to 1). At or above `hold_threshold` a comment waits
    # for a moderator; a spam score at or above `spam_threshold` files it as spam.
    hold_threshold = models.FloatField(default=0.5)
    spam_threshold = models.FloatField(default=0.9)
    language_thresholds = models.JSONField(
        default=dict, blank=True, help_text=_('Hold thresholds per language, e.g. {"de": 0.6}')
    )
    banned_phrases = models.TextField(blank=True, help_text=_("One word or phrase per line."))
    max_links = models.PositiveSmallIntegerField(default=3)
    max_mentions = models.PositiveSmallIntegerField(default=5)
    blocked_email_domains = models.TextField(blank=True, help_text=_("One domain per line."))
    blocked_networks = models.TextField(
        blank=True, help_text=_("One address or network per line, e.g. 203.0.113.0/24")
    )
    min_submit_seconds = models.PositiveSmallIntegerField(default=3)
    flood_comments = models.PositiveSmallIntegerField(
        default=5, help_text=_("Comments one author may post within the flood window.")
    )
    flood_window_seconds = models.PositiveIntegerField(default=60)
    reports_to_hold = models.PositiveSmallIntegerField(default=3)
    use_scorer = models.BooleanField(
        default=True, help_text=_("Score comments with the built-in offline scorer.")
    )
    # A Perspective-compatible service the site chooses to send text to; the local scorer
    # answers whenever it is slow or down.
    hosted_scorer_url = models.URLField(blank=True)
    hosted_scorer_key = models.CharField(max_length=200, blank=True)
    scorer_budget_ms = models.PositiveIntegerField(default=800)

    def __str__(self) -> str:
        return f"moderation of {self.site}"

    def hold_threshold_for(self, lang: str) -> float:
        return float(self.language_thresholds.get(lang, self.hold_threshold))


class Assessment(models.Model):
    """What the pipeline found about one comment: scores, language and readable reasons."""

    class Source(models.TextChoices):
        WAITING = "waiting", _("Not scored yet")
        LOCAL = "local", _("Local scorer")
        HOSTED = "hosted", _("Hosted scorer")
        RULES = "rules", _("Rules only")
        # Held because the scorer did not answer within the budget: the background score
        # publishes it if it is harmless.
        TIMED_OUT = "timeout", _("Scorer too slow")

    comment = models.OneToOneField(
        Comment, on_delete=models.CASCADE, primary_key=True, related_name="assessment"
    )
    scores = models.JSONField(default=dict)
    risk = models.FloatField(default=0.0, db_index=True)
    lang = models.CharField(max_length=12, blank=True)
    reasons = models.JSONField(default=list)
    source = models.CharField(max_length=8, choices=Source, default=Source.WAITING)
    # Held because its author is shadow-banned: the author sees it as published, the queue
    # does not list it unless asked.
    shadow = models.BooleanField(default=False)
    scored_at = models.DateTimeField(null=True, blank=True)
    # A digest of the text as the rules read it (rules.reading_digest): copies of a new
    # comment are found by an index look-up instead of reading every recent comment.
    reading = models.CharField(max_length=16, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"comment {self.comment_id}: risk {self.risk:.2f}"


class Ban(models.Model):
    class Kind(models.TextChoices):
        ACCOUNT = "account", _("Account")
        EMAIL = "email", _("E-mail address")
        IP = "ip", _("Network address (hashed)")
        READER = "reader", _("Browser (reader token)")

    # No site: the ban holds on every site (admins only).
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Kind)
    value = models.CharField(max_length=254)
    shadow = models.BooleanField(
        default=False, help_text=_("The author still sees their comments; nobody else does.")
    )
    reason = models.CharField(max_length=500, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "value"], name="ban_lookup")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ban: {self.value}"

    @classmethod
    def in_force(cls) -> Q:
        return Q(lifted_at__isnull=True) & (
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )


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
    # An EU DSA (Art. 16) notice of illegal content: who sends it and their statement that
    # it is made in good faith.
    reporter_name = models.CharField(max_length=100, blank=True)
    reporter_email = models.EmailField(blank=True)
    good_faith = models.BooleanField(default=False)
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


class Note(models.Model):
    """A moderator's note on a comment, for the other moderators."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="moderator_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"note on comment {self.comment_id}"


class AuditEntry(models.Model):
    """One moderation action, never changed afterwards (the database refuses updates, see
    migration 0003). Plain ids rather than foreign keys, so that the log outlives what it
    describes."""

    site_name = models.CharField(max_length=50, db_index=True)
    comment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=40)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name}: {self.action}"


class Label(models.Model):
    """A moderator's decision kept as a training example for the site's scorer head."""

    class Verdict(models.TextChoices):
        OK = "ok", _("Acceptable")
        ABUSIVE = "abusive", _("Abusive")
        SPAM = "spam", _("Spam")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="moderation_labels")
    comment_id = models.BigIntegerField()
    text = models.TextField()
    lang = models.CharField(max_length=12, blank=True)
    verdict = models.CharField(max_length=8, choices=Verdict)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "comment_id"], name="label_once_per_comment")
        ]

    def __str__(self) -> str:
        return f"{self.verdict}: comment {self.comment_id}"


class SiteHead(models.Model):
    """A site's own scorer head, refitted from its moderators' labels."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="scorer_head")
    weights = models.BinaryField()
    trained_at = models.DateTimeField(default=timezone.now)
    examples = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"scorer head of {self.site}"
