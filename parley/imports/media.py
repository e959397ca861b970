"""`parley import … --copy-media`: pictures in imported comments whose host still serves them
are copied into Parley's storage, so they outlive the old system.

Only links the import made from `<img>` (the ones that begin with 🖼) are fetched, never other
links, and never from a host that resolves to a private, loopback or link-local address: the
addresses come from strangers' comments, and the server must not be steered at its own
network. Each file is redrawn with Pillow (what is not the picture stays behind) and stored
under a name made from its address, so a second run fetches nothing it already has.
"""

import hashlib
import io
import ipaddress
import re
import socket
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from PIL import Image, ImageOps

from parley.articles.models import Article
from parley.comments import reads
from parley.comments.models import Comment
from parley.notifications.outbox import public_url
from parley.sites.models import Site

from . import html
from .load import HAS_SOURCE

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
TIMEOUT_SECONDS = 10
FOLDER = "imported"
_PICTURE_LINK = re.compile(r'<a href="(https?://[^"]+)"([^>]*)>🖼')
_PICTURE_IN_MARKDOWN = re.compile(r"\[🖼 [^\]]*\]\((https?://[^)\s]+)\)")


@dataclass
class MediaTally:
    found: int = 0
    copied: int = 0
    already: int = 0  # copied by an earlier run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, why)


class NotCopied(Exception):
    pass


def _public_host(url: str) -> None:
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as error:
        raise NotCopied(f"{host}: {error}") from None
    for address in addresses:
        if not ipaddress.ip_address(address).is_global:
            raise NotCopied(f"{host} is a private address")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is a new address from a stranger: the same checks again."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        _check(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_opener = urllib.request.build_opener(_CheckedRedirects)


def _check(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https"):
        raise NotCopied(f"{url}: not an http(s) address")
    _public_host(url)


def _download(url: str) -> bytes:
    _check(url)
    request = urllib.request.Request(url, headers={"User-Agent": "Parley media import"})  # noqa: S310 - checked just above
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            data: bytes = response.read(MAX_BYTES + 1)
    except (OSError, ValueError) as error:
        raise NotCopied(f"{url}: {error}") from None
    if len(data) > MAX_BYTES:
        raise NotCopied(f"{url}: larger than {MAX_BYTES // 1024 // 1024} MB")
    return data


def _redrawn(data: bytes) -> tuple[bytes, str]:
    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "GIF", "WEBP"]) as image:
            if image.width * image.height > MAX_PIXELS:
                raise NotCopied("too many pixels")
            upright = ImageOps.exif_transpose(image)
            out = io.BytesIO()
            if upright.mode in ("RGBA", "LA", "P"):
                upright.convert("RGBA").save(out, format="PNG", optimize=True)
                return out.getvalue(), "png"
            upright.convert("RGB").save(out, format="JPEG", quality=88)
            return out.getvalue(), "jpg"
    except (OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise NotCopied(f"not a picture ({error})") from None


def copy_media(site: Site, fetch: Callable[[str], bytes] = _download) -> MediaTally:
    tally = MediaTally()
    folder = Path(settings.MEDIA_ROOT) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stored: dict[str, str | None] = {}

    def local(url: str) -> str | None:
        if url not in stored:
            stored[url] = _copy(url, folder, fetch, tally)
        return stored[url]

    ours = public_url(settings.MEDIA_URL)

    def copied_links(text: str, pattern: re.Pattern[str]) -> str:
        def swap(match: re.Match[str]) -> str:
            url = match.group(1)
            if html.is_gone(url) or url.startswith(ours):
                return match.group(0)
            tally.found += 1
            copied = local(url)
            return match.group(0).replace(url, copied) if copied else match.group(0)

        return pattern.sub(swap, text)

    comments = (
        Comment.objects.filter(HAS_SOURCE, thread__site=site, body_html__contains="🖼")
        .values_list("pk", "body_html", "thread__uri")
        .iterator(chunk_size=500)
    )
    for pk, body_html, uri in comments:
        changed = copied_links(body_html, _PICTURE_LINK)
        if changed != body_html:
            with transaction.atomic():
                Comment.objects.filter(pk=pk).update(body_html=changed)
            reads.invalidate_many(site.name, [uri])
    # Articles made from WordPress posts (--articles) link their pictures the same way.
    for article in Article.objects.filter(site=site, body__contains="🖼").only("pk", "body"):
        changed = copied_links(article.body, _PICTURE_IN_MARKDOWN)
        if changed != article.body:
            Article.objects.filter(pk=article.pk).update(body=changed)
    return tally


def _copy(url: str, folder: Path, fetch: Callable[[str], bytes], tally: MediaTally) -> str | None:
    name = hashlib.sha256(url.encode()).hexdigest()[:32]
    for existing in folder.glob(f"{name}.*"):
        tally.already += 1
        return public_url(f"{settings.MEDIA_URL}{FOLDER}/{existing.name}")
    try:
        picture, extension = _redrawn(fetch(url))
    except NotCopied as error:
        tally.failed.append((url, str(error)))
        return None
    path = folder / f"{name}.{extension}"
    path.write_bytes(picture)
    tally.copied += 1
    return public_url(f"{settings.MEDIA_URL}{FOLDER}/{path.name}")
