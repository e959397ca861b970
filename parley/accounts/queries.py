"""Reads of reader accounts: who a session token names, what an account shows and holds."""

from typing import Any

from django.contrib.auth.models import User
from django.core import signing
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from parley.comments.models import Comment, Subscription, Vote
from parley.core.avatars import avatar_hash
from parley.notifications.subscriptions import subscriptions_of
from parley.sites.models import Site

from .models import AccountSession, Profile, digest

SESSION_SALT = "parley.account.session"


def session_owner(token: str) -> User | None:
    """The active account an unrevoked, unexpired session token names."""
    try:
        secret = signing.Signer(salt=SESSION_SALT).unsign(token)
    except signing.BadSignature:
        return None
    session = (
        AccountSession.objects.select_related("user")
        .filter(
            key_hash=digest(secret),
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )
    return session.user if session is not None else None


def profile_of(user: User) -> Profile:
    """The reader's profile; an unsaved, empty one until they first save theirs."""
    return Profile.objects.filter(user=user).first() or Profile(user=user)


def account_json(user: User) -> dict[str, str]:
    profile = profile_of(user)
    return {"name": profile.display_name, "email": user.email, "avatar": avatar_of(profile)}


def avatar_of(profile: Profile) -> str:
    """The uploaded picture, or the avatar drawn from the address, as for a guest's
    comments posted with it."""
    if profile.avatar:
        return profile.avatar.url
    return reverse("avatar", args=[avatar_hash(profile.user.email)])


def claimable_comments(user: User) -> QuerySet[Comment]:
    """Comments posted as a guest with the account's address, not yet attached to it."""
    if not user.email:
        return Comment.objects.none()
    return Comment.objects.filter(account__isnull=True, author_email__iexact=user.email).exclude(
        status=Comment.Status.DELETED
    )


def deletion_policies(user: User) -> list[tuple[Site, str]]:
    """Each site the account commented on, with what deleting the account does there."""
    sites = Site.objects.filter(threads__comments__account=user).distinct().order_by("name")
    return [(site, site.account_deletion) for site in sites]


def export_data(user: User) -> dict[str, Any]:
    """Everything Parley keeps about the account, for the reader to download."""
    profile = profile_of(user)
    comments = list(
        Comment.objects.filter(account=user)
        .select_related("thread__site")
        .order_by("created_at", "pk")
    )
    # Votes are kept by reader key: the account's own, and the browsers it commented from.
    keys = {f"u:{user.pk}"} | {comment.reader_key for comment in comments}
    votes = Vote.objects.filter(reader_key__in=keys).select_related("comment__thread__site")
    return {
        "account": {
            "email": user.email,
            "created_at": user.date_joined.isoformat(),
        },
        "profile": {"display_name": profile.display_name, "avatar": avatar_of(profile)},
        "comments": [comment_json(comment) for comment in comments],
        "votes": [
            {
                "comment": vote.comment_id,
                "site": vote.comment.thread.site.name,
                "thread": vote.comment.thread.uri,
                "value": vote.value,
                "created_at": vote.created_at.isoformat(),
            }
            for vote in votes.order_by("created_at", "pk")
        ],
        "subscriptions": [subscription_json(s) for s in subscriptions_of(user.email)],
    }


def comment_json(comment: Comment) -> dict[str, Any]:
    """A comment as its author downloads it; `comment.thread.site` is best selected along."""
    return {
        "id": comment.pk,
        "site": comment.thread.site.name,
        "thread": comment.thread.uri,
        "parent": comment.parent_id,
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_url": comment.author_url,
        "body": comment.body,
        "quote": comment.quote,
        "status": comment.status,
        "created_at": comment.created_at.isoformat(),
        "edited_at": comment.edited_at.isoformat() if comment.edited_at else None,
    }


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    return {
        "site": subscription.site.name,
        "thread": subscription.uri,
        "kind": subscription.kind,
        "comment": subscription.comment_id,
        "delivery": subscription.delivery,
        "confirmed_at": (
            subscription.confirmed_at.isoformat() if subscription.confirmed_at else None
        ),
    }


def own_comments(user: User, site: str, uri: str) -> list[int]:
    """The account's comments in one thread that are still there to edit or delete."""
    if not site or not uri:
        return []
    return list(
        Comment.objects.filter(account=user, thread__site__name=site, thread__uri=uri)
        .exclude(status=Comment.Status.DELETED)
        .order_by("id")
        .values_list("id", flat=True)
    )
