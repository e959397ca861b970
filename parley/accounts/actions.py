"""Every write of reader accounts: asking for a sign-in link and completing it, sessions, the
profile, claiming earlier comments and deleting an account. Views parse and call one `check_*`.
"""

import hmac
import io
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from parley.comments import reads
from parley.comments.access import access_site
from parley.comments.actions import do_delete_comment
from parley.comments.models import Comment, Subscription
from parley.core.errors import Conflict, Forbidden, Invalid, ParleyError, TooLarge
from parley.core.readers import Actor, enforce_actor_limits
from parley.notifications.outbox import Letter, link, queue_email
from parley.notifications.subscriptions import clean_email
from parley.sites.models import Site

from .models import AccountSession, Profile, SignInRequest, digest
from .queries import SESSION_SALT, claimable_comments

SIGNIN_MINUTES = 15
SESSION_DAYS = 90
MAX_AVATAR_BYTES = 2 * 1024 * 1024
AVATAR_SIZE = (128, 128)
# Larger pictures are refused before decoding: a small file can unpack to gigabytes.
MAX_AVATAR_PIXELS = 40_000_000
FRAGMENT = "parley-signin"


class BrokenLink(ParleyError):
    status = 400
    code = "bad_link"

    def __init__(self) -> None:
        super().__init__(
            _(
                "This sign-in link does not work: it may have been cut short or changed. "
                "Ask for a new one."
            )
        )


class UsedLink(Conflict):
    code = "used"

    def __init__(self) -> None:
        super().__init__(
            _("This sign-in link was used already: each link works once. Ask for a new one.")
        )


class ExpiredLink(ParleyError):
    status = 410
    code = "expired"

    def __init__(self) -> None:
        super().__init__(
            _("This sign-in link has expired: links work for %(minutes)d minutes. Ask again.")
            % {"minutes": SIGNIN_MINUTES}
        )


class OtherBrowser(Forbidden):
    code = "other_browser"

    def __init__(self) -> None:
        super().__init__(
            _(
                "This link was asked for in another browser. Open it there, or ask for a new "
                "link here."
            )
        )


# --- Signing in -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInAsked:
    message: str
    # Only the asking browser gets it; the link alone signs nobody in.
    browser_key: str


