"""The one door from comments into moderation: every new and edited comment passes here.

Order: bans, then the site's rules, then the scorer, then the site's policy decides
publish, hold or spam. Under post-moderation the scorer runs afterwards, in a background
task (`tasks.score_comment`), so that posting never waits for it; pre-moderated sites that
hold only the risky score synchronously, within the policy's time budget.
"""

import concurrent.futures
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from parley.core.errors import Forbidden
from parley.sites.models import Site

if TYPE_CHECKING:
    from parley.comments.models import Comment

from . import rules
from .models import Assessment, Ban, Policy
from .scoring import Score, scorer_for

log = logging.getLogger(__name__)

_FORM_SALT = "parley.form"
# Scoring threads for the synchronous path: a slow scorer is abandoned at the budget, and the
# pool stays small so abandoned calls cannot pile up without bound.
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="parley-score")


class Banned(Forbidden):
    code = "banned"


@dataclass(frozen=True)
class Submission:
    site: Site
    body: str
    author_name: str
    author_email: str
    reader_key: str
    ip: str  # raw, for network rules; never stored
    ip_hash: str
    account_id: int | None = None
    uri: str = ""
    comment_id: int | None = None  # set for an edit
    form_token: str = ""  # `form_token()` as shown with the form; "" from plain API clients
    honeypot: str = ""  # a field people never see and bots fill in


@dataclass
class Verdict:
    action: str  # "publish" | "hold" | "spam"
    reasons: list[str] = field(default_factory=list)
    shadow: bool = False
    score: Score | None = None
    score_later: bool = False  # publish now, score in the background
    by_rules: bool = False
    timed_out: bool = False

    @property
    def publish(self) -> bool:
        return self.action == "publish"


def policy_for(site: Site) -> Policy:
    policy, _created = Policy.objects.get_or_create(site=site)
    return policy


def form_token() -> str:
    """Shown with every comment form: how long the form was open tells people from bots."""
    return signing.dumps(int(timezone.now().timestamp()), salt=_FORM_SALT)


def form_age_seconds(token: str) -> float | None:
    if not token:
        return None
    try:
        shown = signing.loads(token, salt=_FORM_SALT, max_age=86_400)
    except signing.BadSignature:
        return None
    return timezone.now().timestamp() - float(shown)


def bans_for(submission: Submission) -> list[Ban]:
    keys = Q(kind=Ban.Kind.IP, value=submission.ip_hash) | Q(
        kind=Ban.Kind.READER, value=submission.reader_key
    )
    if submission.author_email:
        keys |= Q(kind=Ban.Kind.EMAIL, value=submission.author_email.strip().lower())
    if submission.account_id is not None:
        keys |= Q(kind=Ban.Kind.ACCOUNT, value=str(submission.account_id))
    return list(
        Ban.objects.filter(Q(site=submission.site) | Q(site__isnull=True))
        .filter(keys)
        .filter(Ban.in_force())
    )


def refuse_banned(ban: Ban) -> Banned:
    if ban.expires_at is None:
        return Banned(_("You can no longer comment here: a moderator has banned you."))
    # The zone is named: a reader elsewhere must not misread the hour.
    until = formats.date_format(timezone.localtime(ban.expires_at), "j M Y, H:i T")
    return Banned(
        _("You cannot comment here until %(until)s: a moderator has banned you.") % {"until": until}
    )


def screen(submission: Submission) -> Verdict:
    """Decide what happens to a comment before it is stored. Raises Banned (in the
    reader's language)."""
    bans = bans_for(submission)
    open_bans = [ban for ban in bans if not ban.shadow]
    if open_bans:
        raise refuse_banned(max(open_bans, key=_ban_end))
    # Reasons are stored for the moderators, in the site's language, not the reader's.
    with translation.override(settings.LANGUAGE_CODE):
        if bans:
            return Verdict("hold", [_("author is shadow-banned")], shadow=True)
        return _screen_unbanned(submission)


