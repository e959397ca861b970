"""'Notify of': asking, confirming (double opt-in for guests), leaving."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from parley.comments.access import access_comment, access_site
from parley.comments.models import Comment, Subscription, Thread
from parley.core.errors import Invalid
from parley.core.readers import Actor, enforce_actor_limits
from parley.sites.models import Site

from . import tokens
from .models import ModeratorAlerts
from .outbox import Letter, is_suppressed, link, public_url, queue_email


@dataclass
class Request:
    site: str
    uri: str
    email: str
    kind: str
    comment: int | None = None
    delivery: str = Subscription.Delivery.INSTANT


def clean_email(email: str) -> str:
    """A mailbox address, lower-cased; anything that could smuggle a header is refused."""
    email = email.strip().lower()
    try:
        if any(c in email for c in "\r\n\0,;<>"):
            raise ValidationError("header")
        validate_email(email)
    except ValidationError:
        raise Invalid(
            _("Please correct the marked fields."),
            fields={"email": _("That is not an e-mail address.")},
        ) from None
    return email


def subscribe(actor: Actor, request: Request) -> str:
    """Record a "Notify of" request and tell the reader what happens next: a guest's address
    gets a confirmation link first; a signed-in reader's own address is subscribed at once."""
    site = access_site(actor, request.site)
    errors: dict[str, str] = {}
    if request.kind not in Subscription.Kind.values:
        errors["kind"] = _("Choose new follow-up comments or new replies to my comments.")
    if request.delivery not in Subscription.Delivery.values:
        errors["delivery"] = _("Choose at once or a daily digest.")
    if (
        not request.uri.startswith("/")
        or len(request.uri) > 500
        or any(ch.isspace() or ord(ch) < 32 for ch in request.uri)
    ):
        errors["uri"] = _("A page path starts with / and has at most 500 characters.")
    if request.kind == Subscription.Kind.COMMENT and request.comment is None:
        errors["comment"] = _("Say which comment's replies to follow.")
    try:
        email = clean_email(request.email)
    except Invalid as error:
        errors |= error.fields
        email = ""
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    comment = None
    if request.kind == Subscription.Kind.COMMENT:
        assert request.comment is not None
        comment = access_comment(actor, request.comment)
        if comment.thread.site_id != site.pk or comment.thread.uri != request.uri:
            raise Invalid(
                _("Please correct the marked fields."),
                fields={"comment": _("That comment is not in this discussion.")},
            )
    if is_suppressed(email):
        raise Invalid(
            _("Please correct the marked fields."),
            fields={
                "email": _("We cannot send mail to this address: it bounced or asked us to stop.")
            },
        )
    enforce_actor_limits(actor, "subscription.create", site=site.name, email=email)
    own = actor.user is not None and actor.user.email.lower() == email
    with transaction.atomic(durable=True):
        lookup = {"site": site, "uri": request.uri, "email": email, "kind": request.kind}
        if comment is not None:
            lookup = {"email": email, "comment": comment, "site": site, "uri": request.uri}
        subscription, _created = Subscription.objects.get_or_create(
            **lookup,
            defaults={
                "kind": request.kind,
                "reader_key": actor.reader_key,
                "lang": translation.get_language() or "",
                "delivery": request.delivery,
            },
        )
        if subscription.delivery != request.delivery and (own or subscription.confirmed_at):
            subscription.delivery = request.delivery
            subscription.save(update_fields=["delivery"])
        if own and subscription.confirmed_at is None:
            subscription.confirmed_at = timezone.now()
            subscription.account = actor.user
            subscription.save(update_fields=["confirmed_at", "account"])
            return _("Done: you will be notified at %(email)s.") % {"email": email}
        if subscription.confirmed_at is not None:
            return _("You are already subscribed.")
        _ask_to_confirm(subscription)
    return _(
        "Saved. Before we send you anything, %(email)s gets an e-mail with a link to "
        "confirm; nothing is sent if you do not confirm."
    ) % {"email": subscription.email}


def _ask_to_confirm(subscription: Subscription) -> None:
    """One confirmation e-mail per subscription and hour, however often it is asked for."""
    hour = timezone.now().strftime("%Y%m%d%H")
    with translation.override(subscription.lang or None):
        letter = Letter(
            subject=_("Confirm: notifications from %(site)s") % {"site": subscription.site},
            paragraphs=[
                _("Someone, hopefully you, asked to be notified by e-mail of %(what)s on %(page)s.")
                % {
                    "what": what_is_followed(subscription),
                    "page": page_name(thread_of(subscription), subscription.site),
                },
                _("Nothing is sent to you unless you confirm."),
            ],
            action_label=_("Yes, notify me"),
            action_url=link(
                "notifications:confirm",
                tokens.make(tokens.CONFIRM, s=subscription.pk, e=subscription.email),
            ),
            after=[_("If you did not ask for this, ignore this e-mail: nothing else happens.")],
        )
    queue_email(
        key=f"confirm:{subscription.pk}:{hour}",
        kind="confirm",
        to=subscription.email,
        letter=letter,
        lang=subscription.lang,
        site=subscription.site,
    )


def what_is_followed(subscription: Subscription) -> str:
    if subscription.kind == Subscription.Kind.THREAD:
        return _("new comments")
    if subscription.kind == Subscription.Kind.REPLIES:
        return _("replies to your comments")
    return _("replies to a comment")


def confirmation_of(token: str) -> Subscription | None:
    """The subscription a confirmation link names, if it is still there; reads only."""
    payload = tokens.read(tokens.CONFIRM, token)
    return Subscription.objects.filter(
        pk=int(payload.get("s", 0)), email=str(payload.get("e", ""))
    ).first()


