"""The one error hierarchy; config/api.py maps it to `{"error": {code, message, fields}}`."""

from typing import Any

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> JsonResponse:
    """The one shape of every API error: {"error": {"code", "message", "fields"}}."""
    body = {"error": {"code": code, "message": str(message), "fields": fields or {}}}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


class ParleyError(Exception):
    status = 400
    code = "invalid"
    default_message: Any = _("The request is not valid.")

    def __init__(self, message: Any = None, *, fields: dict[str, str] | None = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        self.fields = fields or {}
        super().__init__(self.message)


class Invalid(ParleyError):
    status = 422
    code = "invalid"


class NotFound(ParleyError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Unauthorized(ParleyError):
    status = 401
    code = "unauthorized"
    default_message = _("Sign in or send a valid credential.")


class Forbidden(ParleyError):
    status = 403
    code = "forbidden"
    default_message = _("You are not allowed to do that.")


class Conflict(ParleyError):
    status = 409
    code = "conflict"


class TooLarge(ParleyError):
    status = 413
    code = "too_large"
    default_message = _("The request is too large.")


class RateLimited(ParleyError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int = 60) -> None:
        self.retry_after = retry_after
        minutes = (retry_after + 59) // 60
        super().__init__(
            ngettext(
                "Too many requests. Please try again in %(n)d second.",
                "Too many requests. Please try again in %(n)d seconds.",
                retry_after,
            )
            % {"n": retry_after}
            if retry_after < 90
            else ngettext(
                "Too many requests. Please try again in %(n)d minute.",
                "Too many requests. Please try again in %(n)d minutes.",
                minutes,
            )
            % {"n": minutes}
        )


def refuse_unstorable(data: Any) -> None:
    """422 naming the first top-level field whose value holds unstorable text."""
    for name, value in data.items() if isinstance(data, dict) else ():
        if _unstorable(value):
            # In English, as pydantic's messages for the other malformed fields are.
            fields = {str(name): "Contains a character that cannot be stored."}
            raise Invalid(_("Please correct the marked fields."), fields=fields)


def _unstorable(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
        return "\x00" in value
    if isinstance(value, list):
        return any(map(_unstorable, value))
    if isinstance(value, dict):
        return any(map(_unstorable, value.values()))
    return False
