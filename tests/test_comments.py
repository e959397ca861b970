"""Writing: posting, editing, deleting, voting and reporting, and what a stranger cannot do."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from parley.comments.models import Comment, CommentRevision, Thread, Vote
from parley.moderation.models import Report
from parley.sites.models import Site
from tests.factories import SiteFactory, ThreadFactory, post_comment

pytestmark = pytest.mark.django_db


def new_comment(client, site="news", uri="/story/", headers=None, **fields):
    data = {"site": site, "uri": uri, "body": "Hello", "author_name": "Ann"} | fields
    return client.post_json("/comments", data, **(headers or {}))


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def test_guest_posts_a_comment_and_gets_credentials(client):
    SiteFactory.create()

    response = new_comment(
        client,
        body="Well *argued*",
        author_email="ann@example.org",
        author_url="https://ann.example",
    )

    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "published"
    assert data["comment"]["html"] == "<p>Well <em>argued</em></p>"
    assert data["comment"]["author"] == {
        "name": "Ann",
        "url": "https://ann.example",
        "avatar": data["comment"]["author"]["avatar"],
        "supporter": False,
    }
    assert data["comment"]["author"]["avatar"].startswith("/avatars/")
    assert "ann@example.org" not in response.content.decode()
    assert data["edit_token"] and data["reader_token"]
    assert response.cookies["parley_reader"].value == data["reader_token"]
    assert Thread.objects.get(uri="/story/").published_count == 1


def test_pre_moderated_site_holds_the_comment(client):
    SiteFactory.create(moderation=Site.Moderation.PRE)

    response = new_comment(client)

    assert response.json()["status"] == "pending"
    assert Thread.objects.get(uri="/story/").published_count == 0


def test_reply_in_the_same_thread(client):
    SiteFactory.create()
    parent = new_comment(client).json()["comment"]["id"]

    response = new_comment(client, parent=parent, body="Agreed")

    assert response.status_code == 201
    assert Comment.objects.get(pk=response.json()["comment"]["id"]).parent_id == parent
    assert Comment.objects.get(pk=parent).reply_count == 1


class ElementCollector(HTMLParser):
    """The elements and attributes a browser would build from a piece of HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        '<img src=x onerror="alert(1)">',
        '<a href="https://x.example" onclick="steal()">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "![tracker](https://tracker.example/pixel.gif)",
    ],
)
def test_hostile_markup_is_shown_as_text_never_as_html(client, body):
    SiteFactory.create()

    response = new_comment(client, body=body)

    assert response.status_code == 201
    html = response.json()["comment"]["html"]
    for tag, attrs in ElementCollector(html).elements:
        assert tag in {"p", "a"}, html
        assert not any(name.startswith("on") for name in attrs), html
        assert (attrs.get("href") or "https:").startswith("https:"), html
    stored = Comment.objects.get()
    assert (stored.body, stored.body_html) == (body, html)


def test_links_get_nofollow_ugc_noopener_and_images_become_links(client):
    SiteFactory.create()

    html = new_comment(
        client, body="See https://example.org and ![map](https://old.example/map.png)"
    ).json()["comment"]["html"]

    assert '<a href="https://example.org" rel="nofollow ugc noopener">' in html
    assert '<a href="https://old.example/map.png" rel="nofollow ugc noopener">🖼 map</a>' in html


def test_a_body_over_the_limit_is_413_and_stores_nothing(client):
    SiteFactory.create()

    error = assert_error(new_comment(client, body="x" * 10_001), 413, "too_large")

    assert "10000" in error["message"]
    assert not Comment.objects.exists()


def test_a_one_megabyte_request_is_413_and_stores_nothing(client):
    SiteFactory.create()

    assert_error(new_comment(client, body="x" * 1_000_000), 413, "too_large")
    assert not Comment.objects.exists()


def test_the_body_limit_is_configurable_per_site(client):
    SiteFactory.create(max_body_length=20)

    assert_error(new_comment(client, body="x" * 21), 413, "too_large")
    assert new_comment(client, body="x" * 20).status_code == 201


