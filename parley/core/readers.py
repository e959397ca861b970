"""Who is acting: a signed-in account or a guest reader told apart by a signed reader token.

The reader token is the only identity a guest has. It is signed, so a reader cannot claim
another's votes or comments by guessing an id; it is sent back as a first-party cookie or,
from the cross-origin widget, as the `X-Parley-Reader` header. A signed-in reader is known by
Parley's session cookie on its own pages and by the `X-Parley-Session` header from the widget
on another site, where no cookie of Parley's is sent.
"""

import hashlib
import hmac
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core import signing
from django.http import HttpRequest, HttpResponse

from .ratelimit import enforce_rate_limit

CROSS_SITE_FETCHES = ("cross-site", "same-site")
READER_COOKIE = "parley_reader"
READER_HEADER = "HTTP_X_PARLEY_READER"
SESSION_HEADER = "HTTP_X_PARLEY_SESSION"
_READER_SALT = "parley.reader"

# Who a session token belongs to (None: nobody, or no longer). The accounts app keeps the
# sessions and sets this when it starts; core comes before it in the layers.
_session_owner: Callable[[str], User | None] | None = None


def set_session_owner(lookup: Callable[[str], User | None]) -> None:
    global _session_owner
    _session_owner = lookup


def session_user(request: HttpRequest) -> User | None:
    """The account an `X-Parley-Session` header names; a revoked, expired or forged token
    makes a guest, never an error."""
    token = request.META.get(SESSION_HEADER, "")
    if not token or _session_owner is None:
        return None
    return _session_owner(token)


@dataclass(frozen=True)
class Actor:
    reader_key: str
    reader_token: str
    ip_hash: str
    user: User | None = None
    origin: str | None = None
    # The raw address, kept in memory for network bans and blocks; only the hash is stored.
    ip: str = ""

    @property
    def is_staff(self) -> bool:
        return bool(self.user is not None and getattr(self.user, "is_staff", False))


def hash_ip(ip: str) -> str:
    """Comments keep a keyed hash of the poster's address, never the address itself."""
    return hmac.new(settings.SECRET_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]


def mint_reader_token() -> str:
    return signing.Signer(salt=_READER_SALT).sign(uuid.uuid4().hex)


def reader_key_from_token(token: str) -> str | None:
    try:
        return "r:" + signing.Signer(salt=_READER_SALT).unsign(token)
    except signing.BadSignature:
        return None


def actor_for(request: HttpRequest) -> Actor:
    ip = client_ip(request)
    ip_hash = hash_ip(ip)
    origin = foreign_origin(request)
    user = session_user(request) or getattr(request, "user", None)
    token = request.META.get(READER_HEADER) or request.COOKIES.get(READER_COOKIE) or ""
    key = reader_key_from_token(token) if token else None
    if key is None:
        token = mint_reader_token()
        key = reader_key_from_token(token)
    assert key is not None
    if user is not None and not isinstance(user, AnonymousUser) and user.is_authenticated:
        return Actor(f"u:{user.pk}", token, ip_hash, user=user, origin=origin, ip=ip)
    return Actor(key, token, ip_hash, origin=origin, ip=ip)


def own_origin(request: HttpRequest) -> str:
    """The origin the request came to: Parley's own address, as this reader reaches it."""
    return f"{request.scheme}://{request.get_host()}"


def foreign_origin(request: HttpRequest) -> str | None:
    """The page's origin when another site's page sent the request; None for Parley's own."""
    origin = request.headers.get("Origin")
    if origin in (own_origin(request), settings.PUBLIC_URL):
        return None
    return origin


def rides_cookies(request: HttpRequest) -> bool:
    """Whether a request from another origin carries the cookies that name a reader: a page
    there, not the reader, chose to send them (the widget never sends cookies across
    origins). With no Origin header (older browsers), Sec-Fetch-Site tells where it came from."""
    if foreign_origin(request) is None and (
        request.headers.get("Sec-Fetch-Site") not in CROSS_SITE_FETCHES
    ):
        return False
    return READER_COOKIE in request.COOKIES or settings.SESSION_COOKIE_NAME in request.COOKIES


def enforce_actor_limits(actor: Actor, action: str, **scopes: str) -> None:
    """Rate-limit `action` per address and per reader (and whatever else `scopes` names)."""
    enforce_rate_limit(action, ip=actor.ip_hash, reader=actor.reader_key, **scopes)


def client_ip(request: HttpRequest) -> str:
    return client_address(
        request.META.get("REMOTE_ADDR", ""), request.headers.get("X-Forwarded-For", "")
    )


def client_address(peer: str, forwarded_for: str) -> str:
    """The reader's address. Behind PARLEY_PROXY_COUNT trusted reverse proxies it is the
    entry those proxies appended to X-Forwarded-For; anything further left a client can
    forge, so it is never read."""
    proxies = settings.PARLEY_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in forwarded_for.split(",")]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    return peer


def remember_reader(request: HttpRequest, response: HttpResponse, actor: Actor) -> None:
    """Hand the reader's token back: as a first-party cookie where the browser allows it, and
    as the X-Parley-Reader header for the cross-origin widget, which keeps it itself."""
    response["X-Parley-Reader"] = actor.reader_token
    if request.COOKIES.get(READER_COOKIE) != actor.reader_token:
        response.set_cookie(
            READER_COOKIE,
            actor.reader_token,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            # Behind a TLS-terminating proxy the request itself may look like plain HTTP.
            secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        )
