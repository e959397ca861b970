from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from parley.core.readers import actor_for, remember_reader
from parley.core.schemas import ERRORS, NOT_MODIFIED, ErrorOut

from .actions import access_campaign, check_checkout
from .queries import campaign_json

router = Router(tags=["funding"])


class CampaignOut(Schema):
    slug: str
    title: str
    goal: int = Field(description="In minor units (cents)")
    raised: int = Field(description="Received minus refunds and lost disputes, minor units")
    currency: str
    supporters: int
    ends_at: str | None = Field(description="ISO 8601; null: no deadline")


class CheckoutIn(Schema):
    amount: int = Field(description="In minor units (cents)")
    interval: Literal["once", "month", "year"] = "once"
    email: str = Field(default="", max_length=254)


class CheckoutOut(Schema):
    url: str = Field(description="The payment page to send the reader to")


@router.get(
    "/campaigns/{slug}",
    response={200: CampaignOut, **NOT_MODIFIED, **ERRORS},
    summary="A campaign",
)
def campaign(request: HttpRequest, response: HttpResponse, slug: str) -> dict:
    response["Cache-Control"] = "no-cache"
    data = campaign_json(access_campaign(slug))
    data["ends_at"] = data["ends_at"].isoformat() if data["ends_at"] else None
    return data


@router.post(
    "/campaigns/{slug}/checkout",
    # 503: Stripe is not set up, or did not answer as expected (nothing was charged).
    response={201: CheckoutOut, 503: ErrorOut, **ERRORS},
    summary="Start a donation: answers the payment page's address",
)
def checkout(
    request: HttpRequest, response: HttpResponse, slug: str, data: CheckoutIn
) -> Status[CheckoutOut]:
    actor = actor_for(request)
    url = check_checkout(actor, slug, data.amount, data.interval, email=data.email)
    remember_reader(request, response, actor)
    return Status(201, CheckoutOut(url=url))
