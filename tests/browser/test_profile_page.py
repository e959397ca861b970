"""The profile page in Chromium: a visitor asks for a link there, opens it, and the page's
own script finishes signing in with the browser key it kept."""

import re

import pytest
from playwright.sync_api import Page, expect

from parley.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_visitor_signs_in_on_the_profile_page_with_the_emailed_link(
    page: Page,
    parley_url: str,
) -> None:
    page.goto(f"{parley_url}/accounts/profile/")
    page.get_by_label("E-mail").fill("ann@example.org")
    page.get_by_role("button", name="E-mail me a sign-in link").click()
    expect(page.get_by_text("a sign-in link is on its way")).to_be_visible()

    text = OutboundEmail.objects.get().text
    link = re.search(r"https?://[^/\s]+(/accounts/signin/\S+/)", text)
    assert link is not None
    page.goto(parley_url + link[1])

    expect(page.get_by_text("Signed in as ann@example.org.")).to_be_visible()
    assert "#parley-signin" not in page.url
