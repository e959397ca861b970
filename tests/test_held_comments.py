"""What readers see of moderation: a held comment shows to its author alone, marked
"Awaiting moderation"; a shadow-banned author's looks published to them; the comment box
carries its form signals; a banned reader is told why."""

import gzip
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.db import transaction
from django.utils import timezone

from parley.comments import fragments
from parley.comments.actions import do_set_status
from parley.comments.models import Comment, Thread
from parley.core.readers import READER_COOKIE, mint_reader_token, reader_key_from_token
from parley.moderation import gate
from parley.moderation.models import Assessment, Ban
from parley.sites.models import Site
from tests.conftest import ApiClient
from tests.factories import ArticleFactory, SiteFactory, ThreadFactory, post_comment

pytestmark = pytest.mark.django_db

MARKER = '<span class="parley-badge">Awaiting moderation</span>'


class Reader(ApiClient):
    """A browser with its own reader token, as a cookie (Parley's pages) or as the
    X-Parley-Reader header (the widget on another site)."""

    def __init__(self, *, header: bool = False) -> None:
        self.token = mint_reader_token()
        key = reader_key_from_token(self.token)
        assert key is not None
        self.key = key
        super().__init__(**({"HTTP_X_PARLEY_READER": self.token} if header else {}))
        if not header:
            self.cookies[READER_COOKIE] = self.token

    def fragment(self, thread: Thread, **params: Any) -> str:
        query = {"site": thread.site.name, "uri": thread.uri, **params}
        response = self.get("/fragments/thread", query)
        assert response.status_code == 200, response.content
        return response.content.decode()

    def thread(self, thread: Thread) -> dict[str, Any]:
        response = self.api_get("/threads", site=thread.site.name, uri=thread.uri)
        assert response.status_code == 200, response.content
        data: dict[str, Any] = response.json()
        return data


def held(thread: Thread, author: Reader, body: str = "Held for now.", **fields: Any) -> Comment:
    return post_comment(thread, body, reader_key=author.key, status="pending", **fields)


def comment_html(html: str, comment: Comment) -> str:
    """The comment's own <li>, up to its replies."""
    match = re.search(rf'<li class="([^"]*)" id="comment-{comment.pk}".*?</article>', html, re.S)
    assert match, f"comment {comment.pk} is not on show"
    return match[0]


def approve(comment: Comment, status: str, capture: Any) -> None:
    with capture(execute=True), transaction.atomic():
        do_set_status(Comment.objects.select_for_update().get(pk=comment.pk), status)


@pytest.fixture
def thread() -> Thread:
    return ThreadFactory.create(site=SiteFactory.create(), uri="/story/")


@pytest.fixture
def author() -> Reader:
    return Reader()


@pytest.fixture
def stranger() -> Reader:
    return Reader()


# --- the thread as its author and as everyone else sees it --------------------------------


def test_a_held_comment_shows_to_its_author_marked_and_to_nobody_else(thread, author, stranger):
    post_comment(thread, "Already out.", author="Ann")
    mine = held(thread, author, "My **careful** point.")

    own = comment_html(author.fragment(thread), mine)
    assert "<strong>careful</strong>" in own
    assert MARKER in own
    assert "parley-pending" in own
    assert "parley-reply" not in own  # a held comment takes no replies, its author's neither
    assert "1 comment<" in author.fragment(thread)  # the count leaves it out

    newcomer = Reader()
    newcomer.cookies.clear()
    for other in (stranger, Reader(header=True), newcomer):
        html = other.fragment(thread)
        assert "careful" not in html and MARKER not in html
        assert "1 comment<" in html


def test_the_widget_reader_is_known_by_the_header(thread):
    author = Reader(header=True)
    mine = held(thread, author, "Sent from the widget.")

    assert MARKER in comment_html(author.fragment(thread), mine)


def test_spam_looks_held_to_its_author(thread, author, stranger):
    mine = post_comment(thread, "Buy now", reader_key=author.key, status="spam")

    assert MARKER in comment_html(author.fragment(thread), mine)
    assert "Buy now" not in stranger.fragment(thread)


