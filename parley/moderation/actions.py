from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from parley.comments.access import access_comment
from parley.core.errors import Conflict, Invalid
from parley.core.readers import Actor, enforce_actor_limits

from .models import Report

MAX_NOTE_LENGTH = 1000


def check_report_comment(actor: Actor, comment_id: int, reason: str, note: str) -> Report:
    if reason not in Report.Reason.values:
        raise Invalid(_("Choose one of the listed reasons."), fields={"reason": _("Unknown.")})
    if len(note) > MAX_NOTE_LENGTH or "\x00" in note:
        raise Invalid(
            _("A note has at most %(n)d characters.") % {"n": MAX_NOTE_LENGTH},
            fields={"note": _("Too long.")},
        )
    try:
        with transaction.atomic(durable=True):
            comment = access_comment(actor, comment_id)
            if comment.status != comment.Status.PUBLISHED:
                raise Conflict(_("Only published comments can be reported."))
            enforce_actor_limits(actor, "comment.report", site=comment.thread.site.name)
            # One open report per comment and address: a moderator needs it once, and a
            # reader who drops the cookie must not fill the queue with copies.
            if Report.objects.filter(
                comment=comment, ip_hash=actor.ip_hash, resolved_at__isnull=True
            ).exists():
                raise IntegrityError
            return Report.objects.create(
                comment=comment,
                reason=reason,
                note=note.strip(),
                reader_key=actor.reader_key,
                ip_hash=actor.ip_hash,
            )
    except IntegrityError:
        raise Conflict(_("This comment has been reported from here already.")) from None
