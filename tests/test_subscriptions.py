"""'Notify of': the request is recorded now and the reader is told what happens next."""

import pytest

from parley.comments.models import Subscription
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def subscribe(client, **fields):
    data = {"site": "news", "uri": "/story/", "email": "ann@example.org", "kind": "thread"}
    return client.post_json("/subscriptions", data | fields)


def test_a_guest_asks_to_be_notified_and_is_told_a_confirmation_comes_first(client):
    SiteFactory.create()

    response = subscribe(client, email="Ann@Example.org", kind="replies")

    assert response.status_code == 202
    assert "confirm" in response.json()["message"]
    assert "ann@example.org" in response.json()["message"]
    sub = Subscription.objects.get()
    assert (sub.email, sub.kind, sub.uri, sub.confirmed_at) == (
        "ann@example.org",
        "replies",
        "/story/",
        None,
    )


def test_asking_twice_keeps_one_request(client):
    SiteFactory.create()
    subscribe(client)

    assert subscribe(client).status_code == 202
    assert Subscription.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"email": "nope"}, 422, "email"),
        ({"kind": "everything"}, 422, "kind"),
        ({"uri": "relative"}, 422, "uri"),
        ({"site": "ghost"}, 404, None),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(client, fields, status, field):
    SiteFactory.create()

    response = subscribe(client, **fields)

    assert response.status_code == status
    if field:
        assert field in response.json()["error"]["fields"]
    assert not Subscription.objects.exists()


def test_subscribing_is_rate_limited(client, settings):
    SiteFactory.create()
    settings.PARLEY_RATE_LIMITS_ENABLED = True

    statuses = [subscribe(client, email=f"r{n}@example.org").status_code for n in range(11)]

    assert statuses[:10] == [202] * 10
    assert statuses[10] == 429
