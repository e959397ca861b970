"""Hostile input against the whole API: schemathesis generates requests from the OpenAPI
document, valid and invalid, and every answer must be no server error and exactly what the
document promises (a documented status, its content type, a body of its schema)."""

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from parley.accounts.actions import do_open_session
from parley.comments.actions import edit_token_for
from parley.comments.hotpath import HotReads
from parley.comments.models import Comment
from parley.config.api import api
from parley.core.readers import mint_reader_token, reader_key_from_token
from parley.funding import actions as funding_actions
from parley.funding.models import Campaign
from parley.moderation.models import Policy, Report
from tests.factories import SiteFactory, ThreadFactory, post_comment

ORIGIN = "https://blog.example"  # the site's allowed embed origin (SiteFactory)

# Values that exist or pass, sent often enough that generated requests get past the look-ups
# and validation to the code behind them: {where: (values, how often)}.
KNOWN: dict[str, tuple[list[Any], float]] = {
    "query.site": (["news"], 0.7),
    "body.site": (["news"], 0.7),
    "query.uri": (["/story/", "/empty/"], 0.7),
    "body.uri": (["/story/", "/empty/"], 0.7),
    "path.slug": (["support"], 0.7),
    "body.email": (["reader@news.example"], 0.5),
    "body.author_email": (["reader@news.example"], 0.5),
    "body.author_name": (["Ann", "Аня"], 0.5),
    "body.author_url": (["https://reader.example/"], 0.5),
    "body.body": (["A *fine* point.", "<script>alert(1)</script> [x](javascript:1)"], 0.5),
    "body.homepage": ([""], 0.8),  # the honeypot
    "body.return_url": ([f"{ORIGIN}/story/"], 0.5),
    "body.reason": (list(Report.Reason.values), 0.7),
    "body.amount": ([500, 2500], 0.5),
}

# The in-process client does not undo gzip as an HTTP client would.
PLAIN = {"Accept-Encoding": "identity"}

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 9,
        "generation": {
            "mode": "all",
            "max-examples": 50,
            "deterministic": True,
            "database": "none",
        },
        "phases": {"stateful": {"enabled": False}},
        "headers": PLAIN,
        "dictionaries": {where: {"values": values} for where, (values, _) in KNOWN.items()},
        "parameters": {
            where: {"dictionary": where, "probability": often}
            for where, (_, often) in KNOWN.items()
        },
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
        },
    }
)
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=CONFIG)
# As parley.config.wsgi serves it, without warming the scorer that module starts.
APP = HotReads(get_wsgi_application())


@dataclass
class Seeded:
    """What the fixture wrote, for the generator to aim at."""

    reader_token: str = ""
    session: str = ""
    edit_tokens: dict[int, str] = field(default_factory=dict)


SEEDED = Seeded()


@pytest.fixture
def seeded(db: None) -> Iterator[Seeded]:
    """A site allowing ORIGIN; a thread with a reply, a held and a deep comment, most by the
    reader of SEEDED.reader_token; a campaign; an account signed in through the widget."""
    site = SiteFactory.create(domains=["localhost"])
    Policy.objects.update_or_create(site=site, defaults={"use_scorer": False})
    thread = ThreadFactory.create(site=site, uri="/story/")
    token = mint_reader_token()
    mine = reader_key_from_token(token)
    first = post_comment(thread, "First, *with* [a link](https://a.example).", reader_key=mine)
    reply = post_comment(thread, "A reply.", parent=first, author="Bea")
    held = post_comment(thread, "Held for review.", status="pending", reader_key=mine)
    deep = post_comment(thread, "Deeper.", parent=reply, reader_key=mine)
    Campaign.objects.create(site=site, slug="support", title="Support us", goal=500_000)
    user = User.objects.create_user("reader", "reader@news.example")
    SEEDED.reader_token = token
    SEEDED.session = do_open_session(user, origin=ORIGIN)
    SEEDED.edit_tokens = {c.pk: edit_token_for(c) for c in (first, reply, held, deep)}
    # As Django's test client does: the request signals would close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield SEEDED
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def stripe_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = itertools.count(1)
    monkeypatch.setattr(
        funding_actions,
        "create_checkout",
        lambda params, key: SimpleNamespace(id=f"cs_{next(sessions)}", url="https://pay.example/"),
    )


@pytest.fixture
def no_rate_limits(settings: Any) -> None:
    # Thousands of requests from one address would be 429 after the first few.
    settings.PARLEY_RATE_LIMITS_ENABLED = False


# Who sends the request: Parley's own page with no identity, the widget on an allowed origin
# as the seeded reader (a guest) or as a signed-in account, and a page on another origin.
WHO: list[Callable[[], dict[str, str]]] = [
    lambda: {},
    lambda: {"Origin": ORIGIN, "X-Parley-Reader": SEEDED.reader_token},
    lambda: {"Origin": ORIGIN, "X-Parley-Session": SEEDED.session},
    lambda: {"Origin": "https://elsewhere.example"},
]


