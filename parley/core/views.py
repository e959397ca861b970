from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .avatars import avatar_svg
from .errors import error_response


@require_GET
def avatar(request: HttpRequest, digest: str) -> HttpResponse:
    if len(digest) != 24 or any(ch not in "0123456789abcdef" for ch in digest):
        raise Http404
    response = HttpResponse(avatar_svg(digest), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form post refused for want of its security token: without its cookie (cookies
    cleared, or blocked), or from another site's page or an outdated one. Say so in words a
    reader understands and hand back what they wrote; a script (the moderation queue's)
    asking for JSON gets the API's error shape."""
    if reason == REASON_NO_CSRF_COOKIE:
        message = _(
            "Your browser did not send this page's security cookie, so the form was not "
            "accepted. Allow cookies for this site, reload the page and send it again."
        )
    else:
        message = _(
            "This form was not accepted: it was not sent from this site's own page, or the "
            "page is out of date. Reload the page and send it again."
        )
    if "application/json" in request.headers.get("Accept", ""):
        return error_response(403, "csrf_failed", message)
    return render(
        request,
        "error.html",
        {"error": {"message": message}, "unsent": request.POST.get("body", "")},
        status=403,
    )


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: for a supervisor's liveness check. Touches nothing else."""
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """The process can serve: its database and shared cache answer. A load balancer sends
    readers elsewhere while this says 503."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except DatabaseError as error:
        checks["database"] = f"failing: {type(error).__name__}"
    try:
        cache.set("readyz", "1", timeout=10)
        checks["cache"] = "ok" if cache.get("readyz") == "1" else "failing: value lost"
    except Exception as error:  # any cache backend's error means not ready
        checks["cache"] = f"failing: {type(error).__name__}"
    ready = all(state == "ok" for state in checks.values())
    response = JsonResponse({"ready": ready, "checks": checks}, status=200 if ready else 503)
    response["Cache-Control"] = "no-store"
    return response
