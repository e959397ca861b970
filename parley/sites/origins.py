"""Which origins may embed a site, answered without a database query on the hot path."""

import time

from .models import Site

_TTL_SECONDS = 30
_known: dict[str, tuple[float, Site | None]] = {}


def cached_site(name: str) -> Site | None:
    """The site, from this process's memory for up to 30 s (origins change rarely; a change
    made in this process is seen at once, see forget_site)."""
    now = time.monotonic()
    hit = _known.get(name)
    if hit is not None and hit[0] > now:
        return hit[1]
    site = Site.objects.filter(name=name).first()
    _known[name] = (now + _TTL_SECONDS, site)
    return site


def forget_site(name: str) -> None:
    _known.pop(name, None)
