"""Every write to threads, comments and votes. Views parse and call one `check_*`."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from parley.core.errors import Conflict, Forbidden, Invalid, TooLarge, Unauthorized
from parley.core.markdown import render_markdown
from parley.core.readers import Actor, enforce_actor_limits
from parley.moderation import gate
from parley.sites.models import Site

from . import reads, signals
from .access import access_comment, access_site
from .models import Comment, CommentRevision, Thread, Vote

_EDIT_SALT = "parley.comment.edit"
MAX_QUOTE_LENGTH = 2000
MAX_QUOTE_CONTEXT_LENGTH = 64


class ThreadClosed(Conflict):
    code = "thread_closed"
    status = 403

    def __init__(self) -> None:
        super().__init__(_("This discussion is closed to new comments."))


class BadCredential(Forbidden):
    code = "bad_credential"


class MissingCredential(Unauthorized):
    def __init__(self) -> None:
        super().__init__(_("Send the comment's edit token as “Authorization: Bearer <token>”."))


@dataclass(frozen=True)
class Draft:
    site: str
    uri: str
    body: str
    author_name: str
    author_email: str = ""
    author_url: str = ""
    parent_id: int | None = None
    quote: str = ""
    quote_prefix: str = ""
    quote_suffix: str = ""
    # Not stored: what moderation learns from how the form was sent.
    form_token: str = ""
    honeypot: str = ""


def _has_control_characters(text: str) -> bool:
    return any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text)


def _is_page_path(uri: str) -> bool:
    return uri.startswith("/") and len(uri) <= 500 and not _has_control_characters(uri)


def validate_draft(draft: Draft, site: Site) -> None:
    errors: dict[str, str] = {}
    if not _is_page_path(draft.uri):
        errors["uri"] = _("A page path starts with / and has at most 500 characters.")
    name = draft.author_name.strip()
    if not name:
        errors["author_name"] = _("Please give a name to show with your comment.")
    elif len(name) > 100 or _has_control_characters(name):
        errors["author_name"] = _("A name has at most 100 ordinary characters.")
    if draft.author_email:
        try:
            validate_email(draft.author_email)
        except ValidationError:
            errors["author_email"] = _("That is not an e-mail address.")
    if draft.author_url:
        try:
            URLValidator(schemes=["http", "https"])(draft.author_url)
        except ValidationError:
            errors["author_url"] = _("A website address starts with http:// or https://.")
    validate_body(draft.body, site, errors)
    if len(draft.quote) > MAX_QUOTE_LENGTH or _has_control_characters(draft.quote):
        errors["quote"] = _("A quote has at most %(n)d characters.") % {"n": MAX_QUOTE_LENGTH}
    for name in ("quote_prefix", "quote_suffix"):
        if len(getattr(draft, name)) > MAX_QUOTE_CONTEXT_LENGTH:
            errors[name] = _("At most %(n)d characters.") % {"n": MAX_QUOTE_CONTEXT_LENGTH}
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)


def validate_body(body: str, site: Site, errors: dict[str, str] | None = None) -> None:
    if len(body) > site.max_body_length:
        raise TooLarge(
            _("A comment has at most %(n)d characters.") % {"n": site.max_body_length},
            fields={"body": _("Too long.")},
        )
    problem = None
    if not body.strip():
        problem = _("Please write something.")
    elif "\x00" in body:
        problem = _("The comment contains a character that cannot be stored.")
    if problem and errors is not None:
        errors["body"] = problem
    elif problem:
        raise Invalid(problem, fields={"body": problem})


def edit_token_for(comment: Comment) -> str:
    return signing.dumps({"c": comment.pk}, salt=_EDIT_SALT)


def verify_edit_token(comment: Comment, token: str) -> None:
    """The token must be this comment's and younger than the site's edit window."""
    if not token:
        raise MissingCredential()
    window = timedelta(minutes=comment.thread.site.edit_window_minutes)
    try:
        payload = signing.loads(token, salt=_EDIT_SALT, max_age=window)
    except signing.SignatureExpired:
        raise BadCredential(_("The time to edit this comment has passed.")) from None
    except signing.BadSignature:
        raise BadCredential(_("That edit credential is not valid.")) from None
    if payload.get("c") != comment.pk:
        raise BadCredential(_("That edit credential is for another comment."))


def _invalidate_on_commit(thread: Thread) -> None:
    site_name, uri = thread.site.name, thread.uri
    transaction.on_commit(lambda: reads.invalidate(site_name, uri))


STATUS_FOR_ACTION = {
    "publish": Comment.Status.PUBLISHED,
    "hold": Comment.Status.PENDING,
    "spam": Comment.Status.SPAM,
}


def check_post_comment(actor: Actor, draft: Draft) -> Comment:
    site = access_site(actor, draft.site)
    validate_draft(draft, site)
    enforce_actor_limits(actor, "comment.post", site=site.name)
    verdict = gate.screen(
        gate.Submission(
            site=site,
            body=draft.body,
            author_name=draft.author_name,
            author_email=draft.author_email,
            reader_key=actor.reader_key,
            ip=actor.ip,
            ip_hash=actor.ip_hash,
            account_id=actor.user.pk if actor.user is not None else None,
            uri=draft.uri,
            form_token=draft.form_token,
            honeypot=draft.honeypot,
        )
    )
    body_html = render_markdown(draft.body)
    with transaction.atomic(durable=True):
        thread, _created = Thread.objects.get_or_create(site=site, uri=draft.uri)
        if thread.is_closed:
            raise ThreadClosed()
        parent = None
        if draft.parent_id is not None:
            parent = access_comment(actor, draft.parent_id, thread=thread, lock=True)
            if parent.status != Comment.Status.PUBLISHED:
                raise Conflict(_("You can only reply to a published comment."))
        comment = do_post_comment(
            actor, thread, parent, draft, body_html, status=STATUS_FOR_ACTION[verdict.action]
        )
        gate.record(comment, verdict)
        announce_new(comment, settled=not verdict.score_later, shadow=verdict.shadow)
        return comment


def announce_new(comment: Comment, *, settled: bool, shadow: bool) -> None:
    """Tell the other apps about a new comment, once its verdict is stored: a published one
    only when settled (a post-moderated site's scorer has not yet had its say otherwise; the
    score task announces it then), a held one to the moderators unless shadow-banned."""
    if comment.status == Comment.Status.PUBLISHED and settled:
        signals.comment_published.send(sender=Comment, comment=comment)
    elif comment.status == Comment.Status.PENDING and not shadow:
        signals.comment_held.send(sender=Comment, comment=comment)


def do_post_comment(
    actor: Actor,
    thread: Thread,
    parent: Comment | None,
    draft: Draft,
    body_html: str,
    *,
    status: str,
    created_at: datetime | None = None,
) -> Comment:
    """Caller has validated and screened the draft and holds the lock on `parent`."""
    comment = Comment.objects.create(
        thread=thread,
        parent=parent,
        root=(parent.root or parent) if parent else None,
        depth=parent.depth + 1 if parent else 1,
        author_name=draft.author_name.strip(),
        author_email=draft.author_email,
        author_url=draft.author_url,
        account=actor.user,
        reader_key=actor.reader_key,
        body=draft.body,
        body_html=body_html,
        quote=draft.quote.strip(),
        quote_prefix=draft.quote_prefix if draft.quote.strip() else "",
        quote_suffix=draft.quote_suffix if draft.quote.strip() else "",
        status=status,
        created_at=created_at or timezone.now(),
        ip_hash=actor.ip_hash,
    )
    if status == Comment.Status.PUBLISHED:
        _shift_visibility(comment, +1)
        _count_published(comment, +1)
    # A held comment changes the thread too, for its author.
    _invalidate_on_commit(thread)
    return comment


def _count_published(comment: Comment, delta: int) -> None:
    """Last in a write: rows are locked from a comment up through its parents and the thread
    last, so that two writes in one thread never wait for each other in a cycle (a deadlock
    on PostgreSQL)."""
    Thread.objects.filter(pk=comment.thread_id).update(published_count=F("published_count") + delta)


def _shift_visibility(comment: Comment, delta: int) -> None:
    """`comment` started (+1) or stopped (-1) showing: its parent shows one reply more or
    fewer, and an unpublished parent that gains its first or loses its last shown reply
    starts or stops showing as a placeholder, which its own parent counts in turn."""
    parent_id = comment.parent_id
    while parent_id is not None:
        parent = Comment.objects.select_for_update(of=("self",), no_key=True).get(pk=parent_id)
        Comment.objects.filter(pk=parent.pk).update(reply_count=F("reply_count") + delta)
        turns_over = parent.reply_count == (0 if delta > 0 else 1)
        if parent.status == Comment.Status.PUBLISHED or not turns_over:
            break
        parent_id = parent.parent_id


def do_set_status(comment: Comment, status: str) -> None:
    """Move a comment between published, pending, spam and deleted, keeping the thread's
    count and the parents' reply counts true. Caller holds the lock on `comment`."""
    if comment.status == status:
        return
    was_published, was_visible = comment.status == Comment.Status.PUBLISHED, comment.is_visible
    comment.status = status
    comment.save(update_fields=["status"])
    is_published = status == Comment.Status.PUBLISHED
    if was_visible != comment.is_visible:
        _shift_visibility(comment, +1 if comment.is_visible else -1)
    if was_published != is_published:
        _count_published(comment, +1 if is_published else -1)
    _invalidate_on_commit(comment.thread)
    if is_published:
        signals.comment_published.send(sender=Comment, comment=comment)
    elif status == Comment.Status.PENDING:
        signals.comment_held.send(sender=Comment, comment=comment)


