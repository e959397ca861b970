"""Reading a thread: the tree readers see, its order, pages, depth cap and cost."""

import base64
import gzip
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from parley.comments import reads
from parley.comments.actions import do_vote
from parley.comments.models import Comment
from parley.moderation.models import Policy
from tests.factories import SiteFactory, ThreadFactory, post_comment, say

pytestmark = pytest.mark.django_db


def read(client, thread, **params):
    response = client.api_get("/threads", site=thread.site.name, uri=thread.uri, **params)
    assert response.status_code == 200, response.content
    return response.json()


def test_replies_nest_under_their_parents(client):
    thread = ThreadFactory.create()
    first = post_comment(thread, "First", author="Ann")
    reply = post_comment(thread, "Reply", author="Bob", parent=first)
    post_comment(thread, "Reply to reply", author="Cem", parent=reply)

    data = read(client, thread)

    assert data["thread"]["count"] == 3
    [top] = data["comments"]
    assert top["author"]["name"] == "Ann"
    assert top["replies"][0]["author"]["name"] == "Bob"
    assert top["replies"][0]["replies"][0]["html"] == "<p>Reply to reply</p>"
    assert top["replies"][0]["replies"][0]["level"] == 3


def test_thread_never_carries_markdown_source_or_email(client):
    thread = ThreadFactory.create()
    post_comment(thread, "Some *emphasis*", author="Ann", author_email="ann@example.org")

    response = client.api_get("/threads", site=thread.site.name, uri=thread.uri)

    assert b"ann@example.org" not in response.content
    assert b"*emphasis*" not in response.content
    assert response.json()["comments"][0]["html"] == "<p>Some <em>emphasis</em></p>"


def test_replies_deeper_than_the_site_maximum_show_at_the_deepest_level(client):
    thread = ThreadFactory.create()
    parent = post_comment(thread, "level 1", author="L1")
    for level in range(2, 7):
        parent = post_comment(thread, f"level {level}", author=f"L{level}", parent=parent)

    top = read(client, thread)["comments"][0]

    level4 = top["replies"][0]["replies"][0]["replies"][0]
    assert level4["author"]["name"] == "L4"
    assert [r["author"]["name"] for r in level4["replies"]] == []
    deeper = top["replies"][0]["replies"][0]["replies"]
    assert [(c["author"]["name"], c["level"], c["in_reply_to"]) for c in deeper] == [
        ("L4", 4, None),
        ("L5", 4, "L4"),
        ("L6", 4, "L5"),
    ]


def test_site_maximum_depth_is_configurable(client):
    site = SiteFactory.create(max_depth=2)
    thread = ThreadFactory.create(site=site)
    a = post_comment(thread, "a", author="A")
    b = post_comment(thread, "b", author="B", parent=a)
    post_comment(thread, "c", author="C", parent=b)

    replies = read(client, thread)["comments"][0]["replies"]

    assert [(r["author"]["name"], r["level"], r["in_reply_to"]) for r in replies] == [
        ("B", 2, None),
        ("C", 2, "B"),
    ]


def _three_comments(thread):
    now = timezone.now()
    old = post_comment(thread, "old", author="Old", created_at=now - timedelta(hours=2))
    mid = post_comment(thread, "mid", author="Mid", created_at=now - timedelta(hours=1))
    new = post_comment(thread, "new", author="New", created_at=now)
    for n in range(3):
        do_vote(mid, f"r:voter{n}", 1)
    do_vote(new, "r:voter", -1)
    return old, mid, new


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["New", "Mid", "Old"]),
        ("oldest", ["Old", "Mid", "New"]),
        ("votes", ["Mid", "Old", "New"]),
    ],
)
def test_sort_orders_top_level_comments(client, sort, expected):
    thread = ThreadFactory.create()
    _three_comments(thread)

    names = [c["author"]["name"] for c in read(client, thread, sort=sort)["comments"]]

    assert names == expected


