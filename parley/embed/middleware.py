from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CORS_PATHS = ("/api/", "/fragments/")


class CorsMiddleware:
    """Lets the widget on a publisher's page read Parley's answers.

    Every origin is told it may read: no cookie or other ambient credential is ever sent
    cross-origin (the widget sends its tokens explicitly), threads are public, and each
    request is still checked against the site's allowed origins, whose 403 the widget must
    be able to read to tell the reader why it cannot load. A signed-in reader's widget sends
    its session the same explicit way, as X-Parley-Session.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        origin = request.headers.get("Origin")
        if not origin or not request.path.startswith(CORS_PATHS):
            return self.get_response(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
            response["Access-Control-Allow-Headers"] = (
                "Content-Type, Authorization, X-Parley-Reader, X-Parley-Session"
            )
            response["Access-Control-Max-Age"] = "86400"
        else:
            response = self.get_response(request)
            response["Access-Control-Expose-Headers"] = (
                "ETag, Retry-After, X-Parley-Reader, X-Parley-Session"
            )
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = ", ".join(filter(None, [response.get("Vary"), "Origin"]))
        return response
