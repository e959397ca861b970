"""Parley's strict Content-Security-Policy does not break Parley: a reader, a donor and a
moderator go through every kind of page in Chromium, and the browser blocks nothing."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from parley.notifications.models import OutboundEmail
from tests.browser.conftest import post_without_waiting
from tests.pages import READER_EMAIL, SLUG, newsroom

from .test_donation_flow import fake_stripe  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

# Each violation, as the page's own listener hears it (in shadow roots too: the event is
# composed); the browser's console tells of the rest (frames, headers).
LISTEN = """document.addEventListener("securitypolicyviolation", (e) => window.parleyViolation(
  `${location.pathname}: ${e.effectiveDirective} blocked ${e.blockedURI} (${e.sourceFile})`
), true);"""
BLOCKED = re.compile(r"Content.Security.Policy|Permissions-Policy|Refused to", re.IGNORECASE)


@pytest.fixture
def violations() -> list[str]:
    return []


@pytest.fixture
def page(
    browser: Browser,
    parley_url: str,
    fake_stripe: str,  # noqa: F811
    violations: list[str],
) -> Iterator[Page]:
    context = browser.new_context(base_url=parley_url)
    context.expose_function("parleyViolation", lambda text: violations.append(text))
    context.add_init_script(LISTEN)
    page = context.new_page()

    def heard(message: ConsoleMessage) -> None:
        if BLOCKED.search(message.text):
            violations.append(f"console: {message.text}")

    page.on("console", heard)
    yield page
    context.close()


def test_readers_donors_and_moderators_meet_no_blocked_script_style_or_form(
    page: Page, violations: list[str]
):
    world = newsroom()
    post_without_waiting("news")

    # A reader: the front page, the article with its widget, sorting, voting, replying.
    page.goto("/")
    page.get_by_role("link", name="The river").first.click()
    thread = page.locator("#parley-thread")
    expect(thread.get_by_role("heading", name="2 comments")).to_be_visible()
    thread.get_by_role("tab", name="Oldest").click()
    expect(thread.get_by_role("tab", name="Oldest")).to_have_attribute("aria-selected", "true")
    expect(thread.locator("[aria-busy=true]")).to_have_count(0)  # the sorted page is in
    first = thread.locator(".parley-comment").first
    first.get_by_role("button", name="Vote up").first.click()
    expect(first.locator(".parley-score").first).to_have_text("+1")
    first.get_by_role("button", name="Reply").first.click()
    reply = thread.locator("form", has=page.get_by_role("button", name="Post reply"))
    reply.get_by_role("textbox", name="Reply to Ann").fill("Agreed, **mostly**.")
    reply.get_by_role("textbox", name="Name").fill("Quinn")
    reply.get_by_role("button", name="Post reply").click()
    expect(thread.get_by_text("Agreed,")).to_be_visible()

    # A donor: the support page's form leads on to (the fake) Stripe and back.
    page.goto(f"/support/{SLUG}/")
    page.get_by_role("radio", name="25 $").check()
    page.get_by_role("button", name="Continue to payment").click()
    expect(page).to_have_title("Fake Stripe — test checkout")
    page.get_by_label("E-mail").fill(READER_EMAIL)
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.locator(".parley-campaign-raised").first).to_have_text("50 $")

    # A reader signs in on the profile page with the e-mailed link.
    page.goto("/accounts/profile/")
    page.get_by_label("E-mail").fill("quinn@readers.example")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_text("a sign-in link is on its way")).to_be_visible()
    link = re.search(r"/accounts/signin/\S+/", OutboundEmail.objects.get(kind="signin").text)
    assert link is not None
    page.goto(link[0])
    expect(page.get_by_text("Signed in as quinn@readers.example.")).to_be_visible()

    # Staff: the admin's sign-in, its lists and forms, then the moderation queue.
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(world.staff.username)
    page.get_by_label("Password").fill("pw-editor-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Newsroom")).to_be_visible()
    page.goto("/admin/comments/comment/")
    expect(page.get_by_text("A first view.")).to_be_visible()
    page.goto("/admin/parley_sites/site/")
    page.get_by_role("link", name="news").click()
    expect(page.get_by_text("Available moderators")).to_be_visible()  # its script's widget
    page.goto("/admin/funding/campaign/add/")
    page.get_by_label("Title").press_sequentially("Winter drive")
    expect(page.get_by_label("Slug")).to_have_value("winter-drive")  # the admin's scripts
    expect(page.get_by_role("link", name="Today").first).to_be_visible()
    page.goto("/admin/accounts/personaldata/")
    page.get_by_label("E-mail address").fill(READER_EMAIL)
    page.get_by_role("button", name="Erase…").click()
    expect(page.get_by_text(f"Erasing {READER_EMAIL} would change:")).to_be_visible()

    page.goto("/moderation/")
    held = page.locator(".mq-item", has_text="Held back.")
    held.get_by_role("button", name="Approve").click()
    expect(page.locator("#mq-status")).to_have_text("Approved comment by Cy.")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()

    page.goto("/notifications/sent/")
    page.get_by_role("link", name=re.compile("receipt|supporting")).first.click()
    expect(page.frame_locator("iframe.mail-html").locator("body")).to_contain_text("25")

    page.goto("/api/v1/docs")
    expect(page.get_by_text("/api/v1/threads").first).to_be_visible()
    page.goto("/no/such/page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    # A picture opened on its own, under the closed policy of everything but pages.
    page.goto("/static/parley/favicon.svg")
    expect(page.locator("svg")).to_be_visible()

    assert violations == []
