from django.contrib import admin
from django.http import HttpRequest

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

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)
        for figure in form.instance.figures.all():
            make_renditions(figure)
