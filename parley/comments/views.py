from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from parley.core.errors import Invalid, ParleyError
from parley.core.readers import actor_for, remember_reader

from . import reads
from .access import check_read_origin
from .actions import check_post_comment
from .api import cached_response
from .forms import CommentForm
from .fragments import thread_fragment
from .models import Comment

DRAFT_SESSION_KEY = "parley_comment_draft"
AUTHOR_SESSION_KEY = "parley_comment_author"
AUTHOR_FIELDS = ("author_name", "author_email", "author_url")


@require_GET
def thread_fragment_view(request: HttpRequest) -> HttpResponse:
    """GET /fragments/thread?site=&uri=&sort=&cursor=&all=1&lang= — the thread as HTML, in
    the embedding page's language when `lang` names one Parley speaks."""
    site, uri = request.GET.get("site", ""), request.GET.get("uri", "")
    if not site or not uri:
        raise Invalid(_("Give a site and a uri."))
    language = request.GET.get("lang", "").lower()
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language()
    with translation.override(language):
        check_read_origin(request, site)  # its refusal, too, in the page's language
        body = thread_fragment(site, uri, thread_options(request))
    response = cached_response(request, body, "text/html; charset=utf-8")
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
            if comment.status == comment.Status.PUBLISHED:
                messages.success(request, _("Your comment is published."))
                anchor = f"#comment-{comment.pk}"
                if comment.parent_id is None:
                    # A new top-level comment is first on the first page of the newest.
                    next_url = urlsplit(next_url).path + "?sort=newest"
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
    errors, their name from the last comment, and the comment they are replying to."""
    draft = request.session.pop(DRAFT_SESSION_KEY, None) or {}
    query = request.GET.copy()
    query.pop("reply", None)
    back = request.path + (f"?{query.urlencode()}" if query else "")
    initial: dict[str, Any] = {"site": site_name, "uri": uri, "next": back}
    initial |= request.session.get(AUTHOR_SESSION_KEY, {})
    initial |= draft.get("data", {})
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
    }
