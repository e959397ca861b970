from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from parley.core.readers import SESSION_HEADER, actor_for, foreign_origin, own_origin
from parley.core.schemas import ERRORS, ErrorOut

from .actions import check_complete_signin, check_request_signin, check_sign_out
from .queries import account_json, own_comments
from .schemas import CompleteIn, MeOut, MessageOut, SignedInOut, SignInAskedOut, SignInIn

router = Router(tags=["accounts"])


@router.post(
    "/auth/email",
    response={202: SignInAskedOut, **ERRORS},
    summary="E-mail a sign-in link: it works once, for 15 minutes, in this browser",
)
def ask_for_signin(request: HttpRequest, data: SignInIn) -> Status[dict]:
    asked = check_request_signin(
        actor_for(request), data.site, data.email, data.return_url, own_origin=own_origin(request)
    )
    return Status(202, {"message": asked.message, "browser_key": asked.browser_key})


@router.post(
    "/auth/complete",
    response={200: SignedInOut, 410: ErrorOut, **ERRORS},
    summary="Sign in with the link's token, from the browser that asked for it",
    url_name="auth-complete",
)
def complete_signin(request: HttpRequest, data: CompleteIn) -> dict:
    signed_in = check_complete_signin(actor_for(request), data.token, data.browser_key)
    if foreign_origin(request) is None:  # Parley's own pages know the reader by its cookie
        login(request, signed_in.user, backend="django.contrib.auth.backends.ModelBackend")
    return {"account": account_json(signed_in.user), "session": signed_in.session_token}


@router.get("/auth/me", response={200: MeOut, **ERRORS}, summary="The signed-in account, if any")
def me(request: HttpRequest, response: HttpResponse, site: str = "", uri: str = "") -> dict:
    user = actor_for(request).user
    response["Cache-Control"] = "private, no-store"
    if user is None:
        return {"account": None}
    return {"account": account_json(user), "own_comments": own_comments(user, site, uri)}


@router.post("/auth/signout", response={200: MessageOut, **ERRORS}, summary="Sign out")
def sign_out(request: HttpRequest) -> dict:
    check_sign_out(actor_for(request), request.META.get(SESSION_HEADER, ""))
    if request.user.is_authenticated:
        logout(request)
    return {"message": _("You are signed out.")}
