"""Staff run campaigns here and look at the money. Amounts, statuses and the ledger are
written only by Stripe's events (ledger.py): staff read them, and change no more of a
donation than the name it shows on the donor wall."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .donors import donations_csv
from .models import Campaign, Donation, Movement, ProviderEvent
from .money import money
from .signals import campaign_changed


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["title", "site", "goal_shown", "raised_shown", "supporters", "ends_at", "links"]
    list_filter = ["site"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["raised", "supporters", "created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return super().get_queryset(request).select_related("site")

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        # The ledger counts in the campaign's currency: it cannot change once money came in.
        if obj is not None and obj.movements.exists():
            fields.append("currency")
        return fields

    def save_model(self, request: HttpRequest, obj: Campaign, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        campaign_changed.send(sender=Campaign, campaign=obj)  # a new goal or end shows at once

    @admin.display(description=_("goal"), ordering="goal")
    def goal_shown(self, campaign: Campaign) -> str:
        return money(campaign.goal, campaign.currency)

    @admin.display(description=_("raised"), ordering="raised")
    def raised_shown(self, campaign: Campaign) -> str:
        return money(campaign.raised, campaign.currency)

    @admin.display(description=_("see"))
    def links(self, campaign: Campaign) -> str:
        donations = (
            reverse("admin:funding_donation_changelist") + f"?campaign__id__exact={campaign.pk}"
        )
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            donations,
            _("Donations"),
            reverse("funding:donors", args=[campaign.slug]),
            _("Donor wall"),
        )


class MovementInline(admin.TabularInline):
    model = Movement
    fields = ["created_at", "kind", "amount", "provider_ref"]
    readonly_fields = ["created_at", "kind", "amount", "provider_ref"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Donation)
class DonationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "campaign",
        "amount_shown",
        "interval",
        "status",
        "email",
        "name",
        "show_name",
    ]
    list_filter = ["status", "interval", "campaign"]
    list_select_related = ["campaign"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    # Staff may correct or hide the name a donor shows (an offensive one, say); nothing else.
    readonly_fields = [
        "campaign",
        "amount",
        "currency",
        "interval",
        "status",
        "email",
        "account",
        "checkout_session_id",
        "payment_intent_id",
        "subscription_id",
        "customer_id",
        "created_at",
        "paid_at",
    ]
    fields = ["name", "show_name", *readonly_fields]
    inlines = [MovementInline]
    actions = ["export_csv"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a donation starts with a checkout

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger refers to it

    @admin.display(description=_("amount"), ordering="amount")
    def amount_shown(self, donation: Donation) -> str:
        return money(donation.amount, donation.currency)

    @admin.action(description=_("Export the selected donations as CSV"), permissions=["view"])
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Donation]
    ) -> StreamingHttpResponse:
        response = StreamingHttpResponse(donations_csv(queryset), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="donations.csv"'
        return response


@admin.register(Movement)
class MovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "campaign", "kind", "amount", "donation", "provider_ref"]
    list_filter = ["kind", "campaign"]
    list_select_related = ["campaign", "donation"]
    search_fields = ["provider_ref", "donation__email"]


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "event_id", "type", "state", "attempts", "applied_at"]
    list_filter = ["state", "type"]
    search_fields = ["event_id"]
