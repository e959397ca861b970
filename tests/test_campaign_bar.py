"""The funding bar on article pages, and the support page's form, with JavaScript off."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from parley.articles.models import Article
from parley.funding import actions
from parley.funding.models import Campaign, Donation
from parley.funding.views import parse_amount
from tests.factories import ArticleFactory, SiteFactory

pytestmark = pytest.mark.django_db

NBSP = "\xa0"


@pytest.fixture
def article() -> Article:
    return ArticleFactory.create()


def make_campaign(**fields: Any) -> Campaign:
    defaults: dict[str, Any] = {
        "site": SiteFactory.create(),
        "slug": "support-frontline",
        "title": "Keep the front line reported",
        "goal": 500_000,
        "raised": 255_000,
        "supporters": 34,
        "starts_at": timezone.now() - timedelta(days=3),
        "ends_at": timezone.now() + timedelta(days=11, hours=5),
        "suggested_amounts": [500, 1_000, 2_500],
        "intervals": ["once", "month"],
        "minimum_amount": 300,
        "thank_you": "Your gift keeps our reporters in the field.",
    }
    return Campaign.objects.create(**(defaults | fields))


def page(path: str, language: str = "en") -> str:
    response = Client().get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def bars(html: str) -> list[str]:
    return re.findall(r'<div class="parley-campaign".*?role="status"></p>\n</div>', html, re.S)


def text_of(html: str, name: str) -> str:
    match = re.search(rf'class="parley-campaign-{name}"[^>]*>(.*?)</', html, re.S)
    assert match, name
    return match[1]


def scale(html: str) -> list[str]:
    match = re.search(r'class="parley-campaign-scale"[^>]*>(.*?)</p>', html)
    assert match
    return re.findall(r"<span>(.*?)</span>", match[1])


def test_the_bar_sits_above_and_below_the_article(article: Article):
    make_campaign()

    html = page(article.uri)

    above, below = bars(html)
    assert html.index(above) < html.index("<article") < html.index("</article>")
    assert html.index("</article>") < html.rindex(below) < html.index('id="comments"')
    assert above == below
    assert text_of(above, "title") == "Keep the front line reported"
    assert (
        '<progress value="255000" max="500000" aria-label="Keep the front line reported" '
        f'aria-valuetext="2,550{NBSP}$ raised of 5,000{NBSP}$">' in above
    )
    assert scale(above) == [f"0{NBSP}$", f"2,500{NBSP}$", f"5,000{NBSP}$"]
    assert text_of(above, "raised") == f"2,550{NBSP}$"
    assert text_of(above, "percent") == "51 % of the goal"
    assert text_of(above, "supporters") == "34 supporters"
    assert text_of(above, "deadline") == "12 days left"
    assert (
        '<a class="parley-campaign-support" href="/support/support-frontline/">'
        "Support The News</a>" in above
    )


def test_amounts_are_written_in_the_pages_language_with_cents_only_when_there_are_some(
    article: Article,
):
    make_campaign(goal=500_001, raised=255_050, supporters=1)

    english, german = page(article.uri, "en"), page(article.uri, "de")

    assert text_of(english, "raised") == f"2,550.50{NBSP}$"
    assert scale(english) == [f"0{NBSP}$", f"2,500{NBSP}$", f"5,000.01{NBSP}$"]
    assert text_of(english, "supporters") == "1 supporter"
    assert text_of(german, "raised") == f"2.550,50{NBSP}$"
    assert scale(german) == [f"0{NBSP}$", f"2.500{NBSP}$", f"5.000,01{NBSP}$"]


def test_past_its_goal_the_bar_is_full_and_keeps_counting(article: Article):
    make_campaign(raised=560_000, supporters=71, ends_at=None, currency="EUR")

    above = bars(page(article.uri))[0]

    assert '<progress value="560000" max="500000"' in above  # a browser shows it full
    assert text_of(above, "raised") == f"5,600{NBSP}€"
    assert text_of(above, "percent") == "112 % of the goal"
    assert text_of(above, "deadline") == ""  # no deadline, no countdown


def test_an_ended_campaign_leaves_the_page_to_the_open_one(article: Article):
    make_campaign(slug="last-year", ends_at=timezone.now() - timedelta(minutes=1))
    make_campaign(slug="not-yet", starts_at=timezone.now() + timedelta(days=1))
    make_campaign(slug="earlier", title="Older", starts_at=timezone.now() - timedelta(days=9))
    make_campaign(slug="this-year", title="Newest", starts_at=timezone.now() - timedelta(days=1))

    html = page(article.uri)

    assert [text_of(bar, "title") for bar in bars(html)] == ["Newest", "Newest"]


def test_without_an_open_campaign_there_is_no_bar(article: Article):
    make_campaign(ends_at=timezone.now() - timedelta(seconds=1))

    html = page(article.uri)

    assert "parley-campaign" not in html
    assert "<article" in html


def test_the_bar_costs_one_query_with_or_without_a_campaign(
    article: Article, django_assert_num_queries: Any
):
    page(article.uri)  # the thread is cached from here on
    # The article, its figures, the campaign look-up, whether the discussion is closed.
    with django_assert_num_queries(4):
        assert "parley-campaign" not in page(article.uri)
    make_campaign()
    with django_assert_num_queries(4):
        assert len(bars(page(article.uri))) == 2


def test_an_ended_campaigns_support_page_says_so_and_takes_nothing():
    make_campaign(ends_at=timezone.now() - timedelta(days=1))

    html = page("/support/support-frontline/")

    assert text_of(html, "deadline") == "Ended"
    assert "This campaign has ended; thank you for thinking of it." in html
    assert "<form" not in html


def test_the_widget_gets_the_bar_in_the_publishers_language_to_show_on_their_page(
    django_assert_num_queries: Any,
):
    make_campaign()

    with django_assert_num_queries(1):  # the campaign with its site
        response = Client().get(
            "/support/support-frontline/bar", {"lang": "de-AT"}, HTTP_ORIGIN="https://blog.example"
        )

    html = response.content.decode()
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Content-Language"] == "de"
    assert html.startswith(
        '<div class="parley-campaign" data-campaign="support-frontline" lang="de">'
    )
    assert text_of(html, "raised") == f"2.550{NBSP}$"
    # It opens Parley's support page in a new tab, and says so.
    assert (
        '<a class="parley-campaign-support" href="http://testserver/support/support-frontline/" '
        'target="_blank">The News unterstützen<span class="visually-hidden"> '
        "(öffnet in einem neuen Tab)" in html
    )
    again = Client().get(
        "/support/support-frontline/bar?lang=de", HTTP_IF_NONE_MATCH=response["ETag"]
    )
    assert again.status_code == 304


def test_the_widget_gets_nothing_for_an_unknown_campaign():
    response = Client().get("/support/nothing-here/bar", {"lang": "en"})

    assert response.status_code == 404
    assert "Access-Control-Allow-Origin" not in response


# --- the support page --------------------------------------------------------------------


@pytest.fixture
def stripe(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stripe's checkout, answering with its payment page; what it was asked, in order."""
    asked: list[dict[str, Any]] = []

    def create(params: dict[str, Any], key: str) -> Any:
        asked.append(params)
        return type("Session", (), {"id": f"cs_{len(asked)}", "url": "https://pay.example/s"})

    monkeypatch.setattr(actions, "create_checkout", create)
    return asked


