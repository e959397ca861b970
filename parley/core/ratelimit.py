"""Fixed-window rate limits in the shared cache, per action and per scope (IP, reader, site).

Limits are per address rather than per /24 network: readers behind one office or mobile
network share a /24 and must not turn each other away.

The count holds across app processes and boxes: `add` and `incr` are each one atomic
operation of the shared cache (SET NX and INCR in Redis; one SQL statement in the SQLite
file of a box without Redis, core/sqlitecache.py), so processes counting at once can neither
both start a window at 1 nor lose an increment.
"""

import time

from django.conf import settings
from django.core.cache import cache

from .errors import RateLimited

# action -> [(scope, requests, window seconds)]
LIMITS: dict[str, list[tuple[str, int, int]]] = {
    "comment.post": [("ip", 10, 60), ("reader", 10, 60), ("site", 600, 60)],
    "comment.edit": [("ip", 30, 60), ("reader", 30, 60), ("site", 600, 60)],
    # One address may not push one comment's score far, whatever reader tokens it sends
    # (a request without a token is a new reader each time).
    "comment.vote": [
        ("reader", 30, 60),
        ("ip", 120, 60),
        ("ip_comment", 10, 3600),
        ("site", 3000, 60),
    ],
    # Per address too: nobody can make Parley mail-bomb someone else's inbox.
    "subscription.create": [("ip", 10, 600), ("email", 5, 3600), ("site", 300, 60)],
    "signin.request": [("email", 3, 900), ("ip", 10, 900), ("site", 300, 60)],
    "signin.complete": [("ip", 30, 900)],
    "checkout.create": [("ip", 10, 600), ("reader", 10, 600), ("site", 120, 60)],
    "comment.report": [("reader", 10, 300), ("ip", 30, 300), ("site", 600, 60)],
}


def enforce_rate_limit(action: str, **scopes: str) -> None:
    """Count one `action` against each scope given; raise RateLimited once any is over."""
    if not settings.PARLEY_RATE_LIMITS_ENABLED:
        return
    now = int(time.time())
    for scope, allowed, window in LIMITS[action]:
        if scope not in scopes:
            continue
        key = f"rl:{action}:{scope}:{scopes[scope]}:{now // window}"
        if cache.add(key, 1, timeout=window):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=window)
                count = 1
        if count > allowed:
            raise RateLimited(retry_after=window - now % window)
