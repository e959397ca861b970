"""'Notify of' from the widget on a publisher's page, through a real SMTP server: a reader
asks, confirms by the e-mailed link, is told of a reply, and leaves with one click."""

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from parley.comments.models import Comment, Subscription
from parley.moderation.models import Policy
from parley.notifications.delivery import deliver_due
from parley.sites.models import Site
from tests.factories import post_comment
from tests.mail import Mailbox, smtp  # noqa: F401 (fixture)

from .conftest import STORY_URI
from .hostpage import HostPage, article_html


@pytest.fixture
def mail(smtp: Mailbox, site: Site, parley_url: str, settings) -> Mailbox:  # noqa: F811
    """Parley mails through `smtp`, with links to the live server; without the scorer every
    published comment is news at once."""
    settings.PUBLIC_URL = parley_url
    Policy.objects.update_or_create(site=site, defaults={"use_scorer": False})
    return smtp


def open_story(page: Page, host: HostPage, parley_url: str) -> Page:
    page.goto(host.serve(STORY_URI, article_html(parley_url)))
    return page


def comment(page: Page, text: str) -> Locator:
    body = page.locator(":scope > article > .parley-body", has_text=text)
    return page.locator(".parley-comment", has=body).locator(":scope > article")


def status(page: Page) -> Locator:
    return page.get_by_role("status")


def post(page: Page, text: str, name: str, email: str = "") -> None:
    page.get_by_role("textbox", name="Comment", exact=True).fill(text)
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="E-mail").fill(email)
    page.get_by_role("button", name="Post comment").click()
    expect(status(page)).to_have_text("Comment posted")


def reply(page: Page, to: str, text: str, name: str) -> None:
    comment(page, to).get_by_role("button", name="Reply").click()
    page.get_by_role("textbox", name="Reply to").fill(text)
    page.get_by_role("textbox", name="Name").last.fill(name)
    page.get_by_role("button", name="Post reply").click()
    expect(comment(page, text)).to_be_visible()


def test_a_reader_subscribes_in_the_widget_confirms_by_mail_and_unsubscribes_in_one_click(
    browser: Browser, page: Page, host: HostPage, parley_url, thread, mail: Mailbox
):
    open_story(page, host, parley_url)
    post(page, "Ann's opening thought.", "Ann", "ann@example.org")

    page.locator("summary", has_text="Notify of").click()
    page.get_by_role("radio", name="new replies to my comments").check()
    page.get_by_role("textbox", name="E-mail", exact=True).first.fill("ann@example.org")
    page.get_by_role("button", name="Subscribe").click()
    expect(status(page)).to_contain_text("ann@example.org gets an e-mail with a link to confirm")
    expect(page.locator(".p-done")).to_contain_text("link to confirm")

    deliver_due()
    (confirmation,) = mail.wait_for(1)
    assert confirmation.envelope_to == ["ann@example.org"]
    page.goto(confirmation.link("/notifications/confirm/"))
    page.get_by_role("button", name="Yes, notify me").click()
    expect(page.get_by_role("heading", name="You are subscribed")).to_be_visible()

    bob = open_story(browser.new_context().new_page(), host, parley_url)
    reply(bob, "Ann's opening thought.", "Bob's answer to Ann.", "Bob")
    deliver_due()
    notification = mail.wait_for(2)[1]
    assert notification.envelope_to == ["ann@example.org"]
    assert notification.subject == "Bob replied to your comment on The News"
    assert "Bob's answer to Ann." in notification.text
    # Its link leads back to the reply, on the publisher's page.
    reply_id = Comment.objects.get(author_name="Bob").pk
    assert f"{host.url(STORY_URI)}#comment-{reply_id}" in notification.links()

    unsubscribe = str(notification.message["List-Unsubscribe"]).strip().strip("<>")
    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_text("You will get no more e-mail about this.")).to_be_visible()
    assert not Subscription.objects.exists()

    reply(bob, "Ann's opening thought.", "Bob again, unheard.", "Bob")
    assert deliver_due() == 0
    assert len(mail.messages) == 2
    bob.context.close()


def test_a_reader_asks_for_new_comments_in_a_daily_digest(
    page: Page, host: HostPage, parley_url, thread, mail: Mailbox
):
    open_story(page, host, parley_url)
    page.locator("summary", has_text="Notify of").click()
    expect(page.get_by_role("radio", name="at once")).to_be_checked()

    page.get_by_role("radio", name="in a daily digest").check()
    page.get_by_role("textbox", name="E-mail", exact=True).first.fill("cleo@example.org")
    page.get_by_role("button", name="Subscribe").click()

    expect(status(page)).to_contain_text("cleo@example.org gets an e-mail")
    subscription = Subscription.objects.get()
    assert (subscription.email, subscription.kind, subscription.delivery) == (
        "cleo@example.org",
        "thread",
        "daily",
    )


def test_a_reader_follows_the_replies_to_one_comment(
    page: Page, host: HostPage, parley_url, thread, mail: Mailbox
):
    followed = post_comment(thread, "Worth following.", author="Anna")
    post_comment(thread, "Not this one.", author="Boris")
    open_story(page, host, parley_url)

    follow = comment(page, "Worth following.").get_by_role("button", name="Follow replies")
    follow.click()
    expect(follow).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")  # changed their mind, then not
    expect(follow).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_role("textbox", name="E-mail", exact=True).last.fill("dan@example.org")
    page.get_by_role("button", name="Follow replies").last.click()

    note = comment(page, "Worth following.").locator(".p-note")
    expect(note).to_contain_text("dan@example.org gets an e-mail with a link to confirm")
    expect(status(page)).to_have_text(note.inner_text())
    expect(follow).to_be_focused()
    expect(follow).to_have_attribute("aria-expanded", "false")
    subscription = Subscription.objects.get()
    assert (subscription.kind, subscription.comment_id) == ("comment", followed.pk)

    deliver_due()
    (confirmation,) = mail.wait_for(1)
    assert "replies to a comment" in confirmation.text