def support(data: dict[str, str], language: str = "en") -> Any:
    return Client().post("/support/support-frontline/", data, HTTP_ACCEPT_LANGUAGE=language)


def test_the_support_page_offers_the_campaigns_amounts_and_intervals():
    make_campaign(intervals=["month", "year"])

    html = page("/support/support-frontline/", "de")

    assert 'name="csrfmiddlewaretoken"' in html
    assert re.findall(r'name="amount" value="(\d+)"', html) == ["500", "1000", "2500"]
    assert f"> 5{NBSP}$</label>" in html and f"> 25{NBSP}$</label>" in html
    assert re.findall(r'name="interval" value="(\w+)"', html) == ["month", "year"]
    assert 'name="interval" value="month" checked' in html
    assert 'name="other_amount"' in html
    assert 'class="parley-campaign-support"' not in html  # the bar's button would lead here


def test_a_chosen_amount_goes_to_the_payment_page(stripe: list[dict[str, Any]]):
    make_campaign()

    response = support({"amount": "1000", "interval": "month", "email": "Ann@Example.org"})

    assert response.status_code == 303
    assert response["Location"] == "https://pay.example/s"
    donation = Donation.objects.get()
    assert (donation.amount, donation.interval, donation.email) == (
        1000,
        "month",
        "ann@example.org",
    )
    assert stripe[0]["success_url"].endswith(
        "/support/support-frontline/thanks/?session_id={CHECKOUT_SESSION_ID}"
    )
    assert stripe[0]["cancel_url"].endswith("/support/support-frontline/cancelled/")


