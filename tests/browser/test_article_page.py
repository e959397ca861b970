"""A reader with JavaScript switched off reads, sorts and joins the demo discussion."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from parley.articles.demo import seed_demo
from parley.comments.models import Comment
from parley.sites.models import Site
from tests.browser.axe import serious_violations
from tests.browser.conftest import post_without_waiting
from tests.browser.hostpage import SELECT_TEXT

ARTICLE = "/articles/why-the-teyra-crossing-stalled/"


@pytest.fixture
def page(browser: Browser, live_server, transactional_db, settings) -> Iterator[Page]:
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    seed_demo()
    post_without_waiting("demo")
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    yield page
    context.close()


def top_level_authors(page: Page) -> list[str]:
    return page.locator(".parley-list > .parley-comment > article .parley-author").all_inner_texts()


def test_the_discussion_reads_four_levels_deep_with_javascript_off(page: Page):
    page.goto(ARTICLE)

    expect(page.get_by_role("heading", name="Why the Teyra crossing stalled")).to_be_visible()
    expect(page.get_by_role("heading", name="80 comments")).to_be_visible()
    assert page.locator(".parley-level-4").count() >= 5
    assert page.locator(".parley-level-5").count() == 0  # deeper replies stay at level 4
    expect(page.locator(".parley-in-reply-to").first).to_contain_text("in reply to")
    expect(page.get_by_text("edited", exact=True).first).to_be_visible()
    # The widget's own strings ride in the same fragment: never on show here.
    expect(page.locator(".parley-thread > script.parley-strings")).to_have_count(1)
    assert "Loading comments" not in page.locator("body").inner_text()


def test_each_map_links_to_its_full_size_file(page: Page):
    page.goto(ARTICLE)

    link = page.get_by_role("link", name="Click to see the full-size image").first
    response = page.request.get(link.get_attribute("href") or "")

    assert response.status == 200
    assert response.headers["content-type"] == "image/png"


def test_sort_tabs_reorder_the_discussion(page: Page):
    page.goto(ARTICLE)
    newest = top_level_authors(page)

    page.get_by_role("link", name="Oldest").click()
    expect(page).to_have_url(re.compile(r"sort=oldest"))
    oldest = top_level_authors(page)

    page.get_by_role("link", name="Most voted").click()
    expect(page).to_have_url(re.compile(r"sort=votes"))
    scores = [
        int(s)
        for s in page.locator(
            ".parley-list > .parley-comment > article .parley-score"
        ).all_inner_texts()
    ]

    by_time = Comment.objects.filter(depth=1, thread__uri=ARTICLE).order_by("created_at")
    assert oldest[0] == by_time[0].author_name
    assert newest[0] == by_time.reverse()[0].author_name
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]


def test_view_all_comments_shows_every_top_level_comment(page: Page):
    total = Comment.objects.filter(depth=1, thread__uri=ARTICLE).count()
    page.goto(ARTICLE)
    assert len(top_level_authors(page)) == 20 < total

    page.get_by_role("link", name="View all comments").click()

    assert len(top_level_authors(page)) == total


def test_a_reader_comments_and_replies_with_javascript_off(page: Page):
    page.goto(ARTICLE)
    page.get_by_role("textbox", name="Comment").fill("Bridging is a **logistics** problem first.")
    page.get_by_role("textbox", name="Name").fill("Quiet Reader")
    page.get_by_role("button", name="Post comment").click()

    expect(page.get_by_text("Your comment is published.")).to_be_visible()
    mine = page.locator(".parley-comment", has_text="Bridging is a logistics problem first.")
    expect(mine.locator("strong")).to_have_text("logistics")

    mine.get_by_role("link", name="Reply").first.click()
    expect(page.get_by_text("Replying to Quiet Reader")).to_be_visible()
    page.get_by_role("textbox", name="Comment").fill("Answering myself, politely.")
    page.get_by_role("textbox", name="Name").fill("Quiet Reader")
    page.get_by_role("button", name="Post reply").click()

    reply = mine.locator(".parley-replies .parley-comment", has_text="Answering myself")
    expect(reply).to_be_visible()
    expect(page.get_by_role("heading", name="82 comments")).to_be_visible()


def test_a_rejected_comment_keeps_what_the_reader_wrote(page: Page):
    page.goto(ARTICLE)
    page.get_by_role("textbox", name="Comment").fill("x" * 10_001)
    page.get_by_role("textbox", name="Name").fill("Long Writer")
    page.get_by_role("button", name="Post comment").click()

    expect(page.get_by_text("A comment has at most 10000 characters.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Name")).to_have_value("Long Writer")


def test_a_failed_reply_stays_a_reply_and_the_name_is_remembered(page: Page):
    page.goto(ARTICLE + "?sort=oldest")
    first = page.locator(".parley-list > .parley-comment").first
    answered = first.locator(".parley-author").first.inner_text()
    first.get_by_role("link", name="Reply").first.click()
    page.get_by_role("textbox", name="Comment").fill("A reply without a name.")
    page.get_by_role("button", name="Post reply").click()

    expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields.")
    expect(page.get_by_text("This field is required.")).to_be_visible()
    expect(page.get_by_text(f"Replying to {answered}")).to_be_visible()
    expect(page.get_by_role("textbox", name="Comment")).to_have_value("A reply without a name.")

    page.get_by_role("textbox", name="Name").fill("Named Now")
    page.get_by_role("button", name="Post reply").click()

    expect(page).to_have_url(re.compile(r"sort=oldest#comment-\d+$"))
    reply = first.locator(".parley-replies .parley-comment", has_text="A reply without a name.")
    expect(reply).to_be_visible()
    expect(page.get_by_role("textbox", name="Name")).to_have_value("Named Now")


@pytest.fixture
def checked_page(browser: Browser, live_server, transactional_db, settings) -> Iterator[Page]:
    """JavaScript on, only so that axe-core itself can run in the page."""
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    seed_demo()
    post_without_waiting("demo")
    context = browser.new_context(base_url=live_server.url)
    yield context.new_page()
    context.close()


def test_axe_finds_no_serious_accessibility_problem_on_the_article(checked_page: Page):
    checked_page.goto(ARTICLE)

    assert serious_violations(checked_page) == []


def test_axe_is_also_clean_on_a_phone_with_a_reply_box_open(checked_page: Page):
    page = checked_page
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(ARTICLE + "?sort=oldest")
    # With JavaScript on, the widget has taken over the server-rendered section.
    page.locator("#parley-thread").get_by_role("button", name="Reply").first.click()
    expect(page.get_by_role("textbox", name=re.compile("Reply to"))).to_be_visible()

    assert serious_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_with_javascript_on_the_widget_takes_over_without_fetching_the_thread(
    checked_page: Page,
):
    page = checked_page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(ARTICLE + "?sort=oldest")

    thread = page.locator("#parley-thread")
    expect(thread.get_by_role("button", name="Vote up").first).to_be_visible()
    expect(thread.get_by_role("tab", name="Oldest")).to_have_attribute("aria-selected", "true")
    expect(thread.get_by_role("heading", name="80 comments")).to_be_visible()
    assert "Loading comments" not in thread.inner_text()
    assert not [url for url in asked if "/fragments/thread" in url]
    assert any("/embed.js" in url for url in asked)


def test_on_parleys_own_page_a_held_comment_stays_with_its_author_after_a_reload(
    checked_page: Page, browser: Browser, live_server
):
    """The widget takes over the server-rendered thread; the next visit is rendered by the
    server again, which knows the reader by the first-party cookie the widget kept."""
    Site.objects.filter(name="demo").update(moderation=Site.Moderation.PRE)
    page = checked_page
    page.goto(ARTICLE)
    thread = page.locator("#parley-thread")
    thread.get_by_role("textbox", name="Comment", exact=True).fill("Please approve me.")
    thread.get_by_role("textbox", name="Name").fill("Quiet Reader")
    thread.get_by_role("button", name="Post comment").click()
    mine = thread.locator(".parley-comment", has_text="Please approve me.")
    expect(mine).to_contain_text("Awaiting moderation")

    page.reload()
    expect(mine).to_contain_text("Awaiting moderation")

    stranger = browser.new_context(base_url=live_server.url).new_page()
    stranger.goto(ARTICLE)
    expect(
        stranger.locator("#parley-thread").get_by_role("heading", name="80 comments")
    ).to_be_visible()
    expect(stranger.get_by_text("Please approve me.")).to_have_count(0)
    stranger.context.close()


def reach_the_article_end(page: Page) -> None:
    page.locator("[data-parley-article]").evaluate("el => el.scrollIntoView({block: 'end'})")


def test_a_prompt_at_the_article_end_leads_to_the_comment_box_until_closed(
    checked_page: Page,
):
    page = checked_page
    page.goto(ARTICLE)
    thread = page.locator("#parley-thread")
    expect(thread.get_by_role("button", name="Vote up").first).to_be_visible()
    prompt = page.get_by_role("region", name="Would love your thoughts, please comment")
    expect(prompt).to_have_count(0)

    reach_the_article_end(page)
    expect(prompt).to_be_visible()
    prompt.get_by_role("button", name="Comment").focus()
    page.keyboard.press("Enter")
    expect(thread.get_by_role("textbox", name="Comment", exact=True)).to_be_focused()
    expect(prompt).to_have_count(0)

    page.reload()
    reach_the_article_end(page)
    prompt.get_by_role("button", name="Close").click()
    expect(prompt).to_have_count(0)

    page.reload()
    expect(thread.get_by_role("button", name="Vote up").first).to_be_visible()
    reach_the_article_end(page)
    page.mouse.wheel(0, 300)
    page.wait_for_timeout(300)
    expect(prompt).to_have_count(0)


def test_no_prompt_for_a_reader_who_has_commented(checked_page: Page):
    page = checked_page
    page.goto(ARTICLE)
    thread = page.locator("#parley-thread")
    thread.get_by_role("textbox", name="Comment", exact=True).fill("Here is what I think.")
    thread.get_by_role("textbox", name="Name").fill("Vocal Reader")
    thread.get_by_role("button", name="Post comment").click()
    expect(thread.get_by_text("Here is what I think.")).to_be_visible()

    page.reload()
    expect(thread.get_by_role("button", name="Vote up").first).to_be_visible()
    reach_the_article_end(page)
    page.wait_for_timeout(300)
    expect(page.get_by_role("region", name="Would love your thoughts")).to_have_count(0)


def test_a_reader_comments_on_a_passage_of_parleys_own_article(checked_page: Page):
    page = checked_page
    page.goto(ARTICLE)
    thread = page.locator("#parley-thread")
    expect(thread.get_by_role("button", name="Vote up").first).to_be_visible()
    words = page.locator("[data-parley-article] p").first.inner_text().split()
    passage = " ".join(words[3:9])

    page.evaluate(SELECT_TEXT, passage)
    page.get_by_role("button", name="Comment on this").click()
    expect(thread.locator(".p-quoted .parley-quote")).to_have_text(passage)
    thread.get_by_role("textbox", name="Comment", exact=True).fill("On this passage.")
    thread.get_by_role("textbox", name="Name").fill("Close Reader")
    thread.get_by_role("button", name="Post comment").click()

    expect(
        thread.locator(".parley-comment", has_text="On this passage.").locator(".parley-quote")
    ).to_have_text(passage)
    posted = Comment.objects.get(body="On this passage.")
    assert posted.quote == passage
    assert posted.quote_suffix.startswith(" " + words[9])


def test_every_quoted_passage_is_highlighted_though_its_comment_is_on_a_later_page(
    checked_page: Page,
):
    page = checked_page
    page.goto(ARTICLE)
    quoted = Comment.objects.filter(thread__uri=ARTICLE).exclude(quote="")
    on_show = page.locator("#parley-thread .parley-quote")
    expect(
        page.locator("#parley-thread").get_by_role("button", name="Vote up").first
    ).to_be_visible()
    assert on_show.count() < quoted.count()

    counts = page.locator("[data-parley-article] .parley-passage-count")
    expect(counts).to_have_count(quoted.values("quote").distinct().count())
    first = page.locator("mark.parley-passage", has_text="The practical effect")
    expect(first).to_have_text(quoted.order_by("created_at")[0].quote)
