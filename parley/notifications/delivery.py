"""Sending the outbox. A worker claims a batch of due messages with a lease, sends each over
one connection and marks it sent; a message whose worker died is taken over when its lease
ends. Several workers share the outbox (SKIP LOCKED on PostgreSQL; SQLite has one writer)."""

import logging
import os
import smtplib
import socket
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from parley.comments.models import Comment

from .bounces import suppress
from .models import OutboundEmail, Suppression
from .outbox import is_suppressed

logger = logging.getLogger(__name__)

BATCH = 50


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def due() -> "Q":
    now = timezone.now()
    return Q(state=OutboundEmail.State.QUEUED, next_attempt_at__lte=now) | Q(
        state=OutboundEmail.State.SENDING, lease_until__lt=now
    )


def claim(worker: str, batch: int = BATCH) -> list[OutboundEmail]:
    lease = timedelta(seconds=settings.PARLEY_OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        waiting = OutboundEmail.objects.filter(due()).order_by("next_attempt_at", "id")
        ids = list(waiting.select_for_update(skip_locked=True).values_list("id", flat=True)[:batch])
        OutboundEmail.objects.filter(id__in=ids).update(
            state=OutboundEmail.State.SENDING,
            claimed_by=worker,
            lease_until=timezone.now() + lease,
            attempts=F("attempts") + 1,
        )
    return list(OutboundEmail.objects.filter(id__in=ids, claimed_by=worker).order_by("id"))


def deliver_due(worker: str | None = None) -> int:
    """Send every due message; return how many were sent."""
    worker = worker or worker_name()
    sent = 0
    while rows := claim(worker):
        sent += send_claimed(rows, worker)
    return sent


def send_claimed(rows: list[OutboundEmail], worker: str) -> int:
    sent = 0
    connection = get_connection()
    try:
        for row in rows:
            if not _still_ours(row, worker):
                continue
            if reason := _reason_not_to_send(row):
                _finish(row, worker, OutboundEmail.State.CANCELLED, error=reason)
                continue
            try:
                # Opened here, not by send_messages, which would close it after each message.
                connection.open()
                connection.send_messages([_message(row, connection)])
            except smtplib.SMTPRecipientsRefused as error:
                _refused(row, worker, error)
            except smtplib.SMTPDataError as error:
                if 500 <= error.smtp_code < 600:  # this message is refused for good, not its reader
                    reply = error.smtp_error
                    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
                    detail = f"{error.smtp_code} {text}"
                    _finish(row, worker, OutboundEmail.State.FAILED, error=detail)
                else:
                    _retry_later(row, worker, error)
            except (smtplib.SMTPException, OSError) as error:
                _retry_later(row, worker, error)
                connection.close()  # the next message opens a fresh one
            else:
                _finish(row, worker, OutboundEmail.State.SENT)
                sent += 1
    finally:
        connection.close()
    return sent


def _still_ours(row: OutboundEmail, worker: str) -> bool:
    """Renew the lease right before sending: a worker that was too slow must not send a
    message that another worker has taken over."""
    lease = timedelta(seconds=settings.PARLEY_OUTBOX_LEASE_SECONDS)
    return bool(
        OutboundEmail.objects.filter(
            pk=row.pk, state=OutboundEmail.State.SENDING, claimed_by=worker
        ).update(lease_until=timezone.now() + lease)
    )


def _reason_not_to_send(row: OutboundEmail) -> str:
    if is_suppressed(row.to):
        return "address suppressed"
    if row.kind in NOTIFY_KINDS:
        # No comment any more: its thread or site was deleted.
        status = Comment.objects.filter(pk=row.comment_id or 0).values_list("status", flat=True)
        if status.first() != Comment.Status.PUBLISHED:
            return "comment no longer published"
    return ""


# Messages about a comment that readers would receive: only while the comment is published.
NOTIFY_KINDS = ("thread", "replies", "comment")


def _message(row: OutboundEmail, connection: object) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers={**row.headers, "Message-ID": row.message_id},
        connection=connection,
    )
    message.attach_alternative(row.html, "text/html")
    return message


def _finish(row: OutboundEmail, worker: str, state: str, *, error: str = "") -> None:
    OutboundEmail.objects.filter(pk=row.pk, claimed_by=worker).update(
        state=state,
        sent_at=timezone.now() if state == OutboundEmail.State.SENT else None,
        lease_until=None,
        last_error=error,
    )


def _refused(row: OutboundEmail, worker: str, error: smtplib.SMTPRecipientsRefused) -> None:
    """A 5xx for the recipient is a hard bounce: the address is suppressed. A 4xx is tried
    again later."""
    code, reply = next(iter(error.recipients.values()), (0, b""))
    if 500 <= code < 600:
        detail = f"{code} {reply.decode(errors='replace')}"
        suppress(row.to, Suppression.Reason.BOUNCE, detail)
        _finish(row, worker, OutboundEmail.State.FAILED, error=detail)
    else:
        _retry_later(row, worker, error)


def _retry_later(row: OutboundEmail, worker: str, error: Exception) -> None:
    attempts = row.attempts
    if attempts >= settings.PARLEY_OUTBOX_MAX_ATTEMPTS:
        _finish(row, worker, OutboundEmail.State.FAILED, error=repr(error))
        return
    delay = settings.PARLEY_OUTBOX_RETRY_SECONDS * 2 ** (attempts - 1)
    # The message's id, never its address: logs are not a place for personal data.
    logger.warning(
        "e-mail %d failed (attempt %d: %s), retrying in %ds",
        row.pk,
        attempts,
        type(error).__name__,
        delay,
    )
    OutboundEmail.objects.filter(pk=row.pk, claimed_by=worker).update(
        state=OutboundEmail.State.QUEUED,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        lease_until=None,
        last_error=repr(error),
    )
    from .tasks import deliver_outbox

    deliver_outbox.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue()
