"""The thread as an HTML fragment: the one renderer for Parley's own pages and the widget."""

import hashlib
import struct
import time
import zlib
from dataclasses import astuple, dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import format_html

from parley.core.compressed import Compressed
from parley.embed.strings import widget_strings_script
from parley.moderation import gate

from . import reads

# A gzip member's header: deflate, no name, no time, unknown system.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# The fragment's last part is its closing tag (see thread.html).
_CLOSING_TAG = b"</div>"


@dataclass(frozen=True)
class Fragment:
    """A rendered thread, kept gzip-compressed but left open before its last part (the
    closing tag): each response puts a few bytes of its own there (the form token) and
    compresses only those and the closing tag, not the whole thread."""

    raw: bytes
    split: int  # where the last part begins in `raw`
    head: bytes  # gzip header and the deflated `raw[:split]`, flushed, no final block
    crc: int  # of `raw[:split]`
    etag: str
    _last_inserted: tuple[bytes, Compressed] | None = field(default=None, compare=False)

    @classmethod
    def of(cls, raw: bytes, split: int, level: int = 6) -> "Fragment":
        deflate = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        head = _GZIP_HEADER + deflate.compress(raw[:split]) + deflate.flush(zlib.Z_SYNC_FLUSH)
        etag = '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'
        return cls(raw, split, head, zlib.crc32(raw[:split]), etag)

    def with_inserted(self, extra: bytes) -> Compressed:
        """The fragment with `extra` before its last part, as one gzip member. The ETag
        stays the fragment's: a client revalidating keeps the `extra` it has. The last
        result is kept: answers within the same second insert the same token."""
        last = self._last_inserted
        if last is not None and last[0] == extra:
            return last[1]
        end = extra + self.raw[self.split :]
        deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = self.head + deflate.compress(end) + deflate.flush()
        size = (self.split + len(end)) & 0xFFFFFFFF
        trailer = struct.pack("<II", zlib.crc32(end, self.crc), size)
        inserted = Compressed(self.raw[: self.split] + end, body + trailer, self.etag)
        object.__setattr__(self, "_last_inserted", (extra, inserted))
        return inserted


def thread_fragment(
    site_name: str, uri: str, query: reads.PageQuery, reader: str | None = None
) -> Fragment:
    """The page of the thread everyone sees, or with `reader` (from `reads.held_reader`)
    the page as that reader sees it, their held comments in their place."""
    query.check()  # before anything is cached under it

    def render() -> Fragment:
        page = reads.load_page(site_name, uri, query, reader)
        html = render_to_string(
            "comments/thread.html",
            {
                "page": page,
                "sorts": reads.SORTS,
                "is_all": query.limit == reads.MAX_LIMIT,
                "stream_url": settings.PARLEY_STREAM_URL,
                # The widget's own words in this language; nothing on show without it.
                "widget_strings": widget_strings_script(),
            },
        )
        raw = html.encode()
        return Fragment.of(raw, raw.rindex(_CLOSING_TAG))

    return reads.cached("html", site_name, uri, (*astuple(query), reader or ""), render)


# (second, input): a token tells the second it was made, so one per second is as fresh.
_token_input: tuple[int, bytes] = (0, b"")


def form_token_input() -> bytes:
    """A fresh form token for the widget's comment box, put into the cached fragment per
    response: how long a form was open counts from this response, never from when the
    thread was rendered."""
    global _token_input
    second = int(time.time())
    if _token_input[0] != second:
        _token_input = (
            second,
            format_html(
                '<input type="hidden" name="form_token" value="{}">', gate.form_token()
            ).encode(),
        )
    return _token_input[1]
