"""'Notify of' end to end through a real SMTP server: ask, confirm by the e-mailed link,
receive a reply notification, leave with one POST."""

import pytest
from django.test import Client

from parley.comments.models import Subscription
from parley.moderation.models import Policy
from parley.notifications.delivery import deliver_due
from parley.notifications.models import OutboundEmail
from tests.factories import SiteFactory
from tests.mail import smtp  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def site():
    """A post-moderated site without the scorer: comments publish, and are news, at once."""
    site = SiteFactory.create()
    Policy.objects.update_or_create(site=site, defaults={"use_scorer": False})
    return site


def say(client, body, *, parent=None, name="Ann", email="", uri="/story/"):
    data = {"site": "news", "uri": uri, "body": body, "author_name": name, "parent": parent}
    if email:
        data["author_email"] = email
    response = client.post_json("/comments", data)
    assert response.status_code == 201, response.content
    return response.json()["comment"]["id"]


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_guest_confirms_gets_a_reply_notification_and_unsubscribes_with_one_post(
    client,
    other_reader,
    smtp,  # noqa: F811
):
    first = say(client, "Opening thought", email="ann@example.org")
    response = client.post_json(
        "/subscriptions",
        {"site": "news", "uri": "/story/", "email": "ann@example.org", "kind": "replies"},
    )
    assert response.status_code == 202

    deliver_due()
    (confirmation,) = smtp.wait_for(1)
    assert confirmation.envelope_to == ["ann@example.org"]
    confirm = path_of(confirmation.link("/notifications/confirm/"))
    browser = Client()
    assert "Yes, notify me" in browser.get(confirm).content.decode()
    assert Subscription.objects.get().confirmed_at is None  # a GET (a mail scanner) is not enough
    assert browser.post(confirm).status_code == 200
    assert Subscription.objects.get().confirmed_at is not None

    say(other_reader, "A reply to Ann", parent=first, name="Bob")
    deliver_due()
    notification = smtp.wait_for(2)[1]
    assert "Bob replied to your comment" in notification.subject
    assert "A reply to Ann" in notification.text and "A reply to Ann" in notification.html
    assert notification.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = notification.message["List-Unsubscribe"].strip("<>")

    # RFC 8058: the mail provider POSTs the header's URL with no cookie and no CSRF token.
    provider = Client(enforce_csrf_checks=True)
    answer = provider.post(path_of(unsubscribe), {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert not Subscription.objects.exists()

    say(other_reader, "Another reply", parent=first, name="Bob")
    deliver_due()
    assert len(smtp.messages) == 2
    assert OutboundEmail.objects.filter(state="sent").count() == 2
