from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .actions import clean_origin
from .models import Site


class LinesField(forms.CharField):
    """A list edited as one entry per line, not as JSON."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]  # a list, not a str
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class SiteForm(forms.ModelForm):
    domains = LinesField(required=False, help_text=_("One per line, e.g. news.example"))
    origins = LinesField(
        required=False,
        help_text=_(
            "Addresses of pages allowed to embed the comments, one per line, "
            "e.g. https://www.news.example"
        ),
    )

    class Meta:
        model = Site
        fields = [
            "name",
            "title",
            "domains",
            "origins",
            "moderation",
            "moderators",
            "max_depth",
            "edit_window_minutes",
            "max_body_length",
            "account_deletion",
        ]

    def clean_domains(self) -> list[str]:
        return [domain.lower() for domain in self.cleaned_data["domains"]]

    def clean_origins(self) -> list[str]:
        try:
            return [clean_origin(origin) for origin in self.cleaned_data["origins"]]
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = ["name", "title", "moderation", "max_depth", "edit_window_minutes"]
    search_fields = ["name", "title"]
    filter_horizontal = ["moderators"]
