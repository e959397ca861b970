"""A person's gifts in their data (`accounts.privacy`): handed over in full; erased down to
what bookkeeping must keep."""

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from parley.accounts.privacy import Part, Person, register

from .ledger import supporters_of
from .models import Campaign, Donation, ProviderEvent
from .signals import campaign_changed


def _donations(person: Person) -> QuerySet[Donation]:
    return Donation.objects.filter(Q(email__iexact=person.email) | Q(account__in=person.accounts))


def donations_of(person: Person) -> list[dict[str, Any]]:
    gifts = _donations(person).select_related("campaign__site").order_by("created_at", "pk")
    return [
        {
            "site": gift.campaign.site.name,
            "campaign": gift.campaign.slug,
            "amount": gift.amount,  # in the currency's minor units: cents
            "currency": gift.currency,
            "interval": gift.interval,
            "status": gift.status,
            "email": gift.email,
            "name": gift.name,
            "shown_on_wall": gift.show_name,
            "created_at": gift.created_at.isoformat(),
            "paid_at": gift.paid_at.isoformat() if gift.paid_at else None,
        }
        for gift in gifts
    ]


def erase_donations(person: Person) -> int:
    """Amounts, dates and Stripe's ids stay: bookkeeping law makes the newsroom keep its
    records of money received for years (GDPR art. 17(3)(b)), the raised totals are sums of
    them, and Stripe's later refunds and renewals find their gift by those ids. What names
    the donor goes: the address, the name, the donor wall, the account, browser and network;
    with no address, no receipt is sent for a renewal either."""
    gifts = _donations(person)
    campaigns = set(gifts.values_list("campaign_id", flat=True))
    erased = gifts.update(
        email="", name="", show_name=False, account=None, reader_key="", ip_hash=""
    )
    # Donors are told apart by address: several gifts of one donor to a campaign now count
    # as several supporters, as the ledger will count them from now on.
    for campaign in Campaign.objects.filter(pk__in=campaigns):
        campaign.supporters = supporters_of(campaign.pk)
        campaign.save(update_fields=["supporters"])
        campaign_changed.send(sender=Campaign, campaign=campaign)
    for event in ProviderEvent.objects.filter(payload__icontains=person.email):
        event.payload = _without_donor(event.payload, person.email)
        event.save(update_fields=["payload"])
    return erased


# Stripe's fields beside a customer's address that name the same person.
_DONOR_FIELDS = {
    "email",
    "name",
    "phone",
    "address",
    "shipping",
    "shipping_details",
    "billing_details",
    "receipt_email",
    "customer_email",
    "customer_name",
    "customer_phone",
    "customer_address",
    "customer_shipping",
}


def _without_donor(value: Any, email: str) -> Any:
    """Stripe's event as received, less the donor: an object holding the address loses it
    and what stands beside it (name, phone, postal address)."""
    if isinstance(value, dict):
        names_donor = any(isinstance(v, str) and v.lower() == email for v in value.values())
        return {
            key: None if names_donor and key in _DONOR_FIELDS else _without_donor(v, email)
            for key, v in value.items()
        }
    if isinstance(value, list):
        return [_without_donor(v, email) for v in value]
    return None if isinstance(value, str) and value.lower() == email else value


register(
    Part(
        name="donations",
        label=gettext_lazy("Donations kept without the donor's name and address"),
        export=donations_of,
        erase=erase_donations,
    )
)
