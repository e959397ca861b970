"""Hostile input: every payload of the XSS corpus (tests/xss_corpus.py) is posted the way
readers post — through the API, as a
comment's Markdown, its author's name, website and e-mail address, the passage it quotes, an
edit, and a report's notice; through the widget's own box and edit form — and shown in
Chromium wherever people read it: the widget on a publisher's page of another origin (arriving
live, then loaded), Parley's own article page, and the moderators' queue.

Every payload calls `parleyXss(id)` (or alert/confirm/prompt/print) if it runs; those are
hooked in every frame before any page script, and a call fails the test. The hook alone would
pass under a Content-Security-Policy that blocks what it should catch, so the DOM is checked
too: only the tags and attributes the Markdown renderer allows in what readers wrote, no
handler, script URL, frame or inline script anywhere on the page.
"""

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import BrowserContext, ConsoleMessage, Dialog, Page, expect
from playwright.sync_api import Error as PlaywrightError

from parley.comments.models import Comment
from parley.comments.reads import single_comment_json
from parley.core.markdown import ALLOWED_TAGS
from parley.moderation import rules
from parley.moderation import views as moderation_views
from parley.moderation.models import Policy
from tests.conftest import ApiClient
from tests.factories import ArticleFactory, SiteFactory
from tests.xss_corpus import load_corpus

from .hostpage import STREAM_PATH, HostPage, article_html

ARTICLE_URI = "/articles/hostile/"
CHAIN = 10  # payloads per chain of replies: 50 chains fit "View all comments" (100 a page)
PASSAGES = 60  # quoted passages in the article, each highlighted on Parley's own page
QUEUE_PAGE = 125  # comments on a page of the moderators' queue
REAL_HOVERS = 5  # per kind of element: each is a round trip to the browser


# --- watching the browser -----------------------------------------------------------------

# Runs before any script of every frame (srcdoc and data: frames too).
HOOK_SCRIPT = """(() => {
  const hook = (name) => function (...args) {
    // The console reaches the test from every frame, cross-origin ones included.
    console.error("PARLEY-XSS " + name + "(" + args.map(String).join(",") + ")");
  };
  for (const name of ["parleyXss", "alert", "confirm", "prompt", "print"]) {
    window[name] = hook(name);
  }
})();"""

# The page (and the widget's shadow root) as the browser holds it: what could run, anywhere,
# and in what readers wrote anything beyond the Markdown renderer's tags and text.
INSPECT = """([allowedTags, parley]) => {
  const host = document.getElementById("parley-thread");
  const roots = [document, ...(host?.shadowRoot ? [host.shadowRoot] : [])];
  const problems = [];
  const say = (el, what) => problems.push(what + ": " + el.outerHTML.slice(0, 200));
  const SCRIPT_SCHEMES = ["javascript:", "vbscript:", "data:", "livescript:"];
  const badUrl = (value) => {
    try { return SCRIPT_SCHEMES.includes(new URL(value, document.baseURI).protocol); }
    catch { return false; }
  };
  const FRAMES = ["iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"];
  const URL_ATTRS = ["href", "src", "action", "formaction", "data", "xlink:href", "background",
    "poster", "ping", "lowsrc", "dynsrc", "codebase", "cite"];
  for (const root of roots) {
    for (const el of root.querySelectorAll("*")) {
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        if (name.startsWith("on")) say(el, "handler " + name);
        if (name === "srcdoc") say(el, "srcdoc");
        if (URL_ATTRS.includes(name) && badUrl(attr.value)) say(el, "script URL in " + name);
      }
      const tag = el.localName;
      // Parley's own scripts: its files, its JSON, or inline with the response's nonce.
      const file = el.src && new URL(el.src).origin === parley;
      const ours = el.type === "application/json" || el.nonce || file;
      if (tag === "script" && !ours) say(el, "script");
      if (FRAMES.includes(tag)) say(el, tag);
      if (tag === "meta" && el.httpEquiv) say(el, "meta http-equiv");
    }
    for (const body of root.querySelectorAll(".parley-body, .mq-parent")) {
      for (const el of body.querySelectorAll("*")) {
        if (!allowedTags.includes(el.localName)) say(el, "tag " + el.localName);
        for (const attr of el.attributes) {
          const link = el.localName === "a" && ["href", "title", "rel"].includes(attr.name);
          if (!link) say(el, "attribute " + attr.name);
        }
      }
    }
    const texts = ".parley-author, .parley-quote, .parley-in-reply-to, .mq-item h2, .mq-meta dd, " +
      ".mq-reports strong";
    for (const el of root.querySelectorAll(texts)) {
      if (el.querySelector("*:not(code, time)")) say(el, "markup in text");
    }
  }
  return problems;
}"""

