"""Every response Parley serves carries its security headers: a strict Content-Security-Policy
on pages, a closed one on everything else, and the headers that keep other sites from framing,
sniffing or borrowing Parley's pages."""

import runpy
from pathlib import Path

import pytest
from django.test import Client

import parley.config
from parley.core.security import CLOSED_POLICY
from tests.pages import Newsroom, newsroom, routes, signed_in

pytestmark = pytest.mark.django_db

# Pages that must come back whole (200) when staff ask: the walk reaches real pages, not
# only refusals and redirects.
STAFF_PAGES = {
    "front",
    "article",
    "thread-fragment",
    "api:openapi-view",
    "accounts:profile",
    "funding:support",
    "funding:thanks",
    "funding:cancelled",
    "funding:bar",
    "funding:donors",
    "funding:donor-name",
    "notifications:confirm",
    "notifications:unsubscribe",
    "notifications:manage",
    "notifications:request-manage",
    "notifications:alerts",
    "notifications:sent",
    "notifications:sent-message",
    "notifications:sent-message-html",
    "moderation:queue",
    "moderation:bans",
    "moderation:audit",
    "admin:index",
    "admin:password_change",
    "admin:comments_comment_changelist",
    "admin:comments_comment_change",
    "admin:accounts_personaldata_changelist",
}


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def check_headers(label: str, response) -> None:
    where = f"{label} ({response.status_code})"
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] in ("same-origin", "no-referrer"), where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    assert "camera=()" in response["Permissions-Policy"], where
    assert "Strict-Transport-Security" not in response, where  # served over plain HTTP
    policy = directives(response["Content-Security-Policy"])
    if not response.get("Content-Type", "").startswith("text/html"):
        assert response["Content-Security-Policy"] == CLOSED_POLICY, where
        return
    if label == "notifications:sent-message-html" and response.status_code == 200:
        # The mail itself, framed by its staff page only.
        assert response["X-Frame-Options"] == "SAMEORIGIN", where
        assert policy["frame-ancestors"] == ["'self'"], where
        assert policy["default-src"] == ["'none'"] and "sandbox" in policy, where
        return
    assert response["X-Frame-Options"] == "DENY", where
    assert policy["frame-ancestors"] == ["'none'"], where
    assert policy["script-src"] == ["'self'"], where
    assert policy["style-src"] == ["'self'"], where
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], where
    assert policy["form-action"][0] == "'self'", where
    assert "'unsafe-inline'" not in response["Content-Security-Policy"], where


def walk(world: Newsroom, client: Client, *, admin: bool) -> dict[str, int]:
    statuses = {}
    for route in routes(world):
        if route.path.startswith("/admin/") and not admin:
            continue
        response = client.get(route.path)
        check_headers(route.name, response)
        statuses[route.name] = response.status_code
    return statuses


def test_every_route_answers_with_the_security_headers_to_everyone():
    world = newsroom()

    as_staff = walk(world, signed_in(world.staff), admin=True)
    walk(world, signed_in(world.reader), admin=False)
    walk(world, Client(), admin=False)

    assert {name for name in STAFF_PAGES if as_staff[name] != 200} == set()


def test_error_pages_and_static_files_carry_them_too():
    client = Client()
    missing = client.get("/no/such/page/")
    script = client.get("/static/moderation/queue.js")
    preflight = client.options(
        "/api/v1/comments",
        HTTP_ORIGIN="https://blog.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert missing.status_code == 404 and "Page not found" in missing.content.decode()
    check_headers("404", missing)
    check_headers("static", script)
    check_headers("preflight", preflight)


def test_a_304_leaves_the_cached_answers_policy_as_it_was():
    client = Client()
    newsroom()
    fragment = client.get("/fragments/thread", {"site": "news", "uri": "/articles/river/"})

    again = client.get(
        "/fragments/thread",
        {"site": "news", "uri": "/articles/river/"},
        HTTP_IF_NONE_MATCH=fragment["ETag"],
    )

    assert again.status_code == 304
    assert "Content-Security-Policy" not in again
    assert again["X-Content-Type-Options"] == "nosniff"


def test_the_support_page_may_send_its_form_on_to_stripes_checkout(settings):
    newsroom()
    settings.STRIPE_API_BASE = ""
    live = directives(Client().get("/support/river/")["Content-Security-Policy"])
    settings.STRIPE_API_BASE = "http://127.0.0.1:8002"
    fake = directives(Client().get("/support/river/")["Content-Security-Policy"])
    article = directives(Client().get("/articles/river/")["Content-Security-Policy"])

    assert live["form-action"] == ["'self'", "https://checkout.stripe.com"]
    assert fake["form-action"] == ["'self'", "http://127.0.0.1:8002"]
    assert article["form-action"] == ["'self'"]


def test_the_reader_cookie_is_secure_when_readers_come_over_https(client, settings):
    comment = newsroom().comment
    settings.SESSION_COOKIE_SECURE = True

    response = client.post_json(f"/comments/{comment.pk}/vote", {"value": 1})

    assert response.status_code == 200
    assert response.cookies["parley_reader"]["secure"] is True


@pytest.mark.parametrize(
    ("public_url", "hsts", "secure"),
    [("https://comments.news.example", 31_536_000, True), ("http://127.0.0.1:8000", 0, False)],
)
def test_https_alone_turns_on_hsts_and_secure_cookies(
    monkeypatch, tmp_path, client, settings, public_url, hsts, secure
):
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARLEY_PUBLIC_URL", public_url)
    monkeypatch.setenv("PARLEY_STREAM_URL", "https://live.news.example/api/v1/threads/stream")
    configured = runpy.run_path(str(Path(parley.config.__file__).parent / "settings.py"))
    settings.PARLEY_HSTS_SECONDS = configured["PARLEY_HSTS_SECONDS"]

    answer = client.get("/healthz")

    assert configured["PARLEY_HSTS_SECONDS"] == hsts
    assert answer.get("Strict-Transport-Security") == (f"max-age={hsts}" if hsts else None)
    assert configured["SESSION_COOKIE_SECURE"] is configured["CSRF_COOKIE_SECURE"] is secure
    # The widget on Parley's pages opens the live stream at its own address.
    assert configured["PARLEY_CSP"]["connect-src"] == ["'self'", "https://live.news.example"]