def check_edit_comment(actor: Actor, comment_id: int, token: str, body: str) -> Comment:
    comment = access_comment(actor, comment_id)
    enforce_actor_limits(actor, "comment.edit", site=comment.thread.site.name)
    _check_editable(actor, comment, token)
    validate_body(body, comment.thread.site)
    if body == comment.body:
        return comment
    # Screened before the transaction: a pre-moderated site's scorer must not hold a lock.
    verdict = gate.screen(
        gate.Submission(
            site=comment.thread.site,
            body=body,
            author_name=comment.author_name,
            author_email=comment.author_email,
            reader_key=actor.reader_key,
            ip=actor.ip,
            ip_hash=actor.ip_hash,
            account_id=comment.account_id,
            uri=comment.thread.uri,
            comment_id=comment.pk,
        )
    )
    with transaction.atomic(durable=True):
        comment = access_comment(actor, comment_id, lock=True)
        _check_editable(actor, comment, token)
        do_edit_comment(comment, body)
        # An edit can make a published comment risky; it never publishes a held one.
        if comment.status == Comment.Status.PUBLISHED and not verdict.publish:
            do_set_status(comment, STATUS_FOR_ACTION[verdict.action])
        gate.record(comment, verdict)
        return comment


def _is_own_comment(actor: Actor, comment: Comment) -> bool:
    """Signing in lets a reader edit and delete their comments later: their account stands
    in for the edit token, and the edit window does not apply."""
    return actor.user is not None and comment.account_id == actor.user.pk


