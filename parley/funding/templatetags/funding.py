"""The funding bar and amounts of money, in the page's language. The widget shows this same
bar on publishers' pages, fetched from funding/views.py's `bar`."""

import math
from decimal import Decimal
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parley.funding.models import CURRENCIES, Campaign
from parley.sites.models import Site

register = template.Library()

# Narrow symbols, as the product's bar writes dollars ("2,550 $"): readers know the currency
# of the site they are on.
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "CHF": "CHF",
    "CAD": "$",
    "AUD": "$",
    "SEK": "kr",
    "PLN": "zł",
}


@register.filter
def money(amount: int, currency: str) -> str:
    """Minor units as "2,550 $" ("2.550 $" in German): symbol after the number, as the
    funding bar has it in every language; cents only where there are any."""
    digits = CURRENCIES.get(currency, 2)
    major = Decimal(amount).scaleb(-digits)
    places = 0 if major == major.to_integral_value() else digits
    number = number_format(major, places, use_l10n=True, force_grouping=True)
    return f"{number}\xa0{SYMBOLS.get(currency, currency)}"


def deadline(campaign: Campaign) -> str:
    if campaign.ends_at is None:
        return ""
    seconds = (campaign.ends_at - timezone.now()).total_seconds()
    if seconds <= 0:
        return _("Ended")
    days = math.ceil(seconds / 86400)  # a campaign ending tonight has "1 day left"
    return ngettext("%(n)s day left", "%(n)s days left", days) % {"n": days}


@register.inclusion_tag("funding/bar.html")
def campaign_bar(campaign: Campaign, site: Site, button: bool = True) -> dict[str, Any]:
    goal, raised = campaign.goal, max(campaign.raised, 0)  # refunds may outrun the gifts

    def amount(minor: int) -> str:
        return money(minor, campaign.currency)

    return {
        "campaign": campaign,
        "value": raised,
        "summary": _("%(raised)s raised of %(goal)s")
        % {"raised": amount(raised), "goal": amount(goal)},
        "scale": [amount(0), amount(goal // 2), amount(goal)],
        "raised": amount(raised),
        # Past the goal it keeps counting: the bar is full, the words say by how much.
        "percent": _("%(percent)s %% of the goal") % {"percent": raised * 100 // goal},
        "supporters": ngettext("%(n)s supporter", "%(n)s supporters", campaign.supporters)
        % {"n": campaign.supporters},
        "deadline": deadline(campaign),
        "support_url": reverse("funding:support", args=[campaign.slug]) if button else "",
        "site": site,
    }