def test_invalid_utf8_is_400_and_stores_nothing(client):
    SiteFactory.create()

    response = client.post(
        "/api/v1/comments", b'{"site": "news", "body": "\xff\xfe"}', content_type="application/json"
    )

    assert_error(response, 400, "bad_request")
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"author_name": "  "}, "author_name"),
        ({"author_email": "not-an-address"}, "author_email"),
        ({"author_url": "javascript:alert(1)"}, "author_url"),
        ({"body": "   "}, "body"),
        ({"body": "nul \x00 byte"}, "body"),
        ({"uri": "no-leading-slash"}, "uri"),
    ],
)
def test_invalid_fields_are_422_with_the_field_named(client, fields, bad_field):
    SiteFactory.create()

    error = assert_error(new_comment(client, **fields), 422, "invalid")

    assert bad_field in error["fields"]
    assert not Comment.objects.exists()


def test_missing_fields_are_named(client):
    error = assert_error(client.post_json("/comments", {"site": "news"}), 422, "invalid")
    assert set(error["fields"]) == {"uri", "body", "author_name"}


def test_a_parent_that_does_not_exist_is_404(client):
    SiteFactory.create()

    assert_error(new_comment(client, parent=999_999), 404, "not_found")
    assert not Comment.objects.exists()


def test_a_parent_in_another_thread_is_404(client):
    site = SiteFactory.create()
    elsewhere = post_comment(ThreadFactory.create(site=site, uri="/other/"))

    assert_error(new_comment(client, parent=elsewhere.pk), 404, "not_found")
    assert Comment.objects.count() == 1


def test_posting_to_a_closed_thread_is_403(client):
    ThreadFactory.create(uri="/story/", closed_at=timezone.now())

    assert_error(new_comment(client), 403, "thread_closed")
    assert not Comment.objects.exists()


def test_an_origin_the_site_does_not_allow_is_403(client):
    SiteFactory.create()

    response = new_comment(client, headers={"HTTP_ORIGIN": "https://evil.example"})

    assert_error(response, 403, "origin_not_allowed")
    assert not Comment.objects.exists()


def test_an_allowed_embedding_origin_may_post(client):
    SiteFactory.create()

    assert new_comment(client, headers={"HTTP_ORIGIN": "https://blog.example"}).status_code == 201


def test_unknown_site_is_404(client):
    assert_error(new_comment(client, site="nowhere"), 404, "not_found")


def test_posting_is_rate_limited_per_address(client, settings):
    SiteFactory.create()
    settings.PARLEY_RATE_LIMITS_ENABLED = True
    statuses = [new_comment(client, body=f"comment {n}").status_code for n in range(12)]

    assert statuses[:10] == [201] * 10
    response = new_comment(client, body="one more")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    assert Comment.objects.count() == 10


# --- editing ---------------------------------------------------------------------------------


def test_author_edits_within_the_window_and_the_old_version_is_kept(client):
    SiteFactory.create()
    posted = new_comment(client, body="Frist").json()

    response = client.patch_json(
        f"/comments/{posted['comment']['id']}", {"body": "First"}, **bearer(posted["edit_token"])
    )

    assert response.status_code == 200
    assert response.json()["html"] == "<p>First</p>"
    assert response.json()["edited_at"] is not None
    [revision] = CommentRevision.objects.all()
    assert revision.body == "Frist"


def test_reading_a_comment_with_its_token_returns_the_markdown(client):
    SiteFactory.create()
    posted = new_comment(client, body="*source*").json()
    url = f"/api/v1/comments/{posted['comment']['id']}"

    assert client.get(url, **bearer(posted["edit_token"])).json()["body"] == "*source*"
    assert client.get(url).json()["body"] is None


def test_a_forged_edit_credential_is_403_and_changes_nothing(client, other_reader):
    SiteFactory.create()
    mine = new_comment(client, body="mine").json()
    theirs = new_comment(other_reader, body="theirs").json()
    forged = mine["edit_token"][:-3] + "abc"

    for token in (forged, theirs["edit_token"], "garbage"):
        response = client.patch_json(
            f"/comments/{mine['comment']['id']}", {"body": "hacked"}, **bearer(token)
        )
        assert_error(response, 403, "bad_credential")
    assert_error(
        client.patch_json(f"/comments/{mine['comment']['id']}", {"body": "hacked"}),
        401,
        "unauthorized",
    )
    assert Comment.objects.get(pk=mine["comment"]["id"]).body == "mine"


