"""Who gave, as others see it: the donor wall (only the names donors asked to show), the
supporter badge in threads, and the staff's CSV export."""

import csv
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django.dispatch import receiver

from parley.comments.models import Comment
from parley.comments.reads import invalidate
from parley.notifications.outbox import link

from .models import CURRENCIES, Campaign, Donation
from .signals import donation_paid, donation_reversed

# A cancelled subscription was support all the same; a refunded gift was not.
SUPPORTING = (Donation.Status.PAID, Donation.Status.CANCELLED)
_WALL_SALT = "parley.donor-wall"


@dataclass(frozen=True)
class DonorWall:
    names: list[str]
    anonymous: int


def donor_wall(campaign: Campaign) -> DonorWall:
    """Each supporter once (by address; a gift without one stands alone), newest first: by
    the name from their latest gift shown on the wall, or counted among the anonymous."""
    gifts = (
        Donation.objects.filter(campaign=campaign, status__in=SUPPORTING)
        .order_by(F("paid_at").desc(nulls_last=True), "-pk")
        .values_list("pk", "email", "name", "show_name")
    )
    shown: dict[str, str] = {}  # donor → the name shown, "" for anonymous; newest first
    for pk, email, name, show_name in gifts:
        donor = email.lower() or f"#{pk}"
        if not shown.get(donor):
            shown[donor] = name.strip() if show_name else ""
    names = [name for name in shown.values() if name]
    return DonorWall(names, len(shown) - len(names))


def wall_token(donation: Donation) -> str:
    return signing.dumps(donation.pk, salt=_WALL_SALT)


def wall_link(donation: Donation) -> str:
    """The page where a donor chooses the name shown on the wall, for e-mails."""
    return link("funding:donor-name", wall_token(donation))


def donation_for_wall(token: str) -> Donation | None:
    """The donation a wall link was made for; None for a changed link or a refunded gift.
    A gift whose payment Stripe has yet to confirm may choose already (the thank-you page
    comes before the webhook); the wall shows only paid ones. No expiry: a donor may change
    their mind years later."""
    try:
        pk = signing.loads(token, salt=_WALL_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    gifts = Donation.objects.select_related("campaign__site")
    return gifts.filter(pk=pk).exclude(status=Donation.Status.REFUNDED).first()


def set_wall_name(donation: Donation, name: str, show_name: bool) -> None:
    """Showing a name is the donor's choice for the whole campaign: all their gifts to it
    (by address) follow, so hiding it once hides it."""
    same_donor = (
        Donation.objects.filter(campaign_id=donation.campaign_id, email__iexact=donation.email)
        if donation.email
        else Donation.objects.filter(pk=donation.pk)
    )
    same_donor.update(name=name, show_name=show_name)


def supporter_accounts(site_id: int, account_ids: Collection[int]) -> set[int]:
    """Which of these accounts gave to a campaign of the site, signed in or under the
    account's address: one query."""
    gifts = (
        Donation.objects.filter(campaign__site_id=site_id, status__in=SUPPORTING)
        .alias(address=Lower("email"))
        .filter(Q(account=OuterRef("pk")) | Q(address=Lower(OuterRef("email"))) & ~Q(email=""))
    )
    accounts = User.objects.filter(pk__in=account_ids).filter(Exists(gifts))
    return set(accounts.values_list("pk", flat=True))


def threads_with_donor(donation: Donation) -> list[tuple[str, str]]:
    """(site name, uri) of the threads where the donor's account commented on the site the
    donation went to: where their badge appears or goes."""
    by_donor = Q(account__email__iexact=donation.email) if donation.email else Q(pk__in=[])
    if donation.account_id is not None:
        by_donor |= Q(account_id=donation.account_id)
    comments = Comment.objects.filter(by_donor, thread__site_id=donation.campaign.site_id)
    return list(comments.values_list("thread__site__name", "thread__uri").distinct())


@receiver([donation_paid, donation_reversed])
def refresh_supporter_badges(sender: Any, donation: Donation, **kwargs: Any) -> None:
    threads = threads_with_donor(donation)

    def invalidate_threads() -> None:
        for site_name, uri in threads:
            invalidate(site_name, uri)

    # Pages cached until the commit would show the old badge under the new generation.
    transaction.on_commit(invalidate_threads)


# --- CSV export -------------------------------------------------------------------------

CSV_COLUMNS = [
    "date",
    "campaign",
    "amount",
    "currency",
    "interval",
    "status",
    "email",
    "name",
    "shown_on_wall",
]


def major_units(amount: int, currency: str) -> str:
    digits = CURRENCIES.get(currency, 2)
    return f"{Decimal(amount).scaleb(-digits):.{digits}f}"


def _cell(text: str) -> str:
    """Donors type their names: a spreadsheet must not run one as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Line:
    """csv.writer writes into this, and the line it wrote comes straight back."""

    def write(self, line: str) -> str:
        return line


def donations_csv(donations: QuerySet[Donation]) -> Iterator[str]:
    """The donations as CSV lines, oldest first, read in chunks: streamed, never whole in
    memory. Codes (interval, status) as stored, so a spreadsheet can rely on them."""
    writer = csv.writer(_Line())
    # The byte-order mark tells spreadsheets the file is UTF-8 ("Tomás", not "TomÃ¡s").
    yield "\ufeff" + writer.writerow(CSV_COLUMNS)
    rows = donations.select_related("campaign").order_by("created_at", "pk")
    for donation in rows.iterator(chunk_size=500):
        yield writer.writerow(
            [
                (donation.paid_at or donation.created_at).isoformat(),
                _cell(donation.campaign.title),
                major_units(donation.amount, donation.currency),
                donation.currency,
                donation.interval,
                donation.status,
                _cell(donation.email),
                _cell(donation.name),
                "yes" if donation.show_name else "no",
            ]
        )
