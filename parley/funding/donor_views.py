"""The donor wall, and the page (reached by a signed link from the receipt) where a donor
chooses whether and how their name shows on it."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from . import donors
from .models import Campaign


@require_GET
def donor_wall(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("site"), slug=slug)
    context = {"campaign": campaign, "wall": donors.donor_wall(campaign), "masthead": campaign.site}
    return render(request, "funding/donors.html", context)


class WallNameForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, strip=True)
    show_name = forms.BooleanField(required=False)

    def clean(self) -> dict[str, object] | None:
        data = super().clean()
        if data and data.get("show_name") and not data.get("name"):
            self.add_error("name", _("Give the name to show."))
        return data


@require_http_methods(["GET", "POST"])
def donor_name(request: HttpRequest, token: str) -> HttpResponse:
    donation = donors.donation_for_wall(token)
    if donation is None:
        return render(request, "funding/donor_name.html", {"bad_link": True}, status=400)
    saved = False
    if request.method == "POST":
        form = WallNameForm(request.POST)
        if saved := form.is_valid():
            donors.set_wall_name(
                donation, form.cleaned_data["name"], form.cleaned_data["show_name"]
            )
    else:
        form = WallNameForm(initial={"name": donation.name, "show_name": donation.show_name})
    context = {
        "campaign": donation.campaign,
        "masthead": donation.campaign.site,
        "form": form,
        "token": token,
        "saved": saved,
    }
    return render(request, "funding/donor_name.html", context, status=422 if form.errors else 200)
