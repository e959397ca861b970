"""Signed links in e-mails. They carry the address they were sent to, so that a link works
without signing in and cannot be turned against another address."""

from datetime import timedelta
from typing import Any

from django.core import signing
from django.utils.translation import gettext as _

from parley.core.errors import ParleyError

CONFIRM = "parley.subscription.confirm"
UNSUBSCRIBE = "parley.unsubscribe"
MANAGE = "parley.manage"

MAX_AGE = {
    CONFIRM: timedelta(days=7),
    # Unsubscribe links must keep working in old messages (RFC 8058 asks for no expiry that
    # a reader would notice); a year covers every message a digest reader still keeps.
    UNSUBSCRIBE: timedelta(days=365),
    MANAGE: timedelta(days=90),
}


class BadLink(ParleyError):
    status = 400
    code = "bad_link"

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def make(purpose: str, **payload: Any) -> str:
    return signing.dumps(payload, salt=purpose, compress=True)


def read(purpose: str, token: str) -> dict[str, Any]:
    try:
        payload = signing.loads(token, salt=purpose, max_age=MAX_AGE[purpose])
    except signing.SignatureExpired:
        raise BadLink(_("This link has expired."), expired=True) from None
    except signing.BadSignature:
        raise BadLink(_("This link is not valid: it may have been cut short or changed.")) from None
    if not isinstance(payload, dict):
        raise BadLink(_("This link is not valid: it may have been cut short or changed."))
    return payload
