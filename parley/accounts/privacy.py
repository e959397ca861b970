"""Everything Parley holds about one e-mail address, on every site: handed over on request
(GDPR art. 15, `person_data`) and erased on request (art. 17, `erase_person`). The address
may be a guest's, seen on comments, subscriptions, e-mails, reports and gifts, or an
account's, whose own download (`queries.export_data`) is part of the answer.

Apps above this one (funding) add what they hold in a module `privacy` of their own that
calls `register`; such modules are found the way the admin finds `admin` modules, so this
one imports nothing above it.
"""

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from parley.comments.models import Comment, Subscription
from parley.core.errors import Forbidden
from parley.moderation import audit
from parley.moderation.models import Ban, Report
from parley.notifications.models import DigestItem, ModeratorAlerts, OutboundEmail, Suppression
from parley.notifications.subscriptions import clean_email
from parley.sites.models import Site

from .actions import KEEP, REMOVE, do_delete_account, do_retire_comments
from .models import ErasedAddress, SignInRequest
from .queries import comment_json, export_data, subscription_json

AUDIT_ACTION = "privacy.erase"


@dataclass(frozen=True)
class Person:
    email: str  # as `clean_email` writes it
    accounts: list[User]


@dataclass(frozen=True)
class Part:
    """What an app above accounts holds about a person: `export` lists it, `erase` erases it
    inside `erase_person`'s transaction (before the accounts go) and counts what it erased."""

    name: str
    label: str | Promise  # what was erased, for the count beside it
    export: Callable[[Person], list[dict[str, Any]]]
    erase: Callable[[Person], int]


_parts: dict[str, Part] = {}


def register(part: Part) -> None:
    _parts[part.name] = part


def _registered_parts() -> list[Part]:
    autodiscover_modules("privacy")
    return list(_parts.values())


def erased_digest(email: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"erased:{email.strip().lower()}".encode(), hashlib.sha256
    ).hexdigest()


def erased_digests() -> set[str]:
    """What an import checks addresses against (`ErasedAddress`)."""
    return set(ErasedAddress.objects.values_list("digest", flat=True))


def find_person(email: str) -> Person:
    """The person behind an address (raises `Invalid` for what is not one): every account
    with it, whatever its case."""
    email = clean_email(email)
    return Person(email, list(User.objects.filter(email__iexact=email).order_by("pk")))


# --- Access ---------------------------------------------------------------------------------


def person_data(email: str) -> dict[str, Any]:
    """Everything held about the address, as JSON-ready data."""
    person = find_person(email)
    return {
        "email": person.email,
        "exported_at": timezone.now().isoformat(),
        "accounts": [_account_json(user) for user in person.accounts],
        # What the accounts' own downloads leave out: comments posted as a guest with the
        # address, and subscriptions kept under another spelling of it.
        "comments": [
            comment_json(comment)
            for comment in _comments(person)
            .exclude(account__in=person.accounts)
            .select_related("thread__site")
            .order_by("created_at", "pk")
        ],
        "subscriptions": [
            subscription_json(subscription)
            for subscription in _subscriptions(person)
            .exclude(email__in=[user.email for user in person.accounts])
            .select_related("site")
            .order_by("site__name", "uri", "kind")
        ],
        # Subjects and dates only: the bodies are the newsroom's letters, mostly links.
        "emails": [
            {
                "kind": row.kind,
                "site": row.site.name if row.site else None,
                "subject": row.subject,
                "state": row.state,
                "created_at": row.created_at.isoformat(),
                "sent_at": _iso(row.sent_at),
            }
            for row in _emails(person).select_related("site").order_by("created_at", "pk")
        ],
        "digest_entries": [
            {"kind": item.kind, "comment": item.comment_id, "created_at": _iso(item.created_at)}
            for item in _digest_items(person).order_by("created_at", "pk")
        ],
        "suppression": [
            {"reason": row.reason, "detail": row.detail, "created_at": _iso(row.created_at)}
            for row in _suppressions(person)
        ],
        "sign_in_links": [
            {
                "site": row.site.name if row.site else None,
                "created_at": row.created_at.isoformat(),
                "used_at": _iso(row.used_at),
            }
            for row in _sign_in_requests(person).select_related("site").order_by("created_at")
        ],
        "reports": [
            {
                "comment": report.comment_id,
                "site": report.comment.thread.site.name,
                "thread": report.comment.thread.uri,
                "reason": report.reason,
                "note": report.note,
                "reporter_name": report.reporter_name,
                "created_at": report.created_at.isoformat(),
                "resolved_at": _iso(report.resolved_at),
            }
            for report in _reports(person)
            .select_related("comment__thread__site")
            .order_by("created_at", "pk")
        ],
        "bans": [
            {
                "site": ban.site.name if ban.site else None,
                "kind": ban.kind,
                "shadow": ban.shadow,
                "reason": ban.reason,
                "created_at": ban.created_at.isoformat(),
                "expires_at": _iso(ban.expires_at),
                "lifted_at": _iso(ban.lifted_at),
            }
            for ban in _bans(person).select_related("site").order_by("created_at", "pk")
        ],
        **{part.name: part.export(person) for part in _registered_parts()},
    }


