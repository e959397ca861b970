from urllib.parse import urlsplit

from django.core.validators import validate_slug
from django.db import transaction

from .models import Site


def add_site(name: str, domains: list[str], origins: list[str], *, title: str = "") -> Site:
    try:
        validate_slug(name)
    except Exception as error:
        raise ValueError(f"{name!r} is not a valid site name (letters, digits, - and _)") from error
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError(f"{origin!r} is not an origin like https://example.org")
    with transaction.atomic():
        if Site.objects.filter(name=name).exists():
            raise ValueError(f"A site named {name!r} exists already")
        return Site.objects.create(
            name=name,
            title=title,
            domains=[d.lower() for d in domains],
            origins=[o.rstrip("/") for o in origins],
        )
