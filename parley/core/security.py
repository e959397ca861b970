"""Security headers on every response Parley serves (settings.py configures them).

Pages get a strict Content-Security-Policy: scripts only from Parley's own files (no inline
script, no eval), nothing may frame them. Everything else (JSON, feeds, pictures, uploads)
gets a policy that lets nothing run or load, should a browser ever open it as a document.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CSP_HEADER = "Content-Security-Policy"
_EXTRA = "_parley_csp_extra"  # a response's additions to the page policy
# Not a page: nothing may load, run, be submitted or frame it.
CLOSED_POLICY = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
)


def allow_in_policy(response: HttpResponse, directive: str, *sources: str) -> None:
    """Widen one directive of this response's page policy only (e.g. the support page's
    form, which leads on to Stripe's checkout)."""
    extra: dict[str, list[str]] = getattr(response, _EXTRA, {})
    extra.setdefault(directive, []).extend(sources)
    setattr(response, _EXTRA, extra)


def page_policy(extra: dict[str, list[str]] | None = None) -> str:
    directives = {name: list(sources) for name, sources in settings.PARLEY_CSP.items()}
    for name, sources in (extra or {}).items():
        directives.setdefault(name, []).extend(s for s in sources if s not in directives[name])
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class SecurityHeadersMiddleware:
    """Outermost, so that every response gets the headers, whichever layer answered it
    (static files, CORS preflights, error pages). A view that set its own policy keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # A 304's headers update the cached page's: it keeps the policy it came with.
        if CSP_HEADER not in response and response.status_code != 304:
            is_page = response.get("Content-Type", "").startswith("text/html")
            response[CSP_HEADER] = (
                page_policy(getattr(response, _EXTRA, None)) if is_page else CLOSED_POLICY
            )
        response.setdefault("Permissions-Policy", settings.PARLEY_PERMISSIONS_POLICY)
        if settings.PARLEY_HSTS_SECONDS:
            # Browsers heed it only over HTTPS, where the proxy in front terminated TLS.
            response.setdefault(
                "Strict-Transport-Security", f"max-age={settings.PARLEY_HSTS_SECONDS}"
            )
        return response
