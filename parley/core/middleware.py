from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .errors import ParleyError


class ParleyErrorMiddleware:
    """Pages (not the API, which maps errors itself) show a ParleyError as a page with its
    status, instead of a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ParleyError):
            return render(request, "error.html", {"error": exception}, status=exception.status)
        return None
