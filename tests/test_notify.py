"""'Notify of' end to end through a real SMTP server: ask, confirm by the e-mailed link,
receive a reply notification, leave with one POST."""

import time

import pytest
from django.contrib.auth.models import User
from django.test import Client

from parley.comments.models import Subscription
from parley.notifications.delivery import deliver_due
from parley.notifications.models import OutboundEmail
from tests.factories import say

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("unscored_site")]


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_a_guest_confirms_gets_a_reply_notification_and_unsubscribes_with_one_post(
    client,
    other_reader,
    smtp,
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
    again = browser.get(confirm).content.decode()  # opened again: says so, asks nothing
    assert "You are subscribed" in again and "Yes, notify me" not in again

    say(other_reader, "A reply to Ann", parent=first, name="Bob")
    deliver_due()
    notification = smtp.wait_for(2)[1]
    assert notification.subject == "Bob replied to your comment on The News"
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


def subscribed(client, email="ann@example.org", kind="thread"):
    response = client.post_json(
        "/subscriptions", {"site": "news", "uri": "/story/", "email": email, "kind": kind}
    )
    assert response.status_code == 202
    deliver_due()


def test_a_tampered_or_expired_confirmation_link_gets_a_clear_page_and_confirms_nothing(
    client,
    smtp,
    monkeypatch,
):
    subscribed(client)
    confirm = path_of(smtp.wait_for(1)[0].link("/notifications/confirm/"))
    browser = Client()

    tampered = confirm[:-3] + ("x" if confirm[-3] != "x" else "y") + confirm[-2:]
    page = browser.post(tampered)
    assert page.status_code == 400
    assert "This link is not valid" in page.content.decode()

    later = time.time() + 8 * 24 * 3600  # confirmation links last a week
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    page = browser.post(confirm)
    assert page.status_code == 400
    assert "This link has expired." in page.content.decode()
    assert Subscription.objects.get().confirmed_at is None


def test_a_reused_or_tampered_unsubscribe_link_changes_nothing(client, other_reader, smtp):
    subscribed(client)
    Client().post(path_of(smtp.wait_for(1)[0].link("/notifications/confirm/")))
    say(other_reader, "News", name="Bob")
    deliver_due()
    unsubscribe = path_of(smtp.wait_for(2)[1].message["List-Unsubscribe"].strip("<>"))

    tampered = unsubscribe.replace("/unsubscribe/", "/unsubscribe/x")
    assert Client().post(tampered).status_code == 400
    assert Subscription.objects.exists()

    assert "You will get no more e-mail" in Client().post(unsubscribe).content.decode()
    again = Client().post(unsubscribe)
    assert again.status_code == 200
    assert "already unsubscribed: nothing changed" in again.content.decode()


def test_a_reader_asks_for_a_manage_link_and_stops_one_subscription(client, smtp):
    subscribed(client, kind="thread")
    subscribed(client, kind="replies")
    browser = Client()
    answer = browser.post("/notifications/manage/", {"email": "Ann@Example.org"})
    assert "on its way" in answer.content.decode()
    deliver_due()
    fresh = smtp.wait_for(3)[2]
    assert fresh.subject == "Your e-mail notifications"
    page_link = path_of(fresh.link("/notifications/manage/"))
    page = browser.get(page_link).content.decode()
    assert "new comments" in page and "replies to your comments" in page

    thread = Subscription.objects.get(kind="thread")
    browser.post(page_link, {"subscription": thread.pk})
    assert list(Subscription.objects.values_list("kind", flat=True)) == ["replies"]


def test_staff_see_the_mail_that_went_out(client, smtp):
    subscribed(client)
    assert Client().get("/notifications/sent/").status_code == 302  # sign-in first
    staff = Client()
    staff.force_login(User.objects.create_user("ed", "ed@example.org", is_staff=True))
    page = staff.get("/notifications/sent/").content.decode()
    assert "Confirm: notifications from The News" in page
    assert "Sent" in page


@pytest.mark.parametrize(("lang", "direction"), [("de", ""), ("es", ""), ("ru", ""), ("ar", "rtl")])
def test_mail_is_written_in_the_language_the_reader_asked_in(client, smtp, lang, direction):
    response = client.post_json(
        "/subscriptions",
        {"site": "news", "uri": "/story/", "email": "ann@example.org", "kind": "thread"},
        HTTP_ACCEPT_LANGUAGE=lang,
    )
    deliver_due()
    (mail,) = smtp.wait_for(1)

    english = "Confirm: notifications from The News"
    assert mail.subject != english and "The News" in mail.subject
    assert "Nothing is sent to you unless you confirm." not in mail.text
    assert f'lang="{lang}"' in mail.html
    assert ('dir="rtl"' in mail.html) == (direction == "rtl")
    assert response.json()["message"] != "" and "ann@example.org" in response.json()["message"]
