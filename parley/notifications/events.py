"""Who hears of what. Receivers run inside the transaction of the change, so the e-mails
they write to the outbox commit (or roll back) with it."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from parley.comments.models import Comment, Subscription
from parley.comments.signals import comment_held, comment_published, comment_reported
from parley.moderation.models import Report

from .models import DigestItem, ModeratorAlerts, OutboundEmail
from .outbox import Item, Letter, excerpt, link, queue_email
from .subscriptions import (
    comment_link,
    manage_link,
    moderator_unsubscribe_link,
    page_name,
    page_url,
    unsubscribe_link,
    what_is_followed,
)

# Which subscription wins when one address follows a comment several ways: the most personal.
_PRIORITY: dict[str, int] = {
    Subscription.Kind.REPLIES: 0,
    Subscription.Kind.COMMENT: 1,
    Subscription.Kind.THREAD: 2,
}


def _ancestors(comment: Comment) -> list[Comment]:
    chain, parent = [], comment.parent
    while parent is not None:
        chain.append(parent)
        parent = parent.parent
    return chain


def _is_author(subscription: Subscription, comment: Comment) -> bool:
    return (
        subscription.email == comment.author_email.lower()
        or (subscription.account_id is not None and subscription.account_id == comment.account_id)
        or subscription.reader_key == comment.reader_key
    )


def recipients(comment: Comment) -> list[Subscription]:
    """The confirmed subscriptions a newly published comment concerns, one per address, never
    its own author's."""
    ancestors = _ancestors(comment)
    wrote_parent = (
        Q(email=comment.parent.author_email.lower())
        | Q(account_id=comment.parent.account_id, account_id__isnull=False)
        if comment.parent is not None and comment.parent.author_email
        else Q(account_id=getattr(comment.parent, "account_id", None), account_id__isnull=False)
    )
    candidates = Subscription.objects.filter(
        confirmed_at__isnull=False, site_id=comment.thread.site_id
    ).filter(
        Q(kind=Subscription.Kind.THREAD, uri=comment.thread.uri)
        | Q(kind=Subscription.Kind.REPLIES, uri=comment.thread.uri) & wrote_parent
        | Q(kind=Subscription.Kind.COMMENT, comment__in=[a.pk for a in ancestors])
    )
    if comment.parent is None:
        candidates = candidates.exclude(kind=Subscription.Kind.REPLIES)
    chosen: dict[str, Subscription] = {}
    for subscription in sorted(candidates, key=lambda s: _PRIORITY[s.kind]):
        if not _is_author(subscription, comment):
            chosen.setdefault(subscription.email, subscription)
    return list(chosen.values())


def _over_hourly_limit(email: str) -> bool:
    recent = OutboundEmail.objects.filter(
        to=email,
        kind__in=("thread", "replies", "comment", "held", "reported"),
        created_at__gte=timezone.now() - timedelta(hours=1),
    )
    return recent.count() >= settings.PARLEY_NOTIFY_PER_HOUR


def _told(key: str, email: str, kind: str, comment: Comment) -> bool:
    """Told of this already, by e-mail or in a digest: an event announced again (a task run a
    second time after its worker died, a comment published or held a second time) must not
    reach anyone twice, once each way when the hourly limit was reached in between."""
    return (
        OutboundEmail.objects.filter(key=key).exists()
        or DigestItem.objects.filter(email=email, kind=kind, comment=comment).exists()
    )


@receiver(comment_published)
def notify_subscribers(sender: Any, comment: Comment, **kwargs: Any) -> None:
    # An imported comment a moderator approves now was written on the old system, maybe
    # years ago: it is no news to anyone.
    if comment.source_key:
        return
    for subscription in recipients(comment):
        key = f"notify:{comment.pk}:{subscription.email}"
        if _told(key, subscription.email, DigestItem.Kind.COMMENT, comment):
            continue
        if subscription.delivery == Subscription.Delivery.DAILY or _over_hourly_limit(
            subscription.email
        ):
            DigestItem.objects.get_or_create(
                email=subscription.email,
                kind=DigestItem.Kind.COMMENT,
                comment=comment,
                defaults={"subscription": subscription, "lang": subscription.lang},
            )
            continue
        queue_email(
            key=key,
            kind=subscription.kind,
            to=subscription.email,
            letter=_notification(subscription, comment),
            lang=subscription.lang,
            site=comment.thread.site,
            comment=comment,
        )


