from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from parley.core.errors import Invalid, ParleyError
from parley.core.readers import actor_for, remember_reader

from . import reads
from .actions import check_post_comment
from .api import cached_response
from .forms import CommentForm
from .fragments import thread_fragment

DRAFT_SESSION_KEY = "parley_comment_draft"


@require_GET
def thread_fragment_view(request: HttpRequest) -> HttpResponse:
    """GET /fragments/thread?site=&uri=&sort=&cursor=&all=1 — the thread as HTML."""
    site, uri = request.GET.get("site", ""), request.GET.get("uri", "")
    if not site or not uri:
        raise Invalid(_("Give a site and a uri."))
    body = thread_fragment(site, uri, **thread_options(request))
    return cached_response(request, body, "text/html; charset=utf-8")


def thread_options(request: HttpRequest) -> dict:
    """Sort, page size and cursor from a page's query string; unknown values fall back."""
    sort = request.GET.get("sort", "newest")
    return {
        "sort": sort if sort in reads.SORTS else "newest",
        "limit": reads.MAX_LIMIT if request.GET.get("all") else reads.DEFAULT_LIMIT,
        "cursor": request.GET.get("cursor") or None,
    }


@require_POST
def post_comment_form(request: HttpRequest) -> HttpResponse:
    """The comment box without JavaScript: post, then back to the page at the new comment."""
    form = CommentForm(request.POST)
    next_url = request.POST.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    anchor = "#comment-form"
    if form.is_valid():
        actor = actor_for(request)
        try:
            comment = check_post_comment(actor, form.to_draft())
        except ParleyError as error:
            messages.error(request, error.message)
            for field, problem in error.fields.items():
                label = form.fields[field].label if field in form.fields else field
                messages.error(request, f"{label}: {problem}")
        else:
            if comment.status == comment.Status.PUBLISHED:
                messages.success(request, _("Your comment is published."))
                anchor = f"#comment-{comment.pk}"
            else:
                messages.info(
                    request,
                    _("Thank you. Your comment will appear once a moderator has approved it."),
                )
            response = HttpResponseRedirect(next_url + anchor)
            remember_reader(request, response, actor)
            return response
    else:
        for field, problems in form.errors.items():
            messages.error(
                request, f"{form.fields[field].label or field}: {' '.join(map(str, problems))}"
            )
    # Keep what the reader wrote, so the page shows it again beside the error.
    request.session[DRAFT_SESSION_KEY] = {
        name: value for name, value in request.POST.items() if name in form.fields
    }
    return HttpResponseRedirect(next_url + anchor)
