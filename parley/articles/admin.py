from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from parley.comments.actions import do_move_thread
from parley.core.errors import Conflict
from parley.sites.models import Site

from .images import make_renditions
from .models import Article, Figure


class FigureInline(admin.StackedInline):
    model = Figure
    extra = 1
    fields = ["position", "image", "alt", "caption"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["headline", "site", "author_name", "published_at"]
    list_filter = ["site"]
    search_fields = ["headline", "dek", "body"]
    prepopulated_fields = {"slug": ["headline"]}
    inlines = [FigureInline]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        sites = list(Site.objects.values_list("pk", flat=True)[:2])
        if len(sites) == 1:  # most installs publish one site
            initial.setdefault("site", str(sites[0]))
        return initial

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        """A new slug is a new address: the article's discussion moves with it."""
        old_slug = form.initial.get("slug")
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and old_slug and old_slug != obj.slug:
                old_uri = reverse("article", args=[old_slug])
                try:
                    with transaction.atomic():
                        do_move_thread(obj.site, old_uri, obj.uri)
                except Conflict as error:
                    self.message_user(request, error.message, messages.WARNING)

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        for figure in form.instance.figures.all():
            make_renditions(figure)