def _notification(subscription: Subscription, comment: Comment) -> Letter:
    with translation.override(subscription.lang or None):
        values = {"author": comment.author_name, "page": page_name(comment.thread)}
        if subscription.kind == Subscription.Kind.REPLIES:
            subject = _("%(author)s replied to your comment on %(page)s") % values
        elif subscription.kind == Subscription.Kind.COMMENT:
            subject = _("%(author)s replied in a discussion you follow on %(page)s") % values
        else:
            subject = _("New comment by %(author)s on %(page)s") % values
        return Letter(
            subject=subject,
            paragraphs=[subject + ":"],
            items=[Item("", comment.author_name, excerpt(comment), comment_link(comment))],
            after=[
                _("You get this e-mail because you asked to be notified of %(what)s.")
                % {"what": _what(subscription)}
            ],
            unsubscribe_url=unsubscribe_link(subscription),
            manage_url=manage_link(subscription.email),
        )


def _what(subscription: Subscription) -> str:
    return f"{what_is_followed(subscription)} ({page_url(subscription.site, subscription.uri)})"


def moderators_of(comment: Comment) -> list[User]:
    """A site's moderators; where it names none, the administrators, who moderate every site."""
    site = comment.thread.site
    people = list(site.moderators.filter(is_active=True).exclude(email=""))
    return people or list(User.objects.filter(is_superuser=True, is_active=True).exclude(email=""))


@receiver(comment_held)
def alert_moderators_held(sender: Any, comment: Comment, **kwargs: Any) -> None:
    _alert_moderators(comment, DigestItem.Kind.HELD)


@receiver(comment_reported)
def alert_moderators_reported(sender: Any, comment: Comment, report: Report, **kwargs: Any) -> None:
    _alert_moderators(comment, DigestItem.Kind.REPORTED, report)


def _alert_moderators(comment: Comment, kind: str, report: Report | None = None) -> None:
    for person in moderators_of(comment):
        alerts, _created = ModeratorAlerts.objects.get_or_create(user=person)
        email = person.email.lower()
        key = f"{kind}:{comment.pk}:{person.pk}"
        if alerts.delivery == ModeratorAlerts.Delivery.OFF or _told(key, email, kind, comment):
            continue
        if alerts.delivery == ModeratorAlerts.Delivery.DAILY or _over_hourly_limit(email):
            DigestItem.objects.get_or_create(
                email=email, kind=kind, comment=comment, defaults={"lang": alerts.lang}
            )
            continue
        queue_email(
            key=key,
            kind=kind,
            to=email,
            letter=_moderator_alert(alerts, email, comment, kind, report),
            lang=alerts.lang,
            site=comment.thread.site,
            comment=comment,
        )


def _moderator_alert(
    alerts: ModeratorAlerts, email: str, comment: Comment, kind: str, report: Report | None
) -> Letter:
    with translation.override(alerts.lang or None):
        why: list[str] = []
        if report is not None:  # in the moderator's language, as the queue shows it
            why = [_("Reason: %(reason)s") % {"reason": report.get_reason_display()}]
            if report.note:
                why.append(_("The reader's note: %(note)s") % {"note": report.note})
        values = {"author": comment.author_name, "site": comment.thread.site}
        subject = (
            _("Held for review: a comment by %(author)s on %(site)s")
            if kind == DigestItem.Kind.HELD
            else _("Reported: a comment by %(author)s on %(site)s")
        ) % values
        return Letter(
            subject=subject,
            paragraphs=[subject, *why],
            items=[
                Item(
                    comment.thread.uri,
                    comment.author_name,
                    excerpt(comment),
                    comment_link(comment),
                )
            ],
            action_label=_("Open the moderation queue"),
            action_url=link("moderation:queue") + f"?site={comment.thread.site.name}",
            unsubscribe_url=moderator_unsubscribe_link(alerts, email),
        )