def test_a_held_reply_shows_under_its_parent_for_its_author(thread, author, stranger):
    parent = post_comment(thread, "Top comment.", author="Ann")
    reply = held(thread, author, "My held reply.", parent=parent)

    html = author.fragment(thread)
    assert MARKER in comment_html(html, reply)
    assert html.index(f'id="comment-{parent.pk}"') < html.index(f'id="comment-{reply.pk}"')
    assert "My held reply." not in stranger.fragment(thread)


def test_the_page_without_javascript_shows_the_author_their_held_comment(author, stranger):
    article = ArticleFactory.create()
    thread = ThreadFactory.create(site=article.site, uri=article.uri)
    held(thread, author, "Seen by me only.")

    mine = author.get(article.uri).content.decode()
    theirs = stranger.get(article.uri).content.decode()

    assert "Seen by me only." in mine and MARKER in mine
    assert "0 comments" in mine
    assert "Seen by me only." not in theirs and MARKER not in theirs


def test_a_signed_in_author_sees_their_held_comment(thread, client, admin_user):
    client.force_login(admin_user)
    mine = post_comment(thread, "Staff, held.", reader_key=f"u:{admin_user.pk}", status="pending")

    html = client.get("/fragments/thread", {"site": "news", "uri": thread.uri}).content.decode()

    assert MARKER in comment_html(html, mine)


def test_the_json_thread_gives_the_author_their_held_comment_as_pending(thread, author, stranger):
    post_comment(thread, "Published.", author="Ann")
    mine = held(thread, author)

    own = author.thread(thread)
    assert [c["status"] for c in own["comments"]] == ["pending", "published"]
    assert own["comments"][0]["id"] == mine.pk
    assert own["thread"]["count"] == 1
    theirs = stranger.thread(thread)
    assert [c["status"] for c in theirs["comments"]] == ["published"]


def test_the_json_thread_never_shows_a_held_comment_to_another_reader(thread, author, stranger):
    held(thread, author)

    data = stranger.thread(thread)

    assert data["comments"] == []
    assert data["thread"]["count"] == 0


# --- shadow bans --------------------------------------------------------------------------


def test_a_shadow_banned_authors_comment_looks_published_to_them_alone(thread, author, stranger):
    post_comment(thread, "Someone else.", author="Ann")
    mine = held(thread, author, "Shouting into the void.")
    Assessment.objects.create(comment=mine, shadow=True)

    html = author.fragment(thread)
    own = comment_html(html, mine)
    assert "Shouting into the void." in own
    assert MARKER not in own and "parley-pending" not in own
    assert "2 comments<" in html  # counted, as a published comment would be

    theirs = stranger.fragment(thread)
    assert "Shouting into the void." not in theirs
    assert "1 comment<" in theirs


def test_the_json_thread_shows_a_shadow_comment_to_its_author_as_published(thread, author):
    mine = held(thread, author)
    Assessment.objects.create(comment=mine, shadow=True)

    data = author.thread(thread)

    assert [c["status"] for c in data["comments"]] == ["published"]
    assert data["thread"]["count"] == 1


def test_the_author_reading_their_comment_alone_is_never_told_spam_or_shadow(thread, author):
    spam = post_comment(thread, "Spam.", reader_key=author.key, status="spam")
    shadow = held(thread, author, "Shadow.")
    Assessment.objects.create(comment=shadow, shadow=True)

    assert author.api_get(f"/comments/{spam.pk}").json()["status"] == "pending"
    assert author.api_get(f"/comments/{shadow.pk}").json()["status"] == "published"


# --- cost ---------------------------------------------------------------------------------


def test_warm_reads_of_readers_without_held_comments_do_no_database_work(
    thread, author, stranger, django_assert_num_queries
):
    post_comment(thread, "Published.", author="Ann")
    held(thread, author)
    widget = Reader(header=True)
    newcomer = Reader()
    newcomer.cookies.clear()
    for reader in (author, stranger, widget, newcomer):
        reader.fragment(thread)  # each page rendered once
        reader.thread(thread)

    for reader in (stranger, widget, newcomer, author):
        with django_assert_num_queries(0):
            reader.fragment(thread)
        with django_assert_num_queries(0):
            reader.thread(thread)


def test_the_shared_page_is_shared_and_the_authors_own_is_private(thread, author, stranger):
    held(thread, author)
    url = f"/fragments/thread?site=news&uri={thread.uri}"

    shared, private = stranger.get(url), author.get(url)

    assert shared["Cache-Control"] == "no-cache"
    assert private["Cache-Control"] == "private, no-cache"
    assert shared["ETag"] != private["ETag"]
    assert "X-Parley-Reader" in shared["Vary"] and "Cookie" in shared["Vary"]


