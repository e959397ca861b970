"""Writing e-mail: a message is rendered into an outbox row in the caller's transaction and
sent later by the worker (delivery.py). The row's key makes writing it idempotent."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator

from parley.comments.models import Comment
from parley.sites.models import Site

from .models import OutboundEmail, Suppression


def public_url(path: str) -> str:
    """Links in e-mails point at PARLEY_PUBLIC_URL (`parley serve` sets it to its own
    address when it is not configured)."""
    return (settings.PUBLIC_URL or "http://127.0.0.1:8000") + path


def link(viewname: str, *args: str | int) -> str:
    return public_url(reverse(viewname, args=args))


@dataclass
class Item:
    """One comment quoted in a message."""

    title: str
    author: str
    excerpt: str
    url: str


@dataclass
class Letter:
    """What a message says; one layout renders every message as text and as HTML."""

    subject: str
    paragraphs: list[str]
    action_label: str = ""
    action_url: str = ""
    items: list[Item] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    # One click leaves what this message is about (RFC 8058); the other manages everything.
    unsubscribe_url: str = ""
    manage_url: str = ""
    sender: str = ""


def excerpt(comment: Comment) -> str:
    return Truncator(" ".join(comment.body.split())).chars(300)


def is_suppressed(email: str) -> bool:
    return Suppression.objects.filter(email=email.lower()).exists()


def queue_email(
    *,
    key: str,
    kind: str,
    to: str,
    letter: Letter,
    lang: str,
    site: Site | None = None,
    comment: Comment | None = None,
    send_after: datetime | None = None,
) -> bool:
    """Write the message to the outbox unless a message with this key exists already or the
    address is suppressed; True when it was written. Sent after the caller's commit."""
    if is_suppressed(to) or OutboundEmail.objects.filter(key=key).exists():
        return False
    with translation.override(lang or settings.LANGUAGE_CODE):
        context = {"letter": letter, "site": site, "rtl": translation.get_language_bidi()}
        text = render_to_string("notifications/email/letter.txt", context)
        html = render_to_string("notifications/email/letter.html", context)
    headers = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
    if letter.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{letter.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    now = timezone.now()
    # ignore_conflicts: the key's unique index decides between concurrent writers.
    OutboundEmail.objects.bulk_create(
        [
            OutboundEmail(
                key=key,
                kind=kind,
                site=site,
                to=to,
                subject=letter.subject,
                text=text,
                html=html,
                headers=headers,
                message_id=message_id(key),
                comment=comment,
                next_attempt_at=send_after or now,
                created_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    # One delivery task per transaction, however many messages it wrote (a comment to a
    # thread with a hundred subscribers queued a hundred, each sending nothing but the first).
    hooks = transaction.get_connection().run_on_commit
    if not any(hook is _deliver for _savepoints, hook, _robust in hooks):
        transaction.on_commit(_deliver)
    return True


def _deliver() -> None:
    from .tasks import deliver_outbox

    deliver_outbox.enqueue()


def message_id(key: str) -> str:
    """Stable per outbox row: a message that had to be sent again threads with itself."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{urlsplit(public_url('')).hostname or 'localhost'}>"
