"""Signing in from the widget on a publisher's page: an e-mailed link that leads back to the
page, works in the browser that asked for it, and makes the reader's account their name."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from parley.accounts.actions import check_claim_comments
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


def forget_edit_tokens(page: Page) -> None:
    """As if the edit window had passed, or the comments were posted in another browser."""
    page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('parley:edit:'))"
        ".forEach(k => localStorage.removeItem(k))"
    )


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
    assert posted.account is not None
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


def test_signed_in_a_reader_edits_and_deletes_a_comment_this_browser_has_no_token_for(
    browser: Browser, page: Page, host: HostPage, parley_url, thread, mail: Mailbox, erin: User
):
    post_comment(thread, "Someone else's view.", author="Anna")
    open_story(page, host, parley_url)
    page.get_by_role("textbox", name="Comment", exact=True).fill("First draft.")
    page.get_by_role("textbox", name="Name").fill("Erin")
    page.get_by_role("textbox", name="E-mail").fill("erin@example.org")
    page.get_by_role("button", name="Post comment").click()
    expect(status(page)).to_have_text("Comment posted")
    posted = Comment.objects.get(body="First draft.")
    theirs = page.locator(f"#comment-{posted.pk} > article")
    # On their account page, Erin attaches the comments posted with her address.
    assert check_claim_comments(erin) == 1
    forget_edit_tokens(page)
    page.reload()
    expect(theirs.get_by_role("button", name="Reply")).to_be_visible()
    expect(theirs.get_by_role("button", name="Edit")).to_have_count(0)

    page.goto(ask_for_a_link(page, mail, "erin@example.org"))
    expect(account_bar(page)).to_contain_text("Signed in as Erin")

    theirs.get_by_role("button", name="Edit").click()
    source = page.get_by_role("textbox", name="Edit your comment")
    expect(source).to_have_value("First draft.")
    source.fill("Second **thoughts**.")
    page.get_by_role("button", name="Save").click()
    expect(status(page)).to_have_text("Comment saved")
    expect(theirs.locator(".parley-body strong")).to_have_text("thoughts")
    expect(theirs.get_by_role("button", name="Vote up")).to_have_count(0)  # nor their own
    posted.refresh_from_db()
    assert posted.body == "Second **thoughts**."
    assert posted.edited_at is not None

    other = browser.new_context().new_page()
    open_story(other, host, parley_url)
    expect(other.locator(f"#comment-{posted.pk}")).to_contain_text("Second thoughts.")
    expect(other.locator(f"#comment-{posted.pk}")).to_contain_text("edited")
    expect(other.get_by_role("button", name="Edit")).to_have_count(0)

    theirs.get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(status(page)).to_have_text("Comment deleted")
    expect(theirs).to_have_count(0)
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()
    posted.refresh_from_db()
    assert posted.status == Comment.Status.DELETED
    other.reload()
    expect(other.get_by_role("heading", name="1 comment")).to_be_visible()
    expect(other.get_by_text("Second thoughts.")).to_have_count(0)
    other.context.close()


def test_signing_out_takes_edit_away_but_where_this_browser_holds_the_edit_token(
    page: Page, host: HostPage, parley_url, thread, mail: Mailbox, erin: User
):
    older = post_comment(
        thread, "Posted from my phone.", author="Erin", author_email="erin@example.org"
    )
    check_claim_comments(erin)
    sign_in(page, host, parley_url, mail, "erin@example.org")
    page.get_by_role("textbox", name="Comment", exact=True).fill("Posted here.")
    page.get_by_role("button", name="Post comment").click()
    expect(status(page)).to_have_text("Comment posted")
    elsewhere = page.locator(f"#comment-{older.pk} > article")
    here = page.locator(".parley-comment", has_text="Posted here.")
    expect(elsewhere.get_by_role("button", name="Edit")).to_be_visible()
    expect(elsewhere.get_by_role("button", name="Delete")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()

    expect(status(page)).to_have_text("You are signed out.")
    expect(elsewhere.get_by_role("button", name="Edit")).to_have_count(0)
    expect(elsewhere.get_by_role("button", name="Delete")).to_have_count(0)
    expect(elsewhere.get_by_role("button", name="Vote up")).to_be_visible()
    expect(here.get_by_role("button", name="Edit")).to_be_visible()
    page.reload()
    expect(here.get_by_role("button", name="Edit")).to_be_visible()
    expect(elsewhere.get_by_role("button", name="Reply")).to_be_visible()
    expect(elsewhere.get_by_role("button", name="Edit")).to_have_count(0)
