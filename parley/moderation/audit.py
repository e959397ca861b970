"""The audit trail: every moderation action, by a person or by the pipeline, is written here
in the same transaction as the change it describes."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from parley.comments.actions import do_set_status
from parley.comments.models import Comment

from .models import AuditEntry

SYSTEM_ACTOR = "Parley"


def log(
    *,
    site_name: str,
    action: str,
    actor: AbstractBaseUser | AnonymousUser | None,
    comment_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEntry:
    person = actor if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        site_name=site_name,
        comment_id=comment_id,
        actor_id=person.pk if person is not None else None,
        actor_name=person.get_username() if person is not None else SYSTEM_ACTOR,
        action=action,
        before=before or {},
        after=after or {},
        note=note,
    )


def apply_decision(
    comment: Comment,
    status: str,
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    note: str = "",
) -> AuditEntry:
    """Move a comment to `status` and log it. Caller holds the lock on `comment`."""
    before = comment.status
    do_set_status(comment, status)
    return log(
        site_name=comment.thread.site.name,
        action=action,
        actor=actor,
        comment_id=comment.pk,
        before={"status": before},
        after={"status": status},
        note=note,
    )
