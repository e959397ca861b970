"""Live updates: GET /api/v1/threads/stream?site=&uri= as Server-Sent Events.

A plain ASGI app, served by its own small async server process (`parley serve` starts it):
Django's ASGI path measured 2.5x slower than WSGI here for ordinary requests, and a reader
holding a stream open must not hold a WSGI worker thread. Each event is one newly published
comment, with the comment's id as the event id, so a reconnecting EventSource (which sends
Last-Event-ID) resumes where it stopped and misses nothing. Held comments are never sent.
"""

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

import orjson
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Max
from django.utils.translation import gettext as _

from parley.core.errors import Invalid, NotFound, ParleyError, RateLimited
from parley.core.readers import client_address
from parley.realtime.hub import hub
from parley.sites.origins import cached_site

from .access import check_site_origin
from .models import Comment, Thread
from .reads import single_comment_json, stream_channel

STREAM_PATH = "/api/v1/threads/stream"
HEARTBEAT_SECONDS = 15
MAX_EVENTS_PER_WAKE = 200
RECONNECT_MS = 2000
# A reader has a handful of tabs open; more from one address is a client gone wrong (or worse).
MAX_STREAMS_PER_ADDRESS = 20
_open_streams: Counter[str] = Counter()

Scope = dict[str, Any]


T = TypeVar("T")


async def _read(read: Callable[..., T], *args: Any) -> T:
    """Run a database read in a thread, then hand its connection back as Django does after
    each request: to the pool on PostgreSQL, and closed if it broke, so that a connection
    PostgreSQL dropped is not kept for every later stream."""

    def run() -> T:
        try:
            return read(*args)
        finally:
            close_old_connections()

    return await sync_to_async(run)()


def _check_open(site_name: str, uri: str, origin: str | None) -> None:
    site = cached_site(site_name)
    if site is None:
        raise NotFound(_("There is no site named “%(name)s”.") % {"name": site_name})
    # The stream has a port of its own, so only the public address marks Parley's own pages.
    check_site_origin(site, None if origin == settings.PUBLIC_URL else origin)


def _latest_id(site_name: str, uri: str) -> int:
    latest = Comment.objects.filter(
        thread__site__name=site_name, thread__uri=uri, status=Comment.Status.PUBLISHED
    ).aggregate(latest=Max("pk"))["latest"]
    return latest or 0


def _published_since(site_name: str, uri: str, after_id: int) -> list[tuple[int, bytes]]:
    """Comments published in the thread with an id above `after_id`, as SSE data."""
    comments = list(
        Comment.objects.filter(
            thread__site__name=site_name,
            thread__uri=uri,
            status=Comment.Status.PUBLISHED,
            pk__gt=after_id,
        )
        .select_related("thread__site")
        .order_by("pk")[:MAX_EVENTS_PER_WAKE]
    )
    if not comments:
        return []
    count = Thread.objects.values_list("published_count", flat=True).get(pk=comments[0].thread_id)
    return [
        (c.pk, orjson.dumps({"comment": single_comment_json(c), "count": count})) for c in comments
    ]


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        return
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    origin = headers.get("origin")
    if scope["path"] != STREAM_PATH or scope["method"] != "GET":
        await _error(send, origin, 404, "not_found", _("There is no such stream."))
        return
    params = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
    site_name, uri = params.get("site", ""), params.get("uri", "")
    try:
        _check_params(site_name, uri)
        await _read(_check_open, site_name, uri, origin)
    except ParleyError as error:
        await _error(send, origin, error.status, error.code, error.message)
        return
    address = client_address(
        (scope.get("client") or ("", 0))[0], headers.get("x-forwarded-for", "")
    )
    if _open_streams[address] >= MAX_STREAMS_PER_ADDRESS:
        refusal = RateLimited(retry_after=60)
        await _error(send, origin, refusal.status, refusal.code, refusal.message)
        return
    _open_streams[address] += 1
    try:
        await _serve_stream(send, receive, headers, params, site_name, uri, origin)
    finally:
        _open_streams[address] -= 1
        if not _open_streams[address]:
            del _open_streams[address]


async def _serve_stream(
    send: Any,
    receive: Any,
    headers: dict[str, str],
    params: dict[str, str],
    site_name: str,
    uri: str,
    origin: str | None,
) -> None:
    last = headers.get("last-event-id") or params.get("last_event_id") or ""
    after_id = int(last) if last.isdigit() else await _read(_latest_id, site_name, uri)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": _headers(
                origin,
                {
                    "content-type": "text/event-stream; charset=utf-8",
                    "cache-control": "no-cache",
                    "x-accel-buffering": "no",  # nginx: pass each event on at once
                },
            ),
        }
    )
    await _send(send, f"retry: {RECONNECT_MS}\nid: {after_id}\nevent: ready\ndata: {{}}\n\n")
    await _stream(send, receive, site_name, uri, after_id)


async def _stream(send: Any, receive: Any, site_name: str, uri: str, after_id: int) -> None:
    disconnected = asyncio.create_task(_until_disconnect(receive))
    async with hub.listening(stream_channel(site_name, uri)) as changed:
        while not disconnected.done():
            changed.clear()  # before reading, so a change during the read wakes us again
            for comment_id, data in await _read(_published_since, site_name, uri, after_id):
                await _send(send, f"id: {comment_id}\nevent: comment\ndata: {data.decode()}\n\n")
                after_id = comment_id
            woken = asyncio.create_task(changed.wait())
            done, _ = await asyncio.wait(
                {woken, disconnected},
                timeout=HEARTBEAT_SECONDS,
                return_when=asyncio.FIRST_COMPLETED,
            )
            woken.cancel()
            if not done:
                await _send(send, ": still here\n\n")


def _check_params(site_name: str, uri: str) -> None:
    if not site_name or not uri.startswith("/"):
        raise Invalid(_("Give a site and a uri that starts with /."))


async def _until_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _headers(origin: str | None, extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    headers = dict(extra)
    if origin:
        headers["access-control-allow-origin"] = origin
        headers["vary"] = "Origin"
    return [(k.encode(), v.encode()) for k, v in headers.items()]


async def _send(send: Any, text: str) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


async def _error(send: Any, origin: str | None, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"error": {"code": code, "message": message, "fields": {}}})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": _headers(origin, {"content-type": "application/json"}),
        }
    )
    await send({"type": "http.response.body", "body": body})
