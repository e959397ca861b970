from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AccountSession, Profile, SignInRequest


@admin.register(SignInRequest)
class SignInRequestAdmin(admin.ModelAdmin[SignInRequest]):
    """Read-only: requests are written by readers asking for a link. Only hashes of the
    link and of the browser key are stored, so nothing here signs anyone in."""

    list_display = ["email", "site", "created_at", "expires_at", "used_at"]
    list_filter = ["site"]
    search_fields = ["email"]
    exclude = ["token_hash", "browser_key_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(AccountSession)
class AccountSessionAdmin(admin.ModelAdmin[AccountSession]):
    list_display = ["user", "origin", "created_at", "expires_at", "revoked_at"]
    search_fields = ["user__email"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Sign out the selected sessions"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[AccountSession]) -> None:
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("Done."), messages.SUCCESS)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin[Profile]):
    list_display = ["display_name", "user"]
    search_fields = ["display_name", "user__email"]
    raw_id_fields = ["user"]
