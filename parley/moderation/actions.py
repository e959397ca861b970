from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parley.comments.access import access_comment
from parley.comments.models import Comment
from parley.comments.signals import comment_reported
from parley.core.errors import Conflict, Invalid
from parley.core.readers import Actor, enforce_actor_limits

from . import audit, gate
from .models import Assessment, Report

MAX_NOTE_LENGTH = 1000
REPORTS_PER_ADDRESS = 2


def check_report_comment(
    actor: Actor,
    comment_id: int,
    reason: str,
    note: str,
    *,
    reporter_name: str = "",
    reporter_email: str = "",
    good_faith: bool = False,
) -> Report:
    if reason not in Report.Reason.values:
        raise Invalid(_("Choose one of the listed reasons."), fields={"reason": _("Unknown.")})
    if len(note) > MAX_NOTE_LENGTH or "\x00" in note:
        raise Invalid(
            _("A note has at most %(n)d characters.") % {"n": MAX_NOTE_LENGTH},
            fields={"note": _("Too long.")},
        )
    if reason == Report.Reason.ILLEGAL:
        _validate_notice(note, reporter_name, reporter_email, good_faith)
    try:
        with transaction.atomic(durable=True):
            comment = access_comment(actor, comment_id, lock=True)
            if comment.status != comment.Status.PUBLISHED:
                raise Conflict(_("Only published comments can be reported."))
            enforce_actor_limits(actor, "comment.report", site=comment.thread.site.name)
            # Readers behind one office or mobile network share an address, so it may send
            # a second report, but not enough to hold a comment alone (reports_to_hold is 3
            # by default), however often it drops the cookie.
            if (
                Report.objects.filter(
                    comment=comment, ip_hash=actor.ip_hash, resolved_at__isnull=True
                ).count()
                >= REPORTS_PER_ADDRESS
            ):
                raise IntegrityError
            report = Report.objects.create(
                comment=comment,
                reason=reason,
                note=note.strip(),
                reporter_name=reporter_name.strip() if reason == Report.Reason.ILLEGAL else "",
                reporter_email=reporter_email.strip() if reason == Report.Reason.ILLEGAL else "",
                good_faith=good_faith and reason == Report.Reason.ILLEGAL,
                reader_key=actor.reader_key,
                ip_hash=actor.ip_hash,
            )
            comment_reported.send(sender=Comment, comment=comment, report=report)
            _hold_when_reported_enough(comment)
            return report
    except IntegrityError:
        raise Conflict(_("This comment has been reported from here already.")) from None


def _validate_notice(note: str, name: str, email: str, good_faith: bool) -> None:
    """An illegal-content report is a notice under the EU Digital Services Act (Art. 16):
    it needs the reasons, the notifier's name and e-mail, and a good-faith statement."""
    errors = {}
    if len(note.strip()) < 10:
        errors["note"] = _("Explain why you consider this content illegal.")
    if not name.strip() or len(name) > 100:
        errors["reporter_name"] = _("Give your name.")
    try:
        validate_email(email.strip())
    except ValidationError:
        errors["reporter_email"] = _("Give an e-mail address we can answer.")
    if not good_faith:
        errors["good_faith"] = _(
            "Confirm that you make this notice in good faith and that it is accurate."
        )
    if errors:
        raise Invalid(_("A notice of illegal content needs a few more details."), fields=errors)


def _hold_when_reported_enough(comment: Comment) -> None:
    """Enough open reports from different readers take a comment down until a moderator
    looks. Caller holds the lock on `comment`."""
    threshold = gate.policy_for(comment.thread.site).reports_to_hold
    reports = Report.objects.filter(comment=comment, resolved_at__isnull=True).count()
    if threshold == 0 or reports < threshold:
        return
    reason = ngettext(
        "held after %(n)d reader report", "held after %(n)d reader reports", reports
    ) % {"n": reports}
    assessment, _created = Assessment.objects.get_or_create(comment=comment)
    assessment.reasons = [*assessment.reasons, reason]
    assessment.save(update_fields=["reasons"])
    audit.apply_decision(
        comment, Comment.Status.PENDING, actor=None, action="reports.hold", note=reason
    )
