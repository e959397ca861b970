from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from .errors import ParleyError, error_response

_GENERIC_ERRORS = {
    403: ("forbidden", _("You are not allowed to do that.")),
    404: ("not_found", _("There is no such API endpoint.")),
    405: ("method_not_allowed", _("This endpoint does not accept that method.")),
}


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