def _account_json(user: User) -> dict[str, Any]:
    alerts = ModeratorAlerts.objects.filter(user=user).first()
    return {
        **export_data(user),
        "staff": user.is_staff or user.is_superuser,
        "moderator_alerts": alerts.delivery if alerts is not None else None,
    }


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _comments(person: Person) -> QuerySet[Comment]:
    return Comment.objects.filter(
        Q(author_email__iexact=person.email) | Q(account__in=person.accounts)
    )


def _subscriptions(person: Person) -> QuerySet[Subscription]:
    return Subscription.objects.filter(email__iexact=person.email)


def _emails(person: Person) -> QuerySet[OutboundEmail]:
    return OutboundEmail.objects.filter(to__iexact=person.email)


def _digest_items(person: Person) -> QuerySet[DigestItem]:
    return DigestItem.objects.filter(email__iexact=person.email)


def _suppressions(person: Person) -> QuerySet[Suppression]:
    return Suppression.objects.filter(email__iexact=person.email)


def _sign_in_requests(person: Person) -> QuerySet[SignInRequest]:
    return SignInRequest.objects.filter(email__iexact=person.email)


def _reports(person: Person) -> QuerySet[Report]:
    return Report.objects.filter(reporter_email__iexact=person.email)


def _bans(person: Person) -> QuerySet[Ban]:
    accounts = [str(user.pk) for user in person.accounts]
    return Ban.objects.filter(
        Q(kind=Ban.Kind.EMAIL, value__iexact=person.email)
        | Q(kind=Ban.Kind.ACCOUNT, value__in=accounts)
    )


# --- Erasure --------------------------------------------------------------------------------

LABELS: dict[str, str | Promise] = {
    "accounts": gettext_lazy("Accounts deleted"),
    "comments_anonymised": gettext_lazy("Comments kept, shown as by a deleted user"),
    "comments_removed": gettext_lazy("Comments removed"),
    "subscriptions": gettext_lazy("Subscriptions deleted"),
    "emails_cancelled": gettext_lazy("E-mails not yet sent, cancelled"),
    "emails": gettext_lazy("E-mails kept in the log without the address"),
    "digest_entries": gettext_lazy("Entries for coming digests deleted"),
    "suppressions": gettext_lazy("Suppressions deleted"),
    "sign_in_links": gettext_lazy("Sign-in links deleted"),
    "reports": gettext_lazy("Reports kept without the reporter's name and address"),
}


