"""Warm thread reads answered in front of Django (parley/comments/hotpath.py): the same
answers as Django gives, without its work, and never stale or someone else's."""

import io
import json
import re
import sys
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from parley.comments import fragments, hotpath, reads
from parley.comments.models import Comment
from parley.moderation.gate import form_age_seconds
from parley.sites.origins import forget_site
from tests.factories import say

pytestmark = pytest.mark.django_db

THREAD = "/api/v1/threads"
FRAGMENT = "/fragments/thread"


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = int(status.split()[0])
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture
def app() -> hotpath.HotReads:
    """The wrapper around Django's own WSGI handler, as `parley serve` runs it."""
    return hotpath.HotReads(WSGIHandler())


@pytest.fixture(autouse=True)
def _forget_sites():
    yield
    forget_site("news")


def get(app: hotpath.HotReads, path: str, params: dict[str, str], **headers: str) -> Answer:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": urlencode(params),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        **{"HTTP_" + name.upper(): value for name, value in headers.items()},
    }
    answered: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *exc: Any) -> None:
        answered.update(status=status, headers=headers)

    # Like Django's test client, leave the test's database connection open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(app(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return Answer(answered["status"], answered["headers"], body)


def read(app: hotpath.HotReads, **headers: str) -> Answer:
    return get(app, THREAD, {"site": "news", "uri": "/story/", "limit": "100"}, **headers)


def bodies(answer: Answer) -> list[str]:
    return [c["html"] for c in answer.json()["comments"]]


@pytest.fixture
def thread_with_a_comment(unscored_site, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        say(client, "First words.")


def test_a_warm_read_is_answered_without_django_and_the_same(app, thread_with_a_comment):
    first = read(app)
    with CaptureQueriesContext(connection) as queries:
        again = read(app)

    assert first.status == again.status == 200
    assert again.body == first.body
    assert again.headers == first.headers | {"content-length": again.headers["content-length"]}
    assert len(queries) == 0
    assert "First words." in bodies(again)[0]


def test_a_write_in_this_process_shows_at_once(
    app, thread_with_a_comment, client, django_capture_on_commit_callbacks
):
    read(app)
    with django_capture_on_commit_callbacks(execute=True):
        say(client, "Second thoughts.")

    assert any("Second thoughts." in html for html in bodies(read(app)))


def test_a_write_in_another_process_shows_after_the_recheck(
    app, thread_with_a_comment, monkeypatch
):
    read(app)
    read(app)  # warm: this process has just read the generation
    # Another process stored a comment and replaced the generation in the shared cache.
    Comment.objects.update(body_html="<p>Changed elsewhere.</p>")
    gen_key = reads.stream_channel("news", "/story/")  # the thread's generation's key
    cache.set(gen_key, cache.get(gen_key) + 1, timeout=None)

    assert "First words." in bodies(read(app))[0]  # within the recheck time, as it was
    monkeypatch.setattr(hotpath, "RECHECK_SECONDS", 0)
    assert bodies(read(app)) == ["<p>Changed elsewhere.</p>"]


def test_a_reader_with_a_held_comment_gets_their_own_page_and_others_do_not(
    app, thread_with_a_comment, client, django_capture_on_commit_callbacks
):
    read(app)  # the shared page is in memory
    with django_capture_on_commit_callbacks(execute=True):
        held = say(client, "Mine, waiting.")
    Comment.objects.filter(pk=held).update(status=Comment.Status.PENDING)
    reads.invalidate("news", "/story/")
    token = client.cookies["parley_reader"].value

    mine = read(app, x_parley_reader=token)
    theirs = read(app)
    again = read(app, x_parley_reader=token)

    assert any("Mine, waiting." in html for html in bodies(mine))
    assert mine.headers["cache-control"] == "private, no-cache"
    assert not any("Mine, waiting." in html for html in bodies(theirs))
    assert bodies(again) == bodies(mine)


def test_a_returning_reader_with_nothing_held_shares_the_warm_page(
    app, thread_with_a_comment, client
):
    token = client.cookies["parley_reader"].value
    read(app)
    read(app, x_parley_reader=token)  # to Django once: is this reader's comment held?

    with CaptureQueriesContext(connection) as queries:
        warm = read(app, x_parley_reader=token)

    assert len(queries) == 0
    assert warm.headers["cache-control"] == "no-cache"
    assert "First words." in bodies(warm)[0]


def test_an_origin_the_site_does_not_allow_is_refused_though_the_page_is_warm(
    app, thread_with_a_comment
):
    allowed = read(app, origin="https://blog.example")
    read(app, origin="https://blog.example")

    refused = read(app, origin="https://evil.example")

    assert allowed.status == 200
    assert allowed.headers["access-control-allow-origin"] == "https://blog.example"
    assert refused.status == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"


def test_a_client_that_has_the_page_is_told_it_is_unchanged(app, thread_with_a_comment):
    etag = read(app).headers["etag"]

    unchanged = read(app, if_none_match=etag)

    assert unchanged.status == 304
    assert unchanged.body == b""
    assert unchanged.headers["etag"] == etag


def test_gzip_and_plain_answers_are_kept_apart(app, thread_with_a_comment):
    read(app, accept_encoding="gzip")
    zipped = read(app, accept_encoding="gzip")
    plain = read(app)

    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.body[:2] == b"\x1f\x8b"
    assert "content-encoding" not in plain.headers
    assert plain.json()["thread"]["count"] == 1


def test_a_warm_fragment_carries_a_current_form_token(app, thread_with_a_comment, monkeypatch):
    params = {"site": "news", "uri": "/story/"}
    get(app, FRAGMENT, params)
    # A token made long ago must not be handed out again.
    monkeypatch.setattr(fragments, "_token_input", (1, b'<input name="form_token" value="old">'))

    warm = get(app, FRAGMENT, params)

    token = re.search(rb'name="form_token" value="([^"]+)"', warm.body)
    assert token is not None
    assert form_age_seconds(token.group(1).decode()) == pytest.approx(0, abs=5)
    assert b"First words." in warm.body
    assert warm.headers["content-length"] == str(len(warm.body))


def test_writes_and_other_pages_go_to_django(app, thread_with_a_comment):
    posted = get(app, "/api/v1/counts", {"site": "news", "uri": "/story/"})

    assert posted.status == 200
    assert posted.json() == {"counts": {"/story/": 1}}
    assert not app._memo
