"""Log lines on stderr, for people (`PARLEY_LOG_FORMAT=text`) or one JSON object per line
(`json`), each with the id of the request it was written in.

What is written is chosen, never dumped: a request is named by the URL pattern it matched,
not its path (paths carry sign-in, unsubscribe and confirmation tokens), and no request
body, header or cookie is logged, so neither comment bodies nor reader tokens are. `Redact`
also takes e-mail addresses out of every message and traceback, whoever wrote it.
"""

import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest
from django.urls import Resolver404, resolve

# The id of the request being answered in this thread ("" outside one).
request_id: ContextVar[str] = ContextVar("parley_request_id", default="")

_ADDRESS = re.compile(r"[^\s@<>()\[\]\"',;:]+@[^\s@<>()\[\]\"',;:]+\.[^\s@<>()\[\]\"',;:]+")


def redact(text: str) -> str:
    return _ADDRESS.sub("<address>", text) if "@" in text else text


def route_of(request: HttpRequest) -> str:
    """The URL pattern a request matched ("/api/v1/threads", "/articles/<slug:slug>/"):
    a bounded set of names for metrics, with no token or address that a path may hold."""
    match = getattr(request, "resolver_match", None)
    if match is None:  # answered before URL resolution: static files, CORS preflights
        if request.path_info.startswith(settings.STATIC_URL):
            return "static"
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "unmatched"
    return "/" + match.route


class Redact(logging.Filter):
    """On the handler: every record gets the request id, and loses e-mail addresses and the
    request path that Django's own records ("Not Found: /notifications/unsubscribe/…")
    carry."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest) and isinstance(record.args, tuple):
            record.args = tuple(
                route_of(request) if arg == request.path else arg for arg in record.args
            )
        message = record.getMessage()
        if "@" in message:
            record.msg, record.args = redact(message), ()
        record.request_id = request_id.get()
        return True


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """`2026-11-26T09:30:01.250+00:00 WARNING parley.x [request id] message`"""

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", "")
        line = f"{_time(record)} {record.levelname} {record.name} "
        line += f"[{rid}] " if rid else ""
        line += record.getMessage()
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))


class JsonFormatter(TextFormatter):
    """One object per line: time, level, logger, message, request_id (in a request), the
    access line's fields (`extra={"access": {...}}`), exception (a traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if rid := getattr(record, "request_id", ""):
            entry["request_id"] = rid
        entry.update(getattr(record, "access", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()
