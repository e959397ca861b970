from django.contrib import admin

from .models import Site


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "moderation", "max_depth", "edit_window_minutes"]
    search_fields = ["name", "title"]
