from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .avatars import avatar_svg


@require_GET
def avatar(request: HttpRequest, digest: str) -> HttpResponse:
    if len(digest) != 24 or any(ch not in "0123456789abcdef" for ch in digest):
        raise Http404
    response = HttpResponse(avatar_svg(digest), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form post without its security cookie (cookies cleared, or blocked): say so in
    words a reader understands and hand back what they wrote."""
    message = _(
        "Your browser did not send this page's security cookie, so the form was not "
        "accepted. Allow cookies for this site, reload the page and send it again."
    )
    return render(
        request,
        "error.html",
        {"error": {"message": message}, "unsent": request.POST.get("body", "")},
        status=403,
    )
