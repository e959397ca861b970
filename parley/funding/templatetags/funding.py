"""The funding bar and amounts of money, in the page's language. The widget shows this same
bar on publishers' pages, fetched from funding/views.py's `bar`."""

import math
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from parley.funding.models import Campaign
from parley.funding.money import money
from parley.sites.models import Site

register = template.Library()

register.filter("money", money)


def deadline(campaign: Campaign) -> str:
    if campaign.ends_at is None:
        return ""
    seconds = (campaign.ends_at - timezone.now()).total_seconds()
    if seconds <= 0:
        return pgettext("campaign", "Ended")
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
