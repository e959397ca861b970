"""The moderator queue and its pages: server-rendered forms, enhanced by static/moderation/queue.js
(which asks for JSON with `Accept: application/json`)."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from parley.articles.models import Article
from parley.comments.models import Comment, CommentRevision
from parley.core.errors import ParleyError
from parley.sites.models import Site

from . import decisions
from .models import Assessment, AuditEntry, Ban, Note, Report
from .scoring import CATEGORIES

PER_PAGE = 20

TABS = {
    "all": gettext_lazy("All"),
    "held": gettext_lazy("Held"),
    "reported": gettext_lazy("Reported"),
    "shadow": gettext_lazy("Shadow-banned"),
}
CATEGORY_LABELS = {
    "toxicity": gettext_lazy("Toxicity"),
    "insult": gettext_lazy("Insult"),
    "identity_attack": gettext_lazy("Identity attack"),
    "threat": gettext_lazy("Threat"),
    "profanity": gettext_lazy("Profanity"),
    "spam": gettext_lazy("Spam"),
}
ACTION_LABELS = {
    "approve": gettext_lazy("Approved"),
    "reject": gettext_lazy("Rejected"),
    "spam": gettext_lazy("Marked as spam"),
    "ban": gettext_lazy("Banned the author"),
    "ban.lift": gettext_lazy("Lifted a ban"),
    "note": gettext_lazy("Added a note"),
    "scorer.hold": gettext_lazy("Held by the scorer"),
    "scorer.spam": gettext_lazy("Filed as spam by the scorer"),
    "scorer.publish": gettext_lazy("Published once the scorer answered"),
    "reports.hold": gettext_lazy("Held after reader reports"),
    "privacy.erase": gettext_lazy("Erased a person's data"),
}
DONE_MESSAGES = {
    "approve": gettext_lazy("Approved comment by %(name)s."),
    "reject": gettext_lazy("Rejected comment by %(name)s."),
    "spam": gettext_lazy("Marked comment by %(name)s as spam."),
}


# --- Access --------------------------------------------------------------------------------


def moderator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous visitors go to the admin's sign-in; a signed-in person who moderates no
    site is refused."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not decisions.moderated_sites(request.user).exists():
            raise decisions.NotModerator(_("You do not moderate any site."))
        return view(request, *args, **kwargs)

    return guarded


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def back_to(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/moderation/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return "/moderation/"
    return target


def answered(request: HttpRequest, message: str, **data: Any) -> HttpResponse:
    """JSON for the queue's script, else a message and a redirect back to where the form was."""
    if wants_json(request):
        return JsonResponse({"message": message, **data})
    messages.success(request, message)
    return HttpResponseRedirect(back_to(request))


def refused(request: HttpRequest, error: ParleyError) -> HttpResponse:
    if wants_json(request):
        body = {"error": {"code": error.code, "message": error.message, "fields": error.fields}}
        return JsonResponse(body, status=error.status)
    if error.status in (403, 404):
        raise error
    messages.error(request, error.message)
    return HttpResponseRedirect(back_to(request))


# --- The queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    tab: str = "all"
    site: str = ""
    lang: str = ""
    reason: str = ""

    @classmethod
    def of(cls, request: HttpRequest) -> "QueueFilters":
        tab = request.GET.get("status", "all")
        return cls(
            tab=tab if tab in TABS else "all",
            site=request.GET.get("site", ""),
            lang=request.GET.get("lang", ""),
            reason=request.GET.get("reason", ""),
        )

    def query(self, **changes: str) -> str:
        values = {"status": self.tab, "site": self.site, "lang": self.lang, "reason": self.reason}
        values |= changes
        return urlencode(
            {k: v for k, v in values.items() if v and not (k == "status" and v == "all")}
        )


def reason_choices() -> list[tuple[str, str]]:
    choices = [("rule", str(_("Held by a rule")))]
    choices += [
        (f"score:{name}", _("Scored high: %(category)s") % {"category": CATEGORY_LABELS[name]})
        for name in CATEGORIES
    ]
    choices += [
        (f"report:{value}", _("Reported: %(reason)s") % {"reason": label})
        for value, label in Report.Reason.choices
    ]
    return choices


