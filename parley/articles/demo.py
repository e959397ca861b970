"""Seeds the demo newsroom from demo_content/content.json: one site, three articles with maps, and a
multilingual discussion several levels deep, written through the same actions readers use; and a
funding campaign halfway to its goal, whose gifts are in the ledger like any other."""

import json
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from parley.comments.actions import (
    STATUS_FOR_ACTION,
    Draft,
    announce_new,
    do_edit_comment,
    do_post_comment,
    do_vote,
)
from parley.comments.models import Comment, Thread
from parley.comments.signals import comment_reported
from parley.core.markdown import render_markdown
from parley.core.readers import Actor, hash_ip
from parley.funding.ledger import record_seeded_payment
from parley.funding.models import Campaign
from parley.moderation import gate
from parley.moderation.models import Report
from parley.sites.models import Site

from .images import make_renditions
from .models import Article, Figure

CONTENT = Path(__file__).parent / "demo_content"
STAFF_USERNAME = "editor"
STAFF_EMAIL = "editor@frontline-review.example"
CAMPAIGN_SLUG = "support-frontline"
# (amount in cents, e-mail, name, shown on the donor wall): 2,550 $ of the 5,000 $ goal.
SEEDED_GIFTS = [
    (100_000, "margit@readers.example", "Margit Halvorsen", True),
    (50_000, "d.weber@readers.example", "", False),
    (50_000, "tomas@readers.example", "Tomás Ruiz", True),
    (25_000, "leyla@readers.example", "Leyla Arslan", True),
    (20_000, "h.berg@readers.example", "", False),
    (10_000, "okafor@readers.example", "J. Okafor", False),
]


def seed_demo() -> tuple[Site, str]:
    """Seed once (a second run keeps what is there) and return the site and a fresh staff
    password."""
    content = json.loads((CONTENT / "content.json").read_text(encoding="utf-8"))
    with transaction.atomic():
        # First, with an address: the seeded held and reported comments alert the editor,
        # whose mail the demo lists at /notifications/sent/.
        staff, _ = get_user_model().objects.get_or_create(
            username=STAFF_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "email": STAFF_EMAIL},
        )
        password = secrets.token_urlsafe(9)
        staff.set_password(password)
        staff.save()
        site = Site.objects.filter(name=content["site"]["name"]).first()
        if site is None:
            site = _seed_site(content)
        # Apart from the site: a demo seeded before there were campaigns gets one too.
        if not Campaign.objects.filter(slug=CAMPAIGN_SLUG).exists():
            _seed_campaign(site)
    return site, password


def _seed_campaign(site: Site) -> None:
    campaign = Campaign.objects.create(
        site=site,
        slug=CAMPAIGN_SLUG,
        title=f"Keep {site.title} independent",
        goal=500_000,
        currency="USD",
        ends_at=timezone.now() + timedelta(days=30),
        suggested_amounts=[500, 1000, 2500, 5000],
        intervals=["once", "month", "year"],
        thank_you=(
            "Thank you. Readers like you keep our reporting free to read, free of ads, "
            "and our comment section open to everyone."
        ),
    )
    for amount, email, name, show_name in SEEDED_GIFTS:
        record_seeded_payment(campaign, amount, email, name, show_name)


def _seed_site(content: dict[str, Any]) -> Site:
    info = content["site"]
    site = Site.objects.create(
        name=info["name"], title=info["title"], domains=["127.0.0.1", "localhost"]
    )
    for spec in content["articles"]:
        article = Article.objects.create(
            site=site,
            slug=spec["slug"],
            headline=spec["headline"],
            dek=spec["dek"],
            author_name=spec["author"],
            published_at=datetime.fromisoformat(spec["published_at"]),
            body=spec["body"],
        )
        for position, figure_spec in enumerate(spec["figures"], start=1):
            with (CONTENT / figure_spec["file"]).open("rb") as image:
                figure = Figure(
                    article=article,
                    position=position,
                    caption=figure_spec["caption"],
                    alt=figure_spec["alt"],
                )
                figure.image.save(figure_spec["file"], File(image), save=True)
            make_renditions(figure)
        thread = Thread.objects.create(site=site, uri=article.uri, title=article.headline)
        for comment_spec in spec["comments"]:
            _seed_comment(thread, None, comment_spec, article.published_at)
        for held_spec in spec.get("moderation", []):
            _seed_for_moderators(thread, held_spec, article.published_at)
    return site


def _author_and_draft(thread: Thread, spec: dict[str, Any]) -> tuple[Actor, Draft]:
    # Each author has an address of their own, so a ban on one is not a ban on all.
    actor = Actor(
        reader_key=f"demo:{spec['author']}",
        reader_token="",
        ip_hash=hash_ip(f"demo:{spec['author']}"),
    )
    draft = Draft(
        site=thread.site.name,
        uri=thread.uri,
        body=spec["body"],
        author_name=spec["author"],
        author_email=spec.get("email", ""),
        author_url=spec.get("url", ""),
        quote=spec.get("quote", ""),
    )
    return actor, draft


def _seed_for_moderators(thread: Thread, spec: dict[str, Any], published_at: Any) -> None:
    """Comments for the moderator queue: scored by the real scorer and held by the site's
    policy like any reader's, or published and then reported by readers."""
    actor, draft = _author_and_draft(thread, spec)
    policy = gate.policy_for(thread.site)
    score = gate.scorer_for(policy).score([draft.body])[0]
    verdict = gate.decide(policy, score)
    if spec.get("published"):
        verdict = gate.Verdict("publish", score.reasons, score=score)
    comment = do_post_comment(
        actor,
        thread,
        None,
        draft,
        render_markdown(draft.body),
        status=STATUS_FOR_ACTION[verdict.action],
        created_at=published_at + timedelta(minutes=spec["minutes_after"]),
    )
    gate.record(comment, verdict)
    announce_new(comment, settled=True, shadow=verdict.shadow)  # moderators are alerted
    for n, (reason, note) in enumerate(spec.get("reports", [])):
        report = Report.objects.create(
            comment=comment, reason=reason, note=note, reader_key=f"demo-reporter:{n}"
        )
        comment_reported.send(sender=Comment, comment=comment, report=report)


def _seed_comment(
    thread: Thread, parent: Comment | None, spec: dict[str, Any], published_at: Any
) -> None:
    actor, draft = _author_and_draft(thread, spec)
    created_at = published_at + timedelta(minutes=spec["minutes_after"])
    comment = do_post_comment(
        actor,
        thread,
        parent,
        draft,
        render_markdown(draft.body),
        status=Comment.Status.PUBLISHED,
        created_at=created_at,
    )
    if parent is not None:
        parent.refresh_from_db()
    if edited := spec.get("edited_body"):
        do_edit_comment(comment, edited)
        Comment.objects.filter(pk=comment.pk).update(edited_at=created_at + timedelta(minutes=6))
    for direction, value in (("up", 1), ("down", -1)):
        for n in range(spec.get("votes", {}).get(direction, 0)):
            do_vote(comment, f"demo-voter:{direction}{n}", value)
    for reply in spec.get("replies", []):
        _seed_comment(thread, comment, reply, published_at)
