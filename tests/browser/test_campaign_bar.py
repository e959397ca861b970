"""The funding bar as readers see it: drawn by the widget on a publisher's page, rendered with
Parley's own article page, and kept current while the page is on screen."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Request, expect

from parley.funding import actions
from parley.funding.models import Campaign
from parley.sites.models import Site
from tests.factories import ArticleFactory

from ..test_campaign_bar import NBSP, make_campaign
from .axe import serious_violations
from .hostpage import HostPage

TITLE = "Keep the front line reported"


def host_html(parley_url: str, lang: str = "en") -> str:
    """A publisher's page with the campaign's bar and no comment thread."""
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>A foreign story</title>
<style>progress, p {{ color: #c00 !important; }} /* must not reach into the bar */</style>
</head><body>
<h1>A foreign story</h1>
<div class="parley-campaign" data-campaign="support-frontline"></div>
<p>The publisher's own article text.</p>
<script src="{parley_url}/embed.js" async></script>
</body></html>"""


@pytest.fixture
def campaign(site: Site) -> Campaign:
    return make_campaign(site=site)


@pytest.fixture
def clocked(context: BrowserContext) -> Page:
    """A page whose timers run when the test says, not after 30 real seconds."""
    page = context.new_page()
    page.clock.install()
    return page


def bar_requests(page: Page) -> list[str]:
    """The bar's requests from here on, as the page makes them."""
    asked: list[str] = []

    def record(request: Request) -> None:
        if "/bar?" in request.url:
            asked.append(request.url)

    page.on("request", record)
    return asked


def gift(campaign: Campaign, raised: int, supporters: int) -> None:
    """Money came in: the ledger's cached totals move, as a webhook moves them."""
    Campaign.objects.filter(pk=campaign.pk).update(raised=raised, supporters=supporters)


def raised(bar: Locator) -> Locator:
    return bar.locator(".parley-campaign-raised")


def test_the_bar_shows_on_a_publishers_page_in_its_language(
    page: Page, host: HostPage, parley_url: str, campaign: Campaign
):
    page.goto(host.serve("/story/", host_html(parley_url, lang="de")))

    progress = page.get_by_role("progressbar", name=TITLE)
    expect(progress).to_have_attribute("aria-valuetext", f"2.550{NBSP}$ von 5.000{NBSP}$ gesammelt")
    assert progress.evaluate("el => el.position") == pytest.approx(0.51)
    bar = page.locator(".parley-campaign")
    expect(raised(bar)).to_have_text("2.550 $")
    expect(bar.locator(".parley-campaign-scale span")).to_have_text(["0 $", "2.500 $", "5.000 $"])
    expect(bar.locator(".parley-campaign-supporters")).to_have_text("34 Unterstützer")
    expect(bar.locator(".parley-campaign-deadline")).to_have_text("Noch 12 Tage")
    # The publisher's styles stay outside the bar's shadow root.
    assert raised(bar).evaluate("el => getComputedStyle(el).color") != "rgb(204, 0, 0)"
    assert serious_violations(page) == []


def test_support_opens_parleys_support_page_in_a_new_tab(
    page: Page, host: HostPage, parley_url: str, campaign: Campaign, monkeypatch, settings
):
    paid = host.serve("/paying", "<!doctype html><title>Pay</title><h1>Stripe</h1>")
    settings.STRIPE_API_BASE = host.origin  # where this stand-in Stripe takes payments
    monkeypatch.setattr(
        actions,
        "create_checkout",
        lambda params, key: type("Session", (), {"id": "cs_1", "url": paid}),
    )
    page.goto(host.serve("/story/", host_html(parley_url)))

    with page.expect_popup() as opened:
        page.get_by_role("link", name="Support The News (opens in a new tab)").click()
    support = opened.value
    expect(support).to_have_url(f"{parley_url}/support/support-frontline/")
    support.get_by_role("radio", name="10 $").check()
    support.get_by_role("radio", name="Monthly").check()
    support.get_by_role("button", name="Continue to payment").click()

    expect(support).to_have_url(paid)
    assert campaign.donations.get().amount == 1000


def test_the_figures_move_while_the_page_is_on_screen_and_are_said_once(
    clocked: Page, host: HostPage, parley_url: str, campaign: Campaign
):
    page = clocked
    page.goto(host.serve("/story/", host_html(parley_url)))
    bar = page.locator(".parley-campaign")
    expect(raised(bar)).to_have_text("2,550 $")

    gift(campaign, 560_000, 71)
    page.clock.run_for(30_000)

    expect(raised(bar)).to_have_text("5,600 $")
    expect(bar.locator(".parley-campaign-percent")).to_have_text("112 % of the goal")
    expect(bar.locator(".parley-campaign-supporters")).to_have_text("71 supporters")
    progress = page.get_by_role("progressbar", name=TITLE)
    assert progress.evaluate("el => el.position") == 1  # full, and the words go on counting
    expect(page.get_by_role("status")).to_have_text("5,600 $ raised of 5,000 $")


def test_a_hidden_page_asks_nothing_until_it_is_seen_again(
    clocked: Page, host: HostPage, parley_url: str, campaign: Campaign
):
    page = clocked
    asked = bar_requests(page)
    page.goto(host.serve("/story/", host_html(parley_url)))
    bar = page.locator(".parley-campaign")
    expect(raised(bar)).to_have_text("2,550 $")
    assert len(asked) == 1

    set_hidden(page, True)
    gift(campaign, 300_000, 35)
    page.clock.run_for(90_000)
    assert len(asked) == 1

    set_hidden(page, False)  # the reader comes back to the tab

    expect(raised(bar)).to_have_text("3,000 $")
    assert len(asked) == 2


def set_hidden(page: Page, hidden: bool) -> None:
    page.evaluate(
        """hidden => {
            Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


@pytest.fixture
def article_page(browser: Browser, parley_url: str) -> Iterator[Page]:
    """Parley's own article page, JavaScript on, its clock in the test's hands."""
    context = browser.new_context(base_url=parley_url)
    page = context.new_page()
    page.clock.install()
    yield page
    context.close()


def test_parleys_article_page_keeps_both_its_bars_current(article_page: Page):
    page = article_page
    article = ArticleFactory.create()
    campaign = make_campaign(site=article.site)
    page.goto(article.uri)
    above, below = page.locator(".parley-campaign").all()
    expect(raised(above)).to_have_text("2,550 $")
    expect(below.get_by_role("link", name="Support The News")).to_have_attribute(
        "href", "/support/support-frontline/"
    )
    assert serious_violations(page) == []

    gift(campaign, 300_000, 35)
    page.clock.run_for(30_000)

    for bar in (above, below):
        expect(raised(bar)).to_have_text("3,000 $")
        expect(bar.locator(".parley-campaign-supporters")).to_have_text("35 supporters")
        expect(bar.get_by_role("progressbar")).to_have_attribute("value", "300000")
    # Said by the first bar only: one announcement, not one for each bar.
    expect(above.get_by_role("status")).to_have_text("3,000 $ raised of 5,000 $")
    expect(below.get_by_role("status")).to_have_text("")
