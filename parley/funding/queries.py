from typing import Any

from django.utils import timezone

from .models import Campaign


def campaign_json(campaign: Campaign) -> dict[str, Any]:
    return {
        "slug": campaign.slug,
        "title": campaign.title,
        "goal": campaign.goal,
        "raised": campaign.raised,
        "currency": campaign.currency,
        "supporters": campaign.supporters,
        "ends_at": campaign.ends_at,
    }


def current_campaign(site_id: int) -> Campaign | None:
    """The site's open campaign (the latest started, if several)."""
    now = timezone.now()
    open_now = Campaign.objects.filter(site_id=site_id, starts_at__lte=now).exclude(
        ends_at__lte=now
    )
    return open_now.order_by("-starts_at", "-pk").first()
