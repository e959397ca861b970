"""Structured logs: one JSON object per line, a request id that ties a request's lines
together, and nothing a reader would not want in a log file."""

import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest
from django.test import Client, override_settings

from parley.core import views
from parley.core.logs import JsonFormatter
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db


Lines = Callable[[], list[dict]]


@pytest.fixture
def logged() -> Iterator[Lines]:
    """What Parley's stderr handler writes with PARLEY_LOG_FORMAT=json and the access log on,
    each line parsed (a line that is not one JSON object fails the test)."""
    (handler,) = [h for h in logging.getLogger().handlers if h.name == "stderr"]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    stderr, text = handler.setStream(stream), handler.formatter
    handler.setFormatter(JsonFormatter())
    with override_settings(PARLEY_ACCESS_LOG=True):
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(stderr)
    handler.setFormatter(text)


def test_each_request_gets_an_access_line_with_its_id_route_status_and_duration(
    logged: Lines, unscored_site
) -> None:
    assert ApiClient().api_get("/threads", site="news", uri="/story/").status_code == 200

    (line,) = [entry for entry in logged() if entry["logger"] == "parley.access"]
    assert re.fullmatch("[0-9a-f]{32}", line["request_id"])
    assert line["level"] == "INFO"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/api/v1/threads", 200)
    assert line["duration_ms"] >= 0 and line["client"] == "127.0.0.1"
    assert line["time"].endswith("+00:00")


@pytest.mark.parametrize(
    ("proxies", "sent", "kept"),
    [(1, "a1b2c3-proxy.id", True), (0, "a1b2c3-proxy.id", False), (1, "bad id\t<x>", False)],
)
def test_the_request_id_is_the_proxys_when_behind_one(logged: Lines, proxies, sent, kept) -> None:
    with override_settings(PARLEY_PROXY_COUNT=proxies):
        Client(HTTP_HOST="127.0.0.1").get("/healthz", HTTP_X_REQUEST_ID=sent)
    (line,) = logged()
    assert (line["request_id"] == sent) is kept
    assert kept or re.fullmatch("[0-9a-f]{32}", line["request_id"])


def test_an_error_is_logged_with_its_request_id_and_without_addresses(
    logged: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("could not mail reader@example.org")

    monkeypatch.setattr(views, "HttpResponse", broken)
    response = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False).get("/healthz")
    assert response.status_code == 500
    lines = logged()
    (error,) = [entry for entry in lines if entry["logger"] == "django.request"]
    (access,) = [entry for entry in lines if entry["logger"] == "parley.access"]
    assert access["level"] == "ERROR" and access["status"] == 500
    # The traceback is found by the request's id (and carries no address).
    assert error["level"] == "ERROR" and error["request_id"] == access["request_id"]
    assert "RuntimeError: could not mail <address>" in error["exception"]
    assert "reader@example.org" not in json.dumps(lines)


def test_no_body_address_token_or_secret_path_reaches_the_log(logged: Lines, unscored_site) -> None:
    reader = ApiClient()
    posted = reader.post_json(
        "/comments",
        {
            "site": "news",
            "uri": "/story/",
            "body": "My private words about the story",
            "author_name": "Ana",
            "author_email": "ana.private@example.org",
        },
    )
    assert posted.status_code == 201
    answer = posted.json()
    reader.get("/notifications/unsubscribe/sekrit-token-in-path/")
    subscribed = reader.post_json(
        "/subscriptions",
        {"site": "news", "uri": "/story/", "email": "x@y.example", "kind": "thread"},
    )
    assert subscribed.status_code == 202
    text = json.dumps(logged())
    assert "parley.access" in text
    for secret in (
        "My private words",
        "ana.private@example.org",
        "x@y.example",
        answer["reader_token"],
        answer["edit_token"],
        "sekrit-token-in-path",
    ):
        assert secret not in text
