"""Moderators' decisions: approve, reject, spam, ban, lift a ban, notes, and their bulk forms.

Each decision checks that the moderator works the comment's site, locks the comment, changes
it and writes its AuditEntry (before → after) in one transaction, resolves the comment's open
reports and keeps the verdict as a Label for retraining the site's scorer head.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.models import User as Account
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parley.comments.actions import do_set_status
from parley.comments.models import Comment
from parley.core.errors import Conflict, Forbidden, Invalid, NotFound
from parley.sites.models import Site

from . import audit
from .models import Assessment, Ban, Label, Note, Report

User = AbstractBaseUser | AnonymousUser


def _person(user: User) -> Account | None:
    """The signed-in account behind a request's user, for the "by whom" columns."""
    return user if isinstance(user, Account) else None


APPROVE, REJECT, SPAM, BAN = "approve", "reject", "spam", "ban"
BULK_ACTIONS = (APPROVE, REJECT, SPAM)

_STATUS = {
    APPROVE: Comment.Status.PUBLISHED,
    REJECT: Comment.Status.REJECTED,
    SPAM: Comment.Status.SPAM,
    BAN: Comment.Status.REJECTED,
}
_VERDICT = {
    APPROVE: Label.Verdict.OK,
    REJECT: Label.Verdict.ABUSIVE,
    SPAM: Label.Verdict.SPAM,
    BAN: Label.Verdict.ABUSIVE,
}

# How long a ban lasts; None is for good.
DURATIONS: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "permanent": None,
}
DURATION_LABELS = {
    "1h": gettext_lazy("1 hour"),
    "1d": gettext_lazy("1 day"),
    "7d": gettext_lazy("7 days"),
    "30d": gettext_lazy("30 days"),
    "permanent": gettext_lazy("Permanently"),
}
MAX_NOTE_LENGTH = 2000
MAX_REASON_LENGTH = 500


class NotModerator(Forbidden):
    code = "not_moderator"
    default_message = gettext_lazy("You do not moderate this site.")


def moderated_sites(user: User) -> QuerySet[Site]:
    """Admins (superusers) work every site's queue; moderators the sites that name them."""
    if not (user.is_authenticated and getattr(user, "is_staff", False)):
        return Site.objects.none()
    if getattr(user, "is_superuser", False):
        return Site.objects.all()
    return Site.objects.filter(moderators__pk=user.pk)


def can_moderate(user: User, site: Site | None) -> bool:
    """`site` None: a ban on every site, which only an admin may change."""
    if not (user.is_authenticated and getattr(user, "is_staff", False)):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return site is not None and site.moderators.filter(pk=user.pk).exists()


def access_moderated_comment(user: User, comment_id: int, *, lock: bool = False) -> Comment:
    comments: QuerySet[Comment] = Comment.objects.select_related("thread__site")
    if lock:
        comments = comments.select_for_update(of=("self",), no_key=True)
    comment = comments.filter(pk=comment_id).first()
    if comment is None:
        raise NotFound(_("That comment does not exist."))
    if not can_moderate(user, comment.thread.site):
        raise NotModerator()
    return comment


def author_ban_keys(comment: Comment) -> dict[str, str]:
    """What a ban from this comment can hold on to, by Ban.Kind: only what the comment has."""
    keys: dict[str, str] = {}
    if comment.account_id is not None:
        keys[Ban.Kind.ACCOUNT] = str(comment.account_id)
    if comment.author_email:
        keys[Ban.Kind.EMAIL] = comment.author_email.strip().lower()
    if comment.ip_hash:
        keys[Ban.Kind.IP] = comment.ip_hash
    if comment.reader_key:
        keys[Ban.Kind.READER] = comment.reader_key
    return keys


@dataclass(frozen=True)
class BanRequest:
    kinds: tuple[str, ...]
    duration: str
    shadow: bool = False
    reason: str = ""


def decide(user: User, comment_id: int, action: str, *, note: str = "") -> Comment:
    """Approve, reject or mark one comment as spam."""
    if action not in BULK_ACTIONS:
        raise Invalid(_("Unknown decision."))
    with transaction.atomic(durable=True):
        comment = access_moderated_comment(user, comment_id, lock=True)
        do_decide(user, comment, action, note=note)
        return comment


def decide_many(user: User, comment_ids: list[int], action: str) -> list[Comment]:
    """The same decision on several comments, all or none: one comment the moderator may
    not act on refuses the whole batch."""
    if action not in BULK_ACTIONS:
        raise Invalid(_("Unknown decision."))
    if not comment_ids:
        raise Invalid(_("Select at least one comment."))
    decided = []
    with transaction.atomic(durable=True):
        for comment_id in sorted(set(comment_ids)):  # locks in a stable order
            comment = access_moderated_comment(user, comment_id, lock=True)
            do_decide(user, comment, action)
            decided.append(comment)
    return decided


