"""What imports kept as it came (follows, ratings, custom phrases…), for staff to look at."""

from django.contrib import admin

from parley.funding.admin import ReadOnlyAdmin

from .models import KeptItem


@admin.register(KeptItem)
class KeptItemAdmin(ReadOnlyAdmin):
    list_display = ["site", "source", "table", "key", "reason", "imported_at"]
    list_filter = ["site", "source", "table"]
    search_fields = ["key"]
