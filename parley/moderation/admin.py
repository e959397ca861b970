from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["comment", "reason", "note", "comment_status", "created_at", "resolved_at"]
    list_filter = ["reason", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["comment"]
    readonly_fields = ["comment", "reason", "note", "created_at", "resolved_at"]
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