# Hover, focus and click what readers wrote, as a curious person would: each event reaches
# any handler that got through. Following a link is stopped for http, https and mailto only,
# so that a script URL would still run.
INTERACT = """async () => {
  const host = document.getElementById("parley-thread");
  const root = host?.shadowRoot || document;
  const stop = (event) => {
    const a = event.composedPath().find((n) => n.localName === "a" && n.href);
    if (a && /^(https?|mailto):$/.test(a.protocol)) event.preventDefault();
  };
  root.addEventListener("click", stop, true);
  const events = ["mouseover", "mouseenter", "pointerover", "mousedown", "mouseup", "focus",
    "focusin", "keydown", "animationstart", "mouseout", "blur"];
  // Links, the one thing in readers' Markdown that does something, and the places of their
  // names and quotes; a handler anywhere else would be one of the inspection's findings.
  const reader = root.querySelectorAll(".parley-body, .parley-body a, .parley-author, " +
    ".parley-quote, .parley-in-reply-to, .mq-body, .mq-body a, .mq-parent a, .mq-item h2, " +
    ".mq-reports li");
  for (const el of reader) {
    for (const type of events) el.dispatchEvent(new Event(type, { bubbles: true, composed: true }));
    if (el.localName === "a") el.click();
  }
  root.removeEventListener("click", stop, true);
  await new Promise((done) => setTimeout(done, 300));  // timers, late errors
  return reader.length;
}"""

# Known-bad markup on the publisher's page, outside the widget: the watch must see it run
# (in the page, in a frame and in a frame of another origin) and the inspection must see it,
# or neither proves anything.
CONTROLS = """<div id="controls"><img src="x:" onerror="parleyXss('control')">
<iframe srcdoc="<script>alert('control-frame')</script>"></iframe>
<iframe src="data:text/html,<script>prompt('control-foreign-frame')</script>"></iframe>
<div class="parley-body"><a href="javascript:void(0)" style="color:red">x</a><svg></svg></div>
</div>"""


class Watch:
    """Every call of a hooked function in any frame, every dialog and every new window."""

    def __init__(self, context: BrowserContext) -> None:
        self.calls: list[str] = []
        context.add_init_script(HOOK_SCRIPT)
        context.on("page", self._attach)

    def _attach(self, page: Page) -> None:
        if len(page.context.pages) > 1:
            self.calls.append(f"window opened: {page.url}")
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.text.startswith("PARLEY-XSS "):
            self.calls.append(message.text.removeprefix("PARLEY-XSS "))

    def _dialog(self, dialog: Dialog) -> None:
        self.calls.append(f"dialog {dialog.type}: {dialog.message}")
        dialog.dismiss()