@pytest.mark.parametrize(
    ("language", "typed", "minor"),
    [
        ("de", "12,50", 1250),
        ("de", "1.250", 125_000),
        ("en", "12.50", 1250),
        ("en", "1,250", 125_000),
    ],
)
def test_an_amount_of_ones_own_is_read_in_the_pages_language(
    stripe: list[dict[str, Any]], language: str, typed: str, minor: int
):
    make_campaign()

    # A typed amount wins over a suggestion still ticked: without JavaScript, typing could
    # not untick it.
    response = support({"amount": "500", "other_amount": typed, "interval": "once"}, language)

    assert response.status_code == 303
    assert Donation.objects.get().amount == minor


@pytest.mark.parametrize(
    ("language", "typed", "minor"),
    [
        ("en", "12", 1200),
        ("en", "12.5", 1250),
        ("en", " 1,250.05 ", 125_005),
        ("en", "12,50", 1250),  # a separator before two final digits is a decimal one
        ("en", "-5", -500),
        ("en", "\N{MINUS SIGN}5,5", -550),
        ("de", "1.250,5", 125_050),
        ("de", "12.50", 1250),
        ("de", "1.250", 125_000),
        ("ru", "1\xa0250,50", 125_050),
        ("ru", "1 250", 125_000),
        ("ar", "١٢", 1200),  # Arabic-Indic digits
        ("en", "", None),
        ("en", "ten", None),
        ("en", "12.505", None),
        ("en", "1,2,3", None),
        ("en", "1.250,50", None),
        ("de", "1,250", None),
        ("en", "5 $", None),
    ],
)
def test_parse_amount(language: str, typed: str, minor: int | None):
    with translation.override(language):
        assert parse_amount(typed, 2) == minor


def error_beside(html: str, field_id: str) -> str:
    match = re.search(rf'<strong class="parley-field-error" id="{field_id}-error">(.*?)</', html)
    assert match, html
    return match[1]


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"other_amount": "a lot"}, "other-amount", "Enter an amount such as 12.50."),
        ({"other_amount": "2.99"}, "other-amount", "The smallest gift is 3\xa0$."),
        ({"other_amount": "-10"}, "other-amount", "The smallest gift is 3\xa0$."),
        ({"amount": "100"}, "amount", "The smallest gift is 3\xa0$."),
        ({}, "amount", "Choose an amount or enter your own."),
        (
            {"amount": "1000", "interval": "year"},
            "interval",
            "This campaign does not take gifts at that interval.",
        ),
        (
            {"amount": "1000", "email": "not an address"},
            "support-email",
            "That is not an e-mail address.",
        ),
    ],
)
def test_a_mistake_shows_beside_its_field_and_starts_no_checkout(
    stripe: list[dict[str, Any]], data: dict[str, str], field: str, error: str
):
    make_campaign()

    response = support({"interval": "once", **data})

    html = response.content.decode()
    assert response.status_code == 422
    assert error_beside(html, field) == error.replace("'", "&#x27;")
    assert (
        '<div class="parley-form-error" role="alert"><p>Please correct the marked fields.' in html
    )
    assert stripe == []
    assert Donation.objects.count() == 0
    for name in ("other_amount", "email"):  # what the reader typed is still there
        if name in data:
            assert f'name="{name}"' in html and f'value="{data[name]}"' in html


def test_a_currency_readers_cannot_pay_in_is_said_above_the_form(stripe: list[dict[str, Any]]):
    make_campaign(currency="JPY")

    response = support({"amount": "1000", "interval": "once"})

    html = response.content.decode()
    assert response.status_code == 422
    assert "<p>Payments in this campaign&#x27;s currency are not possible.</p>" in html
    assert stripe == []


def test_a_campaign_that_ended_while_the_form_was_open_takes_nothing(
    stripe: list[dict[str, Any]],
):
    campaign = make_campaign()
    html = page("/support/support-frontline/")
    assert "<form" in html
    Campaign.objects.filter(pk=campaign.pk).update(ends_at=timezone.now())

    response = support({"amount": "1000", "interval": "once"})

    assert response.status_code == 409
    assert "This campaign has ended; thank you for thinking of it." in response.content.decode()
    assert stripe == []
    assert Donation.objects.count() == 0


def test_an_unknown_campaign_is_not_found():
    assert Client().get("/support/nothing-here/").status_code == 404


def test_back_from_paying_the_reader_is_thanked_with_the_campaigns_words():
    make_campaign()

    html = page("/support/support-frontline/thanks/?session_id=cs_1")

    assert "<p>Your gift keeps our reporters in the field.</p>" in html
    assert text_of(html, "raised") == f"2,550{NBSP}$"


def test_back_without_paying_the_reader_is_told_nothing_was_taken():
    make_campaign()

    html = page("/support/support-frontline/cancelled/")

    assert "<h1>No payment was taken</h1>" in html
    assert '<a href="/support/support-frontline/">Back to supporting The News</a>' in html