def ban(user: User, comment_id: int, request: BanRequest) -> list[Ban]:
    """Ban the comment's author from its site by the chosen keys, and reject the comment."""
    if request.duration not in DURATIONS:
        raise Invalid(_("Choose how long the ban lasts."), fields={"duration": _("Unknown.")})
    if len(request.reason) > MAX_REASON_LENGTH:
        raise Invalid(
            _("A reason has at most %(n)d characters.") % {"n": MAX_REASON_LENGTH},
            fields={"reason": _("Too long.")},
        )
    with transaction.atomic(durable=True):
        comment = access_moderated_comment(user, comment_id, lock=True)
        keys = author_ban_keys(comment)
        chosen = [kind for kind in keys if kind in request.kinds]
        if not chosen:
            raise Invalid(
                _("Choose what to ban: the account, the e-mail, the address or the browser."),
                fields={"kinds": _("Choose at least one.")},
            )
        length = DURATIONS[request.duration]
        now = timezone.now()
        bans = [
            Ban.objects.create(
                site=comment.thread.site,
                kind=kind,
                value=keys[kind],
                shadow=request.shadow,
                reason=request.reason.strip(),
                expires_at=now + length if length is not None else None,
                created_by=_person(user),
                created_at=now,
            )
            for kind in chosen
        ]
        do_decide(
            user,
            comment,
            BAN,
            note=request.reason.strip(),
            ban={
                "kinds": chosen,
                "expires_at": bans[0].expires_at.isoformat() if bans[0].expires_at else None,
                "shadow": request.shadow,
                "bans": [b.pk for b in bans],
            },
        )
        return bans


def do_decide(
    user: User, comment: Comment, action: str, *, note: str = "", ban: dict[str, Any] | None = None
) -> None:
    """Caller holds the lock on `comment` and has checked the moderator's permission."""
    if comment.status == Comment.Status.DELETED:
        raise Conflict(_("Its author deleted this comment; there is nothing to decide."))
    assessment = Assessment.objects.filter(comment=comment).first()
    open_reports = Report.objects.filter(comment=comment, resolved_at__isnull=True)
    before: dict[str, Any] = {"status": comment.status}
    after: dict[str, Any] = {"status": _STATUS[action]}
    if assessment is not None and assessment.shadow:
        before["shadow"] = True
        # The author's comment looked published to them; now it is, or it is gone for good.
        if action == APPROVE:
            assessment.shadow = False
            assessment.save(update_fields=["shadow"])
            after["shadow"] = False
    resolved = open_reports.update(resolved_at=timezone.now())
    if resolved:
        before["open_reports"], after["open_reports"] = resolved, 0
    if ban is not None:
        after["ban"] = ban
    do_set_status(comment, _STATUS[action])
    audit.log(
        site_name=comment.thread.site.name,
        action=action,
        actor=user,
        comment_id=comment.pk,
        before=before,
        after=after,
        note=note,
    )
    Label.objects.update_or_create(
        site=comment.thread.site,
        comment_id=comment.pk,
        defaults={
            "text": comment.body,
            "lang": assessment.lang if assessment is not None else "",
            "verdict": _VERDICT[action],
            "decided_by": _person(user),
            "decided_at": timezone.now(),
        },
    )


def lift_ban(user: User, ban_id: int) -> Ban:
    with transaction.atomic(durable=True):
        found = Ban.objects.select_for_update(of=("self",)).select_related("site")
        ban = found.filter(pk=ban_id).first()
        if ban is None:
            raise NotFound(_("That ban does not exist."))
        if not can_moderate(user, ban.site):
            raise NotModerator()
        if not Ban.objects.filter(Ban.in_force(), pk=ban.pk).exists():
            raise Conflict(_("This ban is no longer in force."))
        ban.lifted_at = timezone.now()
        ban.save(update_fields=["lifted_at"])
        audit.log(
            site_name=ban.site.name if ban.site else "",
            action="ban.lift",
            actor=user,
            before={"ban": ban.pk, "kind": ban.kind, "lifted_at": None},
            after={"ban": ban.pk, "kind": ban.kind, "lifted_at": ban.lifted_at.isoformat()},
        )
        return ban


def add_note(user: User, comment_id: int, text: str) -> Note:
    text = text.strip()
    if not text:
        raise Invalid(_("Please write a note."), fields={"text": _("Empty.")})
    if len(text) > MAX_NOTE_LENGTH or "\x00" in text:
        raise Invalid(
            _("A note has at most %(n)d characters.") % {"n": MAX_NOTE_LENGTH},
            fields={"text": _("Too long.")},
        )
    with transaction.atomic(durable=True):
        comment = access_moderated_comment(user, comment_id, lock=True)
        note = Note.objects.create(comment=comment, author=_person(user), text=text)
        audit.log(
            site_name=comment.thread.site.name,
            action="note",
            actor=user,
            comment_id=comment.pk,
            after={"note": note.pk},
            note=text,
        )
        return note