class Scene:
    """The browser page under watch, and what was posted."""

    def __init__(self, page: Page, watch: Watch, parley_url: str, payloads: list[str]) -> None:
        self.page, self.watch, self.parley_url, self.payloads = page, watch, parley_url, payloads

    def inspect(self) -> list[str]:
        return self.page.evaluate(INSPECT, [sorted(ALLOWED_TAGS), self.parley_url])

    def check(self, where: str, comments: int) -> None:
        """Nothing ran, after people's hovering and clicking; nothing could have."""
        page = self.page
        url = page.url
        touched = page.evaluate(INTERACT)
        for selector in (".parley-body a", ".parley-author", ".mq-body a", ".mq-item h2"):
            shown = page.locator(selector).filter(visible=True)
            for n in range(min(REAL_HOVERS, shown.count())):
                shown.nth(n).hover()
        # At least each comment's text and its author's name.
        assert touched >= 2 * comments, f"{where}: only {touched} elements of readers' text"
        findings = self.findings()
        assert not findings, f"{where}: {findings}"
        assert page.url == url, f"{where}: navigated away to {page.url}"

    def findings(self) -> str:
        problems = self.inspect()
        return (f"scripts ran:\n{self.explain()}\n" if self.watch.calls else "") + (
            f"{len(problems)} problems:\n" + "\n".join(problems[:30]) if problems else ""
        )

    @contextmanager
    def step(self, where: str) -> Iterator[None]:
        """A page broken by what it shows may never show what the test waits for: then say
        what ran and what the inspection finds."""
        try:
            yield
        except (AssertionError, PlaywrightError) as error:
            raise AssertionError(f"{where}: {error}\n{self.findings()}") from error

    def explain(self) -> str:
        lines = []
        for call in sorted(set(self.watch.calls)):
            number = call.partition("(")[2].partition(")")[0].partition(",")[0]
            known = number.isdigit() and 0 < int(number) <= len(self.payloads)
            lines.append(call + (f" from {self.payloads[int(number) - 1]!r:.300}" if known else ""))
        return "\n".join(lines)

    def expand_replies(self) -> None:
        self.page.evaluate(
            """() => document.getElementById("parley-thread").shadowRoot
                 .querySelectorAll(".p-expand").forEach((b) => b.click())"""
        )

    def assert_shown_as_text(self, ids: list[int], where: str) -> None:
        """Every comment is on show, its author's name and quote exactly as written: escaped,
        neither run nor eaten."""
        shown = self.page.evaluate(
            """() => {
              const root = document.getElementById("parley-thread").shadowRoot;
              const text = (li, part) =>
                li.querySelector(":scope>article .parley-" + part)?.textContent ?? null;
              return Object.fromEntries([...root.querySelectorAll(".parley-comment")].map((li) =>
                [li.dataset.id, [text(li, "author"), text(li, "quote") ?? "",
                  text(li, "in-reply-to")]]));
            }"""
        )
        assert sorted(map(int, shown)) == sorted(ids), f"{where}: not every comment is on show"
        for comment in Comment.objects.filter(pk__in=ids).select_related("parent"):
            name, quote, reply_to = shown[str(comment.pk)]
            assert name == comment.author_name, f"{where}: name of {comment.pk}"
            assert quote == comment.quote, f"{where}: quote of {comment.pk}"
            if reply_to:
                assert comment.parent and reply_to.endswith(comment.parent.author_name), where


# --- posting, as readers do ---------------------------------------------------------------

# Stand-ins for the fields the API refuses for a payload (4xx), so that the rest of the same
# post still goes in.
PLAIN = {
    "body": "This payload was refused as a comment body.",
    "author_name": "Refused Name",
    "author_url": "",
    "author_email": "",
    "quote": "",
    "quote_prefix": "",
    "quote_suffix": "",
    "note": "A reader says this is illegal.",
    "reporter_name": "Refused Name",
    "reporter_email": "reporter@xss.example",
}


def post_refusing(client: ApiClient, path: str, data: dict[str, Any]) -> Any:
    """POST as a reader would; where the API refuses fields, post again without them (the
    schema, a body's length and the other fields are checked in turn)."""
    while True:
        response = client.post_json(path, data)
        if response.status_code not in (413, 422):
            break
        refused = set(response.json()["error"]["fields"])
        assert refused <= set(PLAIN), response.content
        assert any(data[name] != PLAIN[name] for name in refused), response.content
        data = data | {name: PLAIN[name] for name in refused}
    assert response.status_code == 201, response.content
    return response.json()