@pytest.mark.parametrize("sort", ["newest", "oldest", "votes"])
def test_cursor_pages_through_every_top_level_comment_once(client, sort):
    thread = ThreadFactory.create()
    now = timezone.now()
    posted = [
        post_comment(thread, f"c{n}", created_at=now - timedelta(minutes=n % 3)) for n in range(7)
    ]
    for comment in posted[:4]:
        do_vote(comment, "r:voter", 1)

    seen, cursor, pages = [], None, 0
    while True:
        params = {"sort": sort, "limit": 3} | ({"cursor": cursor} if cursor else {})
        data = read(client, thread, **params)
        seen += [c["id"] for c in data["comments"]]
        pages += 1
        cursor = data["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert sorted(seen) == sorted(c.pk for c in posted)


def test_a_forged_cursor_is_refused_not_a_server_error(client):
    thread = ThreadFactory.create()
    post_comment(thread)

    response = client.api_get("/threads", site=thread.site.name, uri=thread.uri, cursor="!!bad")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"


def test_an_unknown_page_is_an_empty_thread_and_an_unknown_site_is_404(client):
    site = SiteFactory.create()
    data = read(client, ThreadFactory.build(site=site, uri="/never-commented/"))
    assert data["thread"]["count"] == 0
    assert data["comments"] == []
    response = client.api_get("/threads", site="nope", uri="/x/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_uri_is_kept_exactly_as_given(client):
    site = SiteFactory.create()
    with_slash = ThreadFactory.create(site=site, uri="/story/")
    post_comment(with_slash)

    assert read(client, with_slash)["thread"]["count"] == 1
    assert read(client, ThreadFactory.build(site=site, uri="/story"))["thread"]["count"] == 0


def test_pending_and_spam_comments_and_their_replies_stay_hidden(client):
    thread = ThreadFactory.create()
    post_comment(thread, "held", status="pending")
    post_comment(thread, "spam", status="spam")
    shown = post_comment(thread, "shown")

    data = read(client, thread)

    assert [c["id"] for c in data["comments"]] == [shown.pk]
    assert data["thread"]["count"] == 1


def _thread_with(count: int):
    thread = ThreadFactory.create()
    roots: list[Comment] = []
    for n in range(count):
        if n % 4 == 0 or not roots:
            roots.append(post_comment(thread, f"top {n}"))
        else:
            roots[-1] = post_comment(thread, f"reply {n}", parent=roots[-1])
    return thread


def test_reading_costs_the_same_queries_for_10_and_500_comments(client):
    small, large = _thread_with(10), _thread_with(500)
    counts = []
    for thread in (small, large):
        with CaptureQueriesContext(connection) as queries:
            read(client, thread, limit=100)
        counts.append(len(queries))
    assert counts[0] == counts[1] == 3


def test_a_warm_read_does_no_database_work(client):
    thread = _thread_with(10)
    read(client, thread)
    with CaptureQueriesContext(connection) as queries:
        read(client, thread)
    assert len(queries) == 0


def test_a_write_shows_in_the_next_read(client, django_capture_on_commit_callbacks):
    thread = ThreadFactory.create()
    read(client, thread)
    with django_capture_on_commit_callbacks(execute=True):
        client.post_json(
            "/comments",
            {"site": thread.site.name, "uri": thread.uri, "body": "fresh", "author_name": "Ann"},
        )
    assert read(client, thread)["thread"]["count"] == 1


def test_thread_is_compressed_and_revalidated_with_an_etag(client):
    thread = _thread_with(10)
    url = f"/api/v1/threads?site={thread.site.name}&uri={thread.uri}"

    first = client.get(url, HTTP_ACCEPT_ENCODING="gzip, br")
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first["Content-Encoding"] == "gzip"
    assert len(gzip.decompress(first.content)) > len(first.content)
    assert again.status_code == 304
    assert again.content == b""


def test_counts_for_many_pages_in_one_call(client):
    site = SiteFactory.create()
    one, two = (
        ThreadFactory.create(site=site, uri="/one/"),
        ThreadFactory.create(site=site, uri="/two/"),
    )
    post_comment(one)
    parent = post_comment(two)
    post_comment(two, parent=parent)
    post_comment(two, status="pending")

    response = client.get("/api/v1/counts?site=news&uri=/one/&uri=/two/&uri=/three/")

    assert response.json() == {"counts": {"/one/": 1, "/two/": 2, "/three/": 0}}
    unknown = client.get("/api/v1/counts?site=nope&uri=/one/")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_counts_are_cached_until_a_write_to_one_of_their_threads(
    client, django_capture_on_commit_callbacks
):
    site = SiteFactory.create()
    Policy.objects.update_or_create(site=site, defaults={"use_scorer": False})
    post_comment(ThreadFactory.create(site=site, uri="/one/"))
    url = "/api/v1/counts?site=news&uri=/one/&uri=/two/"
    first = client.get(url)

    with CaptureQueriesContext(connection) as queries:
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    with django_capture_on_commit_callbacks(execute=True):
        say(client, "A second one.", uri="/two/")
    after = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.json() == {"counts": {"/one/": 1, "/two/": 0}}
    assert len(queries) == 0
    assert again.status_code == 304
    assert after.status_code == 200
    assert after.json() == {"counts": {"/one/": 1, "/two/": 1}}


def test_simultaneous_misses_render_a_page_once():
    renders = []

    def slow_render() -> bytes:
        renders.append(1)
        time.sleep(0.2)
        return b"page"

    reads.invalidate("news", "/x/")  # the thread has a generation, as after its first write
    readers = [
        threading.Thread(target=reads.cached_body, args=("json", "news", "/x/", (), slow_render))
        for _ in range(4)
    ]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()

    assert renders == [1]


def test_inline_feedback_keeps_its_passage_and_can_be_shown_alone(client):
    SiteFactory.create()
    quoted = client.post_json(
        "/comments",
        {
            "site": "news",
            "uri": "/story/",
            "body": "Not so.",
            "author_name": "Ann",
            "quote": "the river has become wider",
            "quote_prefix": "effect is that ",
            "quote_suffix": ", in time",
        },
    ).json()["comment"]
    client.post_json(
        "/comments",
        {"site": "news", "uri": "/story/", "body": "General remark.", "author_name": "Bob"},
    )

    assert quoted["quote_selector"] == {
        "exact": "the river has become wider",
        "prefix": "effect is that ",
        "suffix": ", in time",
    }
    inline = client.api_get("/threads", site="news", uri="/story/", filter="inline").json()
    assert [c["id"] for c in inline["comments"]] == [quoted["id"]]
    fragment = client.get("/fragments/thread?site=news&uri=/story/&filter=inline").content.decode()
    assert "Not so." in fragment and "General remark." not in fragment
    assert 'aria-current="true">Inline feedbacks' in fragment


def test_a_quote_context_longer_than_a_selector_needs_is_refused(client):
    SiteFactory.create()
    response = client.post_json(
        "/comments",
        {
            "site": "news",
            "uri": "/story/",
            "body": "x",
            "author_name": "Ann",
            "quote": "passage",
            "quote_prefix": "p" * 65,
        },
    )
    assert response.status_code == 422
    assert "quote_prefix" in response.json()["error"]["fields"]


def test_a_cursor_at_the_edge_of_time_is_refused_not_a_server_error(client):
    ThreadFactory.create(uri="/story/")
    edge = base64.urlsafe_b64encode(b'["0001-01-01T00:00:00+14:00", 1]').decode()

    for path in ("/api/v1/threads", "/fragments/thread"):
        response = client.get(path, {"site": "news", "uri": "/story/", "cursor": edge})
        assert response.status_code == 422, path
        assert "cursor" in response.json()["error"]["message"]


def test_a_fragment_asked_for_with_a_nul_character_is_refused(client):
    ThreadFactory.create(uri="/story/")

    response = client.get("/fragments/thread", {"site": "news", "uri": "/story/\x00"})

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "uri": "Contains a character that cannot be stored."
    }
