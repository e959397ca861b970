from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parley.core.avatars import avatar_hash
from parley.sites.models import Site


class Thread(models.Model):
    """The comments of one page: a site plus the page's uri, kept exactly as given."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="threads")
    uri = models.CharField(max_length=500)
    title = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    published_count = models.PositiveIntegerField(default=0)
    # A default rather than auto_now_add, so an import keeps the source's times.
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "uri"], name="thread_unique_uri"),
            models.CheckConstraint(
                condition=Q(published_count__gte=0), name="thread_count_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site.name}:{self.uri}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Comment(models.Model):
    class Status(models.TextChoices):
        PUBLISHED = "published", _("Published")
        PENDING = "pending", _("Pending")
        SPAM = "spam", _("Spam")
        REJECTED = "rejected", _("Rejected")
        DELETED = "deleted", _("Deleted")

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # The top-level comment this one hangs under: one query loads a page's whole trees.
    root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    depth = models.PositiveSmallIntegerField(default=1)
    author_name = models.CharField(max_length=100)
    author_email = models.EmailField(blank=True)
    author_url = models.URLField(max_length=500, blank=True)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    reader_key = models.CharField(max_length=80, db_index=True)
    body = models.TextField()
    body_html = models.TextField()
    # Inline feedback: the quoted passage of the article as a W3C text-quote selector, so the
    # passage is found again after small edits of the article.
    quote = models.TextField(blank=True)
    quote_prefix = models.CharField(max_length=64, blank=True)
    quote_suffix = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PUBLISHED)
    created_at = models.DateTimeField()
    edited_at = models.DateTimeField(null=True, blank=True)
    upvotes = models.PositiveIntegerField(default=0)
    downvotes = models.PositiveIntegerField(default=0)
    score = models.IntegerField(default=0)
    # Direct replies a thread read shows (published ones, and placeholders with replies).
    reply_count = models.PositiveIntegerField(default=0)
    ip_hash = models.CharField(max_length=64, blank=True)
    # Where an imported comment came from ("disqus:12345"): a re-run of the same import finds
    # it and adds nothing. Empty for comments written here.
    source_key = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(upvotes__gte=0) & Q(downvotes__gte=0) & Q(reply_count__gte=0),
                name="comment_tallies_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(score=F("upvotes") - F("downvotes")), name="comment_score_is_tally"
            ),
            models.CheckConstraint(
                condition=(
                    Q(parent__isnull=True, root__isnull=True, depth=1)
                    | Q(parent__isnull=False, root__isnull=False, depth__gt=1)
                ),
                name="comment_depth_matches_parent",
            ),
            # Target of the (parent, thread) foreign key added in migration 0002, which keeps
            # every reply in its parent's thread.
            models.UniqueConstraint(fields=["id", "thread"], name="comment_id_thread"),
        ]
        indexes = [
            models.Index(fields=["thread", "depth", "created_at", "id"], name="comment_by_time"),
            models.Index(fields=["thread", "depth", "score", "id"], name="comment_by_score"),
            # Moderation rules look back at recent comments by author and network (flood,
            # duplicates) and across the site (copy-paste campaigns).
            models.Index(fields=["reader_key", "created_at"], name="comment_by_reader"),
            models.Index(fields=["ip_hash", "created_at"], name="comment_by_network"),
            models.Index(fields=["created_at"], name="comment_by_created"),
            models.Index(
                fields=["source_key"], condition=~Q(source_key=""), name="comment_by_source"
            ),
            # Held comments only: /metrics counts them at every scrape, whatever the size
            # of the table.
            models.Index(
                fields=["thread"], condition=Q(status="pending"), name="comment_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:40]}"

    @property
    def is_visible(self) -> bool:
        """Published, or a placeholder keeping the place of shown replies."""
        return self.status == self.Status.PUBLISHED or self.reply_count > 0

    @property
    def avatar_hash(self) -> str:
        return avatar_hash(self.author_email or f"name:{self.author_name}")


# Published comments, and placeholders for unpublished ones (deleted, held, spam) whose
# replies still show: a moderator's decision on one comment does not hide its answers.
VISIBLE = Q(status=Comment.Status.PUBLISHED) | Q(reply_count__gt=0)


class CommentRevision(models.Model):
    """An earlier version of an edited comment, kept for moderators."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    body_html = models.TextField()
    replaced_at = models.DateTimeField()

    class Meta:
        ordering = ["replaced_at"]

    def __str__(self) -> str:
        return f"comment {self.comment_id} as of {self.replaced_at:%Y-%m-%d %H:%M}"


class Vote(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="votes")
    reader_key = models.CharField(max_length=80)
    value = models.SmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comment", "reader_key"], name="vote_once_per_reader"),
            models.CheckConstraint(condition=Q(value__in=[1, -1]), name="vote_is_up_or_down"),
        ]

    def __str__(self) -> str:
        return f"{self.value:+d} on comment {self.comment_id}"


class Subscription(models.Model):
    """A reader's "Notify of" request. Nothing is sent to a guest's address until it is
    confirmed (double opt-in); a signed-in reader's is confirmed by their sign-in."""

    class Kind(models.TextChoices):
        THREAD = "thread", _("New follow-up comments")
        REPLIES = "replies", _("New replies to my comments")
        COMMENT = "comment", _("New replies to one comment")

    class Delivery(models.TextChoices):
        INSTANT = "instant", _("At once")
        DAILY = "daily", _("In a daily digest")

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="subscriptions")
    uri = models.CharField(max_length=500)
    email = models.EmailField()
    kind = models.CharField(max_length=10, choices=Kind)
    # The comment whose replies a "comment" subscription follows.
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    delivery = models.CharField(max_length=10, choices=Delivery, default=Delivery.INSTANT)
    # The language the reader asked in: their e-mails are written in it.
    lang = models.CharField(max_length=10, blank=True)
    reader_key = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "uri", "email", "kind"],
                condition=Q(comment__isnull=True),
                name="subscription_once",
            ),
            models.UniqueConstraint(
                fields=["email", "comment"],
                condition=Q(comment__isnull=False),
                name="subscription_to_comment_once",
            ),
            models.CheckConstraint(
                condition=Q(kind="comment", comment__isnull=False)
                | (~Q(kind="comment") & Q(comment__isnull=True)),
                name="subscription_comment_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["email"], name="subscription_by_email")]

    def __str__(self) -> str:
        return f"{self.email}: {self.kind} on {self.uri}"
