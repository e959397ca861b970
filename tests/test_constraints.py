"""What must never happen is refused by the database itself, whatever the code above it does."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from parley.comments.models import Comment, Thread, Vote
from tests.factories import ThreadFactory, post_comment

pytestmark = pytest.mark.django_db


def refused(write) -> bool:
    try:
        with transaction.atomic():
            write()
            # PostgreSQL checks the deferred (parent, thread) key at commit; force it now.
            if connection.vendor == "postgresql":
                connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
    except IntegrityError:
        return True
    return False


def test_a_second_vote_by_the_same_reader_is_refused():
    comment = post_comment(ThreadFactory.create())
    Vote.objects.create(comment=comment, reader_key="r:1", value=1)

    assert refused(lambda: Vote.objects.create(comment=comment, reader_key="r:1", value=-1))


def test_a_vote_other_than_up_or_down_is_refused():
    comment = post_comment(ThreadFactory.create())
    assert refused(lambda: Vote.objects.create(comment=comment, reader_key="r:1", value=2))


def test_a_parent_in_another_thread_is_refused():
    here, there = ThreadFactory.create(), ThreadFactory.create()
    parent = post_comment(there)
    reply = post_comment(here)

    assert refused(
        lambda: Comment.objects.filter(pk=reply.pk).update(parent=parent, root=parent, depth=2)
    )
    assert refused(
        lambda: Comment.objects.create(
            thread=here,
            parent=parent,
            root=parent,
            depth=2,
            author_name="x",
            body="x",
            body_html="x",
            reader_key="r:x",
            created_at=parent.created_at,
        )
    )


def test_a_negative_tally_is_refused():
    comment = post_comment(ThreadFactory.create())

    assert refused(
        lambda: Comment.objects.filter(pk=comment.pk).update(
            upvotes=F("upvotes") - 1, score=F("score") - 1
        )
    )
    assert refused(
        lambda: Thread.objects.filter(pk=comment.thread_id).update(
            published_count=F("published_count") - 2
        )
    )


def test_a_score_that_disagrees_with_the_tallies_is_refused():
    comment = post_comment(ThreadFactory.create())
    assert refused(lambda: Comment.objects.filter(pk=comment.pk).update(score=5))


def test_a_thread_uri_is_unique_per_site():
    thread = ThreadFactory.create()
    assert refused(lambda: Thread.objects.create(site=thread.site, uri=thread.uri))