@schema.hook
def flatmap_case(context: Any, case: Any) -> Any:
    """Send each generated request as one of WHO, and aim an integer comment_id at a seeded
    comment (with its edit token, where the operation takes one) or leave it as generated."""
    targets: list[int | None] = [None]
    if isinstance((case.path_parameters or {}).get("comment_id"), int):
        targets += list(SEEDED.edit_tokens)
    return st.tuples(st.sampled_from(WHO), st.sampled_from(targets)).map(
        lambda choice: _aimed(case, *choice)
    )


def _aimed(case: Any, who: Callable[[], dict[str, str]], target: int | None) -> Any:
    case.headers = {**(case.headers or {}), **who()}
    if target is not None:
        case.path_parameters = {**case.path_parameters, "comment_id": target}
        if "authorization" in case.headers:
            case.headers["authorization"] = f"Bearer {SEEDED.edit_tokens[target]}"
    return case


@pytest.mark.slow
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_answer_is_documented_and_none_is_a_server_error(
    case: Any, seeded: Seeded, stripe_answers: None, no_rate_limits: None
) -> None:
    case.call_and_validate(app=APP)


# Answers a generated request cannot reach, checked against the document all the same.


@pytest.mark.parametrize(
    ("path", "query", "in_path"),
    [
        ("/api/v1/threads", {"site": "news", "uri": "/story/"}, lambda seeded: {}),
        ("/api/v1/counts", {"site": "news", "uri": ["/story/"]}, lambda seeded: {}),
        (
            "/api/v1/comments/{comment_id}",
            {},
            lambda seeded: {"comment_id": min(seeded.edit_tokens)},
        ),
        ("/api/v1/campaigns/{slug}", {}, lambda seeded: {"slug": "support"}),
    ],
)
def test_a_get_the_client_has_answers_304_as_documented(
    seeded: Seeded, path: str, query: dict[str, Any], in_path: Callable[[Seeded], dict]
) -> None:
    path_parameters = in_path(seeded)
    operation = schema[path]["GET"]
    first = operation.Case(query=query, path_parameters=path_parameters, headers=PLAIN)
    etag = first.call_and_validate(app=APP).headers["etag"][0]
    again = operation.Case(
        query=query, path_parameters=path_parameters, headers=PLAIN | {"If-None-Match": etag}
    )
    assert again.call_and_validate(app=APP).status_code == 304


def test_checkout_without_stripe_answers_503_as_documented(seeded: Seeded) -> None:
    checkout = schema["/api/v1/campaigns/{slug}/checkout"]["POST"]
    case = checkout.Case(path_parameters={"slug": "support"}, body={"amount": 500}, headers=PLAIN)
    response = case.call(app=APP)
    case.validate_response(response, excluded_checks=[not_a_server_error])
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "payments_unavailable"


# What the fuzzer found: text no database can take (PostgreSQL refuses NUL even in a
# comparison; a lone surrogate is not UTF-8) failed deep inside a query as a server error.


@pytest.mark.parametrize(
    ("path", "data", "field_name"),
    [
        ("/comments", {"author_url": "https://a.example/\x00"}, "author_url"),
        ("/comments", {"quote_prefix": "\x00"}, "quote_prefix"),
        ("/comments", {"body": "Half a pair: \ud800"}, "body"),
        ("/comments", {"site": "news\x00"}, "site"),
        ("/subscriptions", {"uri": "/story/\x00"}, "uri"),
        ("/auth/email", {"site": "news\x00"}, "site"),
        ("/comments/{id}/report", {"reason": "other", "note": "\ud800"}, "note"),
        ("/threads?site=news&uri=/story/%00", None, "uri"),
        ("/threads?site=news%00&uri=/story/", None, "site"),
        ("/counts?site=news&uri=/story/&uri=/a%00", None, "uri"),
    ],
)
def test_text_no_database_can_store_is_refused_naming_the_field(
    client: Any, seeded: Seeded, path: str, data: Any, field_name: str
) -> None:
    comment = Comment.objects.get(body="A reply.")
    url = "/api/v1" + path.replace("{id}", str(comment.pk))
    before = Comment.objects.count()
    if data is None:
        response = client.get(url)
    else:
        valid = {"site": "news", "uri": "/story/", "body": "Hi", "author_name": "Ann"}
        valid |= {"email": "a@news.example", "kind": "thread", "return_url": f"{ORIGIN}/"}
        body = json.dumps(valid | data)  # json writes the lone surrogate as its \ud800 escape
        response = client.post(url, body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert list(response.json()["error"]["fields"]) == [field_name]
    assert Comment.objects.count() == before


def test_a_campaign_slug_with_a_nul_is_no_campaign(client: Any, seeded: Seeded) -> None:
    response = client.get("/api/v1/campaigns/sup%00port")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
