import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from . import metrics
from .errors import ParleyError, error_response
from .logs import request_id, route_of
from .readers import client_ip

access_log = logging.getLogger("parley.access")
# What a proxy's X-Request-ID may look like (nginx's $request_id is 32 hex digits).
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

_GENERIC_ERRORS = {
    403: ("forbidden", _("You are not allowed to do that.")),
    404: ("not_found", _("There is no such API endpoint.")),
    405: ("method_not_allowed", _("This endpoint does not accept that method.")),
}


class RequestMiddleware:
    """The outermost middleware: gives each request an id (the proxy's X-Request-ID when
    there is a proxy, else a new one), which every log line written while answering carries
    and the response returns; counts and times the request for /metrics; writes its access
    line when PARLEY_ACCESS_LOG is on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        sent = request.headers.get("X-Request-ID", "")
        # Without a proxy the header comes from the client, who does not name our requests.
        trusted = settings.PARLEY_PROXY_COUNT and _REQUEST_ID.fullmatch(sent)
        token = request_id.set(sent if trusted else uuid.uuid4().hex)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id.get()
            seconds = time.perf_counter() - started
            route = route_of(request)
            metrics.observe_request(request.method or "", route, response.status_code, seconds)
            if settings.PARLEY_ACCESS_LOG:
                _log_access(request, route, response.status_code, seconds)
            return response
        finally:
            request_id.reset(token)


def _log_access(request: HttpRequest, route: str, status: int, seconds: float) -> None:
    fields = {
        "method": request.method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "client": client_ip(request),
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
