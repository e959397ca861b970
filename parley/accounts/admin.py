import json

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parley.core.errors import ParleyError

from .actions import KEEP, REMOVE
from .models import AccountSession, PersonalData, Profile, SignInRequest
from .privacy import erase_person, person_data


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


@admin.register(PersonalData)
class PersonalDataAdmin(admin.ModelAdmin[PersonalData]):
    """One page instead of a list: administrators download or erase what Parley holds about
    an e-mail address. Only they see it; a moderator is refused."""

    page_template = "admin/accounts/personaldata/personal_data.html"

    def has_module_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return isinstance(user, User) and user.is_active and user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        # Named as the list would be, so the admin's index links here.
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.personal_data), name=name)]

    def personal_data(self, request: HttpRequest) -> HttpResponse:
        """Asks for an address; "Download" answers its data as a file, "Erase" first shows
        what would be erased and erases on a second, confirmed POST."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        email = request.POST.get("email", "")
        comments = REMOVE if request.POST.get("comments") == REMOVE else KEEP
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Personal data"),
            "email": email,
            "comments": comments,
        }
        if request.method != "POST":
            return render(request, self.page_template, context)
        confirmed = bool(request.POST.get("confirm"))
        try:
            if "download" in request.POST:
                return _download(email)
            report = erase_person(
                email, comments=comments, actor=request.user, dry_run=not confirmed
            )
        except ParleyError as error:
            context["error"] = error.fields.get("email") or error.message
            return render(request, self.page_template, context, status=error.status)
        context.update(report=report, erased=confirmed)
        if not confirmed and request.POST.get("step") == "confirm":
            context["confirm_error"] = _("Tick this box to confirm.")
        return render(request, self.page_template, context)


def _download(email: str) -> HttpResponse:
    data = person_data(email)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="parley-personal-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response
