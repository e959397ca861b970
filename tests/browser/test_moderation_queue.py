"""A moderator signs in and clears a queue with the keyboard alone."""

import re
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, Page, expect

from parley.comments.models import Comment
from parley.moderation.models import Assessment
from tests.browser.axe import serious_violations
from tests.conftest import ApiClient
from tests.factories import SiteFactory

PASSWORD = "queue-keys-2024"


@pytest.fixture
def page(browser: Browser, live_server, transactional_db, settings) -> Iterator[Page]:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def held_comment(author: ApiClient, name: str, body: str, risk: float) -> Comment:
    response = author.post_json(
        "/comments", {"site": "news", "uri": "/story/", "body": body, "author_name": name}
    )
    assert response.status_code == 201, response.content
    comment = Comment.objects.get(pk=response.json()["comment"]["id"])
    Assessment.objects.filter(comment=comment).update(
        risk=risk,
        scores={"toxicity": risk, "insult": risk, "threat": 0.05},
        reasons=[f"insult: {body.split()[0]}"],
        lang="en",
        source="local",
    )
    return comment


def sign_in(page: Page) -> None:
    page.goto("/moderation/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/moderation/"))
    page.get_by_label("Username").fill("mona")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Moderation queue", level=1)).to_be_visible()


def test_moderator_clears_the_queue_by_keyboard_and_the_ban_holds(page: Page):
    site = SiteFactory.create(name="news", moderation="pre", domains=["127.0.0.1", "localhost"])
    mona = User.objects.create_user("mona", password=PASSWORD, is_staff=True)
    site.moderators.add(mona)
    troll = ApiClient()
    fine = held_comment(ApiClient(), "Ana", "Sharp but fair: the minister dodged it.", 0.9)
    rude = held_comment(ApiClient(), "Bo", "Idiots, the lot of you.", 0.7)
    banned = held_comment(troll, "Cy", "Useless hacks, go away.", 0.5)

    sign_in(page)
    assert serious_violations(page) == []

    page.keyboard.press("j")
    expect(page.locator(f"#queue-{fine.pk}")).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator("#mq-status")).to_have_text("Approved comment by Ana.")
    expect(page.locator(f"#queue-{rude.pk}")).to_be_focused()
    expect(page.locator(f"#queue-{fine.pk}")).to_have_count(0)

    page.keyboard.press("r")
    expect(page.locator("#mq-status")).to_have_text("Rejected comment by Bo.")
    expect(page.locator(f"#queue-{banned.pk}")).to_be_focused()

    page.keyboard.press("b")
    dialog = page.get_by_role("dialog", name="Ban Cy")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("1 hour")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(dialog.get_by_label("1 day")).to_be_checked()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#mq-status")).to_have_text(re.compile(r"^Banned Cy until .+"))
    expect(page.get_by_text("Nothing left on this page.")).to_be_focused()
    tabs = page.get_by_role("navigation", name="Which comments")
    expect(tabs.get_by_role("link", name=re.compile(r"^Held"))).to_have_text(re.compile(r"0$"))
    expect(tabs.get_by_role("link", name=re.compile(r"^All"))).to_have_text(re.compile(r"0$"))

    assert [Comment.objects.get(pk=c.pk).status for c in (fine, rude, banned)] == [
        "published",
        "rejected",
        "rejected",
    ]

    page.goto("/moderation/audit/")
    rows = page.get_by_role("row").filter(has_text="mona")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Banned the author")
    expect(rows.nth(1)).to_contain_text("Rejected")
    expect(rows.nth(2)).to_contain_text("Approved")

    refused = troll.post_json(
        "/comments", {"site": "news", "uri": "/story/", "body": "I'm back.", "author_name": "Cy"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "banned"
    assert re.match(
        r"You cannot comment here until .+: a moderator has banned you\.$",
        refused.json()["error"]["message"],
    )


def test_the_queue_fits_a_phone_and_passes_axe(page: Page):
    site = SiteFactory.create(name="news", moderation="pre", domains=["127.0.0.1", "localhost"])
    mona = User.objects.create_user("mona", password=PASSWORD, is_staff=True)
    site.moderators.add(mona)
    held_comment(ApiClient(), "Ana", "A long comment " * 30, 0.8)
    page.set_viewport_size({"width": 390, "height": 844})

    sign_in(page)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_violations(page) == []
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
