"""The e-mailed sign-in link, and the profile page (server-rendered, works without
JavaScript once signed in)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from parley.core.errors import ParleyError
from parley.core.readers import actor_for, own_origin
from parley.notifications.subscriptions import (
    page_url,
    subscriptions_of,
    unsubscribe_one,
    what_is_followed,
)
from parley.sites.models import Site

from . import actions
from .queries import avatar_of, claimable_comments, deletion_policies, export_data, profile_of


@require_GET
def signin_link(request: HttpRequest, token: str) -> HttpResponse:
    """Lead the reader back to the page they asked on, the token in the fragment; the
    widget there (or the profile page) completes the sign-in in the browser that asked."""
    try:
        response = redirect(actions.read_signin_link(token))
    except ParleyError as error:
        context = {
            "title": _("This link does not work"),
            "message": error.message,
            "again": actions.signin_return_url(token),
            "offer_signin": True,
        }
        return render(request, "accounts/link.html", context, status=error.status)
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return _sign_in_page(request)
    if request.method == "GET":
        return _profile_page(request, user)
    action = request.POST.get("action", "")
    try:
        if action == "save":
            actions.check_update_profile(
                user,
                request.POST.get("display_name", ""),
                request.FILES.get("avatar"),
                remove_avatar=bool(request.POST.get("remove_avatar")),
            )
            messages.success(request, _("Your profile is saved."))
        elif action == "unsubscribe":
            stopped = unsubscribe_one(user.email, _int(request.POST.get("subscription")))
            messages.success(
                request,
                _("Unsubscribed.")
                if stopped
                else _("You were already unsubscribed: nothing changed."),
            )
        elif action == "claim":
            claimed = actions.check_claim_comments(user)
            messages.success(
                request,
                ngettext(
                    "%(n)d comment is now attached to your account.",
                    "%(n)d comments are now attached to your account.",
                    claimed,
                )
                % {"n": claimed},
            )
        elif action == "delete":
            actions.check_delete_account(
                user, request.POST.get("comments", ""), confirmed=bool(request.POST.get("confirm"))
            )
            logout(request)
            context = {
                "title": _("Your account is deleted"),
                "message": _("Your account, its subscriptions and its sessions are gone."),
            }
            return render(request, "accounts/link.html", context)
        elif action == "signout":
            logout(request)
            messages.success(request, _("You are signed out."))
    except ParleyError as error:
        return _profile_page(request, user, error=error, status=error.status)
    return redirect("accounts:profile")


def _profile_page(
    request: HttpRequest, user: User, *, error: ParleyError | None = None, status: int = 200
) -> HttpResponse:
    profile = profile_of(user)
    policies = deletion_policies(user)
    context = {
        "user": user,
        "profile": profile,
        "avatar": avatar_of(profile),
        "subscriptions": [
            (s, what_is_followed(s), page_url(s.site, s.uri)) for s in subscriptions_of(user.email)
        ],
        "claimable": claimable_comments(user).count(),
        "reader_chooses": any(p == Site.AccountDeletion.CHOICE for _site, p in policies),
        "forced": [(site, p) for site, p in policies if p != Site.AccountDeletion.CHOICE],
        "error": error,
    }
    return render(request, "accounts/profile.html", context, status=status)


def _sign_in_page(request: HttpRequest) -> HttpResponse:
    """Asks for a link that leads back here; a script on this page completes it."""
    context: dict[str, object] = {}
    if request.method == "POST" and request.POST.get("action") == "signin":
        try:
            asked = actions.check_request_signin(
                actor_for(request),
                None,
                request.POST.get("email", ""),
                request.build_absolute_uri(reverse("accounts:profile")),
                own_origin=own_origin(request),
            )
        except ParleyError as error:
            context["error"] = error.fields.get("email") or error.message
            return render(request, "accounts/sign_in.html", context, status=error.status)
        context.update(sent=asked.message, browser_key=asked.browser_key)
    return render(request, "accounts/sign_in.html", context)


@require_GET
def download_data(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return redirect("accounts:profile")
    response = JsonResponse(
        export_data(user), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = 'attachment; filename="parley-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0
