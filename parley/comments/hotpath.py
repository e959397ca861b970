"""Warm thread reads answered in front of Django.

Django's request machinery (middleware, URL routing, the API layer) costs far more than
serving a cached thread does. The first request for a thread's shared page goes through
Django as usual; its view offers the answer (`offer`), and this WSGI wrapper keeps the
status, headers and body beside the thread's generation. Later requests that would get the
same answer — same path, query, host, origin, language and encoding — are answered here
while the thread's generation is the one the page was built at. A look-up of it in the
shared cache costs as much as the rest of such an answer, so each process reads it at
most every RECHECK_SECONDS: a write in this process shows at once, one in another process
within that time. Everything else (writes, other pages, a reader with held comments in the
thread, a changed thread) goes to Django.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.cookie import parse_cookie

from parley.core.compressed import Compressed
from parley.core.middleware import observe_outside_django

from . import reads

PATHS = frozenset({"/api/v1/threads", "/fragments/thread"})
_ENVIRON_KEY = "parley.hotpath"
# Site settings (allowed origins) are cached per process for as long (sites.origins).
_TTL_SECONDS = 30
RECHECK_SECONDS = 0.02
_MAX_ENTRIES = 2000

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class _Offer:
    shared: reads.SharedPage
    body: Callable[[], Compressed]


@dataclass(frozen=True)
class _Entry:
    offered: _Offer
    status: str
    headers: list[tuple[str, str]]  # without Content-Length
    gzip: bool
    expires: float


def offer(request: HttpRequest, shared: reads.SharedPage, body: Callable[[], Compressed]) -> None:
    """Tell the wrapper that this request got the thread's shared page: `body()` makes the
    body of an identical answer (called per answer, so a fragment gets a fresh form token)."""
    request.META[_ENVIRON_KEY] = _Offer(shared, body)


def _memo_key(environ: dict[str, Any], cookies: dict[str, str]) -> tuple[str, ...]:
    return (
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        environ.get("HTTP_HOST", ""),
        environ.get("wsgi.url_scheme", ""),
        environ.get("HTTP_X_FORWARDED_PROTO", ""),
        environ.get("HTTP_ORIGIN", ""),
        environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        cookies.get(settings.LANGUAGE_COOKIE_NAME, ""),
        "gzip" if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", "") else "",
    )


def _wants_shared_page(
    environ: dict[str, Any], cookies: dict[str, str], held: frozenset[str] | None
) -> bool:
    """Whether the shared page is this requester's (see reads.held_reader)."""
    if held is not None and not held:
        return True
    return reads.shared_page_is_theirs(held, *reads.credentials(environ, cookies))


class HotReads:
    """The WSGI wrapper: `application = HotReads(get_wsgi_application())`."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._memo: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") not in PATHS:
            return self.app(environ, start_response)
        started = time.perf_counter()
        cookies = parse_cookie(environ["HTTP_COOKIE"]) if "HTTP_COOKIE" in environ else {}
        key = _memo_key(environ, cookies)
        entry = self._memo.get(key)
        if entry is not None and self._fresh(entry, environ, cookies):
            answer = self._answer(entry, environ, start_response)
            # In /metrics and the access log as Django's answers are (PATHS are their routes).
            status = int(entry.status[:3]) if answer else 304
            observe_outside_django(environ, environ["PATH_INFO"], status, started)
            return answer
        return self._through_django(key, environ, start_response)

    def _fresh(self, entry: _Entry, environ: dict[str, Any], cookies: dict[str, str]) -> bool:
        shared = entry.offered.shared
        return (
            entry.expires > time.monotonic()
            and reads.recent_generation(shared.gen_key, RECHECK_SECONDS) == shared.generation
            and _wants_shared_page(environ, cookies, shared.held)
        )

    def _answer(
        self, entry: _Entry, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        body = entry.offered.body()
        if environ.get("HTTP_IF_NONE_MATCH") == body.etag:
            unchanged = [
                (name, value)
                for name, value in entry.headers
                if name.lower() not in ("content-type", "content-encoding")
            ]
            start_response("304 Not Modified", unchanged)
            return []
        payload = body.gzipped if entry.gzip else body.raw
        start_response(entry.status, [*entry.headers, ("Content-Length", str(len(payload)))])
        return [payload]

    def _through_django(
        self, key: tuple[str, ...], environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        answered: dict[str, Any] = {}

        def recording_start_response(status: str, headers: list[tuple[str, str]], *exc: Any):
            answered["status"], answered["headers"] = status, headers
            return start_response(status, headers, *exc)

        response = self.app(environ, recording_start_response)
        offered = environ.get(_ENVIRON_KEY)
        headers = answered.get("headers", [])
        if (
            isinstance(offered, _Offer)
            and answered.get("status", "").startswith("200")
            and not any(name.lower() == "set-cookie" for name, _value in headers)
        ):
            entry = _Entry(
                offered=offered,
                status=answered["status"],
                headers=[(n, v) for n, v in headers if n.lower() != "content-length"],
                gzip=any(
                    n.lower() == "content-encoding" and v == "gzip" for n, v in headers
                ),
                expires=time.monotonic() + _TTL_SECONDS,
            )
            with self._lock:
                self._memo[key] = entry
                self._memo.move_to_end(key)
                while len(self._memo) > _MAX_ENTRIES:
                    self._memo.popitem(last=False)
        return response