def _open_report_count() -> Subquery:
    open_reports = (
        Report.objects.filter(comment=OuterRef("pk"), resolved_at__isnull=True)
        .order_by()
        .values("comment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(open_reports, output_field=IntegerField())


REPORT_WEIGHT = 0.25


def queue_base(sites: QuerySet[Site], filters: QueueFilters) -> QuerySet[Comment]:
    """Comments waiting for a moderator on these sites, under the filters other than the tab."""
    comments = Comment.objects.filter(thread__site__in=sites).annotate(
        open_reports=Coalesce(_open_report_count(), 0),
        risk=Coalesce(F("assessment__risk"), Value(0.0)),
    )
    # Each open report weighs a quarter: three readers' reports rank a harmless-looking
    # comment with the risky ones, one report does not push it above a 0.99 insult.
    comments = comments.annotate(rank=F("risk") + F("open_reports") * Value(REPORT_WEIGHT))
    if filters.site:
        comments = comments.filter(thread__site__name=filters.site)
    if filters.lang:
        comments = comments.filter(assessment__lang=filters.lang)
    reason = filters.reason
    if reason == "rule":
        # Rules decide before (and instead of) the scorer: their verdict is recorded with
        # source "rules".
        comments = comments.filter(assessment__source=Assessment.Source.RULES)
    elif reason.startswith("score:") and reason[6:] in CATEGORIES:
        score = Cast(KeyTextTransform(reason[6:], "assessment__scores"), FloatField())
        threshold = Coalesce(
            F("thread__site__moderation_policy__hold_threshold"),
            Value(0.5),
            output_field=FloatField(),
        )
        comments = comments.alias(category_score=score, threshold=threshold).filter(
            category_score__gte=F("threshold")
        )
    elif reason.startswith("report:"):
        comments = comments.filter(
            Exists(
                Report.objects.filter(
                    comment=OuterRef("pk"), resolved_at__isnull=True, reason=reason[7:]
                )
            )
        )
    return comments


HELD = Q(status=Comment.Status.PENDING) & (Q(assessment__isnull=True) | Q(assessment__shadow=False))
REPORTED = Q(status=Comment.Status.PUBLISHED, open_reports__gt=0)
SHADOW = Q(status=Comment.Status.PENDING, assessment__shadow=True)
TAB_FILTERS = {"all": HELD | REPORTED, "held": HELD, "reported": REPORTED, "shadow": SHADOW}


@dataclass(frozen=True)
class AuditLine:
    entry: AuditEntry
    label: str
    changes: list[str]

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditLine":
        return cls(entry, action_label(entry.action), describe_changes(entry))


def describe_changes(entry: AuditEntry) -> list[str]:
    """What changed, for people: "Status: Held → Published"."""
    changes = []
    if "status" in entry.before or "status" in entry.after:
        changes.append(
            _("Status: %(before)s → %(after)s")
            % {
                "before": status_label(entry.before.get("status")),
                "after": status_label(entry.after.get("status")),
            }
        )
    ban = entry.after.get("ban")
    if isinstance(ban, dict):
        until = ban.get("expires_at")
        if until:
            ends = formats.date_format(
                timezone.localtime(datetime.fromisoformat(until)), "DATETIME_FORMAT"
            )
            changes.append(_("banned until %(until)s") % {"until": ends})
        else:
            changes.append(_("banned for good"))
        if ban.get("shadow"):
            changes.append(_("shadow ban"))
    if entry.before.get("open_reports"):
        resolved = entry.before["open_reports"]
        changes.append(
            ngettext("%(n)d report resolved", "%(n)d reports resolved", resolved) % {"n": resolved}
        )
    return changes


def status_label(status: Any) -> str:
    if status == Comment.Status.PENDING:
        return str(_("Held"))
    if status in Comment.Status.values:
        return str(Comment.Status(status).label)
    return "—"


@dataclass
class QueueItem:
    comment: Comment
    assessment: Assessment | None
    reports: list[Report]
    notes: list[Note]
    revisions: list[CommentRevision]
    audit: list[AuditLine]
    page_url: str
    history: dict[str, int] = field(default_factory=dict)
    scores: list[tuple[str, str, float]] = field(default_factory=list)
    ban_keys: dict[str, str] = field(default_factory=dict)


def queue_items(page: Page) -> list[QueueItem]:
    """Everything a moderator sees beside each comment of a page, in a fixed number of
    queries whatever the page's size."""
    comments: list[Comment] = list(page.object_list)
    ids = [c.pk for c in comments]
    entries: dict[int, list[AuditEntry]] = defaultdict(list)
    for entry in AuditEntry.objects.filter(comment_id__in=ids).order_by("created_at", "id"):
        assert entry.comment_id is not None
        entries[entry.comment_id].append(entry)
    links = page_links(comments)
    history = author_history(comments)
    items = []
    for comment in comments:
        assessment = getattr(comment, "assessment", None)
        scores = []
        if assessment is not None:
            scores = [
                (name, str(CATEGORY_LABELS[name]), float(assessment.scores[name]))
                for name in CATEGORIES
                if name in assessment.scores
            ]
        items.append(
            QueueItem(
                comment=comment,
                assessment=assessment,
                reports=list(comment.open_reports_list),  # type: ignore[attr-defined]
                notes=list(comment.moderator_notes.all()),
                revisions=list(comment.revisions.all()),
                audit=[AuditLine.of(entry) for entry in entries[comment.pk]],
                page_url=links.get(comment.thread_id, ""),
                history=history[comment.pk],
                scores=scores,
                ban_keys=decisions.author_ban_keys(comment),
            )
        )
    return items


def page_links(comments: list[Comment]) -> dict[int, str]:
    """Where each comment's page is: Parley's own article page, else the thread's uri on the
    site's first domain."""
    slugs: dict[tuple[int, str], int] = {}
    links: dict[int, str] = {}
    for comment in comments:
        thread = comment.thread
        try:
            match = resolve(thread.uri)
        except Resolver404:
            match = None
        if match is not None and match.url_name == "article":
            slugs[(thread.site_id, match.kwargs["slug"])] = thread.pk
        if thread.site.domains:
            links[thread.pk] = f"https://{thread.site.domains[0]}{thread.uri}"
    if slugs:
        own = Article.objects.filter(
            site_id__in={site for site, _slug in slugs}, slug__in={slug for _site, slug in slugs}
        ).values_list("site_id", "slug")
        for site_id, slug in own:
            thread_id = slugs.get((site_id, slug))
            if thread_id is not None:
                links[thread_id] = f"/articles/{slug}/"
    return links


def author_history(comments: list[Comment]) -> dict[int, dict[str, int]]:
    """For each comment, its author's comments on that site by status: the same account,
    e-mail address or browser counts as the same author."""
    if not comments:
        return {}
    keys = Q(reader_key__in={c.reader_key for c in comments})
    emails = {c.author_email.lower() for c in comments if c.author_email}
    accounts = {c.account_id for c in comments if c.account_id is not None}
    if emails:
        keys |= Q(author_email__in=emails)
    if accounts:
        keys |= Q(account_id__in=accounts)
    groups = (
        Comment.objects.filter(keys, thread__site__in={c.thread.site_id for c in comments})
        .values("thread__site_id", "reader_key", "author_email", "account_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    history: dict[int, dict[str, int]] = {}
    for comment in comments:
        counts = {"published": 0, "rejected": 0, "spam": 0}
        for group in groups:
            same_author = (
                group["reader_key"] == comment.reader_key
                or (
                    comment.author_email
                    and group["author_email"].lower() == comment.author_email.lower()
                )
                or (comment.account_id is not None and group["account_id"] == comment.account_id)
            )
            same_site = group["thread__site_id"] == comment.thread.site_id
            if same_site and same_author and group["status"] in counts:
                counts[group["status"]] += group["n"]
        history[comment.pk] = counts
    return history


@require_GET
@moderator_required
def queue(request: HttpRequest) -> HttpResponse:
    sites = decisions.moderated_sites(request.user).order_by("name")
    filters = QueueFilters.of(request)
    base = queue_base(sites, filters)
    counts = base.aggregate(
        **{tab: Count("pk", filter=condition) for tab, condition in TAB_FILTERS.items()}
    )
    comments = (
        base.filter(TAB_FILTERS[filters.tab])
        .select_related("thread__site", "assessment", "parent")
        .prefetch_related(
            Prefetch(
                "reports",
                queryset=Report.objects.filter(resolved_at__isnull=True).order_by("created_at"),
                to_attr="open_reports_list",
            ),
            Prefetch("moderator_notes", queryset=Note.objects.select_related("author")),
            "revisions",
        )
        .order_by("-rank", "created_at", "pk")  # type: ignore[misc]  # annotated in queue_base
    )
    page = Paginator(comments, PER_PAGE).get_page(request.GET.get("page"))
    languages = (
        Assessment.objects.filter(comment__thread__site__in=sites)
        .exclude(lang="")
        .values_list("lang", flat=True)
        .distinct()
        .order_by("lang")
    )
    return render(
        request,
        "moderation/queue.html",
        {
            "items": queue_items(page),
            "page": page,
            "filters": filters,
            "tabs": [
                (tab, label, counts[tab], "?" + filters.query(status=tab))
                for tab, label in TABS.items()
            ],
            "section": "queue",
            "sites": sites,
            "languages": list(languages),
            "reasons": reason_choices(),
            "durations": list(decisions.DURATION_LABELS.items()),
            "here": request.get_full_path(),
            "ban_kinds": Ban.Kind.choices,
        },
    )


# --- Decisions -----------------------------------------------------------------------------


@require_POST
@moderator_required
def decide(request: HttpRequest, comment_id: int, action: str) -> HttpResponse:
    try:
        comment = decisions.decide(request.user, comment_id, action)
    except ParleyError as error:
        return refused(request, error)
    message = DONE_MESSAGES[action] % {"name": comment.author_name}
    return answered(request, message, status=comment.status)


@require_POST
@moderator_required
def decide_many(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action", "")
    ids = [int(pk) for pk in request.POST.getlist("comment") if pk.isdigit()]
    try:
        decided = decisions.decide_many(request.user, ids, action)
    except ParleyError as error:
        return refused(request, error)
    n = len(decided)
    message = {
        "approve": ngettext("Approved %(n)d comment.", "Approved %(n)d comments.", n),
        "reject": ngettext("Rejected %(n)d comment.", "Rejected %(n)d comments.", n),
        "spam": ngettext("Marked %(n)d comment as spam.", "Marked %(n)d comments as spam.", n),
    }[action] % {"n": n}
    return answered(request, message, comments=[c.pk for c in decided])


@require_POST
@moderator_required
def ban(request: HttpRequest, comment_id: int) -> HttpResponse:
    ban_request = decisions.BanRequest(
        kinds=tuple(request.POST.getlist("kind")),
        duration=request.POST.get("duration", ""),
        shadow=request.POST.get("shadow") == "on",
        reason=request.POST.get("reason", ""),
    )
    try:
        bans = decisions.ban(request.user, comment_id, ban_request)
    except ParleyError as error:
        return refused(request, error)
    name = Comment.objects.get(pk=comment_id).author_name
    ends = bans[0].expires_at
    if ends is None:
        message = _("Banned %(name)s permanently; their comment is rejected.") % {"name": name}
    else:
        until = formats.date_format(timezone.localtime(ends), "DATETIME_FORMAT")
        message = _("Banned %(name)s until %(until)s; their comment is rejected.") % {
            "name": name,
            "until": until,
        }
    return answered(request, message, bans=[b.pk for b in bans])


@require_POST
@moderator_required
def add_note(request: HttpRequest, comment_id: int) -> HttpResponse:
    try:
        note = decisions.add_note(request.user, comment_id, request.POST.get("text", ""))
    except ParleyError as error:
        return refused(request, error)
    created = formats.date_format(timezone.localtime(note.created_at), "DATETIME_FORMAT")
    return answered(
        request,
        _("Note added."),
        note={"author": request.user.get_username(), "text": note.text, "created_at": created},
    )


# --- Bans and the audit log ----------------------------------------------------------------


@require_GET
@moderator_required
def bans(request: HttpRequest) -> HttpResponse:
    sites = decisions.moderated_sites(request.user)
    visible = Ban.objects.filter(site__in=sites)
    if request.user.is_superuser:  # type: ignore[union-attr]
        visible = Ban.objects.filter(Q(site__in=sites) | Q(site__isnull=True))
    visible = visible.select_related("site", "created_by").order_by("-created_at", "-pk")
    in_force = Ban.in_force()
    current = visible.filter(in_force)
    past = visible.exclude(in_force)
    return render(
        request,
        "moderation/bans.html",
        {
            "current": Paginator(current, 50).get_page(request.GET.get("page")),
            "past": past[:50],
            "here": request.get_full_path(),
            "section": "bans",
        },
    )


@require_POST
@moderator_required
def lift_ban(request: HttpRequest, ban_id: int) -> HttpResponse:
    try:
        lifted = decisions.lift_ban(request.user, ban_id)
    except ParleyError as error:
        return refused(request, error)
    return answered(request, _("Lifted the ban on %(what)s.") % {"what": lifted.get_kind_display()})


@require_GET
@moderator_required
def audit_log(request: HttpRequest) -> HttpResponse:
    sites = decisions.moderated_sites(request.user).order_by("name")
    names = [site.name for site in sites]
    entries = AuditEntry.objects.filter(site_name__in=names)
    if request.user.is_superuser:  # type: ignore[union-attr]
        entries = AuditEntry.objects.all()  # also bans on every site and removed sites
    site = request.GET.get("site", "")
    moderator = request.GET.get("moderator", "")
    action = request.GET.get("action", "")
    if site:
        entries = entries.filter(site_name=site)
    if moderator:
        entries = entries.filter(actor_name=moderator)
    if action:
        entries = entries.filter(action=action)
    moderators = (
        AuditEntry.objects.filter(site_name__in=names)
        .values_list("actor_name", flat=True)
        .distinct()
        .order_by("actor_name")
    )
    page = Paginator(entries.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    query = urlencode(
        {k: v for k, v in (("site", site), ("moderator", moderator), ("action", action)) if v}
    )
    return render(
        request,
        "moderation/audit.html",
        {
            "page": page,
            "entries": [AuditLine.of(entry) for entry in page],
            "section": "audit",
            "sites": sites,
            "moderators": list(moderators),
            "actions": list(ACTION_LABELS.items()),
            "chosen": {"site": site, "moderator": moderator, "action": action},
            "query": query,
        },
    )


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
