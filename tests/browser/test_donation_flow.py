"""The demo's reader funding from end to end, as a reader goes through it: Parley's support
page, the fake Stripe's checkout page, Stripe's signed webhook back into Parley's ledger, and
the bar on Parley's article page and on a publisher's page, both counting the gift."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from parley.articles.demo import CAMPAIGN_SLUG, seed_demo
from parley.articles.models import Article
from parley.funding.fake_stripe import start_fake_stripe
from parley.funding.ledger import reconcile
from parley.funding.models import Campaign, Donation

from .hostpage import HostPage
from .test_campaign_bar import host_html

SECRET = "whsec_donation_flow_test"
SITE = "The Frontline Review"
READER = "ada@readers.example"


@pytest.fixture
def fake_stripe(parley_url: str, settings) -> Iterator[str]:
    """The fake Stripe, its webhooks signed for Parley's endpoint on the live server, and
    Parley's Stripe client pointed at it, as `parley demo` wires them; its base URL."""
    server, base = start_fake_stripe(0, f"{parley_url}/webhooks/stripe", SECRET)
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = base
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.PUBLIC_URL = parley_url  # where Stripe sends the reader back to
    yield base
    server.shutdown()
    server.server_close()


def bars_show(bars: list[Locator], raised: str, supporters: str) -> None:
    for bar in bars:
        expect(bar.locator(".parley-campaign-raised")).to_have_text(raised)
        expect(bar.locator(".parley-campaign-supporters")).to_have_text(supporters)


def test_a_readers_gift_moves_the_bar_on_the_article_and_on_a_publishers_page(
    page: Page, host: HostPage, parley_url: str, fake_stripe: str
):
    seed_demo()
    article = Article.objects.order_by("published_at").first()
    assert article is not None
    article_url = f"{parley_url}{article.uri}"

    page.goto(article_url)
    bars = page.locator(".parley-campaign")
    expect(bars).to_have_count(2)  # above and below the article
    above, below = bars.all()
    bars_show([above, below], "2,550 $", "6 supporters")

    above.get_by_role("link", name=f"Support {SITE}").click()
    expect(page).to_have_url(f"{parley_url}/support/{CAMPAIGN_SLUG}/")
    page.get_by_role("radio", name="25 $").check()
    page.get_by_role("radio", name="Once").check()
    page.get_by_role("button", name="Continue to payment").click()

    expect(page).to_have_url(re.compile(re.escape(f"{fake_stripe}/pay/cs_test_") + r"\w+"))
    expect(page).to_have_title("Fake Stripe — test checkout")
    expect(page.get_by_text("25.00 USD")).to_be_visible()
    page.get_by_label("E-mail").fill(READER)
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_role("button", name="Pay").click()

    thanks = f"{parley_url}/support/{CAMPAIGN_SLUG}/thanks/?session_id=cs_test_"
    expect(page).to_have_url(re.compile(re.escape(thanks) + r"\w+"))
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(page.get_by_text("Readers like you keep our reporting free to read")).to_be_visible()
    # Paid before the fake redirected here: its signed webhook reached Parley's ledger.
    donation = Donation.objects.get(checkout_session_id=page.url.rsplit("=", 1)[-1])
    assert (donation.amount, donation.interval, donation.status) == (
        2500,
        "once",
        Donation.Status.PAID,
    )
    assert donation.email == READER

    page.get_by_role("link", name="Back to the front page").click()
    page.get_by_role("link", name=article.headline, exact=True).click()
    expect(page).to_have_url(article_url)
    expect(bars).to_have_count(2)
    bars_show(bars.all(), "2,575 $", "7 supporters")

    page.goto(host.serve("/story/", host_html(parley_url)))
    widget = page.locator(".parley-campaign")
    bars_show([widget], "2,575 $", "7 supporters")
    expect(widget.get_by_role("progressbar")).to_have_attribute("value", "257500")

    campaign = Campaign.objects.get(slug=CAMPAIGN_SLUG)
    assert (campaign.raised, campaign.supporters) == (257_500, 7)
    assert reconcile() == []
