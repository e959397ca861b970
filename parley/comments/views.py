from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from parley.core.compressed import Compressed, serve_compressed
from parley.core.errors import Invalid, ParleyError, refuse_unstorable
from parley.core.readers import actor_for, remember_reader
from parley.moderation import gate

from . import hotpath, reads
from .access import check_read_origin
from .actions import check_post_comment
from .forms import CommentForm
from .fragments import form_token_input, thread_fragment
from .models import Comment

DRAFT_SESSION_KEY = "parley_comment_draft"
AUTHOR_SESSION_KEY = "parley_comment_author"
AUTHOR_FIELDS = ("author_name", "author_email", "author_url")


@require_GET
def thread_fragment_view(request: HttpRequest) -> HttpResponse:
    """GET /fragments/thread?site=&uri=&sort=&cursor=&all=1&lang= — the thread as HTML, in
    the embedding page's language when `lang` names one Parley speaks, followed by a fresh
    form token for the comment box.

    A reader with held comments in the thread (known by the `X-Parley-Reader` header the
    widget sends once it has posted there, or the reader cookie) gets the thread as they
    see it, marked private; everyone else shares one cached page."""
    site, uri = request.GET.get("site", ""), request.GET.get("uri", "")
    if not site or not uri:
        raise Invalid(_("Give a site and a uri."))
    refuse_unstorable(request.GET.dict())
    language = request.GET.get("lang", "").lower()
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language()
    with translation.override(language):
        check_read_origin(request, site)  # its refusal, too, in the page's language
        reader, shared = reads.page_for(request, site, uri)
        fragment = thread_fragment(site, uri, thread_options(request), reader)

    # The token goes into each response (one per second), outside the cached part: a cached
    # token would tell how long ago the thread was rendered, not how long the form was open.
    def with_fresh_token() -> Compressed:
        return fragment.with_inserted(form_token_input())

    body = with_fresh_token()
    if shared:
        hotpath.offer(request, shared, with_fresh_token)
    # Revalidated every time: readers must see a new comment at once (cheap with the ETag).
    response = serve_compressed(
        request, body, "text/html; charset=utf-8", "private, no-cache" if reader else "no-cache"
    )
    response["Vary"] = "Accept-Encoding, Cookie, X-Parley-Reader, X-Parley-Session"
    response["Content-Language"] = language
    return response


def thread_options(request: HttpRequest) -> reads.PageQuery:
    """Which page a page's query string asks for; unknown values fall back."""
    sort = request.GET.get("sort", "newest")
    return reads.PageQuery(
        sort=sort if sort in reads.SORTS else "newest",
        limit=reads.MAX_LIMIT if request.GET.get("all") == "1" else reads.DEFAULT_LIMIT,
        cursor=request.GET.get("cursor") or None,
        inline=request.GET.get("filter") == "inline",
    )


@require_POST
def post_comment_form(request: HttpRequest) -> HttpResponse:
    """The comment box without JavaScript: post, then back to the page at the new comment,
    or back to the box with the reader's text and what to correct."""
    form = CommentForm(request.POST)
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    errors: dict[str, str] = {}
    message = _("Please correct the marked fields.")
    if form.is_valid():
        actor = actor_for(request)
        try:
            comment = check_post_comment(actor, form.to_draft())
        except ParleyError as error:
            message, errors = error.message, error.fields
        else:
            request.session[AUTHOR_SESSION_KEY] = {
                name: form.cleaned_data[name] for name in AUTHOR_FIELDS
            }
            if comment.parent_id is None:
                # A new top-level comment is first on the first page of the newest.
                next_url = urlsplit(next_url).path + "?sort=newest"
            # Told as its author is told everywhere: a shadow-banned author sees it published.
            if gate.status_for_author(comment) == "published":
                messages.success(request, _("Your comment is published."))
                anchor = f"#comment-{comment.pk}"
            else:
                messages.info(
                    request,
                    _("Thank you. Your comment will appear once a moderator has approved it."),
                )
                anchor = "#comment-form"
            response = HttpResponseRedirect(next_url + anchor)
            remember_reader(request, response, actor)
            return response
    else:
        errors = {field: " ".join(map(str, problems)) for field, problems in form.errors.items()}
    # Keep what the reader wrote, so the page shows it again beside what to correct.
    request.session[DRAFT_SESSION_KEY] = {
        "data": {name: value for name, value in request.POST.items() if name in form.fields},
        "errors": errors,
        "message": str(message),
    }
    return HttpResponseRedirect(next_url + "#comment-form")


def comment_box(request: HttpRequest, site_name: str, uri: str) -> dict[str, Any]:
    """Template context for the comment box under a thread: the reader's last draft and
    errors, their name from the last comment, the comment they are replying to, and, for
    a reader with held comments here, the thread as they see it (`own_thread_html`)."""
    draft = request.session.pop(DRAFT_SESSION_KEY, None) or {}
    query = request.GET.copy()
    query.pop("reply", None)
    back = request.path + (f"?{query.urlencode()}" if query else "")
    initial: dict[str, Any] = {"site": site_name, "uri": uri, "next": back}
    initial |= request.session.get(AUTHOR_SESSION_KEY, {})
    initial |= draft.get("data", {})
    # A form sent back to be corrected keeps the time it was first shown.
    initial["form_token"] = initial.get("form_token") or gate.form_token()
    parent = str(request.GET.get("reply") or initial.get("parent") or "")
    replying_to = None
    if parent.isdigit():
        replying_to = Comment.objects.filter(
            pk=int(parent),
            thread__site__name=site_name,
            thread__uri=uri,
            status=Comment.Status.PUBLISHED,
        ).first()
    initial["parent"] = replying_to.pk if replying_to else None
    return {
        "form": CommentForm(initial=initial),
        "form_errors": draft.get("errors", {}),
        "form_message": draft.get("message"),
        "replying_to": replying_to,
        "own_thread_html": own_thread_html(request, site_name, uri),
    }


def own_thread_html(request: HttpRequest, site_name: str, uri: str) -> SafeString | None:
    """The thread as a reader with held comments in it sees it; None for everyone else,
    whose page shows the shared thread."""
    reader = reads.held_reader(request, site_name, uri)
    if reader is None:
        return None
    query = thread_options(request)
    try:
        fragment = thread_fragment(site_name, uri, query, reader)
    except Invalid:  # a stale cursor: the first page, as the shared thread shows then
        fragment = thread_fragment(site_name, uri, replace(query, cursor=None), reader)
    return mark_safe(fragment.raw.decode())  # noqa: S308 - sanitised at write
