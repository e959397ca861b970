import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from . import metrics
from .errors import Forbidden, ParleyError, error_response
from .logs import request_id, route_of
from .readers import client_address, client_ip, rides_cookies

access_log = logging.getLogger("parley.access")
# What a proxy's X-Request-ID may look like (nginx's $request_id is 32 hex digits).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_GENERIC_ERRORS = {
    403: ("forbidden", _("You are not allowed to do that.")),
    404: ("not_found", _("There is no such API endpoint.")),
    405: ("method_not_allowed", _("This endpoint does not accept that method.")),
}


class RequestMiddleware:
    """The outermost middleware: names each request (the proxy's X-Request-ID when there is
    a proxy, else a new id), so that every log line written while answering it carries the
    name; counts and times it for /metrics; writes its access line if PARLEY_ACCESS_LOG.

    No X-Request-ID goes back in the response: comments/hotpath.py replays a thread's answer
    with the headers it first had, which would hand every reader the first one's id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        token = request_id.set(_request_id(request.headers.get("X-Request-ID", "")))
        try:
            response = self.get_response(request)
            _observe(
                request.method or "",
                route_of(request),
                response.status_code,
                started,
                lambda: client_ip(request),
            )
            return response
        finally:
            request_id.reset(token)


def observe_outside_django(
    environ: dict[str, Any], route: str, status: int, started: float
) -> None:
    """Count, and log if PARLEY_ACCESS_LOG, an answer given in front of Django (a replayed
    warm thread read, comments/hotpath.py) as RequestMiddleware does Django's."""
    method = environ.get("REQUEST_METHOD", "")
    if not settings.PARLEY_ACCESS_LOG:  # no line to name: spare the hot path an id
        metrics.observe_request(method, route, status, time.perf_counter() - started)
        return
    peer, forwarded = environ.get("REMOTE_ADDR", ""), environ.get("HTTP_X_FORWARDED_FOR", "")
    token = request_id.set(_request_id(environ.get("HTTP_X_REQUEST_ID", "")))
    try:
        _observe(method, route, status, started, lambda: client_address(peer, forwarded))
    finally:
        request_id.reset(token)


def _request_id(sent: str) -> str:
    # Without a proxy the header comes from the client, who does not name our requests.
    if settings.PARLEY_PROXY_COUNT and _REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def _observe(
    method: str, route: str, status: int, started: float, client: Callable[[], str]
) -> None:
    seconds = time.perf_counter() - started
    metrics.observe_request(method, route, status, seconds)
    if settings.PARLEY_ACCESS_LOG:
        fields = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client": client(),
        }
        access_log.log(
            logging.ERROR if status >= 500 else logging.INFO,
            "%(method)s %(route)s %(status)s %(duration_ms)s ms %(client)s",
            fields,
            extra={"access": fields},
        )


# Paths read by programs (the API, and the fragments the widget fetches): errors there are
# JSON in the API's shape, never an HTML page.
MACHINE_PATHS = ("/api/", "/fragments/")


class ApiErrorShapeMiddleware:
    """Errors that Django answers before the API sees the request (an unknown path, a method
    the endpoint lacks) still get the API's error shape instead of an HTML page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(MACHINE_PATHS)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code, message = _GENERIC_ERRORS.get(
                response.status_code, ("error", _("The request could not be handled."))
            )
            shaped = error_response(response.status_code, code, str(message))
            if "Allow" in response:
                shaped["Allow"] = response["Allow"]
            return shaped
        return response


class ParleyErrorMiddleware:
    """Pages (not the API, which maps errors itself) show a ParleyError as a page with its
    status, instead of a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ParleyError):
            if request.path.startswith(MACHINE_PATHS):
                return error_response(
                    exception.status, exception.code, exception.message, exception.fields
                )
            return render(request, "error.html", {"error": exception}, status=exception.status)
        return None


class CrossSiteCookieMiddleware:
    """The API takes no form token (the widget on another site cannot have one), so it is
    protected by origin instead: a write from another origin that carries Parley's session
    or reader cookie is refused before any view sees it (CSRF). The widget there names the
    reader with headers, never with cookies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and request.path.startswith("/api/")
            and rides_cookies(request)
        ):
            return error_response(403, "cross_site", str(Forbidden.default_message))
        return self.get_response(request)