def post_corpus(payloads: list[str]) -> list[int]:
    """Each payload as every field of a comment, in chains of replies (deeper than the site's
    depth, so that names show as "in reply to"). Each chain's first comment is then edited to
    hold the chain's payloads (its first version stays, for moderators), and every comment is
    reported by another reader with a notice of illegal content, which moderators read."""
    author, reporter = ApiClient(), ApiClient()
    ids: list[int] = []
    edit_tokens: dict[int, str] = {}
    for n, payload in enumerate(payloads):
        posted = post_refusing(
            author,
            "/comments",
            {
                "site": "news",
                "uri": ARTICLE_URI,
                "parent": ids[-1] if n % CHAIN else None,
                "body": payload,
                "author_name": payload,
                "author_url": payload,
                "author_email": f'"{payload}"@xss.example',
                "quote": payload,
                "quote_prefix": payload[:64],
                "quote_suffix": payload[-64:],
            },
        )
        assert posted["status"] == "published", posted
        ids.append(posted["comment"]["id"])
        edit_tokens[ids[-1]] = posted["edit_token"]
    for start in range(0, len(payloads), CHAIN):
        edited = author.patch_json(
            f"/comments/{ids[start]}",
            {"body": "\n\n".join(reversed(payloads[start : start + CHAIN]))},
            HTTP_AUTHORIZATION=f"Bearer {edit_tokens[ids[start]]}",
        )
        assert edited.status_code in (200, 413, 422), edited.content
    for n, payload in enumerate(payloads):
        post_refusing(
            reporter,
            f"/comments/{ids[n]}/report",
            {
                "reason": "illegal",
                "note": payload,
                "reporter_name": payload,
                "reporter_email": f'"{payload}"@xss.example',
                "good_faith": True,
            },
        )
    return ids


def bodies_of(payloads: list[str], size: int = 9000) -> Iterator[str]:
    """The short payloads a body can hold (none with a NUL, which refuses a body whole),
    joined into bodies under the site's limit."""
    body = ""
    for payload in payloads:
        if len(payload) > 300 or "\x00" in payload:
            continue
        if len(body) + len(payload) > size:
            yield body
            body = ""
        body += payload + "\n\n"
    yield body


# --- the test -----------------------------------------------------------------------------


@pytest.fixture
def hostile_site(
    host: HostPage, parley_url: str, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PARLEY_RATE_LIMITS_ENABLED = False
    settings.PARLEY_STREAM_URL = host.url(STREAM_PATH)
    site = SiteFactory.create(origins=[host.origin], domains=["127.0.0.1", "localhost"])
    # The site's rules would hold much of the corpus (links, floods, speed): off, so that every
    # payload is published for all to see. Neither is the scorer a sanitiser.
    Policy.objects.update_or_create(
        site=site,
        defaults={
            "use_scorer": False,
            "max_links": 10_000,
            "max_mentions": 10_000,
            "flood_comments": 10_000,
            "min_submit_seconds": 0,
        },
    )
    # Payloads that differ only in their number read as one text posted again and again: the
    # duplicate rule would rightly file them as a copy-paste campaign.
    monkeypatch.setattr(rules, "_duplicate", lambda submission: [])
    # The article quotes payloads as code, verbatim: comments quoting them are highlighted in
    # it, hostile passages and all.
    passages = [p for p in load_corpus() if p.isprintable() and p.strip() == p and len(p) < 200]
    body = "```\n" + "\n".join(passages[:PASSAGES]) + "\n```"
    ArticleFactory.create(site=site, slug="hostile", body=body)


@pytest.fixture
def scene(context: BrowserContext, parley_url: str) -> Scene:
    watch = Watch(context)
    return Scene(context.new_page(), watch, parley_url, load_corpus())


def decide_by_keyboard(page: Page) -> None:
    """The moderator's keys put authors' names in a status line and in a dialog's title."""
    page.keyboard.press("j")
    name = page.locator(".mq-item:focus").get_attribute("data-author")
    page.keyboard.press("a")
    # A page of this size answers slowly on a busy machine.
    expect(page.locator("#mq-status")).to_have_text(f"Approved comment by {name}.", timeout=15_000)
    name = page.locator(".mq-item:focus").get_attribute("data-author")
    page.keyboard.press("b")
    expect(page.get_by_role("dialog")).to_contain_text(f"Ban {name}")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)


