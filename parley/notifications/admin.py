from django.contrib import admin

from .models import ModeratorAlerts, OutboundEmail, Suppression


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin[OutboundEmail]):
    """Read-only: the outbox is written by events and the worker, never by hand."""

    list_display = ["created_at", "to", "subject", "kind", "state", "attempts"]
    list_filter = ["state", "kind"]
    search_fields = ["to", "subject", "key"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin[Suppression]):
    """Addresses never mailed again; delete a row to mail an address again."""

    list_display = ["email", "reason", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]


@admin.register(ModeratorAlerts)
class ModeratorAlertsAdmin(admin.ModelAdmin[ModeratorAlerts]):
    list_display = ["user", "delivery", "lang"]
