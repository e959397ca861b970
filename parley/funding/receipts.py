"""E-mail to donors: a receipt for every payment (with thanks for the first), a notice when
money goes back. Receivers run in the ledger's transaction, so a message exists exactly when
its movement does, and its key (the movement) writes it once however often Stripe retries."""

from typing import Any

from django.conf import settings
from django.dispatch import receiver
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from parley.notifications.outbox import Letter, queue_email

from .donors import wall_link
from .models import Donation, Movement
from .money import money
from .signals import donation_paid, donation_reversed


def _language(donation: Donation) -> str:
    """The language the donor asked for the payment page in (the webhook's request is
    Stripe's, whose language says nothing); the site's default for gifts recorded by hand."""
    return donation.lang or settings.LANGUAGE_CODE


def _paid_on(movement: Movement) -> str:
    return formats.date_format(timezone.localdate(movement.created_at), "DATE_FORMAT")


@receiver(donation_paid)
def queue_receipt(sender: Any, donation: Donation, movement: Movement, **kwargs: Any) -> None:
    if not donation.email:
        return
    lang = _language(donation)
    campaign = donation.campaign
    with translation.override(lang):
        values = {"site": campaign.site, "campaign": campaign.title}
        first = movement.kind == Movement.Kind.PAYMENT
        if first:
            subject = _("Thank you for supporting %(site)s") % values
            opening = [_("Thank you for supporting %(site)s.") % values]
            if campaign.thank_you:
                opening.append(campaign.thank_you)
        else:
            subject = _("Your receipt from %(site)s") % values
            opening = [_("Thank you: your support of %(site)s goes on.") % values]
        receipt = [
            _("Amount: %(amount)s") % {"amount": money(movement.amount, campaign.currency)},
            _("Date: %(date)s") % {"date": _paid_on(movement)},
            _("Campaign: %(campaign)s") % values,
            _("Frequency: %(interval)s") % {"interval": donation.get_interval_display()},
        ]
        letter = Letter(
            subject=subject,
            paragraphs=[*opening, _("Your receipt:"), *receipt],
            action_label=_("Show my name on the donor wall"),
            action_url=wall_link(donation),
            after=[_("Your name is not shown anywhere unless you choose to on that page.")],
        )
    queue_email(
        key=f"receipt:{movement.pk}",
        kind="receipt",
        to=donation.email,
        letter=letter,
        lang=lang,
        site=campaign.site,
    )


@receiver(donation_reversed)
def queue_reversal_notice(
    sender: Any, donation: Donation, movement: Movement, **kwargs: Any
) -> None:
    if not donation.email:
        return
    lang = _language(donation)
    campaign = donation.campaign
    with translation.override(lang):
        values = {
            "amount": money(-movement.amount, campaign.currency),
            "campaign": campaign.title,
            "site": campaign.site,
            "date": _paid_on(movement),
        }
        if movement.kind == Movement.Kind.REFUND:
            subject = _("Your gift to %(site)s was refunded") % values
            paragraph = (
                _("%(amount)s of your gift to %(campaign)s went back to you on %(date)s.") % values
            )
        else:
            subject = _("A payment to %(site)s was reversed") % values
            paragraph = (
                _(
                    "After a dispute with your bank, %(amount)s of your gift to %(campaign)s went"
                    " back to you on %(date)s."
                )
                % values
            )
        letter = Letter(subject=subject, paragraphs=[paragraph])
    queue_email(
        key=f"reversal:{movement.pk}",
        kind="reversal",
        to=donation.email,
        letter=letter,
        lang=lang,
        site=campaign.site,
    )
