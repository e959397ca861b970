"""Signing in from the widget on a publisher's page: an e-mailed link that leads back to the
page, works in the browser that asked for it, and makes the reader's account their name."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from parley.accounts.models import AccountSession, Profile
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
    """Parley mails through `smtp`, with links to the live server."""
    settings.PUBLIC_URL = parley_url
    Policy.objects.update_or_create(site=site, defaults={"use_scorer": False})
    return smtp


@pytest.fixture
def erin(db) -> User:
    """A reader whose account has a name to comment under."""
    user = User.objects.create_user(username="erin", email="erin@example.org")
    Profile.objects.create(user=user, display_name="Erin")
    return user


def open_story(page: Page, host: HostPage, parley_url: str) -> Page:
    page.goto(host.serve(STORY_URI, article_html(parley_url)))
    return page


def status(page: Page) -> Locator:
    return page.get_by_role("status")


def account_bar(page: Page) -> Locator:
    """Beside the comment box: "Sign in", or who is signed in."""
    return page.locator(".p-account")


def ask_for_a_link(page: Page, mail: Mailbox, email: str) -> str:
    """Ask from the widget; the link the e-mail brings."""
    sent = len(mail.messages)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("textbox", name="E-mail").fill(email)
    page.get_by_role("button", name="E-mail me a link").click()
    expect(status(page)).to_contain_text("a sign-in link is on its way there")
    deliver_due()
    return mail.wait_for(sent + 1)[sent].link("/accounts/signin/")


def sign_in(page: Page, host: HostPage, parley_url: str, mail: Mailbox, email: str) -> None:
    open_story(page, host, parley_url)
    link = ask_for_a_link(page, mail, email)
    page.goto(link)  # it leads back to the story, where the widget completes
    expect(account_bar(page)).to_contain_text("Signed in as")


def test_a_reader_signs_in_by_the_e_mailed_link_comments_as_their_account_and_signs_out(
    page: Page, host: HostPage, parley_url, thread, mail: Mailbox, erin: User
):
    post_comment(thread, "An older view.", author="Anna")
    open_story(page, host, parley_url)
    link = ask_for_a_link(page, mail, "erin@example.org")
    # The panel closed; the message stays beside "Sign in".
    expect(page.get_by_role("button", name="E-mail me a link")).to_have_count(0)
    expect(account_bar(page)).to_contain_text("a sign-in link is on its way there")

    page.goto(link)

    expect(account_bar(page)).to_contain_text("Signed in as Erin")
    expect(status(page)).to_have_text("Signed in as Erin")
    assert page.url == host.url(STORY_URI)  # the token left the address bar
    page.get_by_role("textbox", name="Comment", exact=True).fill("Signed, sealed.")
    expect(page.get_by_role("textbox", name="Name")).to_be_hidden()
    expect(page.get_by_role("textbox", name="E-mail")).to_be_hidden()
    page.get_by_role("button", name="Post comment").click()
    expect(status(page)).to_have_text("Comment posted")
    posted = Comment.objects.get(body="Signed, sealed.")
    assert (posted.author_name, posted.author_email, posted.account_id) == (
        "Erin",
        "erin@example.org",
        erin.pk,
    )

    page.reload()  # the session outlives the page
    expect(account_bar(page)).to_contain_text("Signed in as Erin")

    page.get_by_role("button", name="Sign out").click()
    expect(status(page)).to_have_text("You are signed out.")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    assert not AccountSession.objects.filter(revoked_at__isnull=True).exists()
    page.get_by_role("textbox", name="Comment", exact=True).focus()
    expect(page.get_by_role("textbox", name="Name")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(account_bar(page)).not_to_contain_text("Signed in as")


def test_signed_in_the_readers_own_address_is_subscribed_at_once(
    page: Page, host: HostPage, parley_url, thread, mail: Mailbox, erin: User
):
    post_comment(thread, "Worth following.", author="Anna")
    sign_in(page, host, parley_url, mail, "erin@example.org")

    page.locator("summary", has_text="Notify of").click()
    email = page.get_by_role("textbox", name="E-mail", exact=True)
    expect(email).to_have_value("erin@example.org")
    page.get_by_role("button", name="Subscribe").click()
    expect(status(page)).to_have_text("Done: you will be notified at erin@example.org.")

    followed = page.locator(".parley-comment", has_text="Worth following.")
    followed.get_by_role("button", name="Follow replies").click()  # no address to ask for
    expect(followed.locator(".p-note")).to_have_text(
        "Done: you will be notified at erin@example.org."
    )
    subscriptions = Subscription.objects.order_by("kind")
    assert [(s.kind, s.confirmed_at is not None) for s in subscriptions] == [
        ("comment", True),
        ("thread", True),
    ]
    assert len(mail.messages) == 1  # the sign-in link; nothing to confirm


def test_a_new_account_is_asked_only_for_the_name_to_comment_under(
    page: Page, host: HostPage, parley_url, thread, mail: Mailbox
):
    sign_in(page, host, parley_url, mail, "fay@example.org")
    expect(account_bar(page)).to_contain_text("Signed in as fay@example.org")

    page.get_by_role("textbox", name="Comment", exact=True).fill("First as Fay.")
    expect(page.get_by_role("textbox", name="E-mail")).to_be_hidden()
    page.get_by_role("textbox", name="Name").fill("Fay")
    page.get_by_role("button", name="Post comment").click()

    expect(status(page)).to_have_text("Comment posted")
    posted = Comment.objects.get(body="First as Fay.")
    assert (posted.author_name, posted.author_email, posted.account.email) == (
        "Fay",
        "fay@example.org",
        "fay@example.org",
    )


def test_the_link_opened_in_another_browser_signs_nobody_in(
    browser: Browser,
    context: BrowserContext,
    page: Page,
    host: HostPage,
    parley_url,
    thread,
    mail: Mailbox,
    erin: User,
):
    open_story(page, host, parley_url)
    link = ask_for_a_link(page, mail, "erin@example.org")

    elsewhere = browser.new_context().new_page()
    elsewhere.goto(link)

    expect(elsewhere.locator("#parley-thread")).to_contain_text(
        "This link was asked for in another browser."
    )
    expect(elsewhere.get_by_role("button", name="Sign in")).to_be_visible()
    assert not AccountSession.objects.exists()
    # Nothing was used up: in the browser that asked, the link still works.
    page.goto(link)
    expect(account_bar(page)).to_contain_text("Signed in as Erin")
    elsewhere.context.close()