# --- moderators' decisions show through ---------------------------------------------------


def test_an_approved_comment_shows_to_everyone_unmarked(
    thread, author, stranger, django_capture_on_commit_callbacks
):
    mine = held(thread, author, "Approve me.")
    assert MARKER in author.fragment(thread)
    assert "Approve me." not in stranger.fragment(thread)

    approve(mine, Comment.Status.PUBLISHED, django_capture_on_commit_callbacks)

    for reader in (author, stranger):
        html = reader.fragment(thread)
        assert "Approve me." in html and MARKER not in html
        assert "1 comment<" in html


def test_approval_in_the_admin_shows_through(
    thread, author, stranger, admin_user, django_capture_on_commit_callbacks
):
    mine = held(thread, author, "Approve me.")
    assert "Approve me." in author.fragment(thread)
    assert "Approve me." not in stranger.fragment(thread)
    staff = ApiClient()
    staff.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            "/admin/comments/comment/",
            {"action": "publish", "_selected_action": [str(mine.pk)]},
        )

    assert MARKER not in author.fragment(thread)
    assert "Approve me." in stranger.fragment(thread)


def test_a_rejected_comment_goes_from_its_authors_view_too(
    thread, author, django_capture_on_commit_callbacks
):
    mine = held(thread, author, "Reject me.")
    assert "Reject me." in author.fragment(thread)

    approve(mine, Comment.Status.REJECTED, django_capture_on_commit_callbacks)

    assert "Reject me." not in author.fragment(thread)


def test_a_rejected_comment_with_replies_leaves_a_placeholder(
    thread, stranger, django_capture_on_commit_callbacks
):
    parent = post_comment(thread, "Rude words.", author="Rude")
    post_comment(thread, "Calm answer.", author="Calm", parent=parent)
    lonely = post_comment(thread, "Rude again.", author="Rude")

    approve(parent, Comment.Status.REJECTED, django_capture_on_commit_callbacks)
    approve(lonely, Comment.Status.REJECTED, django_capture_on_commit_callbacks)

    html = stranger.fragment(thread)
    assert "Removed by a moderator." in comment_html(html, parent)
    assert "Rude" not in html
    assert "Calm answer." in html
    assert f'id="comment-{lonely.pk}"' not in html
    data = stranger.thread(thread)
    assert data["comments"][0]["status"] == "deleted"
    assert data["comments"][0]["html"] == ""


def test_a_comment_held_after_the_authors_last_read_shows_on_the_next(
    thread, author, django_capture_on_commit_callbacks
):
    Site.objects.filter(name="news").update(moderation=Site.Moderation.PRE)
    author.fragment(thread)

    with django_capture_on_commit_callbacks(execute=True):
        response = author.post_json(
            "/comments", {"site": "news", "uri": thread.uri, "body": "Wait", "author_name": "Me"}
        )
    assert response.json()["status"] == "pending"

    assert MARKER in author.fragment(thread)


# --- form signals -------------------------------------------------------------------------


def test_the_page_form_carries_a_fresh_token_and_a_field_for_bots_only(client):
    article = ArticleFactory.create()

    html = client.get(article.uri).content.decode()

    token = re.search(r'name="form_token" value="([^"]+)"', html)
    assert token and gate.form_age_seconds(token[1]) is not None
    assert 0 <= (gate.form_age_seconds(token[1]) or 0) < 5
    trap = re.search(r'<p class="parley-field parley-field-homepage"[^>]*>.*?</p>', html, re.S)
    assert trap, "the homepage field is on the form"
    # Off screen by the site's stylesheet: the page's policy allows no style attribute.
    assert 'aria-hidden="true"' in trap[0] and "style=" not in trap[0]
    css = finders.find("parley/site.css")
    assert css and re.search(r"\.parley-field-homepage \{[^}]*-10000px", Path(css).read_text())
    assert 'tabindex="-1"' in trap[0] and 'autocomplete="off"' in trap[0]
    assert "Leave this field empty" in trap[0]


