from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .avatars import avatar_svg


@require_GET
def avatar(request: HttpRequest, digest: str) -> HttpResponse:
    if len(digest) != 24 or any(ch not in "0123456789abcdef" for ch in digest):
        raise Http404
    response = HttpResponse(avatar_svg(digest), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
