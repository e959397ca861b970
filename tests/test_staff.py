"""Staff change what readers see only through actions, so counts and pages stay true."""

import pytest

from parley.comments.actions import do_delete_comment, do_set_status
from parley.comments.models import Comment, Thread
from tests.factories import ThreadFactory, post_comment

pytestmark = pytest.mark.django_db


def read(client, thread):
    return client.api_get("/threads", site=thread.site.name, uri=thread.uri).json()


def refreshed(*objects):
    for obj in objects:
        obj.refresh_from_db()


def test_marking_a_reply_as_spam_takes_it_out_of_every_count():
    thread = ThreadFactory.create()
    parent = post_comment(thread)
    reply = post_comment(thread, parent=parent)

    do_set_status(reply, Comment.Status.SPAM)

    refreshed(thread, parent)
    assert (thread.published_count, parent.reply_count) == (1, 0)
    do_set_status(reply, Comment.Status.PUBLISHED)
    refreshed(thread, parent)
    assert (thread.published_count, parent.reply_count) == (2, 1)


def test_a_placeholder_goes_with_its_last_reply_and_comes_back_with_a_new_one(
    client, django_capture_on_commit_callbacks
):
    thread = ThreadFactory.create()
    top = post_comment(thread, "top")
    middle = post_comment(thread, "middle", parent=top)
    leaf = post_comment(thread, "leaf", parent=middle)

    with django_capture_on_commit_callbacks(execute=True):
        refreshed(middle)
        do_delete_comment(middle)
    assert read(client, thread)["comments"][0]["replies"][0]["status"] == "deleted"

    with django_capture_on_commit_callbacks(execute=True):
        do_set_status(leaf, Comment.Status.SPAM)
    refreshed(top)
    assert top.reply_count == 0
    assert read(client, thread)["comments"][0]["replies"] == []

    with django_capture_on_commit_callbacks(execute=True):
        do_set_status(leaf, Comment.Status.PUBLISHED)
    refreshed(top)
    assert top.reply_count == 1
    placeholder = read(client, thread)["comments"][0]["replies"][0]
    assert placeholder["status"] == "deleted"
    assert placeholder["replies"][0]["html"] == "<p>leaf</p>"


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def admin_action(staff, model, action, pks):
    return staff.post(
        f"/admin/comments/{model}/", {"action": action, "_selected_action": [str(pk) for pk in pks]}
    )


def test_staff_mark_a_comment_as_spam_and_readers_stop_seeing_it(
    staff, django_capture_on_commit_callbacks
):
    thread = ThreadFactory.create()
    keep, spam = post_comment(thread, "keep"), post_comment(thread, "buy pills")
    assert read(staff, thread)["thread"]["count"] == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_action(staff, "comment", "mark_spam", [spam.pk])

    assert response.status_code == 302
    data = read(staff, thread)
    assert [c["id"] for c in data["comments"]] == [keep.pk]
    assert data["thread"]["count"] == 1
    assert staff.get("/api/v1/counts?site=news&uri=" + thread.uri).json()["counts"] == {
        thread.uri: 1
    }


def test_staff_close_a_discussion_and_it_takes_no_more_comments(
    staff, django_capture_on_commit_callbacks
):
    thread = ThreadFactory.create(uri="/story/")
    read(staff, thread)

    with django_capture_on_commit_callbacks(execute=True):
        admin_action(staff, "thread", "close", [thread.pk])

    assert read(staff, thread)["thread"]["closed"] is True
    response = staff.post_json(
        "/comments", {"site": "news", "uri": "/story/", "body": "late", "author_name": "A"}
    )
    assert response.status_code == 403
    assert not Comment.objects.exists()
    assert Thread.objects.get().closed_at is not None


def test_staff_cannot_rewrite_a_comment_or_its_counters_in_a_form(staff):
    comment = post_comment(ThreadFactory.create(), "original")

    staff.post(
        f"/admin/comments/comment/{comment.pk}/change/",
        {"body": "rewritten", "score": "99", "status": "spam"},
    )

    comment.refresh_from_db()
    assert (comment.body, comment.score, comment.status) == ("original", 0, "published")


def test_spam_with_replies_leaves_a_placeholder_and_a_true_count(
    client, django_capture_on_commit_callbacks
):
    thread = ThreadFactory.create()
    spam = post_comment(thread, "buy pills", author="Spammer")
    post_comment(thread, "Please remove this.", parent=spam)

    with django_capture_on_commit_callbacks(execute=True):
        do_set_status(spam, Comment.Status.SPAM)

    data = read(client, thread)
    [placeholder] = data["comments"]
    assert (placeholder["status"], placeholder["html"], placeholder["author"]["name"]) == (
        "deleted",
        "",
        "",
    )
    assert placeholder["replies"][0]["html"] == "<p>Please remove this.</p>"
    assert data["thread"]["count"] == 1
    assert b"buy pills" not in client.get(f"/api/v1/threads?site=news&uri={thread.uri}").content