def test_an_expired_edit_credential_is_403(client, monkeypatch):
    SiteFactory.create(edit_window_minutes=15)
    posted = new_comment(client, body="mine").json()
    later = timezone.now() + timedelta(minutes=16)
    monkeypatch.setattr("django.core.signing.time.time", lambda: later.timestamp())

    response = client.patch_json(
        f"/comments/{posted['comment']['id']}", {"body": "late"}, **bearer(posted["edit_token"])
    )

    error = assert_error(response, 403, "bad_credential")
    assert "passed" in error["message"]
    assert Comment.objects.get().body == "mine"


# --- deleting --------------------------------------------------------------------------------


def test_author_deletes_a_comment_without_replies_and_it_disappears(client):
    SiteFactory.create()
    posted = new_comment(client).json()

    response = client.delete(
        f"/api/v1/comments/{posted['comment']['id']}", **bearer(posted["edit_token"])
    )

    assert response.status_code == 204
    thread = client.api_get("/threads", site="news", uri="/story/").json()
    assert thread["comments"] == []
    assert thread["thread"]["count"] == 0


def test_a_deleted_comment_with_replies_stays_as_a_placeholder(client, other_reader):
    SiteFactory.create()
    posted = new_comment(client, body="secret words").json()
    new_comment(other_reader, parent=posted["comment"]["id"], body="a reply")

    client.delete(f"/api/v1/comments/{posted['comment']['id']}", **bearer(posted["edit_token"]))

    thread = client.api_get("/threads", site="news", uri="/story/").json()
    [placeholder] = thread["comments"]
    assert placeholder["status"] == "deleted"
    assert placeholder["html"] == ""
    assert placeholder["author"]["name"] == ""
    assert placeholder["replies"][0]["html"] == "<p>a reply</p>"
    assert b"secret words" not in client.get("/api/v1/threads?site=news&uri=/story/").content
    assert thread["thread"]["count"] == 1


def test_a_deleted_comment_read_alone_shows_nothing_of_it_even_to_its_author(
    client, other_reader
):
    SiteFactory.create()
    posted = new_comment(client, body="my home address").json()
    url = f"/api/v1/comments/{posted['comment']['id']}"
    client.delete(url, **bearer(posted["edit_token"]))

    for reader, headers in ((other_reader, {}), (client, bearer(posted["edit_token"]))):
        response = reader.get(url, **headers)
        assert response.status_code == 200
        gone = response.json()
        assert (gone["status"], gone["html"], gone["author"]["name"]) == ("deleted", "", "")
        assert not gone.get("body")
        assert b"home address" not in response.content


def test_staff_delete_without_a_token(client, admin_user, other_reader):
    SiteFactory.create()
    posted = new_comment(other_reader).json()
    client.force_login(admin_user)

    response = client.delete(f"/api/v1/comments/{posted['comment']['id']}")

    assert response.status_code == 204
    assert Comment.objects.get().status == "deleted"


def test_another_reader_cannot_delete(client, other_reader):
    SiteFactory.create()
    posted = new_comment(client).json()

    url = f"/api/v1/comments/{posted['comment']['id']}"

    assert_error(other_reader.delete(url), 401, "unauthorized")
    assert_error(
        other_reader.delete(url, HTTP_AUTHORIZATION="Bearer made-up"), 403, "bad_credential"
    )
    assert Comment.objects.get().status == "published"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("get", "/api/v1/comments", 405, "method_not_allowed"),
        ("put", "/api/v1/comments/1", 405, "method_not_allowed"),
        ("post", "/api/v1/comments/", 404, "not_found"),
        ("get", "/api/v1/no-such-thing", 404, "not_found"),
    ],
)
def test_errors_django_answers_still_have_the_api_shape(client, method, path, status, code):
    response = getattr(client, method)(path, content_type="application/json")
    assert_error(response, status, code)


