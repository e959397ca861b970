"""What a reader of the embedded widget sees of moderation: their held comment, a report
that is a legal notice, a ban, and the signals the comment box sends for the bot checks."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from parley.comments.actions import do_set_status
from parley.comments.models import Comment
from parley.moderation import gate
from parley.moderation.models import Ban, Report
from parley.sites.models import Site
from tests.factories import ThreadFactory, post_comment

from .axe import serious_violations
from .conftest import STORY_URI
from .hostpage import HostPage, article_html

URI = STORY_URI
MARKER = "Awaiting moderation"


def open_story(page: Page, host: HostPage, parley_url: str) -> Page:
    page.goto(host.serve(URI, article_html(parley_url)))
    return page


def comment(page: Page, text: str) -> Locator:
    """The comment whose own text (not a reply's) has `text`."""
    body = page.locator(":scope > article > .parley-body", has_text=text)
    return page.locator(".parley-comment", has=body)


def post_from_box(page: Page, text: str, name: str = "Quiet Reader", email: str = "") -> None:
    page.get_by_role("textbox", name="Comment", exact=True).fill(text)
    page.get_by_role("textbox", name="Name").fill(name)
    if email:
        page.get_by_role("textbox", name="E-mail").fill(email)
    page.get_by_role("button", name="Post comment").click()


def test_a_held_comment_stays_with_its_author_after_a_reload_and_nobody_else_sees_it(
    browser: Browser, page: Page, host: HostPage, parley_url, site
):
    Site.objects.filter(pk=site.pk).update(moderation=Site.Moderation.PRE)
    post_comment(ThreadFactory.create(site=site, uri=URI), "Already approved.", author="Anna")
    open_story(page, host, parley_url)

    post_from_box(page, "Please approve me.")
    expect(comment(page, "Please approve me.")).to_contain_text(MARKER)

    page.reload()

    mine = comment(page, "Please approve me.")
    expect(mine).to_contain_text(MARKER)
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()
    # Nobody replies to, votes on or reports a held comment; its author may still edit it.
    for label in ("Reply", "Vote up", "Report"):
        expect(mine.get_by_role("button", name=label)).to_have_count(0)
    expect(mine.get_by_role("button", name="Edit")).to_be_visible()
    expect(comment(page, "Already approved.").get_by_role("button", name="Reply")).to_be_visible()

    other = browser.new_context()
    try:
        theirs = open_story(other.new_page(), host, parley_url)
        expect(comment(theirs, "Already approved.")).to_be_visible()
        expect(theirs.get_by_role("heading", name="1 comment")).to_be_visible()
        expect(comment(theirs, "Please approve me.")).to_have_count(0)
        expect(theirs.get_by_text(MARKER)).to_have_count(0)
    finally:
        other.close()

    held = Comment.objects.get(body="Please approve me.")
    assert held.status == Comment.Status.PENDING


def test_an_approved_comment_loses_its_marker_for_its_author(
    page: Page, host: HostPage, parley_url, site
):
    Site.objects.filter(pk=site.pk).update(moderation=Site.Moderation.PRE)
    open_story(page, host, parley_url)
    post_from_box(page, "Approve me, please.")
    expect(comment(page, "Approve me, please.")).to_contain_text(MARKER)

    with transaction.atomic():
        held = Comment.objects.select_for_update().get(body="Approve me, please.")
        do_set_status(held, Comment.Status.PUBLISHED)
    page.reload()

    expect(comment(page, "Approve me, please.")).to_be_visible()
    expect(comment(page, "Approve me, please.")).not_to_contain_text(MARKER)
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()


def test_an_illegal_content_report_is_a_notice_with_name_email_and_statement(
    page: Page, host: HostPage, parley_url, thread
):
    target = post_comment(thread, "Something unlawful.", author="Mallory")
    open_story(page, host, parley_url)
    comment(page, "Something unlawful.").get_by_role("button", name="Report").click()

    expect(page.get_by_role("textbox", name="Your name")).to_be_hidden()
    page.get_by_role("radio", name="Illegal content").check()
    name = page.get_by_role("textbox", name="Your name")
    email = page.get_by_role("textbox", name="Your e-mail")
    statement = page.get_by_role("textbox", name="Why is this content illegal?")
    agree = page.get_by_role("checkbox", name="I confirm in good faith")
    for control in (name, email, statement, agree):
        expect(control).to_be_visible()
    assert serious_violations(page, "#parley-thread") == []

    page.get_by_role("button", name="Send report").click()

    # The server's reasons, each beside its field.
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Give your name.")).to_be_visible()
    expect(page.get_by_text("Give an e-mail address we can answer.")).to_be_visible()
    expect(page.get_by_text("Explain why you consider this content illegal.")).to_be_visible()
    expect(page.get_by_text("Confirm that you make this notice in good faith")).to_be_visible()
    assert not Report.objects.exists()

    name.fill("Erika Muster")
    email.fill("erika@example.com")
    statement.fill("It publishes my home address and calls for attacks.")
    agree.check()
    page.get_by_role("button", name="Send report").click()

    expect(comment(page, "Something unlawful.")).to_contain_text("A moderator will look")
    report = Report.objects.get(comment=target)
    assert (report.reason, report.reporter_name, report.reporter_email, report.good_faith) == (
        "illegal",
        "Erika Muster",
        "erika@example.com",
        True,
    )
    assert report.note == "It publishes my home address and calls for attacks."


def test_other_report_reasons_ask_for_no_notice(page: Page, host: HostPage, parley_url, thread):
    target = post_comment(thread, "Buy cheap watches.", author="Spammer")
    open_story(page, host, parley_url)
    comment(page, "Buy cheap watches.").get_by_role("button", name="Report").click()

    page.get_by_role("radio", name="Illegal content").check()
    page.get_by_role("radio", name="Spam or advertising").check()

    expect(page.get_by_role("textbox", name="Your name")).to_be_hidden()
    expect(page.get_by_role("textbox", name="Note")).to_be_visible()
    page.get_by_role("button", name="Send report").click()
    expect(comment(page, "Buy cheap watches.")).to_contain_text("A moderator will look")
    report = Report.objects.get(comment=target)
    assert (report.reason, report.reporter_name, report.good_faith) == ("spam", "", False)


def test_a_banned_reader_reads_the_ban_in_the_comment_box(
    page: Page, host: HostPage, parley_url, thread
):
    Ban.objects.create(
        kind=Ban.Kind.EMAIL,
        value="troll@example.com",
        expires_at=timezone.now() + timedelta(days=1),
    )
    open_story(page, host, parley_url)

    post_from_box(page, "Let me back in.", name="Troll", email="troll@example.com")

    box = page.locator("form", has=page.get_by_role("textbox", name="Comment", exact=True))
    expect(box.locator(".p-form-error")).to_contain_text("You cannot comment here until ")
    expect(box.locator(".p-form-error")).to_contain_text("a moderator has banned you")
    expect(page.get_by_role("textbox", name="Comment", exact=True)).to_have_value("Let me back in.")
    assert not Comment.objects.exists()


def test_the_comment_box_sends_its_form_token_and_an_empty_trap_field(
    page: Page, host: HostPage, parley_url, thread, monkeypatch
):
    sent: list[gate.Submission] = []
    screen = gate.screen

    def screen_and_keep(submission: gate.Submission) -> gate.Verdict:
        sent.append(submission)
        return screen(submission)

    monkeypatch.setattr(gate, "screen", screen_and_keep)
    open_story(page, host, parley_url)
    # The trap is out of sight and out of the accessibility tree.
    expect(page.get_by_role("textbox", name="Leave this field empty")).to_have_count(0)
    trap = page.locator("input[name=homepage]").first
    assert trap.get_attribute("tabindex") == "-1"
    assert (trap.bounding_box() or {"x": 0})["x"] < -1000

    post_from_box(page, "A human wrote this.")

    expect(comment(page, "A human wrote this.")).to_be_visible()
    assert len(sent) == 1
    age = gate.form_age_seconds(sent[0].form_token)
    assert age is not None and 0 <= age < 60
    assert sent[0].honeypot == ""
