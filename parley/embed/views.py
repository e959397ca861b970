from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from parley.core.compressed import serve_compressed

from .bundle import embed_bundle


@require_GET
def embed_js(request: HttpRequest) -> HttpResponse:
    if settings.DEBUG:
        embed_bundle.cache_clear()  # pick up widget edits without a restart
    # One fixed URL on every publisher's pages: cached an hour, then revalidated cheaply.
    response = serve_compressed(
        request, embed_bundle(), "text/javascript; charset=utf-8", "public, max-age=3600"
    )
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