def test_an_empty_body_is_400(client):
    response = client.post("/api/v1/comments", b"", content_type="application/json")
    assert_error(response, 400, "bad_request")


# --- votes -----------------------------------------------------------------------------------


def vote(client, comment_id, value, **headers):
    return client.post_json(f"/comments/{comment_id}/vote", {"value": value}, **headers)


def test_votes_are_one_per_reader_changeable_and_undoable(client, other_reader):
    SiteFactory.create()
    comment_id = new_comment(client).json()["comment"]["id"]

    assert vote(other_reader, comment_id, 1).json() == {
        "score": 1,
        "upvotes": 1,
        "downvotes": 0,
        "value": 1,
    }
    assert vote(other_reader, comment_id, 1).json()["score"] == 1
    assert vote(other_reader, comment_id, -1).json() == {
        "score": -1,
        "upvotes": 0,
        "downvotes": 1,
        "value": -1,
    }
    assert vote(other_reader, comment_id, 0).json() == {
        "score": 0,
        "upvotes": 0,
        "downvotes": 0,
        "value": 0,
    }
    assert not Vote.objects.exists()


def test_no_vote_on_ones_own_comment(client):
    SiteFactory.create()
    comment_id = new_comment(client).json()["comment"]["id"]

    assert_error(vote(client, comment_id, 1), 403, "forbidden")
    assert Comment.objects.get().score == 0


def test_a_vote_must_be_up_down_or_zero(client, other_reader):
    SiteFactory.create()
    comment_id = new_comment(client).json()["comment"]["id"]

    assert_error(vote(other_reader, comment_id, 5), 422, "invalid")
    assert Comment.objects.get().score == 0


def test_a_vote_flood_from_one_reader_is_429(other_reader, settings):
    thread = ThreadFactory.create()
    comments = [post_comment(thread, f"comment {n}") for n in range(40)]
    settings.PARLEY_RATE_LIMITS_ENABLED = True

    statuses = [vote(other_reader, c.pk, 1).status_code for c in comments]

    assert statuses[:30] == [200] * 30
    assert set(statuses[30:]) == {429}
    assert Vote.objects.count() == 30


def test_one_address_cannot_swing_one_comment_by_flipping_votes(client, other_reader, settings):
    SiteFactory.create()
    settings.PARLEY_RATE_LIMITS_ENABLED = True
    comment_id = new_comment(client).json()["comment"]["id"]

    statuses = [vote(other_reader, comment_id, 1 if n % 2 else -1).status_code for n in range(12)]

    assert statuses[:10] == [200] * 10
    assert set(statuses[10:]) == {429}
    assert Vote.objects.count() == 1


def test_dropping_the_cookie_does_not_buy_more_votes(client, other_reader, settings):
    SiteFactory.create()
    settings.PARLEY_RATE_LIMITS_ENABLED = True
    comment_id = new_comment(client).json()["comment"]["id"]

    statuses = []
    for n in range(15):
        other_reader.cookies.clear()
        statuses.append(
            vote(other_reader, comment_id, -1, HTTP_X_PARLEY_READER=f"forged-{n}").status_code
        )

    assert statuses[:10] == [200] * 10
    assert set(statuses[10:]) == {429}
    assert Comment.objects.get().downvotes == 10


def test_votes_show_in_the_thread_and_sort_most_voted(
    client, other_reader, django_capture_on_commit_callbacks
):
    SiteFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        first = new_comment(client, body="first").json()["comment"]["id"]
        second = new_comment(client, body="second").json()["comment"]["id"]
        vote(other_reader, second, 1)

    thread = client.api_get("/threads", site="news", uri="/story/", sort="votes").json()

    assert [c["id"] for c in thread["comments"]] == [second, first]
    assert thread["comments"][0]["score"] == 1


# --- reports ---------------------------------------------------------------------------------