def test_the_fragment_brings_a_token_minted_in_the_second_of_the_response(
    thread, stranger, monkeypatch, django_assert_num_queries
):
    tokens = iter(["first-token", "second-token"])
    monkeypatch.setattr(gate, "form_token", lambda: next(tokens))
    # A token tells the second it was minted: answers a second apart get their own.
    seconds = iter([1_800_000_000.0, 1_800_000_000.5, 1_800_000_001.0])
    monkeypatch.setattr(fragments, "time", SimpleNamespace(time=lambda: next(seconds)))

    first = stranger.fragment(thread)
    same_second = stranger.fragment(thread)
    with django_assert_num_queries(0):  # the thread itself comes from the cache
        second = stranger.get(
            "/fragments/thread", {"site": "news", "uri": thread.uri}, HTTP_ACCEPT_ENCODING="gzip"
        )

    assert 'name="form_token" value="first-token"' in first
    assert same_second == first
    assert second["Content-Encoding"] == "gzip"
    html = gzip.decompress(second.content).decode()
    assert 'name="form_token" value="second-token"' in html
    assert html.replace("second-token", "first-token") == first


def test_the_page_forms_signals_reach_the_moderation_gate(client, monkeypatch):
    article = ArticleFactory.create()
    seen: list[gate.Submission] = []
    screen = gate.screen

    def screen_and_keep(submission: gate.Submission) -> gate.Verdict:
        seen.append(submission)
        return screen(submission)

    monkeypatch.setattr(gate, "screen", screen_and_keep)
    html = client.get(article.uri).content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', html)
    assert token

    client.post(
        "/comments/post",
        {"site": "news", "uri": article.uri, "body": "Cheap pills", "author_name": "Bot"}
        | {"homepage": "https://pills.example", "form_token": token[1], "next": article.uri},
    )

    assert [(s.form_token, s.honeypot) for s in seen] == [(token[1], "https://pills.example")]


# --- bans and held posts without JavaScript -----------------------------------------------


def ban(reader: Reader, days: int = 1) -> Ban:
    return Ban.objects.create(
        kind=Ban.Kind.READER,
        value=reader.key,
        expires_at=timezone.now() + timedelta(days=days),
    )


def test_a_banned_reader_is_refused_with_the_reason(thread, author):
    ban(author)

    response = author.post_json(
        "/comments", {"site": "news", "uri": thread.uri, "body": "Hi", "author_name": "Me"}
    )

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "banned"
    assert error["message"].startswith("You cannot comment here until ")
    assert not Comment.objects.exists()


def test_a_banned_reader_sees_why_in_the_comment_box_without_javascript(author):
    article = ArticleFactory.create()
    ban(author)

    response = author.post(
        "/comments/post",
        {"site": "news", "uri": article.uri, "body": "Let me in", "author_name": "Me"}
        | {"next": article.uri},
        follow=True,
    )

    html = response.content.decode()
    box = html[html.index('id="comment-form"') :]
    assert re.search(r'class="parley-form-error" role="alert">You cannot comment here until ', box)
    assert "Let me in</textarea>" in box


def test_a_held_post_without_javascript_thanks_and_shows_it_to_its_author(client):
    article = ArticleFactory.create()
    Site.objects.filter(name="news").update(moderation=Site.Moderation.PRE)

    response = client.post(
        "/comments/post",
        {"site": "news", "uri": article.uri, "body": "Careful words", "author_name": "Me"}
        | {"next": article.uri},
        follow=True,
    )

    html = response.content.decode()
    assert "will appear once a moderator has approved it" in html
    assert "Careful words" in html and MARKER in html
    assert "Careful words" not in ApiClient().get(article.uri).content.decode()


def test_a_shadow_banned_poster_without_javascript_is_told_it_is_published(client):
    article = ArticleFactory.create()
    client.get(article.uri)  # the reader cookie comes with the first post
    client.post(
        "/comments/post",
        {"site": "news", "uri": article.uri, "body": "First", "author_name": "Me"}
        | {"next": article.uri},
    )
    key = Comment.objects.get().reader_key
    Ban.objects.create(kind=Ban.Kind.READER, value=key, shadow=True)

    response = client.post(
        "/comments/post",
        {"site": "news", "uri": article.uri, "body": "Second", "author_name": "Me"}
        | {"next": article.uri},
        follow=True,
    )

    said = re.search(r'<ul class="messages" role="status">(.*?)</ul>', response.content.decode())
    assert said and "Your comment is published." in said[1]
