"""Reader accounts: e-mailed sign-in links, the sessions they open, and a reader's profile.

Secrets (link tokens, browser keys, session keys) are stored only as hashes: a copy of the
database signs nobody in.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from parley.sites.models import Site


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class SignInRequest(models.Model):
    """One e-mailed sign-in link: it works once, for a short time, and only in the browser
    that asked for it (which alone holds the browser key)."""

    email = models.EmailField()
    # None when asked on Parley's own profile page rather than from a site's comments.
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE)
    return_url = models.CharField(max_length=2000)
    token_hash = models.CharField(max_length=64, unique=True)
    browser_key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in request")

    def __str__(self) -> str:
        return f"{self.email} at {self.created_at:%Y-%m-%d %H:%M}"


class AccountSession(models.Model):
    """A signed-in browser. The widget on another site cannot use Parley's cookie, so it
    sends the session's token in the X-Parley-Session header instead."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_sessions"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    # The page's origin where it was opened from another site; empty on Parley's own.
    origin = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("account session")

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class Profile(models.Model):
    """What a reader shows of themselves: the name they comment under and a picture."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reader_profile"
    )
    display_name = models.CharField(max_length=100, blank=True)
    # A 128 by 128 PNG re-encoded from the upload; empty: the generated avatar.
    avatar = models.FileField(upload_to="avatars/", blank=True)

    class Meta:
        verbose_name = _("reader profile")

    def __str__(self) -> str:
        return self.display_name or str(self.user)


class PersonalData(models.Model):
    """No table: it gives the admin's index its "Personal data" entry, the page where an
    administrator exports or erases what Parley holds about an e-mail address."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = verbose_name_plural = _("personal data")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class ErasedAddress(models.Model):
    """An address erased at its owner's request, as a keyed hash only: an import of an older
    export or of the old system's data must not bring the person back (their subscriptions,
    the rows naming them), and the address itself is not kept to know it."""

    digest = models.CharField(max_length=64, unique=True)
    erased_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"erased {self.erased_at:%Y-%m-%d}"
