"""Bodies kept compressed with their ETag, and served as the client can take them."""

import gzip
import hashlib
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class Compressed:
    raw: bytes
    gzipped: bytes
    etag: str

    @classmethod
    def of(cls, raw: bytes, level: int = 6) -> "Compressed":
        etag = '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'
        return cls(raw, gzip.compress(raw, level), etag)


def serve_compressed(
    request: HttpRequest, body: Compressed, content_type: str, cache_control: str
) -> HttpResponse:
    """304 when the client has this version, gzip when the client takes it."""
    if request.headers.get("If-None-Match") == body.etag:
        response = HttpResponse(status=304)
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = HttpResponse(body.gzipped, content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body.raw, content_type=content_type)
    response["ETag"] = body.etag
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = cache_control
    return response
