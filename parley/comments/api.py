from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.params import Header

from parley.core.compressed import Compressed, serve_compressed
from parley.core.readers import Actor, actor_for, remember_reader
from parley.core.schemas import ERRORS, NOT_MODIFIED
from parley.moderation import gate
from parley.notifications import subscriptions

from . import hotpath, reads
from .access import access_comment, check_read_origin
from .actions import (
    check_delete_comment,
    check_edit_comment,
    check_post_comment,
    check_vote,
    edit_token_for,
    verify_edit_token,
)
from .models import Comment
from .schemas import (
    CommentIn,
    CommentSourceOut,
    CountsOut,
    EditIn,
    PostedOut,
    SubscriptionIn,
    SubscriptionOut,
    ThreadOut,
    VoteIn,
    VoteOut,
)

router = Router(tags=["comments"])
MAX_COUNT_URIS = 200


class ThreadQuery(Schema):
    site: str
    uri: str
    sort: reads.Sort = "newest"
    limit: int = reads.DEFAULT_LIMIT
    cursor: str | None = None
    filter: Literal["all", "inline"] = Field(
        "all", description="inline: only comments that quote a passage of the article"
    )


def cached_response(request: HttpRequest, body: Compressed, content_type: str) -> HttpResponse:
    # Readers must see a new comment at once: revalidate every time (cheap with the ETag).
    return serve_compressed(request, body, content_type, "no-cache")


@router.get(
    "/threads",
    response={200: ThreadOut, **NOT_MODIFIED, **ERRORS},
    summary="Read a page of a thread, replies nested",
)
def read_thread(request: HttpRequest, query: Query[ThreadQuery]) -> HttpResponse:
    check_read_origin(request, query.site)
    page = reads.PageQuery(query.sort, query.limit, query.cursor, query.filter == "inline")
    reader, shared = reads.page_for(request, query.site, query.uri)
    body = reads.thread_json_body(query.site, query.uri, page, reader)
    response = cached_response(request, body, "application/json")
    if shared:
        hotpath.offer(request, shared, lambda: body)
    else:  # this reader's own page, with their held comments
        response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Accept-Encoding, Cookie, X-Parley-Reader, X-Parley-Session"
    return response


@router.get(
    "/counts",
    response={200: CountsOut, **NOT_MODIFIED, **ERRORS},
    summary="Published comments for many pages at once",
)
def read_counts(request: HttpRequest, site: str, uri: Query[list[str]]) -> dict:
    check_read_origin(request, site)
    return {"counts": reads.count_comments(site, uri[:MAX_COUNT_URIS])}


def _posted(actor: Actor, comment: Comment) -> dict:
    return {
        "comment": reads.single_comment_json(comment),
        "status": gate.status_for_author(comment),
        "edit_token": edit_token_for(comment),
        "reader_token": actor.reader_token,
    }


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


@router.post("/comments", response={201: PostedOut, **ERRORS}, summary="Post a comment or a reply")
def post_comment(request: HttpRequest, response: HttpResponse, data: CommentIn) -> Status[dict]:
    actor = actor_for(request)
    comment = check_post_comment(actor, data.to_draft())
    remember_reader(request, response, actor)
    return Status(201, _posted(actor, comment))


@router.get(
    "/comments/{comment_id}",
    response={200: CommentSourceOut, **NOT_MODIFIED, **ERRORS},
    summary="One comment; to its author (edit token or account), also its Markdown source",
)
def read_comment(
    request: HttpRequest, comment_id: int, authorization: Header[str | None] = None
) -> dict:
    actor = actor_for(request)
    comment = access_comment(actor, comment_id)
    data = reads.single_comment_json(comment)
    if comment.status in reads.GONE:
        return data  # its text is gone for its author too
    token = _bearer(authorization)
    if token:
        verify_edit_token(comment, token)
        data["body"] = comment.body
    elif actor.user is not None and comment.account_id == actor.user.pk:
        data["body"] = comment.body  # a signed-in author edits their comments any time
    return data


@router.patch(
    "/comments/{comment_id}",
    response={200: CommentSourceOut, **ERRORS},
    summary="Edit a comment within the edit window",
)
def edit_comment(
    request: HttpRequest, comment_id: int, data: EditIn, authorization: Header[str | None] = None
) -> dict:
    comment = check_edit_comment(
        actor_for(request), comment_id, _bearer(authorization) or "", data.body
    )
    return {**reads.single_comment_json(comment), "body": comment.body}


@router.delete(
    "/comments/{comment_id}",
    response={204: None, **ERRORS},
    summary="Delete a comment (its author within the edit window, or staff)",
)
def delete_comment(
    request: HttpRequest, comment_id: int, authorization: Header[str | None] = None
) -> Status[None]:
    check_delete_comment(actor_for(request), comment_id, _bearer(authorization))
    return Status(204, None)


@router.post(
    "/comments/{comment_id}/vote",
    response={200: VoteOut, **ERRORS},
    summary="Vote up, down, or withdraw",
)
def vote(request: HttpRequest, response: HttpResponse, comment_id: int, data: VoteIn) -> VoteOut:
    actor = actor_for(request)
    result = check_vote(actor, comment_id, data.value)
    remember_reader(request, response, actor)
    return VoteOut(**result.__dict__)


@router.post(
    "/subscriptions",
    response={202: SubscriptionOut, **ERRORS},
    summary="Ask to be e-mailed about new comments or replies (confirmed by e-mail first)",
)
def subscribe(
    request: HttpRequest, response: HttpResponse, data: SubscriptionIn
) -> Status[SubscriptionOut]:
    actor = actor_for(request)
    message = subscriptions.subscribe(
        actor,
        subscriptions.Request(
            data.site, data.uri, data.email, data.kind, data.comment, data.delivery
        ),
    )
    remember_reader(request, response, actor)
    return Status(202, SubscriptionOut(message=message))