def test_a_report_is_stored_for_the_moderators_once_per_reader(client, other_reader):
    SiteFactory.create()
    comment_id = new_comment(client).json()["comment"]["id"]

    response = other_reader.post_json(
        f"/comments/{comment_id}/report", {"reason": "insult", "note": "Calls me names"}
    )
    again = other_reader.post_json(f"/comments/{comment_id}/report", {"reason": "spam"})

    assert response.status_code == 201
    assert_error(again, 409, "conflict")
    [report] = Report.objects.all()
    assert (report.reason, report.note) == ("insult", "Calls me names")


def test_one_network_address_cannot_report_a_comment_into_the_queue_alone(client, other_reader):
    """A colleague on the same office network may report too; the same person dropping the
    cookie again and again may not reach the three reports that hold a comment."""
    SiteFactory.create()
    comment_id = new_comment(client).json()["comment"]["id"]
    statuses = []
    for _n in range(3):
        other_reader.cookies.clear()
        statuses.append(
            other_reader.post_json(f"/comments/{comment_id}/report", {"reason": "spam"})
        )
    assert [r.status_code for r in statuses] == [201, 201, 409]
    assert_error(statuses[2], 409, "conflict")
    assert Report.objects.count() == 2


def test_a_report_needs_a_known_reason(client):
    SiteFactory.create()
    comment_id = new_comment(client).json()["comment"]["id"]

    assert_error(
        client.post_json(f"/comments/{comment_id}/report", {"reason": "meh"}), 422, "invalid"
    )
    assert not Report.objects.exists()


def test_behind_a_trusted_proxy_each_reader_has_their_own_limit(client, settings):
    SiteFactory.create()
    settings.PARLEY_RATE_LIMITS_ENABLED = True
    settings.PARLEY_PROXY_COUNT = 1

    def from_address(address, forged=""):
        chain = f"{forged}, {address}" if forged else address
        return new_comment(client, headers={"HTTP_X_FORWARDED_FOR": chain}).status_code

    assert [from_address("203.0.113.1") for _ in range(10)] == [201] * 10
    assert from_address("203.0.113.1") == 429
    # A forged entry further left does not give the same reader a new address.
    assert from_address("203.0.113.1", forged="198.51.100.7") == 429
    client.cookies.clear()  # another reader, at another address
    assert from_address("203.0.113.2") == 201


def test_without_a_trusted_proxy_forwarded_for_is_ignored(client, settings):
    SiteFactory.create()
    settings.PARLEY_RATE_LIMITS_ENABLED = True

    statuses = [
        new_comment(client, headers={"HTTP_X_FORWARDED_FOR": f"203.0.113.{n}"}).status_code
        for n in range(11)
    ]

    assert statuses[-1] == 429
    # "Try again in N seconds" (or "1 second", when the pinned time is a window's last).
    assert "second" in new_comment(client).json()["error"]["message"]


@pytest.mark.parametrize("value", [True, 1.0, "1"])
def test_a_vote_is_exactly_one_minus_one_or_zero(client, other_reader, value):
    SiteFactory.create()
    comment_id = new_comment(client).json()["comment"]["id"]

    assert_error(vote(other_reader, comment_id, value), 422, "invalid")
    assert not Vote.objects.exists()


@pytest.mark.parametrize("body", [b"null", b'"hi"', b"[1]"])
def test_a_body_that_is_not_a_json_object_is_400(client, body):
    response = client.post("/api/v1/comments", body, content_type="application/json")
    assert_error(response, 400, "bad_request")


def test_no_votes_in_a_closed_discussion(client, other_reader):
    SiteFactory.create()
    comment_id = new_comment(client).json()["comment"]["id"]
    Thread.objects.update(closed_at=timezone.now())

    assert_error(vote(other_reader, comment_id, 1), 403, "thread_closed")
    assert not Vote.objects.exists()


def test_a_deleted_comment_cannot_be_reported(client, other_reader):
    SiteFactory.create()
    posted = new_comment(client).json()
    client.delete(f"/api/v1/comments/{posted['comment']['id']}", **bearer(posted["edit_token"]))

    response = other_reader.post_json(
        f"/comments/{posted['comment']['id']}/report", {"reason": "spam"}
    )

    assert_error(response, 409, "conflict")
    assert not Report.objects.exists()
