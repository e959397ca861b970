from urllib.parse import urlsplit

from django.core.validators import validate_slug
from django.db import transaction

from .models import Site


def clean_origin(origin: str) -> str:
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"{origin!r} is not an origin like https://example.org")
    return f"{parts.scheme}://{parts.netloc}".lower()


def add_site(
    name: str, domains: list[str], origins: list[str], *, title: str = ""
) -> tuple[Site, bool]:
    """Create the site, or add these domains and origins to it if it exists (so a publisher
    allows one more embedding address with the same command). Returns (site, created)."""
    try:
        validate_slug(name)
    except Exception as error:
        raise ValueError(f"{name!r} is not a valid site name (letters, digits, - and _)") from error
    new_origins = [clean_origin(o) for o in origins]
    new_domains = [d.strip().lower() for d in domains if d.strip()]
    with transaction.atomic():
        site = Site.objects.select_for_update().filter(name=name).first()
        if site is None:
            site = Site.objects.create(
                name=name, title=title, domains=new_domains, origins=new_origins
            )
            return site, True
        site.domains = list(dict.fromkeys([*site.domains, *new_domains]))
        site.origins = list(dict.fromkeys([*site.origins, *new_origins]))
        if title:
            site.title = title
        site.save()
        return site, False