def _check_editable(actor: Actor, comment: Comment, token: str) -> None:
    if not _is_own_comment(actor, comment):
        verify_edit_token(comment, token)
    if comment.status == Comment.Status.DELETED:
        raise Conflict(_("A deleted comment cannot be edited."))
    if comment.thread.is_closed:
        raise ThreadClosed()


def do_edit_comment(comment: Comment, body: str) -> Comment:
    if body == comment.body:
        return comment
    now = timezone.now()
    CommentRevision.objects.create(
        comment=comment, body=comment.body, body_html=comment.body_html, replaced_at=now
    )
    comment.body, comment.body_html, comment.edited_at = body, render_markdown(body), now
    comment.save(update_fields=["body", "body_html", "edited_at"])
    _invalidate_on_commit(comment.thread)
    return comment


def check_delete_comment(actor: Actor, comment_id: int, token: str | None) -> None:
    with transaction.atomic(durable=True):
        comment = access_comment(actor, comment_id, lock=True)
        enforce_actor_limits(actor, "comment.edit", site=comment.thread.site.name)
        if not (actor.is_staff or _is_own_comment(actor, comment)):
            verify_edit_token(comment, token or "")
        if comment.status == Comment.Status.DELETED:
            return
        do_delete_comment(comment)


def do_delete_comment(comment: Comment) -> None:
    """A comment with replies stays as a "deleted" placeholder so its replies keep their place;
    its text is kept as a revision for moderators but no longer served."""
    CommentRevision.objects.create(
        comment=comment,
        body=comment.body,
        body_html=comment.body_html,
        replaced_at=timezone.now(),
    )
    do_set_status(comment, Comment.Status.DELETED)