@pytest.mark.slow
def test_no_payload_runs_in_the_widget_on_parleys_page_or_in_the_moderation_queue(
    hostile_site: None,
    scene: Scene,
    host: HostPage,
    parley_url: str,
    context: BrowserContext,
    monkeypatch: pytest.MonkeyPatch,
):
    page, payloads = scene.page, scene.payloads
    # A publisher's page with the widget, open while the hostile comments come in; its own
    # known-bad markup shows that the watch and the inspection catch what they should.
    page.goto(host.serve("/story/", article_html(parley_url, uri=ARTICLE_URI, body=CONTROLS)))
    expect(page.get_by_role("heading", name="0 comments")).to_be_visible()
    for _ in range(50):  # console messages arrive while Playwright waits
        if len(scene.watch.calls) >= 3:
            break
        page.wait_for_timeout(100)
    assert sorted(scene.watch.calls) == [
        "alert(control-frame)",
        "parleyXss(control)",
        "prompt(control-foreign-frame)",
    ]
    caught = " ".join(scene.inspect())
    for problem in ("handler onerror", "iframe", "srcdoc", "script URL in href", "tag svg"):
        assert problem in caught
    assert "attribute style" in caught
    page.evaluate("() => document.getElementById('controls').remove()")
    host.serve("/story/", article_html(parley_url, uri=ARTICLE_URI))  # for the reload below
    scene.watch.calls.clear()

    ids = post_corpus(payloads)

    with scene.step("widget, live"):
        for count, comment in enumerate(Comment.objects.filter(pk__in=ids).order_by("pk"), 1):
            data = json.dumps({"comment": single_comment_json(comment), "count": count})
            host.events.append((comment.pk, "comment", data))
        page.get_by_role("button", name=f"{len(ids)} new comments").click()
        expect(page.get_by_role("heading", name=f"{len(ids)} comments")).to_be_visible()
    scene.check("widget, live", len(ids))
    scene.assert_shown_as_text(ids, "widget, live")

    # The reader posts from the widget's box and edits in its form: the widget shows what
    # Parley answers without asking for the thread again.
    with scene.step("widget, the reader's own comment"):
        first, second, *_ = bodies_of(payloads)
        page.get_by_role("textbox", name="Comment", exact=True).fill(first)
        page.get_by_role("textbox", name="Name").fill(payloads[0])
        page.get_by_role("button", name="Post comment").click()
        expect(page.get_by_role("status")).to_have_text("Comment posted")
        mine = page.locator("#parley-thread .parley-list > .parley-comment").first
        mine.get_by_role("button", name="Edit").click()
        page.get_by_role("textbox", name="Edit your comment").fill(second)
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_have_text("Comment saved")
        ids.append(int(mine.get_attribute("data-id") or 0))
    scene.check("widget, the reader's own comment", len(ids))

    # The same page loaded afresh, every comment on show.
    with scene.step("widget, loaded"):
        host.events.clear()
        page.reload()
        page.get_by_role("button", name="View all comments").click()
        expect(page.locator("#parley-thread .parley-list > .parley-comment")).to_have_count(
            1 + math.ceil(len(payloads) / CHAIN)
        )
        scene.expand_replies()
    scene.check("widget, loaded", len(ids))
    scene.assert_shown_as_text(ids, "widget, loaded")

    # Parley's own article page, all comments.
    with scene.step("article page"):
        page.goto(f"{parley_url}{ARTICLE_URI}?all=1")
        expect(page.get_by_role("heading", name=f"{len(ids)} comments")).to_be_visible()
        expect(page.locator("mark.parley-passage")).to_have_count(PASSAGES)
        scene.expand_replies()
    scene.check("article page", len(ids))
    scene.assert_shown_as_text(ids, "article page")

    # The moderators' queue: every reported comment, with its notice.
    mona = User.objects.create_user("mona", is_staff=True)
    Comment.objects.get(pk=ids[0]).thread.site.moderators.add(mona)
    staff = Client()
    staff.force_login(mona)
    cookie = staff.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": parley_url}])
    monkeypatch.setattr(moderation_views, "PER_PAGE", QUEUE_PAGE)
    names: list[str] = []
    pages = math.ceil(len(payloads) / QUEUE_PAGE)
    for number in range(1, pages + 1):
        where = f"moderation queue, page {number}"
        with scene.step(where):
            page.goto(f"{parley_url}/moderation/?status=reported&page={number}")
            items = page.locator(".mq-item")
            expect(items).to_have_count(min(QUEUE_PAGE, len(payloads) - len(names)))
            shown = items.evaluate_all("items => items.map((item) => item.dataset.author)")
            names += shown
            if number == pages:  # where a decision moves no comment to another page
                decide_by_keyboard(page)
        scene.check(where, items.count())
    stored = Comment.objects.filter(pk__in=ids[:-1]).values_list("author_name", flat=True)
    assert sorted(names) == sorted(stored)
