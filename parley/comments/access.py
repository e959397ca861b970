"""Checked look-ups: a missing object and one the actor may not see answer alike."""

from django.db.models import QuerySet

from parley.core.errors import Forbidden, NotFound
from parley.core.readers import Actor
from parley.sites.models import Site

from .models import Comment, Thread


def access_site(actor: Actor, name: str) -> Site:
    try:
        site = Site.objects.get(name=name)
    except Site.DoesNotExist:
        raise NotFound(f"There is no site named “{name}”.") from None
    if actor.origin is not None and not site.allows_origin(actor.origin):
        raise Forbidden(f"This site does not allow comments from {actor.origin}.")
    return site


def access_comment(
    actor: Actor, comment_id: int, *, thread: Thread | None = None, lock: bool = False
) -> Comment:
    """A comment the actor may act on: visible, and (when given) in `thread`."""
    comments: QuerySet[Comment] = Comment.objects.select_related("thread__site")
    if lock:
        comments = comments.select_for_update(of=("self",))  # not the joined thread and site
    try:
        comment = comments.get(pk=comment_id)
    except Comment.DoesNotExist:
        raise NotFound("That comment does not exist.") from None
    if thread is not None and comment.thread_id != thread.pk:
        raise NotFound("That comment does not exist in this thread.")
    if comment.status not in (Comment.Status.PUBLISHED, Comment.Status.DELETED) and not (
        actor.is_staff or comment.reader_key == actor.reader_key
    ):
        raise NotFound("That comment does not exist.")
    if actor.origin is not None and not comment.thread.site.allows_origin(actor.origin):
        raise Forbidden(f"This site does not allow comments from {actor.origin}.")
    return comment