def _screen_unbanned(submission: Submission) -> Verdict:
    site = submission.site
    policy = policy_for(site)
    scored = policy.use_scorer
    hits = rules.check_rules(policy, submission)
    reasons = [hit.reason for hit in hits]
    # Held by a rule, still scored: the score ranks the queue and adds its reasons.
    if any(hit.action == "spam" for hit in hits):
        return Verdict("spam", reasons, by_rules=True, score_later=scored)
    if hits:
        return Verdict("hold", reasons, by_rules=True, score_later=scored)

    if site.moderation == Site.Moderation.PRE:
        return Verdict("hold", [_("the site holds every comment for review")], score_later=scored)
    if site.moderation == Site.Moderation.PRE_FIRST and is_first_comment(submission):
        return Verdict("hold", [_("first comment of a new author")], score_later=scored)
    if site.moderation == Site.Moderation.PRE_RISKY and scored:
        score = score_within_budget(policy, submission.body)
        if score is None:
            return Verdict(
                "hold", [_("the scorer did not answer in time")], score_later=True, timed_out=True
            )
        return decide(policy, score)
    return Verdict("publish", score_later=scored)


def decide(policy: Policy, score: Score) -> Verdict:
    """The site's thresholds applied to a score."""
    if score.scores.get("spam", 0.0) >= policy.spam_threshold:
        return Verdict("spam", score.reasons, score=score)
    if score.risk >= policy.hold_threshold_for(score.lang):
        return Verdict("hold", score.reasons, score=score)
    return Verdict("publish", score.reasons, score=score)


def score_within_budget(policy: Policy, text: str) -> Score | None:
    scorer = scorer_for(policy)
    future = _pool.submit(lambda: scorer.score([text])[0])
    try:
        return future.result(timeout=policy.scorer_budget_ms / 1000)
    except concurrent.futures.TimeoutError:
        log.warning("scorer exceeded the %d ms budget", policy.scorer_budget_ms)
        return None


def is_first_comment(submission: Submission) -> bool:
    """No published comment on this site yet from this account, e-mail or browser."""
    from parley.comments.models import Comment

    same_author = Q(reader_key=submission.reader_key)
    if submission.account_id is not None:
        same_author |= Q(account_id=submission.account_id)
    if submission.author_email:
        same_author |= Q(author_email__iexact=submission.author_email)
    return not Comment.objects.filter(
        same_author, thread__site=submission.site, status=Comment.Status.PUBLISHED
    ).exists()


def record(comment: "Comment", verdict: Verdict) -> None:
    """Store the verdict beside the comment (caller's transaction) and, when scoring was
    left for later, queue it in the same transaction: the task queue is a table of the same
    database, so a process that dies right after the commit cannot leave the comment
    published and never scored (nor its subscribers never told)."""
    comment_id = comment.pk
    score = verdict.score
    Assessment.objects.update_or_create(
        comment_id=comment_id,
        defaults={
            "reading": rules.reading_digest(comment.body),
            "scores": score.scores if score else {},
            "risk": score.risk if score else 0.0,
            "lang": score.lang if score else "",
            "reasons": verdict.reasons,
            "source": _source(verdict),
            "shadow": verdict.shadow,
            "scored_at": timezone.now() if score else None,
        },
    )
    if verdict.score_later:
        from .tasks import score_comment

        score_comment.enqueue(comment_id)


def _source(verdict: Verdict) -> str:
    if verdict.by_rules:
        return Assessment.Source.RULES
    if verdict.timed_out:
        return Assessment.Source.TIMED_OUT
    return verdict.score.source if verdict.score else Assessment.Source.WAITING


def _ban_end(ban: Ban) -> datetime:
    return ban.expires_at or datetime.max.replace(tzinfo=timezone.get_current_timezone())


def status_for_author(comment: "Comment") -> str:
    """What a comment's author is told: a shadow-banned author's comment looks published,
    and spam looks held, so that neither learns to work around the filter."""
    if comment.status == comment.Status.PUBLISHED:
        return "published"
    if Assessment.objects.filter(comment_id=comment.pk, shadow=True).exists():
        return "published"
    return "pending"


def warm_scorer_in_background() -> None:
    """Load the scorer while the app process starts, where a site scores before publishing:
    loading takes longer than the time budget, and the first readers' comments would all
    wait for a moderator."""

    def warm() -> None:
        try:
            sites = Site.objects.filter(moderation=Site.Moderation.PRE_RISKY)
            for site in sites:
                policy = policy_for(site)
                if policy.use_scorer:
                    scorer_for(policy).score(["warm-up"])
        except Exception:  # a database not migrated yet, say: the first post loads it then
            log.exception("could not warm up the scorer")
        finally:
            # Back to the pool: this thread never answers a request, which would return it.
            connection.close()

    threading.Thread(target=warm, name="parley-warm-scorer", daemon=True).start()