@dataclass(frozen=True)
class ErasureReport:
    counts: dict[str, int]
    # Bans naming the address are kept: they protect the readers from its owner, and erasing
    # them would let a banned author come back by asking. Staff lift one by hand if they
    # decide that the erasure covers it.
    bans_kept: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def rows(self) -> list[tuple[str, int]]:
        """(what, how many) for people, in the order it was erased."""
        labels = LABELS | {part.name: part.label for part in _parts.values()}
        return [(str(labels[name]), count) for name, count in self.counts.items()]

    def bans_note(self) -> str:
        return ngettext(
            "%(n)d ban names the address and is kept; lift it in the admin if the erasure "
            "should cover it.",
            "%(n)d bans name the address and are kept; lift them in the admin if the erasure "
            "should cover them.",
            self.bans_kept,
        ) % {"n": self.bans_kept}


def erase_person(
    email: str,
    *,
    comments: str,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    dry_run: bool = False,
) -> ErasureReport:
    """Erase what Parley holds about the address, in one transaction: its accounts, its
    comments' authorship (`comments`: KEEP them as by a deleted user, or REMOVE them), its
    subscriptions, sign-in links and pending mail; what the newsroom must keep (the log of
    e-mails sent, reports, gifts) stays without the address. Erasing again finds nothing.
    The moderation audit log records who erased, and how much, but not the address.
    `dry_run` answers the same counts and changes nothing."""
    if comments not in (KEEP, REMOVE):
        raise ValueError(f"comments must be {KEEP!r} or {REMOVE!r}")
    person = find_person(email)
    if any(user.is_staff or user.is_superuser for user in person.accounts):
        raise Forbidden(
            _(
                "%(email)s is the address of a staff account: take away its staff status in "
                "the admin first, then erase."
            )
            % {"email": person.email}
        )

    def removes(site: Site) -> bool:
        return comments == REMOVE

    with transaction.atomic(durable=True):
        counts = {"accounts": len(person.accounts)}
        retired = do_retire_comments(_comments(person), removes)
        counts["comments_anonymised"] = retired.anonymised
        counts["comments_removed"] = retired.removed
        counts["digest_entries"] = _deleted(_digest_items(person))
        counts["subscriptions"] = _deleted(_subscriptions(person))
        counts["emails_cancelled"] = (
            _emails(person)
            .filter(state__in=[OutboundEmail.State.QUEUED, OutboundEmail.State.SENDING])
            .update(state=OutboundEmail.State.CANCELLED, lease_until=None, last_error="erased")
        )
        counts["emails"] = _emails(person).update(**_WITHOUT_RECIPIENT)
        # Not suppressed in its turn: a suppression would keep the very address. Nothing is
        # left that mails it, and a new subscription asks its owner to confirm it first.
        counts["suppressions"] = _deleted(_suppressions(person))
        counts["sign_in_links"] = _deleted(_sign_in_requests(person))
        # A report stays for the comment it is about, and a notice of illegal content for
        # the record the DSA asks for; only who sent it goes.
        counts["reports"] = _reports(person).update(reporter_name="", reporter_email="")
        for part in _registered_parts():
            counts[part.name] = part.erase(person)
        for user in person.accounts:
            do_delete_account(user, removes)
        ErasedAddress.objects.get_or_create(digest=erased_digest(person.email))
        report = ErasureReport(counts, bans_kept=_bans(person).filter(kind=Ban.Kind.EMAIL).count())
        audit.log(site_name="", action=AUDIT_ACTION, actor=actor, after=counts)
        if dry_run:
            transaction.set_rollback(True)
    return report


# A sent e-mail stays in the log (what was sent, when, about what), without its recipient:
# the key and Message-ID are made from the address, the body and headers carry it in links.
_WITHOUT_RECIPIENT: dict[str, Any] = {
    "to": "",
    "key": Concat(Value("erased:"), Cast("pk", CharField())),
    "message_id": "",
    "text": "",
    "html": "",
    "headers": {},
}


def _deleted(rows: QuerySet[Any]) -> int:
    _total, by_model = rows.delete()
    return by_model.get(rows.model._meta.label, 0)
