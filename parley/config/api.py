"""The JSON API: mounts each app's router and maps every error to one shape."""

from typing import Any

import orjson
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import BaseRenderer

from parley.accounts.api import router as accounts_router
from parley.comments.api import router as comments_router
from parley.core.errors import (
    ParleyError,
    RateLimited,
    error_response,
    refuse_unstorable,
)
from parley.funding.api import router as funding_router
from parley.moderation.api import router as moderation_router


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data)


class StorableParser(Parser):
    """Refuses, in every body and query, text that no database can take: a NUL character
    (PostgreSQL can neither store nor compare one) or a lone surrogate (not Unicode that
    UTF-8 can encode). Either would otherwise fail deep inside a query, as a server error."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        refuse_unstorable(data)
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        refuse_unstorable(parsed)
        return parsed


api = NinjaAPI(
    title="Parley API",
    version="1",
    description="Threads, comments, votes and reports. Money is in minor units; times ISO 8601.",
    renderer=OrjsonRenderer(),
    parser=StorableParser(),
    urls_namespace="api",
)
api.add_router("/", comments_router)
api.add_router("/", moderation_router)
api.add_router("/", funding_router)
api.add_router("/", accounts_router)


@api.exception_handler(ParleyError)
def parley_error(request: HttpRequest, error: ParleyError) -> HttpResponse:
    response = error_response(error.status, error.code, error.message, error.fields)
    if isinstance(error, RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


def _field_name(location: tuple[Any, ...]) -> str:
    # ninja reports ("body", "data", "author_name") or ("query", "sort"): drop where it was.
    names = location[2:] if location[:1] == ("body",) else location[1:]
    return ".".join(map(str, names)) or "request"


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    if request.method in ("POST", "PATCH") and not _is_json_object(request.body):
        return error_response(400, "bad_request", _("The request needs a JSON object as body."))
    fields: dict[str, str] = {}
    for item in error.errors:
        fields.setdefault(_field_name(tuple(item.get("loc", ()))), str(item.get("msg", "")))
    return error_response(422, "invalid", _("Please correct the marked fields."), fields)


def _is_json_object(body: bytes) -> bool:
    try:
        return isinstance(orjson.loads(body), dict)
    except orjson.JSONDecodeError:
        return False


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    return error_response(413, "too_large", _("The request is too large."))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return error_response(404, "not_found", _("Not found."))


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return error_response(401, "unauthorized", _("Sign in or send a valid credential."))


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    # ninja raises HttpError(400) for a body that is not JSON (or not UTF-8), and for any
    # other error while parsing it, such as refuse_unstorable's.
    if isinstance(error.__cause__, ParleyError):
        return parley_error(request, error.__cause__)
    if error.status_code == 400:
        message = _("The request body must be a JSON object in UTF-8.")
        return error_response(400, "bad_request", message)
    return error_response(error.status_code, "error", str(error))
