from django import forms
from django.utils.translation import gettext_lazy as _

from .actions import Draft


class CommentForm(forms.Form):
    """The comment box of the plain-HTML page (JavaScript off); the widget posts JSON."""

    site = forms.CharField(widget=forms.HiddenInput)
    uri = forms.CharField(widget=forms.HiddenInput)
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)
    quote = forms.CharField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)
    form_token = forms.CharField(required=False, widget=forms.HiddenInput)
    # Hidden from people by the template; bots that fill every field fill this one too.
    homepage = forms.CharField(required=False, label=_("Leave this field empty"))
    body = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": _("Would love your thoughts, please comment")}
        ),
    )
    author_name = forms.CharField(label=_("Name"), max_length=100)
    author_email = forms.EmailField(
        label=_("E-mail"), required=False, max_length=254, help_text=_("Optional, never shown.")
    )
    author_url = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    def to_draft(self) -> Draft:
        data = self.cleaned_data
        return Draft(
            site=data["site"],
            uri=data["uri"],
            body=data["body"],
            author_name=data["author_name"],
            author_email=data["author_email"] or "",
            author_url=data["author_url"] or "",
            parent_id=data["parent"],
            quote=data["quote"] or "",
            form_token=data["form_token"] or "",
            honeypot=data["homepage"] or "",
        )
