"""Background moderation work, run by the django-tasks worker."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from parley.comments.models import Comment
from parley.comments.signals import comment_published

from . import audit, gate
from .models import Assessment


@task()
def score_comment(comment_id: int) -> None:
    """Score a comment that was published (or held) without waiting for the scorer: a
    published one that the site's thresholds would hold is taken down for review, and one
    held only because the scorer was too slow is published if it is harmless.

    It may run twice (its worker died before it could record that it had finished:
    core/taskworker.py); the second run changes nothing."""
    comment = Comment.objects.select_related("thread__site").filter(pk=comment_id).first()
    if comment is None:
        return
    body = comment.body
    policy = gate.policy_for(comment.thread.site)
    score = gate.scorer_for(policy).score([body])[0]
    verdict = gate.decide(policy, score)
    with transaction.atomic():
        # The comment's row only: locking its thread too (a plain FOR UPDATE locks every
        # joined row) deadlocked on PostgreSQL with a reply to it, which locks the comment
        # and then counts itself in the thread.
        comment = (
            Comment.objects.select_for_update(of=("self",), no_key=True)
            .select_related("thread__site")
            .get(pk=comment_id)
        )
        assessment, _created = Assessment.objects.get_or_create(comment=comment)
        # Scored since it was last screened (gate.record clears scored_at): by this task's
        # first run. Or edited since this run read it: the edit queued a task of its own.
        if assessment.scored_at is not None or comment.body != body:
            return
        timed_out = assessment.source == Assessment.Source.TIMED_OUT
        assessment.scores, assessment.risk, assessment.lang = score.scores, score.risk, score.lang
        assessment.reasons = [*assessment.reasons, *score.reasons]
        if assessment.source != Assessment.Source.RULES:  # the rule still explains the hold
            assessment.source = score.source
        assessment.scored_at = timezone.now()
        assessment.save()
        if timed_out and comment.status == Comment.Status.PENDING and verdict.publish:
            audit.apply_decision(
                comment,
                Comment.Status.PUBLISHED,
                actor=None,
                action="scorer.publish",
                note=_("published once the scorer answered"),
            )
        elif comment.status == Comment.Status.PUBLISHED and not verdict.publish:
            audit.apply_decision(
                comment,
                Comment.Status.PENDING if verdict.action == "hold" else Comment.Status.SPAM,
                actor=None,
                action="scorer." + verdict.action,
                note=_("held after publication by the scorer"),
            )
        elif comment.status == Comment.Status.PUBLISHED:
            # Published before it was scored: only now is it news to subscribers.
            comment_published.send(sender=Comment, comment=comment)
