"""Starting a donation: validate, rate-limit, write our row, then ask Stripe for its page."""

from django.core.validators import slug_re
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from parley.core.errors import Conflict, Invalid, NotFound
from parley.core.readers import Actor, enforce_actor_limits
from parley.notifications.outbox import public_url
from parley.notifications.subscriptions import clean_email

from .models import CURRENCIES, Campaign, Donation, Interval
from .money import money
from .stripe_client import create_checkout

# A hard ceiling too: nobody gives a million through a comment section's button, and card
# testers probe with odd amounts at both ends.
MAXIMUM_AMOUNT = 10_000_000


def access_campaign(slug: str) -> Campaign:
    # Only a slug names a campaign; anything else (a NUL, which PostgreSQL cannot even
    # compare) is none, without asking the database.
    campaigns = Campaign.objects.select_related("site")
    campaign = campaigns.filter(slug=slug).first() if slug_re.match(slug) else None
    if campaign is None:
        raise NotFound(_("There is no campaign “%(slug)s”.") % {"slug": slug})
    return campaign


def check_checkout(
    actor: Actor, slug: str, amount: object, interval: str, *, email: str = ""
) -> str:
    """The address of Stripe's payment page for a new donation."""
    campaign = access_campaign(slug)
    errors = _validate(campaign, amount, interval)
    if email:
        try:
            email = clean_email(email)
        except Invalid as error:
            errors |= error.fields
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    if not campaign.is_open():
        raise Conflict(_("This campaign has ended; thank you for thinking of it."))
    # Card testers create many sessions: per address, per reader and per site.
    enforce_actor_limits(actor, "checkout.create", site=campaign.site.name)
    assert isinstance(amount, int)
    with transaction.atomic(durable=True):
        donation = Donation.objects.create(
            campaign=campaign,
            amount=amount,
            currency=campaign.currency,
            interval=interval,
            email=email,
            account=actor.user,
            reader_key=actor.reader_key,
            ip_hash=actor.ip_hash,
            lang=translation.get_language() or "",
        )
    session = create_checkout(_session_params(campaign, donation), f"parley-donation-{donation.pk}")
    Donation.objects.filter(pk=donation.pk).update(checkout_session_id=session.id)
    return str(session.url)


def _validate(campaign: Campaign, amount: object, interval: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not isinstance(amount, int) or isinstance(amount, bool):
        errors["amount"] = _("Give the amount as a whole number of cents.")
    elif amount < campaign.minimum_amount:
        errors["amount"] = _("The smallest gift is %(minimum)s.") % {
            "minimum": money(campaign.minimum_amount, campaign.currency)
        }
    elif amount > MAXIMUM_AMOUNT:
        errors["amount"] = _("That is more than the largest gift allowed here: %(maximum)s.") % {
            "maximum": money(MAXIMUM_AMOUNT, campaign.currency)
        }
    if interval not in Interval.values or not campaign.allows(interval):
        errors["interval"] = _("This campaign does not take gifts at that interval.")
    if campaign.currency not in CURRENCIES:
        errors["currency"] = _("Payments in this campaign's currency are not possible.")
    return errors


def _session_params(campaign: Campaign, donation: Donation) -> dict[str, object]:
    price: dict[str, object] = {
        "currency": campaign.currency.lower(),
        "unit_amount": donation.amount,
        "product_data": {"name": campaign.title},
    }
    if donation.interval != Interval.ONCE:
        price["recurring"] = {"interval": donation.interval}
    params: dict[str, object] = {
        "mode": "payment" if donation.interval == Interval.ONCE else "subscription",
        "line_items": [{"price_data": price, "quantity": 1}],
        "success_url": public_url(reverse("funding:thanks", args=[campaign.slug]))
        + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": public_url(reverse("funding:cancelled", args=[campaign.slug])),
        "client_reference_id": str(donation.pk),
        "metadata": {"donation": str(donation.pk)},
    }
    if donation.email:
        params["customer_email"] = donation.email
    return params
