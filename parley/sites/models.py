from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Site(models.Model):
    """A publication: its own threads, settings and the origins allowed to embed it."""

    class Moderation(models.TextChoices):
        POST = "post", _("Publish at once; hold only what rules or the scorer flag")
        PRE = "pre", _("Hold every comment for a moderator")
        PRE_FIRST = "pre_first", _("Hold the first comments of new authors, and what is flagged")
        PRE_RISKY = "pre_risky", _("Score before publishing; hold what is flagged")

    class AccountDeletion(models.TextChoices):
        CHOICE = "choice", _("The reader chooses to keep or remove their comments")
        ANONYMISE = "anonymise", _("Keep the comments, shown as by a deleted user")
        REMOVE = "remove", _("Remove the comments")

    name = models.SlugField(unique=True)
    title = models.CharField(max_length=200, blank=True)
    domains = models.JSONField(default=list, blank=True)
    origins = models.JSONField(
        default=list, blank=True, help_text=_("Origins allowed to embed, e.g. https://example.org")
    )
    moderation = models.CharField(max_length=10, choices=Moderation, default=Moderation.POST)
    # Moderators of this site work its queue; superusers (admins) work every site's.
    moderators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="moderated_sites"
    )
    max_depth = models.PositiveSmallIntegerField(default=4, validators=[MinValueValidator(1)])
    edit_window_minutes = models.PositiveIntegerField(default=15)
    max_body_length = models.PositiveIntegerField(default=10_000)
    # What becomes of a reader's comments here when they delete their account.
    account_deletion = models.CharField(
        max_length=10, choices=AccountDeletion, default=AccountDeletion.CHOICE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(max_depth__gte=1), name="site_depth_positive")
        ]

    def __str__(self) -> str:
        return self.title or self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        from .origins import forget_site  # origins imports this module

        forget_site(self.name)

    def allows_origin(self, origin: str) -> bool:
        """Embedding origins are the configured ones plus http(s) on the site's domains."""
        if origin in self.origins:
            return True
        host = urlsplit(origin).hostname
        return host is not None and host in self.domains
