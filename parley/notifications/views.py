"""Pages reached from e-mails (no sign-in needed: the signed link proves the address) and the
staff page listing what was sent."""

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from parley.core.errors import ParleyError
from parley.core.readers import actor_for, enforce_actor_limits
from parley.core.security import CSP_HEADER

from . import subscriptions
from .models import ModeratorAlerts, OutboundEmail
from .tokens import BadLink

MAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox"
)


def _bad_link(request: HttpRequest, error: BadLink, status: int = 400) -> HttpResponse:
    return render(
        request,
        "notifications/page.html",
        {"title": _("This link does not work"), "message": error.message, "offer_manage": True},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what would be confirmed; POST confirms (mail scanners only GET links)."""
    try:
        if request.method == "GET":
            subscription = subscriptions.confirmation_of(token)
            if subscription is None or subscription.confirmed_at is None:
                return render(request, "notifications/confirm.html", {"token": token})
        else:
            subscription = subscriptions.confirm(token)
    except BadLink as error:
        return _bad_link(request, error)
    if subscription is None:
        message = _("This subscription has since been cancelled; subscribe again from the page.")
        context = {"title": _("Nothing to confirm"), "message": message}
        return render(request, "notifications/page.html", context)
    return render(
        request,
        "notifications/page.html",
        {
            "title": _("You are subscribed"),
            "message": _("We will e-mail %(email)s about %(what)s on %(page)s.")
            % {
                "email": subscription.email,
                "what": subscriptions.what_is_followed(subscription),
                "page": subscriptions.page_name(
                    subscriptions.thread_of(subscription), subscription.site
                ),
            },
            "back": subscriptions.page_url(subscription.site, subscription.uri),
            "manage": subscriptions.manage_link(subscription.email),
        },
    )


@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click", with no cookie
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if request.method == "GET":
            what = subscriptions.describe_unsubscribe(token)
            return render(request, "notifications/unsubscribe.html", {"token": token, "what": what})
        stopped = subscriptions.unsubscribe(token)
    except BadLink as error:
        return _bad_link(request, error)
    message = (
        _("You will get no more e-mail about this.")
        if stopped
        else _("You were already unsubscribed: nothing changed.")
    )
    context = {"title": _("Unsubscribed"), "message": message}
    return render(request, "notifications/page.html", context)


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    try:
        email = subscriptions.read_manage_token(token)
    except BadLink as error:
        return _bad_link(request, error)
    message = ""
    if request.method == "POST":
        if request.POST.get("all"):
            stopped = subscriptions.unsubscribe_all(email)
        else:
            stopped = subscriptions.unsubscribe_one(email, _int(request.POST.get("subscription")))
        message = (
            _("Unsubscribed.") if stopped else _("You were already unsubscribed: nothing changed.")
        )
    return render(
        request,
        "notifications/manage.html",
        {
            "email": email,
            "subscriptions": [
                (s, subscriptions.what_is_followed(s), subscriptions.page_url(s.site, s.uri))
                for s in subscriptions.subscriptions_of(email)
            ],
            "message": message,
        },
    )


@require_http_methods(["GET", "POST"])
def request_manage_link(request: HttpRequest) -> HttpResponse:
    """An expired link's way out: the address gets a fresh link to manage its e-mail."""
    context: dict[str, object] = {}
    if request.method == "POST":
        try:
            email = subscriptions.clean_email(request.POST.get("email", ""))
            enforce_actor_limits(actor_for(request), "subscription.create", email=email)
        except ParleyError as error:
            context["error"] = error.fields.get("email") or error.message
        else:
            subscriptions.send_manage_link(email)
            context["sent"] = email
    return render(request, "notifications/request_manage.html", context)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0


@staff_member_required
def sent_mail(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    rows = OutboundEmail.objects.order_by("-created_at", "-id")
    if state in OutboundEmail.State.values:
        rows = rows.filter(state=state)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/sent_mail.html",
        {"page": page, "state": state, "states": OutboundEmail.State.choices, "section": "mail"},
    )


@staff_member_required
def sent_message(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(OutboundEmail, pk=pk)
    context = {"row": row, "section": "mail", "sender": settings.DEFAULT_FROM_EMAIL}
    return render(request, "notifications/sent_message.html", context)


@staff_member_required
@xframe_options_sameorigin
def sent_message_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML part alone, for the sandboxed frame on the message's page. Mail is styled
    with style attributes (mail programs drop style sheets), which no page of Parley's may
    have: this document may have them, and nothing else (no script, no request)."""
    row = get_object_or_404(OutboundEmail, pk=pk)
    response = HttpResponse(row.html, content_type="text/html; charset=utf-8")
    response[CSP_HEADER] = MAIL_PREVIEW_POLICY
    return response


@staff_member_required
@require_http_methods(["GET", "POST"])
def moderator_alerts(request: HttpRequest) -> HttpResponse:
    """How this moderator hears of held and reported comments."""
    user = request.user
    assert isinstance(user, User)  # staff_member_required
    alerts, _created = ModeratorAlerts.objects.get_or_create(user=user)
    saved = False
    if request.method == "POST":
        delivery = request.POST.get("delivery", "")
        lang = request.POST.get("lang", "")
        if delivery in ModeratorAlerts.Delivery.values and lang in dict(settings.LANGUAGES):
            alerts.delivery, alerts.lang = delivery, lang
            alerts.save(update_fields=["delivery", "lang"])
            saved = True
    return render(
        request,
        "notifications/alerts.html",
        {
            "alerts": alerts,
            "deliveries": ModeratorAlerts.Delivery.choices,
            "languages": settings.LANGUAGES,
            "saved": saved,
            "section": "alerts",
            "no_email": not user.email,
        },
    )
