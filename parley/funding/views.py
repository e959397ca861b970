"""The support page (a plain form: it works with JavaScript off), the pages Stripe's
checkout sends the reader back to, and the funding bar for the widget."""

import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from parley.core.compressed import Compressed, serve_compressed
from parley.core.errors import Conflict, Invalid, ParleyError
from parley.core.readers import actor_for, remember_reader
from parley.core.security import allow_in_policy

from .actions import access_campaign, check_checkout
from .donors import wall_link
from .models import CURRENCIES, Campaign, Donation, Interval
from .stripe_client import checkout_origin
from .templatetags.funding import campaign_bar

# Digits, then "." or "," before one or two final digits: a decimal separator in every
# language, as nobody groups digits by two.
_WITH_CENTS = re.compile(r"(\d[\d.,]*?)[.,](\d{1,2})")


def parse_amount(text: str, digits: int) -> int | None:
    """Minor units from an amount in major units as a reader types it in the page's
    language: "1,250.50" or "12.5" in English, "1.250,50" or "12,50" in German; None when
    it is no amount. The sign is kept: check_checkout says what is wrong with a negative."""
    text = re.sub(r"\s", "", text)  # spaces, and the no-break spaces some languages group by
    negative = text[:1] in ("-", "\N{MINUS SIGN}")
    text = text[1:] if negative else text
    decimal = get_format("DECIMAL_SEPARATOR")
    thousands = re.sub(r"\s", "", get_format("THOUSAND_SEPARATOR"))
    if match := _WITH_CENTS.fullmatch(text):
        whole, cents = match.groups()
    else:
        whole, _separator, cents = text.partition(decimal)
    if thousands and thousands in whole:
        if not re.fullmatch(rf"\d{{1,3}}({re.escape(thousands)}\d{{3}})+", whole):
            return None
        whole = whole.replace(thousands, "")
    if not whole.isdecimal() or (cents and not cents.isdecimal()) or len(cents) > digits:
        return None
    minor = int(whole) * 10**digits + int(cents.ljust(digits, "0") or 0)
    return -minor if negative else minor


@require_http_methods(["GET", "POST"])
def support(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = access_campaign(slug)
    if request.method == "GET":
        return _support_page(request, campaign)
    chosen = request.POST.get("amount", "")
    other = request.POST.get("other_amount", "").strip()
    email = request.POST.get("email", "").strip()
    interval = request.POST.get("interval", Interval.ONCE)
    # A typed amount wins over the suggestions: without JavaScript, typing in the field
    # cannot also untick the suggestion chosen before.
    if other:
        amount = parse_amount(other, CURRENCIES.get(campaign.currency, 2))
        if amount is None:
            example = number_format(12.5, 2, use_l10n=True)
            error = _("Enter an amount such as %(example)s.") % {"example": example}
            return _support_page(request, campaign, fields={"other_amount": error})
    elif chosen.isdecimal():
        amount = int(chosen)
    else:
        error = _("Choose an amount or enter your own.")
        return _support_page(request, campaign, fields={"amount": error})
    actor = actor_for(request)
    try:
        url = check_checkout(actor, slug, amount, interval, email=email)
    except (Invalid, Conflict) as problem:
        fields = dict(problem.fields)
        if other and "amount" in fields:  # it was the typed amount that was wrong
            fields["other_amount"] = fields.pop("amount")
        return _support_page(request, campaign, problem=problem, fields=fields)
    except ParleyError as problem:  # e.g. too many tries: the form again, as it was
        return _support_page(request, campaign, problem=problem)
    response = HttpResponse(status=303, headers={"Location": url})
    remember_reader(request, response, actor)
    return response


SUPPORT_FIELDS = ("amount", "other_amount", "interval", "email")


def _support_page(
    request: HttpRequest,
    campaign: Campaign,
    *,
    problem: ParleyError | None = None,
    fields: dict[str, str] | None = None,
) -> HttpResponse:
    """The form, again with what the reader chose and each error beside its field."""
    fields = fields or {}
    message = problem.message if problem else ""
    if fields and not message:
        message = _("Please correct the marked fields.")
    intervals = [(value, label) for value, label in Interval.choices if campaign.allows(value)]
    context: dict[str, Any] = {
        "campaign": campaign,
        "site": campaign.site,
        "is_open": campaign.is_open(),
        "has_started": campaign.starts_at <= timezone.now(),
        "intervals": intervals,
        "chosen_interval": request.POST.get("interval") or (intervals[0][0] if intervals else ""),
        "values": request.POST,
        "message": message,
        "errors": fields,
        # Errors with no field to sit beside (the campaign's currency, say) join the message.
        "unplaced": [text for name, text in fields.items() if name not in SUPPORT_FIELDS],
    }
    status = problem.status if problem else (422 if fields else 200)
    response = render(request, "funding/support.html", context, status=status)
    allow_in_policy(response, "form-action", checkout_origin())
    return response


@require_GET
def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    """Where Stripe sends the reader after paying, with `?session_id=`. The webhook, not this
    page, records the gift (it may take a moment to show in the bar); the session names the
    donation whose donor may choose to be named on the wall."""
    campaign = access_campaign(slug)
    session = request.GET.get("session_id", "")
    donation = (
        Donation.objects.filter(campaign=campaign, checkout_session_id=session).first()
        if session
        else None
    )
    context = {
        "campaign": campaign,
        "site": campaign.site,
        "wall_link": wall_link(donation) if donation is not None else "",
    }
    return render(request, "funding/thanks.html", context)


@require_GET
def cancelled(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = access_campaign(slug)
    return render(request, "funding/cancelled.html", {"campaign": campaign, "site": campaign.site})


@require_GET
def bar(request: HttpRequest, slug: str) -> HttpResponse:
    """GET /support/<slug>/bar?lang= — the campaign's bar for the widget on a publisher's
    page, in its language: the markup, words and amounts of Parley's own pages, so the widget
    needs no copy of them. It asks again every 30 seconds; the ETag makes that cheap."""
    campaign = access_campaign(slug)
    try:
        language = translation.get_supported_language_variant(request.GET.get("lang", ""))
    except LookupError:
        language = translation.get_language()
    with translation.override(language):
        context = campaign_bar(campaign, campaign.site)
        context["support_url"] = request.build_absolute_uri(context["support_url"])
        html = render_to_string("funding/bar.html", context | {"embedded": True})
    response = serve_compressed(
        request, Compressed.of(html.encode()), "text/html; charset=utf-8", "no-cache"
    )
    # Public figures, fetched without credentials: any page may show them.
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Language"] = language
    return response
