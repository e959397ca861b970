import ipaddress
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parley.sites.admin import SiteAdmin
from parley.sites.models import Site

from . import audit
from .models import AuditEntry, Ban, Label, Note, Policy, Report


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = [
            "hold_threshold",
            "spam_threshold",
            "language_thresholds",
            "banned_phrases",
            "max_links",
            "max_mentions",
            "blocked_email_domains",
            "blocked_networks",
            "min_submit_seconds",
            "flood_comments",
            "flood_window_seconds",
            "reports_to_hold",
            "use_scorer",
            "hosted_scorer_url",
            "hosted_scorer_key",
            "scorer_budget_ms",
        ]
        # A secret for another service: masked on screen (and kept when left as it is).
        widgets = {"hosted_scorer_key": forms.PasswordInput(render_value=True)}

    def clean_blocked_networks(self) -> str:
        text: str = self.cleaned_data["blocked_networks"]
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        wrong = []
        for line in lines:
            try:
                ipaddress.ip_network(line, strict=False)
            except ValueError:
                wrong.append(line)
        if wrong:
            raise forms.ValidationError(
                _("Not an address or network: %(lines)s") % {"lines": ", ".join(wrong)}
            )
        return "\n".join(lines)

    def clean_language_thresholds(self) -> dict[str, float]:
        value: Any = self.cleaned_data["language_thresholds"] or {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Write it as {"de": 0.6, "es": 0.55}.'))
        cleaned = {}
        for lang, threshold in value.items():
            ok_lang = (
                isinstance(lang, str) and 2 <= len(lang) <= 12 and lang.replace("-", "").isalpha()
            )
            ok_threshold = isinstance(threshold, int | float) and not isinstance(threshold, bool)
            if not ok_lang or not ok_threshold or not 0 <= threshold <= 1:
                raise forms.ValidationError(
                    _('Each language code needs a threshold between 0 and 1, e.g. {"de": 0.6}.')
                )
            cleaned[lang.lower()] = float(threshold)
        return cleaned

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("hold_threshold", "spam_threshold"):
            value = data.get(name)
            if value is not None and not 0 <= value <= 1:
                self.add_error(name, _("A threshold is between 0 and 1."))
        return data


class PolicyFormSet(BaseInlineFormSet):
    """A site form sent without the policy's fields (by a script that predates it) leaves the
    policy as it is, rather than failing on the missing formset counts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        data = kwargs.get("data")
        prefix = kwargs.get("prefix") or self.get_default_prefix()
        if data is not None and f"{prefix}-TOTAL_FORMS" not in data:
            data = data.copy()
            data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"] = "0"
            kwargs["data"] = data
        super().__init__(*args, **kwargs)


class PolicyInline(admin.StackedInline):
    model = Policy
    form = PolicyForm
    formset = PolicyFormSet
    can_delete = False
    verbose_name = verbose_name_plural = _("Moderation policy")


# The site admin from `sites`, with its moderation policy beside it: `sites` sits below
# `moderation` and cannot import it.
admin.site.unregister(Site)


@admin.register(Site)
class ModeratedSiteAdmin(SiteAdmin):
    inlines = [PolicyInline]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["comment", "reason", "note", "comment_status", "created_at", "resolved_at"]
    list_filter = ["reason", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["comment"]
    readonly_fields = [
        "comment",
        "reason",
        "note",
        "reporter_name",
        "reporter_email",
        "good_faith",
        "created_at",
        "resolved_at",
    ]
    exclude = ["reader_key", "ip_hash"]
    actions = ["resolve"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=_("comment status"))
    def comment_status(self, report: Report) -> str:
        return report.comment.get_status_display()

    @admin.action(description=_("Mark as resolved"))
    def resolve(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = ["kind", "value", "site", "shadow", "expires_at", "lifted_at", "created_by"]
    list_filter = ["kind", "shadow", "site", ("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["value", "reason"]
    list_select_related = ["site", "created_by"]
    readonly_fields = ["created_by", "created_at", "lifted_at"]
    actions = ["lift"]

    def save_model(self, request: HttpRequest, obj: Ban, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        audit.log(
            site_name=obj.site.name if obj.site else "",
            action="ban.change" if change else "ban.add",
            actor=request.user,
            after={
                "ban": obj.pk,
                "kind": obj.kind,
                "shadow": obj.shadow,
                "expires_at": obj.expires_at.isoformat() if obj.expires_at else None,
            },
            note=obj.reason,
        )

    @admin.action(description=_("Lift the selected bans"))
    def lift(self, request: HttpRequest, queryset: QuerySet[Ban]) -> None:
        now = timezone.now()
        for ban in queryset.filter(Ban.in_force()).select_related("site"):
            ban.lifted_at = now
            ban.save(update_fields=["lifted_at"])
            audit.log(
                site_name=ban.site.name if ban.site else "",
                action="ban.lift",
                actor=request.user,
                before={"ban": ban.pk, "kind": ban.kind, "lifted_at": None},
                after={"ban": ban.pk, "kind": ban.kind, "lifted_at": now.isoformat()},
            )


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["comment", "author", "text", "created_at"]
    list_select_related = ["comment", "author"]
    readonly_fields = ["comment", "author", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # notes are written beside a comment, in the queue


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record nobody edits: seen in the admin, written only by Parley."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "site_name", "actor_name", "action", "comment_id", "note"]
    list_filter = ["action", "site_name"]
    search_fields = ["actor_name", "note"]


@admin.register(Label)
class LabelAdmin(ReadOnlyAdmin):
    list_display = ["comment_id", "site", "verdict", "lang", "decided_by", "decided_at"]
    list_filter = ["verdict", "site", "lang"]
    list_select_related = ["site", "decided_by"]
