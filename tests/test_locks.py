"""Row locks of concurrent writes in one thread, on PostgreSQL (SQLite has one writer at a
time): a reader voting on a comment must not hold up a reply posted deeper in its tree, or
the two deadlock (the vote's transaction then waits on the thread row the reply updated)."""

import threading

import pytest
from django.db import connection, connections, transaction

from parley.comments.access import access_comment
from parley.core.readers import Actor
from tests.factories import ThreadFactory, post_comment

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite takes one writer at a time"
)
def test_a_reply_is_stored_while_the_root_of_its_tree_is_locked_for_a_vote():
    with transaction.atomic():
        root = post_comment(ThreadFactory.create(), "Root.")
        parent = post_comment(root.thread, "Parent.", parent=root)
    locked, replied = threading.Event(), threading.Event()

    def vote_holding_the_lock() -> None:
        try:
            with transaction.atomic():
                access_comment(Actor("r:voter", "", "test"), root.pk, lock=True)
                locked.set()
                replied.wait(10)  # as a slow vote would, while the reply goes in
        finally:
            connections.close_all()

    voter = threading.Thread(target=vote_holding_the_lock)
    voter.start()
    assert locked.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        # Its foreign key to the root takes KEY SHARE on it: FOR UPDATE would block that.
        with transaction.atomic():
            reply = post_comment(parent.thread, "Reply.", parent=parent)
    finally:
        replied.set()
        voter.join()

    assert (reply.parent_id, reply.root_id) == (parent.pk, root.pk)