def check_request_signin(
    actor: Actor, site_name: str | None, email: str, return_url: str, *, own_origin: str
) -> SignInAsked:
    """E-mail a sign-in link that leads back to `return_url`: a page of the site (an origin
    it allows) or of Parley itself (`own_origin`, the address the request came to). With no
    site, the reader asked on Parley's own profile page. The answer is the same whether an
    account exists or the address can receive mail."""
    site = access_site(actor, site_name) if site_name is not None else None
    errors: dict[str, str] = {}
    try:
        email = clean_email(email)
    except Invalid as error:
        errors |= error.fields
    if not _may_return_to(return_url, site, own_origin):
        errors["return_url"] = _("A sign-in link can only lead back to a page of this site.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    scopes = {"site": site.name} if site is not None else {}
    enforce_actor_limits(actor, "signin.request", email=email, **scopes)
    token, browser_key = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic(durable=True):
        # Links expired long ago are of no use to anyone; their addresses need not be kept.
        SignInRequest.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
        request = SignInRequest.objects.create(
            email=email,
            site=site,
            return_url=return_url,
            token_hash=digest(token),
            browser_key_hash=digest(browser_key),
            created_at=now,
            expires_at=now + timedelta(minutes=SIGNIN_MINUTES),
        )
        queue_email(
            key=f"signin:{request.pk}",
            kind="signin",
            to=email,
            letter=_signin_letter(token, return_url),
            lang=translation.get_language() or "",
            site=site,
        )
    message = _(
        "If %(email)s can receive our e-mail, a sign-in link is on its way there. Open it in "
        "this browser within %(minutes)d minutes."
    ) % {"email": email, "minutes": SIGNIN_MINUTES}
    return SignInAsked(message, browser_key)


def _may_return_to(url: str, site: Site | None, own_origin: str) -> bool:
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        return False
    if (
        parts.scheme not in ("http", "https")
        or not hostname
        or "@" in parts.netloc  # https://blog.example@elsewhere.example/ leads elsewhere
        or any(ord(ch) <= 32 for ch in url)
    ):
        return False
    origin = f"{parts.scheme}://{parts.netloc.lower()}"
    own = {own_origin.lower(), settings.PUBLIC_URL.lower()}
    return origin in own or (site is not None and site.allows_origin(origin))


def _signin_letter(token: str, return_url: str) -> Letter:
    return Letter(
        subject=_("Your sign-in link"),
        paragraphs=[
            _("Someone, hopefully you, asked to sign in on %(place)s with this address.")
            % {"place": urlsplit(return_url).hostname},
            _(
                "The link works once, within %(minutes)d minutes, in the browser where you "
                "asked for it."
            )
            % {"minutes": SIGNIN_MINUTES},
        ],
        action_label=_("Sign in"),
        action_url=link("accounts:signin", token),
        after=[_("If you did not ask for this, ignore this e-mail: nothing else happens.")],
    )


def _usable(request: SignInRequest | None, now: datetime) -> SignInRequest:
    if request is None:
        raise BrokenLink()
    if request.used_at is not None:
        raise UsedLink()
    if request.expires_at <= now:
        raise ExpiredLink()
    return request


def read_signin_link(token: str) -> str:
    """Where the e-mailed link leads: the page it was asked on, with the token in the
    fragment (which browsers never send to a server) for the widget there to complete.
    Changes nothing: mail scanners open links too."""
    request = _usable(
        SignInRequest.objects.filter(token_hash=digest(token)).first(), timezone.now()
    )
    return urlsplit(request.return_url)._replace(fragment="").geturl() + f"#{FRAGMENT}={token}"


def signin_return_url(token: str) -> str | None:
    """The page a link was asked on, even once it is used or expired: to ask again there."""
    request = SignInRequest.objects.filter(token_hash=digest(token)).first()
    return request.return_url if request is not None else None


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_token: str


def check_complete_signin(actor: Actor, token: str, browser_key: str) -> SignedIn:
    """Sign in with a link's token, from the browser that asked for it (which alone holds
    the browser key). A link works once: the row is locked, so of two browsers completing
    at once only one wins."""
    enforce_actor_limits(actor, "signin.complete")
    now = timezone.now()
    with transaction.atomic(durable=True):
        request = _usable(
            SignInRequest.objects.select_for_update().filter(token_hash=digest(token)).first(), now
        )
        if not hmac.compare_digest(request.browser_key_hash, digest(browser_key)):
            raise OtherBrowser()
        request.used_at = now
        request.save(update_fields=["used_at"])
        user = do_find_or_create_reader(request.email)
        return SignedIn(user, do_open_session(user, origin=actor.origin or ""))


def do_find_or_create_reader(email: str) -> User:
    """The reader account of a verified address, created on its first sign-in. Staff
    accounts are never reached this way: an e-mail link must not grant a moderator's powers."""
    user = (
        User.objects.filter(email__iexact=email, is_staff=False, is_superuser=False)
        .order_by("date_joined", "pk")
        .first()
    )
    if user is None:
        return User.objects.create_user(username=f"reader-{uuid.uuid4().hex}", email=email.lower())
    if not user.is_active:
        raise Forbidden(_("This account is disabled."))
    return user


def do_open_session(user: User, *, origin: str) -> str:
    """A new session for `user`; its token is signed, so a forged one costs no query."""
    secret = secrets.token_urlsafe(32)
    now = timezone.now()
    AccountSession.objects.create(
        user=user,
        key_hash=digest(secret),
        origin=origin[:300],
        created_at=now,
        expires_at=now + timedelta(days=SESSION_DAYS),
    )
    return signing.Signer(salt=SESSION_SALT).sign(secret)


def check_sign_out(actor: Actor, session_token: str) -> None:
    """End the session the widget sent; an unknown or ended one changes nothing."""
    enforce_actor_limits(actor, "signin.complete")
    try:
        secret = signing.Signer(salt=SESSION_SALT).unsign(session_token)
    except signing.BadSignature:
        return
    AccountSession.objects.filter(key_hash=digest(secret), revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


# --- The profile ----------------------------------------------------------------------------


def check_update_profile(
    user: User, display_name: str, avatar: UploadedFile | None, *, remove_avatar: bool = False
) -> Profile:
    name = " ".join(display_name.split())
    if len(name) > 100 or any(ord(ch) < 32 for ch in display_name):
        raise Invalid(
            _("Please correct the marked fields."),
            fields={"display_name": _("A name has at most 100 ordinary characters.")},
        )
    png = avatar_png(avatar) if avatar is not None else None
    with transaction.atomic(durable=True):
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        replaced = profile.avatar.name
        profile.display_name = name
        if png is not None:
            profile.avatar.save(f"{uuid.uuid4().hex}.png", ContentFile(png), save=False)
        elif remove_avatar:
            profile.avatar.name = ""
        profile.save()
        if replaced and replaced != profile.avatar.name:
            transaction.on_commit(lambda: default_storage.delete(replaced))
        return profile


def avatar_png(upload: UploadedFile) -> bytes:
    """The upload redrawn as a 128 by 128 PNG: what the camera wrote into it (place, time,
    device) is left behind, and so is anything but the picture."""
    if upload.size is None or upload.size > MAX_AVATAR_BYTES:
        raise TooLarge(
            _("A picture has at most 2 MB."), fields={"avatar": _("A picture has at most 2 MB.")}
        )
    try:
        with Image.open(upload, formats=["PNG", "JPEG", "GIF", "WEBP"]) as image:
            if image.width * image.height > MAX_AVATAR_PIXELS:
                raise ValueError("too many pixels")
            upright = ImageOps.exif_transpose(image).convert("RGBA")
            square = ImageOps.fit(upright, AVATAR_SIZE, Image.Resampling.LANCZOS)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise Invalid(
            _("Please correct the marked fields."),
            fields={
                "avatar": _("That is not a picture we can read: use a PNG, JPEG, GIF or WebP.")
            },
        ) from None
    out = io.BytesIO()
    square.save(out, format="PNG", optimize=True)
    return out.getvalue()


def check_claim_comments(user: User) -> int:
    """Attach the comments posted as a guest with the account's (now verified) address."""
    with transaction.atomic(durable=True):
        comments = claimable_comments(user)
        # A thread's cached reads know which accounts have held comments in it.
        _invalidate_on_commit(set(comments.values_list("thread__site__name", "thread__uri")))
        return comments.update(account=user)


def _invalidate_on_commit(threads: set[tuple[str, str]]) -> None:
    for site_name, uri in threads:
        transaction.on_commit(partial(reads.invalidate, site_name, uri))


KEEP, REMOVE = "anonymise", "remove"


def removes_comments(site: Site, choice: str) -> bool:
    policy = site.account_deletion
    return policy == Site.AccountDeletion.REMOVE or (
        policy == Site.AccountDeletion.CHOICE and choice == REMOVE
    )


def check_delete_account(user: User, choice: str, *, confirmed: bool) -> None:
    """Delete a reader's account, subscriptions and sessions. Their comments are removed or
    kept as by a "deleted user", as the reader chose where each comment's site lets them."""
    if user.is_staff or user.is_superuser:
        raise Forbidden(_("A staff account is deleted by an administrator, in the admin."))
    errors = {}
    if choice not in (KEEP, REMOVE):
        errors["comments"] = _("Choose whether to keep or remove your comments.")
    if not confirmed:
        errors["confirm"] = _("Tick this box to confirm.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    with transaction.atomic(durable=True):
        do_delete_account(user, partial(removes_comments, choice=choice))


def do_delete_account(user: User, removes: Callable[[Site], bool]) -> None:
    """The account goes with its profile, sessions, subscriptions and sign-in links; its
    comments are removed on the sites where `removes` says so, elsewhere kept as by a
    "Deleted user"."""
    do_retire_comments(Comment.objects.filter(account=user), removes)
    Subscription.objects.filter(email__iexact=user.email).delete()
    SignInRequest.objects.filter(email__iexact=user.email).delete()
    avatar = Profile.objects.filter(user=user).values_list("avatar", flat=True).first()
    if avatar:
        transaction.on_commit(lambda: default_storage.delete(avatar))
    user.delete()  # and with it the profile and every session


@dataclass(frozen=True)
class Retired:
    anonymised: int
    removed: int


def do_retire_comments(comments: QuerySet[Comment], removes: Callable[[Site], bool]) -> Retired:
    """The comments of someone who leaves: removed on the sites where `removes` says so
    (through the ordinary delete, so counts and placeholders stay true), elsewhere kept; all
    of them shown as by a "Deleted user" and no longer tied to the person by address, web
    site, network or account."""
    deleted_user = _("Deleted user")
    # In id order, parents before their replies: removing a reply changes its parent's
    # reply count, so a parent removed after it would act on the count loaded before.
    locked = comments.select_for_update(of=("self",)).select_related("thread__site").order_by("pk")
    threads: set[tuple[str, str]] = set()
    anonymised = removed = 0
    for comment in locked:
        if removes(comment.thread.site):
            if comment.status != Comment.Status.DELETED:
                do_delete_comment(comment)
            removed += 1
        else:
            anonymised += 1
        comment.author_name, comment.author_email, comment.author_url = deleted_user, "", ""
        comment.ip_hash, comment.account = "", None
        comment.save(
            update_fields=["author_name", "author_email", "author_url", "ip_hash", "account"]
        )
        threads.add((comment.thread.site.name, comment.thread.uri))
    _invalidate_on_commit(threads)
    return Retired(anonymised, removed)