def do_move_thread(site: Site, old_uri: str, new_uri: str) -> None:
    """A page changed its address (an article's slug): its discussion moves with it."""
    thread = Thread.objects.select_related("site").filter(site=site, uri=old_uri).first()
    if thread is None:
        return
    if Thread.objects.filter(site=site, uri=new_uri).exists():
        raise Conflict(_("A discussion exists at %(uri)s already.") % {"uri": new_uri})
    thread.uri = new_uri
    thread.save(update_fields=["uri"])
    transaction.on_commit(lambda: reads.invalidate(site.name, old_uri))
    _invalidate_on_commit(thread)


def do_close_thread(thread: Thread, *, closed: bool) -> None:
    """A closed thread keeps its comments on show and takes no new ones or edits."""
    thread.closed_at = timezone.now() if closed else None
    thread.save(update_fields=["closed_at"])
    _invalidate_on_commit(thread)


@dataclass(frozen=True)
class VoteResult:
    score: int
    upvotes: int
    downvotes: int
    value: int


def check_vote(actor: Actor, comment_id: int, value: int) -> VoteResult:
    if value not in (1, -1, 0):
        raise Invalid(_("A vote is 1, -1 or 0."), fields={"value": _("Must be 1, -1 or 0.")})
    with transaction.atomic(durable=True):
        comment = access_comment(actor, comment_id, lock=True)
        enforce_actor_limits(
            actor,
            "comment.vote",
            site=comment.thread.site.name,
            ip_comment=f"{actor.ip_hash}:{comment.pk}",
        )
        if comment.status != Comment.Status.PUBLISHED:
            raise Conflict(_("Only published comments can be voted on."))
        if comment.thread.is_closed:
            raise ThreadClosed()
        if comment.reader_key == actor.reader_key or (
            actor.user is not None and comment.account_id == actor.user.pk
        ):
            raise Forbidden(_("You cannot vote on your own comment."))
        do_vote(comment, actor.reader_key, value)
        comment.refresh_from_db(fields=["upvotes", "downvotes", "score"])
        return VoteResult(comment.score, comment.upvotes, comment.downvotes, value)


def do_vote(comment: Comment, reader_key: str, value: int) -> None:
    """Caller holds the lock on `comment`. Repeating the same vote changes nothing."""
    previous = Vote.objects.filter(comment=comment, reader_key=reader_key).first()
    old = previous.value if previous else 0
    if old == value:
        return
    if previous and value == 0:
        previous.delete()
    elif previous:
        previous.value = value
        previous.save(update_fields=["value"])
    else:
        Vote.objects.create(comment=comment, reader_key=reader_key, value=value)
    up = (value == 1) - (old == 1)
    down = (value == -1) - (old == -1)
    Comment.objects.filter(pk=comment.pk).update(
        upvotes=F("upvotes") + up, downvotes=F("downvotes") + down, score=F("score") + up - down
    )
    _invalidate_on_commit(comment.thread)