def confirm(token: str) -> Subscription | None:
    """Confirm the subscription a link names; None when it is gone (unsubscribed since).
    Confirming twice changes nothing."""
    subscription = confirmation_of(token)
    if subscription is not None and subscription.confirmed_at is None:
        Subscription.objects.filter(pk=subscription.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        subscription.refresh_from_db()
    return subscription


def unsubscribe_link(subscription: Subscription) -> str:
    return link(
        "notifications:unsubscribe",
        tokens.make(tokens.UNSUBSCRIBE, s=subscription.pk, e=subscription.email),
    )


def unsubscribe_all_link(email: str) -> str:
    return link("notifications:unsubscribe", tokens.make(tokens.UNSUBSCRIBE, e=email))


def moderator_unsubscribe_link(alerts: ModeratorAlerts, email: str) -> str:
    token = tokens.make(tokens.UNSUBSCRIBE, m=alerts.user_id, e=email)
    return link("notifications:unsubscribe", token)


def manage_link(email: str) -> str:
    return link("notifications:manage", tokens.make(tokens.MANAGE, e=email))


def describe_unsubscribe(token: str) -> str:
    """What the unsubscribe link `token` would stop, for the page that asks to confirm."""
    payload = tokens.read(tokens.UNSUBSCRIBE, token)
    if "s" in payload:
        subscription = Subscription.objects.filter(pk=payload["s"], email=payload.get("e")).first()
        if subscription is None:
            return ""
        return _("%(what)s on %(page)s") % {
            "what": what_is_followed(subscription),
            "page": page_name(thread_of(subscription), subscription.site),
        }
    if "m" in payload:
        return _("comments waiting for moderation")
    return _("all e-mail notifications to %(email)s") % {"email": payload.get("e", "")}


def unsubscribe(token: str) -> int:
    """Stop what the link names: one subscription, all of an address's, or a moderator's
    alerts. Returns how many things stopped (0: nothing was left to stop)."""
    payload = tokens.read(tokens.UNSUBSCRIBE, token)
    email = payload.get("e", "")
    with transaction.atomic():
        if "s" in payload:
            stopped, _detail = Subscription.objects.filter(pk=payload["s"], email=email).delete()
            return stopped
        if "m" in payload:
            return _moderator_alerts_off(payload["m"])
        return unsubscribe_all(email)


def unsubscribe_all(email: str) -> int:
    stopped, _detail = Subscription.objects.filter(email=email).delete()
    for alerts in ModeratorAlerts.objects.filter(user__email__iexact=email):
        stopped += _moderator_alerts_off(alerts.user_id)
    return stopped


def send_manage_link(email: str) -> None:
    hour = timezone.now().strftime("%Y%m%d%H")
    letter = Letter(
        subject=_("Your e-mail notifications"),
        paragraphs=[
            _("Here is the link to see and stop the notifications sent to %(email)s.")
            % {"email": email}
        ],
        action_label=_("Manage your e-mail"),
        action_url=manage_link(email),
        after=[_("If you did not ask for this, ignore this e-mail: nothing else happens.")],
    )
    queue_email(
        key=f"manage:{email}:{hour}",
        kind="manage",
        to=email,
        letter=letter,
        lang=translation.get_language() or "",
    )


def _moderator_alerts_off(user_id: int) -> int:
    return (
        ModeratorAlerts.objects.filter(user_id=user_id)
        .exclude(delivery=ModeratorAlerts.Delivery.OFF)
        .update(delivery=ModeratorAlerts.Delivery.OFF)
    )


def subscriptions_of(email: str) -> list[Subscription]:
    return list(
        Subscription.objects.filter(email=email)
        .select_related("site", "comment")
        .order_by("site__name", "uri", "kind")
    )


def read_manage_token(token: str) -> str:
    return str(tokens.read(tokens.MANAGE, token).get("e", ""))


def unsubscribe_one(email: str, subscription_id: int) -> int:
    """From the manage page, whose link proved the address."""
    stopped, _detail = Subscription.objects.filter(pk=subscription_id, email=email).delete()
    return stopped


def page_name(thread: Thread | None, site: Site | None = None) -> str:
    """How e-mail names a page: its discussion's title where the publisher gave one, else the
    site's name — never the bare path, which a stranger may have typed to put words in our
    mail."""
    if thread is not None:
        return thread.title or str(thread.site)
    return str(site)


def thread_of(subscription: Subscription) -> Thread | None:
    return Thread.objects.filter(site=subscription.site, uri=subscription.uri).first()


def page_url(site: Site, uri: str) -> str:
    """Where readers read a thread: Parley's own article page, or the publisher's page that
    embeds it (on the site's first allowed origin)."""
    from parley.articles.models import Article

    try:
        match = resolve(uri)
    except Resolver404:
        match = None
    slug = match.kwargs.get("slug") if match is not None and match.url_name == "article" else None
    if slug is not None and Article.objects.filter(site=site, slug=slug).exists():
        return public_url(uri)
    if site.origins:
        return site.origins[0] + uri
    public_host = urlsplit(public_url("")).hostname
    if not site.domains or site.domains[0] in (public_host, "127.0.0.1", "localhost"):
        return public_url(uri)
    return f"https://{site.domains[0]}{uri}"


def comment_link(comment: Comment) -> str:
    return page_url(comment.thread.site, comment.thread.uri) + f"#comment-{comment.pk}"
