"""Checked look-ups: a missing object and one the actor may not see answer alike."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from parley.core.errors import Forbidden, NotFound
from parley.core.readers import Actor, foreign_origin
from parley.sites.models import Site
from parley.sites.origins import cached_site

from .models import Comment, Thread


class OriginNotAllowed(Forbidden):
    code = "origin_not_allowed"

    def __init__(self, origin: str, site: Site) -> None:
        super().__init__(
            _(
                "Comments of “%(site)s” cannot be shown or posted on %(origin)s. The publisher "
                "can allow this address in Parley (parley site add … --origin, or the admin)."
            )
            % {"origin": origin, "site": site}
        )


def access_site(actor: Actor, name: str) -> Site:
    try:
        site = Site.objects.get(name=name)
    except Site.DoesNotExist:
        raise NotFound(_("There is no site named “%(name)s”.") % {"name": name}) from None
    check_site_origin(site, actor.origin)
    return site


def check_read_origin(request: HttpRequest, site_name: str) -> None:
    """A thread is read from Parley's own pages or from an origin its site allows."""
    origin = foreign_origin(request)
    site = cached_site(site_name) if origin is not None else None
    if site is not None:
        check_site_origin(site, origin)


def check_site_origin(site: Site, origin: str | None) -> None:
    """`origin` is that of another site's page (None for Parley's own pages)."""
    if origin is not None and not site.allows_origin(origin):
        raise OriginNotAllowed(origin, site)


def access_comment(
    actor: Actor, comment_id: int, *, thread: Thread | None = None, lock: bool = False
) -> Comment:
    """A comment the actor may act on: visible, and (when given) in `thread`."""
    comments: QuerySet[Comment] = Comment.objects.select_related("thread__site")
    if lock:
        # Only the comment, not the joined thread and site; NO KEY, so that a reply being
        # inserted meanwhile (whose foreign keys take KEY SHARE on it) does not wait on it
        # and deadlock against this transaction on PostgreSQL.
        comments = comments.select_for_update(of=("self",), no_key=True)
    try:
        comment = comments.get(pk=comment_id)
    except Comment.DoesNotExist:
        raise NotFound(_("That comment does not exist.")) from None
    if thread is not None and comment.thread_id != thread.pk:
        raise NotFound(_("That comment does not exist in this thread."))
    if comment.status not in (Comment.Status.PUBLISHED, Comment.Status.DELETED) and not (
        actor.is_staff or comment.reader_key == actor.reader_key
    ):
        raise NotFound(_("That comment does not exist."))
    check_site_origin(comment.thread.site, actor.origin)
    return comment
