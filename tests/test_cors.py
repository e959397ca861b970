"""The widget on a publisher's page reads and writes across origins; other pages are told no."""

import shutil
import subprocess

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parley.core.readers import READER_COOKIE, mint_reader_token
from parley.embed.bundle import embed_bundle
from parley.sites.origins import forget_site
from tests.factories import SiteFactory, ThreadFactory, post_comment

pytestmark = pytest.mark.django_db

ALLOWED = "https://blog.example"


@pytest.fixture(autouse=True)
def _forget_cached_sites():
    yield
    forget_site("news")


def test_preflight_allows_the_widgets_headers(client):
    response = client.options(
        "/api/v1/comments",
        HTTP_ORIGIN=ALLOWED,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-parley-reader",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert "X-Parley-Reader" in response["Access-Control-Allow-Headers"]
    assert "PATCH" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_an_allowed_origin_reads_the_thread_and_its_fragment(client):
    thread = ThreadFactory.create(uri="/story/")
    post_comment(thread, "hello")

    for path in ("/api/v1/threads", "/fragments/thread"):
        response = client.get(path, {"site": "news", "uri": "/story/"}, HTTP_ORIGIN=ALLOWED)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == ALLOWED
        assert "Origin" in response["Vary"]


def test_an_origin_the_site_does_not_allow_gets_a_readable_403(client):
    SiteFactory.create()

    response = client.get(
        "/fragments/thread",
        {"site": "news", "uri": "/story/"},
        HTTP_ORIGIN="https://copycat.example",
    )

    assert response.status_code == 403
    # The widget must be able to read the refusal to show it on the page.
    assert response["Access-Control-Allow-Origin"] == "https://copycat.example"
    api = client.get(
        "/api/v1/threads", {"site": "news", "uri": "/story/"}, HTTP_ORIGIN="https://copycat.example"
    )
    assert api.json()["error"]["code"] == "origin_not_allowed"
    assert "copycat.example" in api.json()["error"]["message"]


def test_a_reader_who_votes_before_posting_gets_a_token_to_keep(client, other_reader):
    thread = ThreadFactory.create(uri="/story/")
    comment = post_comment(thread)

    first = other_reader.post_json(
        f"/comments/{comment.pk}/vote", {"value": 1}, HTTP_ORIGIN=ALLOWED
    )
    token = first["X-Parley-Reader"]
    other_reader.cookies.clear()  # cross-origin: no cookie comes back
    again = other_reader.post_json(
        f"/comments/{comment.pk}/vote",
        {"value": 0},
        HTTP_ORIGIN=ALLOWED,
        HTTP_X_PARLEY_READER=token,
    )

    assert "X-Parley-Reader" in first["Access-Control-Expose-Headers"]
    assert again.json() == {"score": 0, "upvotes": 0, "downvotes": 0, "value": 0}


def test_a_warm_cross_origin_read_still_costs_no_query(client):
    thread = ThreadFactory.create(uri="/story/")
    post_comment(thread)
    client.get("/api/v1/threads", {"site": "news", "uri": "/story/"}, HTTP_ORIGIN=ALLOWED)

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/threads", {"site": "news", "uri": "/story/"}, HTTP_ORIGIN=ALLOWED)

    assert len(queries) == 0


def test_allowing_an_origin_takes_effect_at_once(client):
    site = SiteFactory.create()
    url = "/api/v1/threads"
    params = {"site": "news", "uri": "/story/"}
    assert client.get(url, params, HTTP_ORIGIN="https://new.example").status_code == 403

    site.origins = [*site.origins, "https://new.example"]
    site.save()

    assert client.get(url, params, HTTP_ORIGIN="https://new.example").status_code == 200


def test_embed_js_is_one_cacheable_compressed_script(client):
    response = client.get("/embed.js", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Content-Encoding"] == "gzip"
    assert "max-age" in response["Cache-Control"]
    assert client.get("/embed.js", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_a_fragment_refused_to_a_foreign_origin_answers_in_the_api_error_shape(client):
    SiteFactory.create()

    response = client.get(
        "/fragments/thread", {"site": "news", "uri": "/x/"}, HTTP_ORIGIN="https://copycat.example"
    )

    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "origin_not_allowed"


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js to parse the bundle")
def test_the_served_embed_is_valid_javascript(tmp_path):
    bundle = tmp_path / "embed.js"
    bundle.write_bytes(embed_bundle().raw)

    result = subprocess.run(["node", "--check", str(bundle)], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr


def test_the_refusal_speaks_the_embedding_pages_language(client):
    SiteFactory.create()

    response = client.get(
        "/fragments/thread",
        {"site": "news", "uri": "/x/", "lang": "de"},
        HTTP_ORIGIN="https://copycat.example",
    )

    assert response.status_code == 403
    assert "copycat.example" in response.json()["error"]["message"]
    assert "Kommentare" in response.json()["error"]["message"]


# --- one site's origins reach only that site -------------------------------------------------

SPORT = "https://sport.example"


@pytest.fixture
def two_sites():
    """Two sites, each embedded on its own origin (blog.example, sport.example), with a
    published comment each."""
    news = ThreadFactory.create(site=SiteFactory.create(), uri="/story/")
    sport_site = SiteFactory.create(name="sport", origins=[SPORT], domains=["sport.example"])
    sport = ThreadFactory.create(site=sport_site, uri="/match/")
    yield post_comment(news, "News talk"), post_comment(sport, "Sport talk")
    forget_site("sport")


def test_an_origin_allowed_for_one_site_cannot_read_anothers_threads(client, two_sites):
    reads = [
        ("/api/v1/threads", {"site": "sport", "uri": "/match/"}),
        ("/fragments/thread", {"site": "sport", "uri": "/match/"}),
        ("/api/v1/counts", {"site": "sport", "uri": "/match/"}),
        (f"/api/v1/comments/{two_sites[1].pk}", {}),
    ]

    for path, params in reads:
        refused = client.get(path, params, HTTP_ORIGIN=ALLOWED)
        own = client.get(path, params, HTTP_ORIGIN=SPORT)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "origin_not_allowed"
        assert own.status_code == 200, path
    assert client.get(
        "/api/v1/counts", {"site": "news", "uri": "/story/"}, HTTP_ORIGIN=ALLOWED
    ).json() == {"counts": {"/story/": 1}}


def test_an_origin_allowed_for_one_site_cannot_write_to_anothers(client, two_sites):
    _news, sport = two_sites
    comment = {"site": "sport", "uri": "/match/", "body": "Hi", "author_name": "Eve"}
    writes = [
        ("/comments", comment),
        ("/comments", {**comment, "parent": sport.pk}),
        (f"/comments/{sport.pk}/vote", {"value": 1}),
        (f"/comments/{sport.pk}/report", {"reason": "spam"}),
        ("/subscriptions", {**comment, "email": "e@x.example", "kind": "thread"}),
        ("/auth/email", {"site": "sport", "email": "e@x.example", "return_url": f"{ALLOWED}/"}),
    ]

    for path, data in writes:
        refused = client.post_json(path, data, HTTP_ORIGIN=ALLOWED)
        assert refused.status_code == 403, path
        assert refused.json()["error"]["code"] == "origin_not_allowed", path

    sport.refresh_from_db()
    assert (sport.score, sport.thread.comments.count()) == (0, 1)


def test_preflights_are_answered_on_the_api_only_and_never_with_credentials(client):
    asked = {
        "HTTP_ORIGIN": "https://anyone.example",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "DELETE",
        "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization",
    }

    api = client.options("/api/v1/comments/1", **asked)
    page = client.options("/accounts/profile/", **asked)

    assert api.status_code == 204
    assert "DELETE" in api["Access-Control-Allow-Methods"]
    assert "Authorization" in api["Access-Control-Allow-Headers"]
    assert api["Access-Control-Max-Age"] == "86400"
    assert "Access-Control-Allow-Credentials" not in api
    assert "Access-Control-Allow-Origin" not in page


def test_no_cross_origin_answer_lets_a_page_read_a_readers_cookies_worth(two_sites):
    """A page that fetches with `credentials: "include"` may send Parley's cookies, but no
    answer allows it to read what they unlock: no Allow-Credentials anywhere, Parley's own
    pages no Allow-Origin at all."""
    news, _sport = two_sites
    browser = Client()
    browser.force_login(User.objects.create_user("rita", "rita@example.org"))
    browser.cookies[READER_COOKIE] = mint_reader_token()

    answers = [
        browser.get(path, params, HTTP_ORIGIN="https://evil.example")
        for path, params in [
            ("/api/v1/auth/me", {}),
            ("/api/v1/threads", {"site": "news", "uri": "/story/"}),
            (f"/api/v1/comments/{news.pk}", {}),
            ("/fragments/thread", {"site": "news", "uri": "/story/"}),
            ("/accounts/profile/", {}),
            ("/accounts/profile/data/", {}),
        ]
    ]

    assert all("Access-Control-Allow-Credentials" not in answer for answer in answers)
    for answer in answers[-2:]:
        assert "Access-Control-Allow-Origin" not in answer
