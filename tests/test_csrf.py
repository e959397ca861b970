"""Cross-site requests: every form that posts carries its CSRF token and, sent without it, is
refused with a page a person understands; the JSON API, which takes no token (the widget on
another site could not have one), refuses a write from another origin that carries Parley's
cookies."""

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.test import Client

from parley.comments.models import Comment
from parley.core.readers import READER_COOKIE, mint_reader_token
from tests.pages import SLUG, newsroom, routes, signed_in

pytestmark = pytest.mark.django_db

TOKEN = "csrfmiddlewaretoken"
# One-click unsubscribe (RFC 8058): mail providers POST it with no cookie, and the signed
# link itself is the credential, which a forging page does not have.
EXEMPT = {"notifications:unsubscribe"}
STALE = "This form was not accepted: it was not sent from this site's own page"
NO_COOKIE = "Your browser did not send this page's security cookie"


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)


class PostForms(HTMLParser):
    """The forms of a page that POST, with the names and values of their fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.open = Form(attr.get("action", "")) if attr.get("method") == "post" else None
            if self.open is not None:
                self.forms.append(self.open)
        elif tag in ("input", "textarea", "select", "button") and self.open and "name" in attr:
            self.open.fields.setdefault(attr["name"], attr.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.open = None


def text(response) -> str:
    return html.unescape(response.content.decode())


def post_forms(page: str) -> list[Form]:
    parser = PostForms()
    parser.feed(page)
    return parser.forms


def test_every_form_carries_its_token_and_without_it_is_refused_in_plain_words():
    world = newsroom()
    refused = set()
    for who in (None, world.reader, world.staff):
        client = signed_in(who, enforce_csrf_checks=True)
        for route in routes(world):
            if who is not world.staff and (
                route.path.startswith("/api/")
                or (route.path.startswith("/admin/") and route.name != "admin:login")
            ):
                continue
            page = client.get(route.path)
            if not page.get("Content-Type", "").startswith("text/html"):
                continue
            for form in post_forms(page.content.decode()):
                target = urljoin(route.path, form.action or route.path)
                if route.name in EXEMPT or (who, target) in refused:
                    continue
                assert form.fields.get(TOKEN), f"{route.name}: a form to {target} has no token"
                del form.fields[TOKEN]

                answer = client.post(target, form.fields)

                assert answer.status_code == 403, target
                assert STALE in text(answer), target
                assert "Content-Security-Policy" in answer
                refused.add((who, target))

    pages = {target for _who, target in refused}
    # Readers' forms, moderators' and the admin's: the walk found them all.
    for expected in (
        "/comments/post",
        "/accounts/profile/",
        f"/support/{SLUG}/",
        "/notifications/manage/",
        "/moderation/bulk",
        "/admin/login/",
        "/admin/parley_sites/site/add/",
        "/admin/accounts/personaldata/",
    ):
        assert expected in pages
    assert any("/wall-name/" in p for p in pages)
    assert any(p.startswith("/notifications/confirm/") for p in pages)
    assert any(p.startswith("/moderation/comments/") and p.endswith("/approve") for p in pages)


def test_a_form_without_its_cookie_says_to_allow_cookies_and_gives_the_text_back():
    newsroom()
    browser = Client(enforce_csrf_checks=True)  # never shown the page: no cookie

    answer = browser.post("/comments/post", {"body": "My long, careful reply"})

    assert answer.status_code == 403
    assert NO_COOKIE in text(answer)
    assert "My long, careful reply" in text(answer)


def test_a_form_sent_from_another_site_is_refused_even_with_a_token():
    newsroom()
    browser = Client(enforce_csrf_checks=True)
    browser.get("/articles/river/")
    token = browser.cookies["csrftoken"].value

    answer = browser.post(
        "/comments/post", {TOKEN: token, "body": "Hi"}, HTTP_ORIGIN="https://evil.example"
    )

    assert answer.status_code == 403
    assert STALE in text(answer)


def test_the_moderation_queue_script_is_told_why_in_json():
    world = newsroom()
    moderator = signed_in(world.staff, enforce_csrf_checks=True)
    moderator.get("/moderation/")
    held = Comment.objects.get(status="pending")

    answer = moderator.post(
        f"/moderation/comments/{held.pk}/approve", {}, HTTP_ACCEPT="application/json"
    )

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "csrf_failed"
    assert STALE in answer.json()["error"]["message"]
    assert Comment.objects.get(pk=held.pk).status == "pending"


# --- the JSON API ---------------------------------------------------------------------------

WRITES = ("post", "put", "patch", "delete")


def api_writes(comment_id: int) -> list[tuple[str, str]]:
    """Every operation of the API that changes something, with its path filled in."""
    schema = Client().get("/api/v1/openapi.json").json()
    return [
        (method, "/api/v1" + path.format(comment_id=comment_id, slug=SLUG))
        for path, operations in schema["paths"].items()
        for method in operations
        if method in WRITES
    ]


def with_cookies(reader) -> Client:
    """A signed-in reader's browser, with their session and their reader cookie."""
    browser = signed_in(reader)
    browser.cookies[READER_COOKIE] = mint_reader_token()
    return browser


def test_no_api_write_from_another_origin_may_ride_the_readers_cookies():
    world = newsroom()
    comment = world.comment
    writes = api_writes(comment.pk)
    assert len(writes) >= 9  # comments, edits, deletes, votes, reports, subscriptions, …

    for method, path in writes:
        for forged in (
            {"HTTP_ORIGIN": "https://evil.example"},
            {"HTTP_ORIGIN": "https://blog.example"},  # allowed to embed, not to use cookies
            {"HTTP_ORIGIN": "null"},  # a sandboxed frame
            {"HTTP_SEC_FETCH_SITE": "same-site"},  # an older browser, no Origin
        ):
            answer = getattr(with_cookies(world.reader), method)(
                path, "{}", content_type="text/plain", **forged
            )
            assert answer.status_code == 403, (method, path, forged)
            assert answer.json()["error"]["code"] == "cross_site"

    assert Comment.objects.get(pk=comment.pk).score == comment.score


def test_the_widget_and_parleys_own_pages_still_write():
    world = newsroom()
    vote = f"/api/v1/comments/{world.comment.pk}/vote"

    own_page = with_cookies(world.reader).post(
        vote, {"value": 1}, content_type="application/json", HTTP_ORIGIN="http://testserver"
    )
    widget = Client().post(  # on another site: no cookie, the token in a header
        vote,
        {"value": -1},
        content_type="application/json",
        HTTP_ORIGIN="https://blog.example",
        HTTP_X_PARLEY_READER=mint_reader_token(),
    )

    assert (own_page.status_code, widget.status_code) == (200, 200)
    assert own_page.json()["value"] == 1 and widget.json()["value"] == -1
