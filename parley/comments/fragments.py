"""The thread as an HTML fragment: the one renderer for Parley's own pages and the widget."""

from dataclasses import astuple

from django.conf import settings
from django.template.loader import render_to_string

from parley.core.compressed import Compressed
from parley.embed.strings import widget_strings_script

from . import reads


def thread_fragment(site_name: str, uri: str, query: reads.PageQuery) -> Compressed:
    def render() -> bytes:
        page = reads.load_page(site_name, uri, query)
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
        return html.encode()

    return reads.cached_body("html", site_name, uri, astuple(query), render)
