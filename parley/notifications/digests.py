"""The daily digest: one e-mail per address with everything it chose to read once a day, and
what overflowed its hourly limit of instant e-mails."""

from datetime import datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parley.comments.models import Comment

from .models import DigestItem, OutboundEmail
from .outbox import Item, Letter, excerpt, link, queue_email
from .subscriptions import comment_link, manage_link, unsubscribe_all_link

# What an item is about must still be true when the digest is written.
_STILL = {
    DigestItem.Kind.COMMENT: Comment.Status.PUBLISHED,
    DigestItem.Kind.HELD: Comment.Status.PENDING,
}


def digest_time(now: datetime) -> datetime:
    """Today's digest hour (UTC): items older than it go into today's digest."""
    return now.replace(hour=settings.PARLEY_DIGEST_HOUR, minute=0, second=0, microsecond=0)


def due_items(now: datetime | None = None):  # type: ignore[no-untyped-def]
    now = now or timezone.now()
    cutoff = digest_time(now)
    if now < cutoff:
        cutoff -= timedelta(days=1)
    return DigestItem.objects.filter(digest__isnull=True, created_at__lt=cutoff)


def write_due_digests(now: datetime | None = None) -> int:
    """Write today's digests to the outbox; return how many. Running it again the same day
    writes nothing more (each digest's key is its address and date)."""
    now = now or timezone.now()
    day = (now if now >= digest_time(now) else now - timedelta(days=1)).date().isoformat()
    emails = list(due_items(now).values_list("email", flat=True).distinct().order_by("email"))
    written = 0
    for email in emails:
        with transaction.atomic():
            items = list(
                due_items(now)
                .select_for_update(of=("self",))  # not the comments and threads joined
                .filter(email=email)
                .select_related("comment__thread__site")
                .order_by("kind", "created_at")
            )
            live = [i for i in items if _STILL.get(i.kind, i.comment.status) == i.comment.status]
            DigestItem.objects.filter(pk__in=[i.pk for i in items if i not in live]).delete()
            if not live:
                continue
            key = f"digest:{email}:{day}"
            queue_email(
                key=key,
                kind="digest",
                to=email,
                letter=_digest(email, live),
                lang=live[0].lang,
            )
            digest = OutboundEmail.objects.filter(key=key).first()
            chosen = DigestItem.objects.filter(pk__in=[i.pk for i in live])
            if digest is None:  # the address is suppressed: nothing will ever be sent
                chosen.delete()
                continue
            chosen.update(digest=digest)
            written += 1
    return written


def _digest(email: str, items: list[DigestItem]) -> Letter:
    with translation.override(items[0].lang or None):
        sections: list[Item] = []
        paragraphs = [
            ngettext(
                "Since your last digest: %(n)d new comment.",
                "Since your last digest: %(n)d new comments.",
                len(items),
            )
            % {"n": len(items)}
        ]
        for _kind, group in groupby(items, key=lambda i: i.kind):
            for item in group:
                comment = item.comment
                labels: dict[str, str] = {
                    DigestItem.Kind.HELD: _("Held for review"),
                    DigestItem.Kind.REPORTED: _("Reported"),
                }
                label = labels.get(item.kind, comment.thread.uri)
                sections.append(
                    Item(str(label), comment.author_name, excerpt(comment), comment_link(comment))
                )
        moderation = any(i.kind != DigestItem.Kind.COMMENT for i in items)
        return Letter(
            subject=ngettext(
                "Your daily digest: %(n)d new comment",
                "Your daily digest: %(n)d new comments",
                len(items),
            )
            % {"n": len(items)},
            paragraphs=paragraphs,
            items=sections,
            action_label=_("Open the moderation queue") if moderation else "",
            action_url=link("moderation:queue") if moderation else "",
            unsubscribe_url=unsubscribe_all_link(email),
            manage_url=manage_link(email),
        )
